import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { replayOutbox } from '../../src/sw/outbox-replay';
import { SYNC_REQUESTED } from '../../src/sw/messages';
import * as outbox from '../../src/core/outbox';
import { rememberSession } from '../../src/core/session';
import { FakeBackend } from '../fake-backend';

function scope(clients: { visibilityState: string; postMessage: (m: unknown) => void }[]) {
  return { clients: { matchAll: async () => clients } } as unknown as ServiceWorkerGlobalScope;
}

let backend: FakeBackend;

beforeEach(async () => {
  backend = new FakeBackend();
  vi.stubGlobal('fetch', (input: string, init?: RequestInit) => backend.fetch(input, init));
  await rememberSession({ user: { id: 1, username: 'tech', display_name: 'T', role: 'technician' }, csrf_token: backend.csrf });
  await outbox.enqueue({ kind: 'install', tuid: 'TSPR04EZU31901021', args: { group_id: 'prfi00site' }, seen: {} }, 'tech');
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('Background Sync in the service worker', () => {
  it('hands the work to a visible page when there is one', async () => {
    const postMessage = vi.fn();
    await replayOutbox(scope([{ visibilityState: 'visible', postMessage }]), false);
    expect(postMessage).toHaveBeenCalledWith({ type: SYNC_REQUESTED });
    expect(backend.calls).toHaveLength(0);
  });

  it('sends the outbox itself when no page is open', async () => {
    await replayOutbox(scope([{ visibilityState: 'hidden', postMessage: vi.fn() }]), false);
    expect([...backend.acceptedCount.values()]).toEqual([1]);
    expect((await outbox.all())[0]?.state).toBe('accepted');
  });

  it('fails the event while offline so the browser tries again, except on its last chance', async () => {
    backend.mode = 'offline';
    await expect(replayOutbox(scope([]), false)).rejects.toThrow(/try again/);
    await expect(replayOutbox(scope([]), true)).resolves.toBeUndefined();
    expect((await outbox.all())[0]?.state).toBe('queued');
  });
});
