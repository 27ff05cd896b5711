import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, ConsoleApi, queryString } from '../src/console/api';

interface Seen {
  method: string;
  path: string;
  csrf: string | null;
}

/** A backend whose answers the test scripts by path; every request is recorded. */
function backend(answer: (seen: Seen, count: number) => Response) {
  const seen: Seen[] = [];
  const fetch = vi.fn(async (input: string, init: RequestInit = {}) => {
    const headers = (init.headers ?? {}) as Record<string, string>;
    const request = { method: init.method ?? 'GET', path: input, csrf: headers['X-CSRFToken'] ?? null };
    seen.push(request);
    return answer(request, seen.filter((s) => s.path === input).length);
  });
  vi.stubGlobal('fetch', fetch);
  return seen;
}

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status });
const session = (token: string) => json(200, { user: { username: 'sue', role: 'supervisor' }, csrf_token: token });
const csrfFailed = () => json(400, { error: { code: 'csrf_failed', message: 'The CSRF token has expired.' } });

describe('ConsoleApi', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('gives every area client the session: an expired CSRF token is fetched again and the call tried once more', async () => {
    const seen = backend((request, count) => {
      if (request.path === '/api/auth/login') return session('token-1');
      if (request.path === '/api/auth/me') return session('token-2');
      if (count === 1) return csrfFailed();
      return json(200, { id: 7, state: 'cancelled' });
    });
    const api = new ConsoleApi(() => undefined);
    await api.login('sue', 'secret');
    const job = await api.bulk.cancel(7);
    expect(job).toEqual({ id: 7, state: 'cancelled' });
    expect(seen.map((s) => [s.path, s.csrf])).toEqual([
      ['/api/auth/login', null],
      ['/api/bulk/7/cancel', 'token-1'],
      ['/api/auth/me', null],
      ['/api/bulk/7/cancel', 'token-2'],
    ]);
  });

  it('tells the console once the session is gone, from whichever area noticed', async () => {
    backend(() => json(401, { error: { code: 'unauthorized', message: 'Sign in.' } }));
    const signedOut = vi.fn();
    const api = new ConsoleApi(signedOut);
    await expect(api.inbox.retry('op-1', null)).rejects.toBeInstanceOf(ApiError);
    await expect(api.history.list({ page: 0 })).rejects.toBeInstanceOf(ApiError);
    expect(signedOut).toHaveBeenCalledTimes(2);
  });

  it('sends each area to its own endpoints', async () => {
    const seen = backend(() => json(200, {}));
    const api = new ConsoleApi(() => undefined);
    await api.inbox.discard('op/1', 'wrong device');
    await api.bulk.items(3, 'change', 0, 100);
    await api.users.signOut(5);
    await api.fleet.silentDevices({ group: 'prfi00site' });
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual([
      'POST /api/inbox/op%2F1/discard',
      'GET /api/bulk/3/items?verdict=change&page=0&size=100',
      'POST /api/users/5/sign-out-everywhere',
      'GET /api/verifications/silent?group=prfi00site',
    ]);
    expect(api.history.csvUrl({ sort: ['device_time,desc', 'tuid,asc'] })).toBe(
      '/api/history.csv?sort=device_time%2Cdesc&sort=tuid%2Casc',
    );
  });
});

describe('queryString', () => {
  it('repeats arrays and leaves out empty values', () => {
    expect(queryString({ a: 1, b: '', c: null, d: undefined, e: ['x', 'y'], f: false })).toBe('?a=1&e=x&e=y&f=false');
    expect(queryString({})).toBe('');
  });
});
