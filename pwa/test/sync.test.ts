import { beforeEach, describe, expect, it } from 'vitest';
import { Api } from '../src/core/api';
import * as outbox from '../src/core/outbox';
import { csrfToken, loadSession, rememberSession } from '../src/core/session';
import { OutboxSync, backoffDelay, type SyncOptions } from '../src/core/sync';
import { FakeBackend } from './fake-backend';
import { ManualClock } from './manual-clock';

const USER = { id: 1, username: 'tech', display_name: 'Tech', role: 'technician' as const };

let backend: FakeBackend;
let clock: ManualClock;

function tuid(n: number): string {
  return `TSPR04${String(n).padStart(11, '0')}`;
}

async function queue(count: number, username = 'tech'): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const op = await outbox.enqueue({ kind: 'install', tuid: tuid(i), args: { group_id: 'prfi00site' }, seen: {} }, username, clock.now() + i);
    ids.push(op.op_id);
  }
  return ids;
}

function engine(options: Partial<SyncOptions> = {}): OutboxSync {
  const api = new Api({ fetch: backend.fetch, csrf: csrfToken });
  return new OutboxSync({ api, clock, backoffBaseMs: 1_000, backoffCapMs: 60_000, followEveryMs: 5_000, idleEveryMs: 30_000, ...options });
}

async function states(): Promise<Record<string, number>> {
  const result: Record<string, number> = {};
  for (const op of await outbox.all()) result[op.state] = (result[op.state] ?? 0) + 1;
  return result;
}

beforeEach(async () => {
  backend = new FakeBackend();
  clock = new ManualClock();
  await rememberSession({ user: USER, csrf_token: backend.csrf });
});

describe('backoff', () => {
  it('doubles from the base, stays under the cap, and jitters within the upper half', () => {
    const top = () => 0.999999;
    const bottom = () => 0;
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, 1000, 60_000, top))).toEqual([1000, 2000, 4000, 8000]);
    expect(backoffDelay(1, 1000, 60_000, bottom)).toBe(500);
    expect(backoffDelay(30, 1000, 60_000, top)).toBe(60_000);
    expect(backoffDelay(30, 1000, 60_000, bottom)).toBe(30_000);
  });
});

describe('sync', () => {
  it('sends the outbox in batches of at most 100 with the CSRF header, each operation once', async () => {
    const ids = await queue(250);
    const sync = engine();
    expect(await sync.trigger('start')).toBe('done');

    const posts = backend.callsTo('POST', '/api/operations');
    expect(posts.map((c) => (c.body as { operations: unknown[] }).operations.length)).toEqual([100, 100, 50]);
    expect(posts.every((c) => c.headers['X-CSRFToken'] === backend.csrf)).toBe(true);
    expect(ids.every((id) => backend.acceptedCount.get(id) === 1)).toBe(true);
    expect(await states()).toEqual({ accepted: 250 });
    // Operations are sent in the order they were made.
    const sent = posts.flatMap((c) => (c.body as { operations: { op_id: string }[] }).operations.map((o) => o.op_id));
    expect(sent).toEqual(ids);
  });

  it('judges connectivity by /api/health and backs off, capped, while there is no network', async () => {
    await queue(3);
    backend.mode = 'offline';
    clock.randomValue = 0.999999;
    const sync = engine();
    expect(await sync.trigger('start')).toBe('offline');
    expect(backend.calls.map((c) => c.path)).toEqual(['/api/health']);
    expect(await states()).toEqual({ queued: 3 });

    const delays: number[] = [];
    for (let i = 0; i < 9; i += 1) {
      const delay = clock.nextDelay();
      expect(delay).not.toBeNull();
      delays.push(delay!);
      clock.advance(delay!);
      await sync.settled();
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
    expect(sync.status.failures).toBe(10);

    backend.mode = 'ok';
    clock.advance(clock.nextDelay()!);
    await sync.settled();
    expect(await states()).toEqual({ accepted: 3 });
    expect(sync.status.failures).toBe(0);
  });

  it('runs at once when triggered during a backoff wait (online event, the user)', async () => {
    await queue(1);
    backend.mode = 'offline';
    const sync = engine();
    await sync.trigger('start');
    expect(clock.nextDelay()).toBeGreaterThan(0);
    backend.mode = 'ok';
    expect(await sync.trigger('online')).toBe('done');
    expect(await states()).toEqual({ accepted: 1 });
  });

  it('does not start a second run while one is in progress', async () => {
    await queue(5);
    const sync = engine();
    const first = sync.trigger('start');
    const second = sync.trigger('user');
    expect(second).toBe(first);
    await first;
    expect(backend.callsTo('POST', '/api/operations')).toHaveLength(1);
    expect(await states()).toEqual({ accepted: 5 });
  });

  it('goes round once more for an action queued during a run', async () => {
    await queue(1);
    const sync = engine();
    const run = sync.trigger('start');
    await outbox.enqueue({ kind: 'remove', tuid: tuid(42), args: {}, seen: {} }, 'tech', clock.now());
    void sync.trigger('queued');
    await run;
    await sync.settled();
    expect(await states()).toEqual({ accepted: 2 });
  });

  it('pauses on 401 with the queue intact, and resumes after the user signs in again', async () => {
    const ids = await queue(4);
    backend.sessionValid = false;
    const sync = engine();
    expect(await sync.trigger('start')).toBe('paused');
    expect((await loadSession()).expired).toBe(true);
    expect(await states()).toEqual({ queued: 4 });
    expect(clock.nextDelay()).toBeNull(); // nothing to do until the user signs in

    expect(await sync.trigger('timer')).toBe('paused'); // still expired: nothing is sent
    expect(backend.callsTo('POST', '/api/operations')).toHaveLength(1);

    backend.sessionValid = true;
    await rememberSession({ user: USER, csrf_token: backend.csrf }); // signed in again
    expect(await sync.trigger('signed-in')).toBe('done');
    expect(await states()).toEqual({ accepted: 4 });
    expect(ids.every((id) => backend.acceptedCount.get(id) === 1)).toBe(true);
  });

  it('refreshes the CSRF token once from /api/auth/me and sends again', async () => {
    await queue(2);
    backend.csrfExpiresOnce = true;
    const sync = engine();
    expect(await sync.trigger('start')).toBe('done');
    expect(backend.callsTo('GET', '/api/auth/me')).toHaveLength(1);
    const posts = backend.callsTo('POST', '/api/operations');
    expect(posts).toHaveLength(2);
    expect(posts[1]!.headers['X-CSRFToken']).toBe(backend.csrf);
    expect(await states()).toEqual({ accepted: 2 });
  });

  it('does not loop on a CSRF token that keeps failing: it keeps the queue and retries later', async () => {
    await queue(2);
    backend.csrfBroken = true;
    const sync = engine();
    expect(await sync.trigger('start')).toBe('retry');
    expect(backend.callsTo('GET', '/api/auth/me')).toHaveLength(1);
    expect(backend.callsTo('POST', '/api/operations')).toHaveLength(2);
    expect(await states()).toEqual({ queued: 2 });
    expect(clock.nextDelay()).toBeGreaterThan(0);
  });

  it('marks only the refused item failed with the server message and sends the others', async () => {
    const ids = await queue(5);
    backend.refuse.set(ids[2]!, "Deployment group 'x y' is not valid.");
    const sync = engine();
    expect(await sync.trigger('start')).toBe('done');
    const refused = await outbox.get(ids[2]!);
    expect(refused).toMatchObject({ state: 'failed', rejected: true, error: { code: 'validation_failed', message: "Deployment group 'x y' is not valid." } });
    expect(await states()).toEqual({ accepted: 4, failed: 1 });

    // Kept, not resent by itself; the user can retry it.
    await sync.trigger('timer');
    expect(backend.callsTo('POST', '/api/operations')).toHaveLength(1);
    backend.refuse.clear();
    await outbox.retry(ids[2]!);
    await sync.trigger('user');
    expect(await outbox.get(ids[2]!)).toMatchObject({ state: 'accepted' });
  });

  it('splits a batch the backend refuses as a whole (413) instead of failing every item', async () => {
    const ids = await queue(100);
    backend.maxBatch = 30;
    const sync = engine();
    expect(await sync.trigger('start')).toBe('done');
    expect(await states()).toEqual({ accepted: 100 });
    expect(ids.every((id) => backend.acceptedCount.get(id) === 1)).toBe(true);
  });

  it('resends after a lost response and the backend answers duplicate: stored exactly once', async () => {
    const ids = await queue(10);
    backend.loseNextResponse = true;
    const sync = engine();
    expect(await sync.trigger('start')).toBe('retry');
    expect(backend.stored.size).toBe(10); // the backend has them ...
    expect(await states()).toEqual({ queued: 10 }); // ... but the phone never heard

    clock.advance(clock.nextDelay()!);
    await sync.settled();
    expect(await states()).toEqual({ accepted: 10 });
    expect(ids.every((id) => backend.acceptedCount.get(id) === 1)).toBe(true);
    const resent = backend.callsTo('POST', '/api/operations')[1]!;
    expect((resent.body as { operations: { op_id: string }[] }).operations.map((o) => o.op_id)).toEqual(ids);
  });

  it('keeps the queue on a 5xx and tries again later', async () => {
    await queue(3);
    backend.mode = 'error500';
    const sync = engine();
    expect(await sync.trigger('start')).toBe('retry');
    expect(await states()).toEqual({ queued: 3 });
    expect(clock.nextDelay()).toBeGreaterThanOrEqual(500);
  });

  it('follows accepted operations until the backend reports them synced, then idles', async () => {
    const ids = await queue(3);
    const sync = engine();
    await sync.trigger('start');
    expect(clock.nextDelay()).toBe(5_000); // still in flight: look again soon

    for (const id of ids) backend.stateOf.set(id, 'synced');
    backend.stateOf.set(ids[1]!, 'conflict');
    clock.advance(5_000);
    await sync.settled();
    const gets = backend.callsTo('GET', '/api/operations');
    expect(gets.at(-1)!.query.get('ids')!.split(',')).toEqual(ids);
    expect(await states()).toEqual({ synced: 2, conflict: 1 });
    expect(clock.nextDelay()).toBe(30_000);
  });

  it('sends nothing while signed out and only the signed-in user’s actions', async () => {
    await queue(2, 'someone-else');
    await queue(1, 'tech');
    const sync = engine();
    expect(await sync.trigger('start')).toBe('done');
    expect(await states()).toEqual({ queued: 2, accepted: 1 });
  });
});
