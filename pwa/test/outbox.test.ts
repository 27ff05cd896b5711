import { describe, expect, it } from 'vitest';
import * as outbox from '../src/core/outbox';
import { closeDb, getDb, DB_VERSION } from '../src/core/db';
import { cachedDevice } from '../src/core/devices';
import { Api } from '../src/core/api';
import { loadSession, markSessionExpired, rememberSession, signOut } from '../src/core/session';
import type { Operation } from '../src/core/types';

const TUID = 'TSPR04EZU31901021';
const OTHER = 'TSPD02ABC12345678';
const install = (tuid = TUID, group = 'prfi00site') => ({ kind: 'install' as const, tuid, args: { group_id: group }, seen: { status: 'new', group: 'unassigned' } });

function serverOp(op_id: string, state: Operation['state'], error: Operation['error'] = null): Operation {
  return { op_id, kind: 'install', tuid: TUID, args: {}, state, device_time: '', received_at: null, synced_at: state === 'synced' ? '2026-11-22T08:00:05+00:00' : null, error };
}

describe('outbox', () => {
  it('persists a queued action with a client op_id, the device time and what the user saw', async () => {
    const op = await outbox.enqueue(install(), 'tech', Date.UTC(2026, 10, 22, 8));
    expect(op.op_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(op).toMatchObject({ state: 'queued', username: 'tech', device_time: '2026-11-22T08:00:00.000Z', seen: { status: 'new', group: 'unassigned' } });

    await closeDb(); // as if the app were closed and opened again
    expect(await outbox.get(op.op_id)).toEqual(op);
    expect((await getDb()).version).toBe(DB_VERSION);
  });

  it('keeps one operation per op_id and ignores a repeat of an action still queued', async () => {
    const first = await outbox.enqueue(install(), 'tech');
    const again = await outbox.enqueue(install(), 'tech');
    expect(again.op_id).toBe(first.op_id);
    await outbox.put({ ...first, attempts: 3 });
    expect(await outbox.all()).toHaveLength(1);

    // A different action, or the same once it has left the queue, is a new operation.
    await outbox.enqueue({ ...install(), args: { group_id: 'prfi00other' } }, 'tech');
    await outbox.recordIngest([{ op_id: first.op_id, result: 'accepted', operation: serverOp(first.op_id, 'accepted'), error: null }]);
    const later = await outbox.enqueue(install(), 'tech');
    expect(later.op_id).not.toBe(first.op_id);
    expect(await outbox.all()).toHaveLength(3);
  });

  it('moves through queued, sending, accepted and synced, and back to queued when a send fails', async () => {
    const op = await outbox.enqueue(install(), 'tech');
    await outbox.markSending([op.op_id]);
    expect((await outbox.get(op.op_id))?.state).toBe('sending');
    await outbox.requeue([op.op_id]);
    expect((await outbox.get(op.op_id))).toMatchObject({ state: 'queued', attempts: 1 });

    await outbox.markSending([op.op_id]);
    await outbox.recordIngest([{ op_id: op.op_id, result: 'accepted', operation: serverOp(op.op_id, 'accepted'), error: null }]);
    expect((await outbox.get(op.op_id))?.state).toBe('accepted');
    await outbox.applyServerStates([serverOp(op.op_id, 'synced')]);
    expect(await outbox.get(op.op_id)).toMatchObject({ state: 'synced', synced_at: '2026-11-22T08:00:05+00:00', attempts: 2 });
  });

  it('keeps a refused operation as failed with the reason, and retries it under the same op_id', async () => {
    const op = await outbox.enqueue(install(), 'tech');
    await outbox.recordIngest([{ op_id: op.op_id, result: 'rejected', operation: null, error: { code: 'validation_failed', message: 'Pick a deployment group.' } }]);
    const failed = await outbox.get(op.op_id);
    expect(failed).toMatchObject({ state: 'failed', rejected: true, error: { message: 'Pick a deployment group.' } });
    expect(await outbox.counts()).toMatchObject({ waiting: 0, failed: 1 });

    const retried = await outbox.retry(op.op_id);
    expect(retried?.op_id).toBe(op.op_id);
    expect(await outbox.get(op.op_id)).toMatchObject({ state: 'queued', rejected: false, error: null });
  });

  it('retries a failure the backend stored as a new operation and keeps the old one', async () => {
    const op = await outbox.enqueue(install(), 'tech');
    await outbox.recordIngest([{ op_id: op.op_id, result: 'accepted', operation: serverOp(op.op_id, 'accepted'), error: null }]);
    await outbox.applyServerStates([serverOp(op.op_id, 'failed', { code: 'platform_404', message: 'Device not in this stack' })]);
    const retried = await outbox.retry(op.op_id);
    expect(retried?.op_id).not.toBe(op.op_id);
    expect(retried).toMatchObject({ state: 'queued', kind: 'install', tuid: TUID, args: { group_id: 'prfi00site' } });
    expect(await outbox.get(op.op_id)).toMatchObject({ state: 'failed', superseded_by: retried?.op_id });
    expect(await outbox.counts()).toMatchObject({ waiting: 1, failed: 0 });
  });

  it('discards a failure only at the user request and still keeps it in the history', async () => {
    const op = await outbox.enqueue(install(), 'tech');
    expect(await outbox.discard(op.op_id)).toBe(false); // a queued action cannot be discarded
    await outbox.markRejected(op.op_id, { code: 'forbidden', message: 'No.' });
    expect(await outbox.discard(op.op_id)).toBe(true);
    expect(await outbox.get(op.op_id)).toMatchObject({ state: 'discarded', error: { message: 'No.' } });
    expect(await outbox.all()).toHaveLength(1);
  });

  it('never drops queued actions on sign-out or session expiry', async () => {
    const api = new Api({ fetch: async () => new Response(null, { status: 204 }) });
    await rememberSession({ user: { id: 1, username: 'tech', display_name: 'T', role: 'technician' }, csrf_token: 'x' });
    await outbox.enqueue(install(), 'tech');
    await outbox.enqueue(install(OTHER), 'tech');
    await markSessionExpired();
    expect((await loadSession()).expired).toBe(true);
    await signOut(api);
    expect((await loadSession()).user).toBeNull();
    expect((await outbox.all()).map((op) => op.state)).toEqual(['queued', 'queued']);
    expect((await outbox.counts()).byUser).toEqual({ tech: 2 });
  });

  it('hands out batches per user, oldest first, and resends a send that was lost long ago', async () => {
    const a = await outbox.enqueue(install(TUID), 'tech', 1000);
    const b = await outbox.enqueue(install(OTHER), 'tech', 2000);
    await outbox.enqueue(install('TSGW01ABC12345678'), 'someone', 3000);
    expect((await outbox.nextBatch('tech', 10, 5000)).map((op) => op.op_id)).toEqual([a.op_id, b.op_id]);
    expect(await outbox.nextBatch('tech', 1, 5000)).toHaveLength(1);

    await outbox.markSending([a.op_id], 5000);
    expect((await outbox.nextBatch('tech', 10, 6000)).map((op) => op.op_id)).toEqual([b.op_id]);
    const later = 5000 + outbox.STALE_SENDING_MS;
    expect((await outbox.nextBatch('tech', 10, later)).map((op) => op.op_id)).toEqual([a.op_id, b.op_id]);
  });

  it('shows the expected device state after a queued action', async () => {
    await outbox.enqueue(install(), 'tech');
    expect(await cachedDevice(TUID)).toMatchObject({ status: 'installed', group: 'prfi00site', source: 'queued', device_type: 'PRESENCE' });
    await outbox.enqueue({ kind: 'replace', tuid: TUID, args: { new_tuid: OTHER, old_status: 'retired' }, seen: {} }, 'tech');
    expect(await cachedDevice(TUID)).toMatchObject({ status: 'retired', group: 'unassigned' });
    expect(await cachedDevice(OTHER)).toMatchObject({ status: 'installed', group: 'prfi00site', device_type: 'ENVIRONMENT' });
  });
});

describe('a newer version of the app', () => {
  it('makes this copy outdated (reload to continue) instead of failing with VersionError', async () => {
    const { getDb: open, onOutdated, isOutdated, OutdatedAppError, closeDb: close, DB_VERSION: version } = await import('../src/core/db');
    await outbox.enqueue(install(), 'tech');
    const name = (await open()).name;
    let told = 0;
    onOutdated(() => (told += 1));
    // Another tab opens the database at a higher version: this one lets it upgrade.
    const { openDB } = await import('idb');
    const newer = await openDB(name, version + 1);
    expect(told).toBe(1);
    expect(isOutdated()).toBe(true);
    await expect(outbox.all()).rejects.toBeInstanceOf(OutdatedAppError);
    // The queue is intact for the new version.
    expect(await newer.getAll('outbox')).toHaveLength(1);
    newer.close();
    await close();
  });
});
