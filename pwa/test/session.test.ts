import { beforeEach, describe, expect, it } from 'vitest';
import { Api } from '../src/core/api';
import { adoptBrowserSession, loadSession, rememberSession, signOut } from '../src/core/session';
import { FakeBackend } from './fake-backend';

let backend: FakeBackend;
let api: Api;

beforeEach(() => {
  backend = new FakeBackend();
  api = new Api({ fetch: backend.fetch });
});

const asked = () => backend.calls.filter((c) => c.path === '/api/auth/me').length;

describe('a sign-in the browser cookie still carries', () => {
  it('is taken over on a phone that holds no session record (first start, storage cleared)', async () => {
    const session = await adoptBrowserSession(api);
    expect(session.user?.username).toBe('tech');
    expect(session.csrf_token).toBe(backend.csrf);
    expect((await loadSession()).user?.username).toBe('tech');
  });

  it('leaves the phone signed out when the cookie carries none, or the backend is out of reach', async () => {
    backend.sessionValid = false;
    expect((await adoptBrowserSession(api)).user).toBeNull();
    backend.sessionValid = true;
    backend.mode = 'offline';
    expect((await adoptBrowserSession(api)).user).toBeNull();
  });

  it('is not taken over after the technician signed out on this phone', async () => {
    backend.mode = 'offline'; // the sign-out never reached the backend: the cookie still works
    await rememberSession({ user: { id: 1, username: 'tech', display_name: 'Tech', role: 'technician' }, csrf_token: 'x' });
    await signOut(api);
    backend.mode = 'ok';
    expect((await adoptBrowserSession(api)).user).toBeNull();
    expect(asked()).toBe(0);
  });

  it('is not asked for when the phone already has its own session', async () => {
    await rememberSession({ user: { id: 2, username: 'other', display_name: 'Other', role: 'technician' }, csrf_token: 'y' });
    expect((await adoptBrowserSession(api)).user?.username).toBe('other');
    expect(asked()).toBe(0);
  });
});
