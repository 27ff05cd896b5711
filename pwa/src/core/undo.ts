// Undo a technician's action: one still on the phone is cancelled (it never leaves); one the
// backend already has is undone by a new `undo` operation through the same outbox, which the
// backend plans from what it recorded (app/services/undo.py). The same rules as the backend's
// are checked here first so the technician hears "no" at once, not after the next sync.

import * as outbox from './outbox';
import { cachedDevice } from './devices';
import type { OutboxOp, Seen } from './types';

export type UndoResult =
  | { outcome: 'cancelled'; op: OutboxOp }
  | { outcome: 'undo-queued'; op: OutboxOp; undo: OutboxOp }
  | { outcome: 'refused'; reason: UndoRefusal };

/** Why an action cannot be undone from this phone (each has a sentence in the UI). */
export type UndoRefusal = 'not-found' | 'sending' | 'not-sent' | 'not-newest' | 'replace' | 'already-undone' | 'not-yours';

/** States of an action the backend holds (so undoing it takes an undo operation). */
const SENT_STATES: ReadonlySet<string> = new Set(['accepted', 'syncing', 'synced', 'failed', 'conflict']);
/** Actions that no longer count as the device's newest. */
const GONE_STATES: ReadonlySet<string> = new Set(['cancelled', 'discarded']);

/** What an undo of `op` is expected to bring back: the values it changed, as seen before it. */
export function expectedRestore(op: Pick<OutboxOp, 'kind' | 'args' | 'seen'>): Seen {
  const status = op.kind === 'install' || op.kind === 'remove' || op.kind === 'set_status' || (op.kind === 'undo' && op.args.status !== undefined);
  const group = op.kind === 'install' || op.kind === 'remove' || op.kind === 'set_group' || (op.kind === 'undo' && op.args.group_id !== undefined);
  return {
    ...(status ? { status: op.seen.status ?? null } : {}),
    ...(group ? { group: op.seen.group ?? null } : {}),
  };
}

/** True when this action still counts on its device (not cancelled, discarded or refused). */
function counts(op: OutboxOp): boolean {
  return !GONE_STATES.has(op.state) && !op.rejected;
}

/** Tell whether (and how) an action can be undone now, without changing anything. */
export async function undoable(opId: string, username: string): Promise<'cancel' | 'undo' | UndoRefusal> {
  const op = await outbox.get(opId);
  if (!op) return 'not-found';
  if (op.username !== username) return 'not-yours';
  if (op.state === 'queued') return 'cancel';
  if (op.state === 'sending') return 'sending';
  if (op.undone_by) return 'already-undone';
  if (!SENT_STATES.has(op.state) || op.rejected) return 'not-sent';
  if (op.kind === 'replace') return 'replace';
  const newest = (await outbox.forDevice(op.tuid)).filter(counts).pop();
  if (newest && newest.op_id !== op.op_id) return 'not-newest';
  return 'undo';
}

/** Undo an action: cancel it while queued, else queue its undo. */
export async function undoAction(opId: string, username: string, now = Date.now()): Promise<UndoResult> {
  const verdict = await undoable(opId, username);
  const op = await outbox.get(opId);
  if (!op) return { outcome: 'refused', reason: 'not-found' };
  if (verdict === 'cancel') {
    const cancelled = await outbox.cancel(opId, now);
    if (cancelled === 'cancelled') return { outcome: 'cancelled', op: { ...op, state: 'cancelled' } };
    // It left for the server between the two reads: undo it the other way, once it is answered.
    return { outcome: 'refused', reason: cancelled === 'sending' ? 'sending' : 'not-found' };
  }
  if (verdict !== 'undo') return { outcome: 'refused', reason: verdict };
  const device = await cachedDevice(op.tuid);
  const undo = await outbox.enqueue(
    {
      kind: 'undo',
      tuid: op.tuid,
      args: { undoes: op.op_id },
      seen: { status: device?.status ?? null, group: device?.group ?? null },
      restores: expectedRestore(op),
    },
    username,
    now,
  );
  return { outcome: 'undo-queued', op, undo };
}
