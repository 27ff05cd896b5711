import { describe, expect, it } from 'vitest';
import * as outbox from '../src/core/outbox';
import { cachedDevice } from '../src/core/devices';
import { undoAction, undoable } from '../src/core/undo';
import { batchVerdict, loadBatchList, saveBatchList } from '../src/core/batch-list';
import { closeDb } from '../src/core/db';
import type { Operation } from '../src/core/types';

const TUID = 'TSPR04EZU31901021';
const install = () => ({ kind: 'install' as const, tuid: TUID, args: { group_id: 'prfi00site' }, seen: { status: 'uninstalled', group: 'unassigned' } });

function accepted(opId: string, state: Operation['state'] = 'accepted'): Operation {
  return { op_id: opId, kind: 'install', tuid: TUID, args: {}, state, device_time: '', received_at: null, synced_at: null, error: null };
}

describe('undo on the phone', () => {
  it('cancels a queued action: it is never sent and the device shows what it was before', async () => {
    const op = await outbox.enqueue(install(), 'tech', 1000);
    expect((await cachedDevice(TUID))?.status).toBe('installed');
    const result = await undoAction(op.op_id, 'tech', 2000);
    expect(result.outcome).toBe('cancelled');
    expect(await outbox.get(op.op_id)).toMatchObject({ state: 'cancelled' });
    expect(await outbox.nextBatch('tech', 100, 3000)).toEqual([]);
    expect(await outbox.counts()).toMatchObject({ waiting: 0, failed: 0 });
    expect(await cachedDevice(TUID)).toMatchObject({ status: 'uninstalled', group: 'unassigned' });
  });

  it('never cancels an action while it is being sent, and a cancelled one picked for a batch is not marked', async () => {
    const op = await outbox.enqueue(install(), 'tech');
    const picked = await outbox.nextBatch('tech', 100);
    expect(await outbox.cancel(op.op_id)).toBe('cancelled');
    expect(await outbox.markSending(picked.map((o) => o.op_id))).toEqual([]); // sync sends nothing

    const second = await outbox.enqueue({ ...install(), args: { group_id: 'prfi00other' } }, 'tech');
    await outbox.markSending([second.op_id]);
    expect(await outbox.cancel(second.op_id)).toBe('sending');
    expect(await undoAction(second.op_id, 'tech')).toEqual({ outcome: 'refused', reason: 'sending' });
    expect((await outbox.get(second.op_id))?.state).toBe('sending');
  });

  it('undoes a sent action with an undo operation through the outbox, linked both ways', async () => {
    const op = await outbox.enqueue(install(), 'tech', 1000);
    await outbox.markSending([op.op_id]);
    await outbox.recordIngest([{ op_id: op.op_id, result: 'accepted', operation: accepted(op.op_id, 'synced'), error: null }]);
    expect(await undoable(op.op_id, 'tech')).toBe('undo');
    expect(await undoable(op.op_id, 'someone')).toBe('not-yours');
    const result = await undoAction(op.op_id, 'tech', 5000);
    if (result.outcome !== 'undo-queued') throw new Error(result.outcome);
    expect(result.undo).toMatchObject({ kind: 'undo', tuid: TUID, args: { undoes: op.op_id }, state: 'queued', restores: { status: 'uninstalled', group: 'unassigned' } });
    expect(outbox.toWire(result.undo)).not.toHaveProperty('restores');
    expect((await outbox.get(op.op_id))?.undone_by).toBe(result.undo.op_id);
    expect(await cachedDevice(TUID)).toMatchObject({ status: 'uninstalled', group: 'unassigned', source: 'queued' });
    // Undone once: the original cannot be undone again; the undo itself can be cancelled.
    expect(await undoable(op.op_id, 'tech')).toBe('already-undone');
    expect((await undoAction(result.undo.op_id, 'tech')).outcome).toBe('cancelled');
    expect((await outbox.get(op.op_id))?.undone_by).toBeUndefined();
  });

  it('refuses an action that is not the device newest, or a replacement', async () => {
    const first = await outbox.enqueue(install(), 'tech', 1000);
    await outbox.recordIngest([{ op_id: first.op_id, result: 'accepted', operation: accepted(first.op_id), error: null }]);
    await outbox.enqueue({ kind: 'set_status', tuid: TUID, args: { status: 'quarantine' }, seen: {} }, 'tech', 2000);
    expect(await undoable(first.op_id, 'tech')).toBe('not-newest');
    const swap = await outbox.enqueue({ kind: 'replace', tuid: 'TSPD02ABC12345678', args: { new_tuid: 'TSPD02ABC12345679', old_status: 'uninstalled' }, seen: {} }, 'tech', 3000);
    await outbox.recordIngest([{ op_id: swap.op_id, result: 'accepted', operation: { ...accepted(swap.op_id), kind: 'replace' }, error: null }]);
    expect(await undoable(swap.op_id, 'tech')).toBe('replace');
  });
});

describe('batch list', () => {
  it('survives closing the app', async () => {
    await saveBatchList([{ tuid: TUID, deviceType: 'PRESENCE', outcome: 'queued', at: 1, opId: 'x' }]);
    await closeDb();
    expect(await loadBatchList()).toEqual([{ tuid: TUID, deviceType: 'PRESENCE', outcome: 'queued', at: 1, opId: 'x' }]);
  });

  it('calls a device already done by you when your own newest action is this one, queued or synced', async () => {
    expect(await batchVerdict('install', TUID, 'prfi00site', null, 'tech')).toEqual({ outcome: 'queue' });
    const op = await outbox.enqueue(install(), 'tech');
    await closeDb(); // a reload
    const status = (await cachedDevice(TUID))?.status ?? null;
    expect(status).toBe('installed');
    expect(await batchVerdict('install', TUID, 'prfi00site', status, 'tech')).toMatchObject({ outcome: 'already', op: { op_id: op.op_id } });
    await outbox.recordIngest([{ op_id: op.op_id, result: 'accepted', operation: accepted(op.op_id, 'synced'), error: null }]);
    expect((await batchVerdict('install', TUID, 'prfi00site', status, 'tech')).outcome).toBe('already');
    // Someone else's install, or another group, is still worth a look.
    expect((await batchVerdict('install', TUID, 'prfi00site', status, 'other')).outcome).toBe('needs-look');
    expect((await batchVerdict('install', TUID, 'prfi00else', status, 'tech')).outcome).toBe('needs-look');
  });
});

describe('cancelling an action on a device the phone knew nothing about', () => {
  it('leaves the device unknown again, not in the status the cancelled action gave it', async () => {
    const op = await outbox.enqueue({ kind: 'install', tuid: TUID, args: { group_id: 'prfi00site' }, seen: { status: null, group: null } }, 'tech');
    expect((await cachedDevice(TUID))?.status).toBe('installed');
    await undoAction(op.op_id, 'tech');
    expect(await cachedDevice(TUID)).toMatchObject({ status: null, group: null });
    expect((await batchVerdict('install', TUID, 'prfi00site', null, 'tech')).outcome).toBe('queue');
  });
});

describe('the console names an undo by what it restores', () => {
  it('in both languages', async () => {
    const { describeAction } = await import('../src/console/format');
    const { setLanguage } = await import('../src/console/i18n');
    setLanguage('en');
    expect(describeAction('undo', { undoes: 'x', status: 'uninstalled', group_id: 'unassigned' })).toBe('Undo: back to uninstalled, unassigned');
    setLanguage('fi');
    expect(describeAction('undo', { undoes: 'x', status: 'installed' })).toMatch(/^Kumoaminen: takaisin tilaan /);
    setLanguage('en');
  });
});

describe('a batch scan of a device the phone never saw', () => {
  it('is held until the lookup says what the device was, then sent with it', async () => {
    const { learnBeforeSending } = await import('../src/core/batch-list');
    const op = await outbox.enqueue({ kind: 'install', tuid: TUID, args: { group_id: 'prfi00site' }, seen: { status: null, group: null }, holdUntil: 10_000 }, 'tech', 1_000);
    expect(await outbox.nextBatch('tech', 100, 2_000)).toEqual([]); // held
    await learnBeforeSending(async () => ({ status: 'uninstalled', group: 'unassigned' }), op.op_id);
    const [ready] = await outbox.nextBatch('tech', 100, 2_000);
    expect(ready).toMatchObject({ op_id: op.op_id, seen: { status: 'uninstalled', group: 'unassigned' } });
    expect(ready).not.toHaveProperty('hold_until');
  });

  it('goes without it when the lookup fails or is slow, and never after it was sent', async () => {
    const { learnBeforeSending } = await import('../src/core/batch-list');
    const op = await outbox.enqueue({ kind: 'install', tuid: TUID, args: { group_id: 'prfi00site' }, seen: {}, holdUntil: 10_000 }, 'tech', 1_000);
    await learnBeforeSending(() => new Promise(() => undefined), op.op_id, 10);
    expect(await outbox.nextBatch('tech', 100, 2_000)).toHaveLength(1);
    await outbox.markSending([op.op_id]);
    expect(await outbox.learnSeen(op.op_id, { status: 'new', group: null })).toBe(false);
  });
});
