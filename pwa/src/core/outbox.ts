// The outbox: every technician action as an operation with a client-generated op_id, kept in
// IndexedDB until the backend has it, and afterwards as the record of what happened to it.
// Nothing here ever deletes an operation: not on sign-out, not on session expiry, not on a 4xx.
// Each function is one short transaction with no network inside.

import { getDb } from './db';
import { notify } from './changes';
import { effectOnDevices } from './devices';
import type { IngestResult, Operation, OpError, OpKind, OutboxOp, OperationIn, Seen } from './types';

export interface NewAction {
  kind: OpKind;
  tuid: string;
  args: Record<string, unknown>;
  seen: Seen;
  /** For an undo: what it is expected to bring back (see OutboxOp.restores). */
  restores?: Seen;
  /** Keep it on the phone until then (see OutboxOp.hold_until). */
  holdUntil?: number;
}

/** States in which an operation still waits on the phone. */
export const WAITING_STATES: ReadonlySet<string> = new Set(['queued', 'sending']);
/** States the backend may still move on from. */
export const IN_FLIGHT_STATES: ReadonlySet<string> = new Set(['accepted', 'syncing']);

/** A `sending` operation older than this lost its request (tab closed, crash): send it again. */
export const STALE_SENDING_MS = 90_000;
/** How long the phone keeps following an operation the backend reported failed. */
export const FOLLOW_FAILED_MS = 24 * 3600_000;

function sameArgs(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = Object.keys(a).sort();
  const other = Object.keys(b).sort();
  return keys.length === other.length && keys.every((k, i) => k === other[i] && a[k] === b[k]);
}

/** Return a fresh op_id. */
export function newOpId(): string {
  return crypto.randomUUID();
}

/**
 * Queue an action. A repeat of the same action on the same device that is still queued (a
 * double tap, the same label read twice) returns the queued one instead of a second operation.
 */
export async function enqueue(action: NewAction, username: string, now = Date.now()): Promise<OutboxOp> {
  const db = await getDb();
  const tx = db.transaction(['outbox', 'devices'], 'readwrite');
  const outbox = tx.objectStore('outbox');
  const sameDevice = await outbox.index('by_tuid').getAll(action.tuid);
  const repeat = sameDevice.find(
    (op) =>
      op.state === 'queued' &&
      op.username === username &&
      op.kind === action.kind &&
      sameArgs(op.args, action.args),
  );
  if (repeat) {
    await tx.done;
    return repeat;
  }
  const op: OutboxOp = {
    op_id: newOpId(),
    kind: action.kind,
    tuid: action.tuid,
    args: action.args,
    device_time: new Date(now).toISOString(),
    seen: action.seen,
    username,
    state: 'queued',
    rejected: false,
    error: null,
    attempts: 0,
    created_at: now,
    updated_at: now,
    synced_at: null,
    ...(action.restores ? { restores: action.restores } : {}),
    ...(action.holdUntil ? { hold_until: action.holdUntil } : {}),
  };
  await outbox.add(op);
  if (op.kind === 'undo') {
    // The original shows it was undone, in the same transaction as the undo itself.
    const original = await outbox.get(String(op.args.undoes));
    if (original) await outbox.put({ ...original, undone_by: op.op_id, updated_at: now });
  }
  const devices = tx.objectStore('devices');
  const tuids = [op.tuid, ...(typeof op.args.new_tuid === 'string' ? [op.args.new_tuid] : [])];
  const before = new Map((await Promise.all(tuids.map((t) => devices.get(t)))).flatMap((d) => (d ? [[d.tuid, d] as const] : [])));
  for (const device of effectOnDevices(op, before, now)) await devices.put(device);
  await tx.done;
  notify('outbox');
  notify('devices');
  return op;
}

/** Store an operation as is (restore, tests); an existing op_id is overwritten, never doubled. */
export async function put(op: OutboxOp): Promise<void> {
  const db = await getDb();
  await db.put('outbox', op);
  notify('outbox');
}

/** Return one operation. */
export async function get(opId: string): Promise<OutboxOp | undefined> {
  const db = await getDb();
  return db.get('outbox', opId);
}

/** Return every operation, oldest first. */
export async function all(): Promise<OutboxOp[]> {
  const db = await getDb();
  return db.getAllFromIndex('outbox', 'by_created');
}

/** Return the operations for one device, oldest first. */
export async function forDevice(tuid: string): Promise<OutboxOp[]> {
  const db = await getDb();
  const ops = await db.getAllFromIndex('outbox', 'by_tuid', tuid);
  return ops.sort((a, b) => a.created_at - b.created_at);
}

/** Return the wire form of an operation. */
export function toWire(op: OutboxOp): OperationIn {
  return { op_id: op.op_id, kind: op.kind, tuid: op.tuid, args: op.args, device_time: op.device_time, seen: op.seen };
}

/** Count what waits to be sent and what needs the user's attention. */
export async function counts(): Promise<{ waiting: number; failed: number; byUser: Record<string, number> }> {
  const ops = await all();
  const byUser: Record<string, number> = {};
  let waiting = 0;
  let failed = 0;
  for (const op of ops) {
    if (WAITING_STATES.has(op.state)) {
      waiting += 1;
      byUser[op.username] = (byUser[op.username] ?? 0) + 1;
    } else if (needsAttention(op)) {
      failed += 1;
    }
  }
  return { waiting, failed, byUser };
}

/** True for a failure the user has not yet retried or discarded. */
export function needsAttention(op: OutboxOp): boolean {
  return (op.state === 'failed' || op.state === 'conflict') && !op.superseded_by;
}

/**
 * Return the next operations to send for this user, in the order they were made: queued ones,
 * and `sending` ones whose request was lost long enough ago.
 */
export async function nextBatch(username: string, limit: number, now = Date.now()): Promise<OutboxOp[]> {
  const db = await getDb();
  const batch: OutboxOp[] = [];
  let cursor = await db.transaction('outbox').store.index('by_created').openCursor();
  while (cursor && batch.length < limit) {
    const op = cursor.value;
    if (
      op.username === username &&
      ((op.state === 'queued' && !(op.hold_until && op.hold_until > now)) ||
        (op.state === 'sending' && now - op.updated_at >= STALE_SENDING_MS))
    ) {
      batch.push(op);
    }
    cursor = await cursor.continue();
  }
  return batch;
}

async function update(opIds: string[], change: (op: OutboxOp) => OutboxOp | null): Promise<number> {
  const db = await getDb();
  const tx = db.transaction('outbox', 'readwrite');
  let changed = 0;
  for (const opId of opIds) {
    const op = await tx.store.get(opId);
    if (!op) continue;
    const next = change(op);
    if (next) {
      await tx.store.put(next);
      changed += 1;
    }
  }
  await tx.done;
  if (changed) notify('outbox');
  return changed;
}

/**
 * Mark operations as on their way (before the request, in its own transaction) and return the
 * ones marked: an action cancelled since it was picked is not among them, so it is not sent.
 */
export async function markSending(opIds: string[], now = Date.now()): Promise<OutboxOp[]> {
  const db = await getDb();
  const tx = db.transaction('outbox', 'readwrite');
  const marked: OutboxOp[] = [];
  for (const opId of opIds) {
    const op = await tx.store.get(opId);
    if (!op || (op.state !== 'queued' && op.state !== 'sending')) continue;
    const next: OutboxOp = { ...op, state: 'sending', attempts: op.attempts + 1, updated_at: now };
    await tx.store.put(next);
    marked.push(next);
  }
  await tx.done;
  if (marked.length) notify('outbox');
  return marked;
}

/**
 * Record what the device was before a queued action, learnt after it was queued (a batch scan
 * of a device this phone had never seen), and let it go. Only while it is still queued: the
 * backend plans an undo from this (app/services/undo.py).
 */
export async function learnSeen(opId: string, seen: Seen | null, now = Date.now()): Promise<boolean> {
  const changed = await update([opId], (op) => {
    if (op.state !== 'queued') return null;
    const { hold_until: _released, ...rest } = op;
    return {
      ...rest,
      seen: seen ? { status: op.seen.status ?? seen.status ?? null, group: op.seen.group ?? seen.group ?? null } : op.seen,
      updated_at: now,
    };
  });
  return changed > 0;
}

export type CancelResult = 'cancelled' | 'sending' | 'sent' | 'not-found';

/**
 * Cancel an action that has not left the phone: in one transaction, only while it is `queued`
 * (never while a request carries it), mark it `cancelled` so it is never sent, and put the
 * device's expected state back to what the user saw before it, replaying the device's other
 * waiting actions on top. The operation stays in the history as cancelled.
 */
export async function cancel(opId: string, now = Date.now()): Promise<CancelResult> {
  const db = await getDb();
  const tx = db.transaction(['outbox', 'devices'], 'readwrite');
  const store = tx.objectStore('outbox');
  const op = await store.get(opId);
  if (!op || op.state !== 'queued') {
    await tx.done;
    return !op ? 'not-found' : op.state === 'sending' ? 'sending' : 'sent';
  }
  await store.put({ ...op, state: 'cancelled', updated_at: now });
  if (op.kind === 'undo') {
    const original = await store.get(String(op.args.undoes));
    if (original?.undone_by === op.op_id) {
      const { undone_by: _dropped, ...rest } = original;
      await store.put({ ...rest, updated_at: now });
    }
  }
  const devices = tx.objectStore('devices');
  const device = await devices.get(op.tuid);
  if (device && device.source === 'queued') {
    const changed = effectOnDevices(op, new Map(), now)[0];
    let restored = {
      ...device,
      // What the card showed before the action (the cache it was read from), unknown included.
      status: changed && changed.status !== null ? op.seen.status ?? null : device.status,
      group: changed && changed.group !== null ? op.seen.group ?? null : device.group,
      updated_at: now,
    };
    const later = (await store.index('by_tuid').getAll(op.tuid))
      .filter((other) => WAITING_STATES.has(other.state) && other.created_at > op.created_at)
      .sort((a, b) => a.created_at - b.created_at);
    for (const other of later) restored = effectOnDevices(other, new Map([[op.tuid, restored]]), now)[0] ?? restored;
    await devices.put(restored);
  }
  await tx.done;
  notify('outbox');
  notify('devices');
  return 'cancelled';
}

/** Put operations whose request failed back in the queue. */
export function requeue(opIds: string[], now = Date.now()): Promise<number> {
  return update(opIds, (op) => (op.state === 'sending' ? { ...op, state: 'queued', updated_at: now } : null));
}

function fromServer(op: OutboxOp, server: Operation, now: number): OutboxOp {
  return {
    ...op,
    state: server.state,
    rejected: false,
    error: server.error ?? null,
    synced_at: server.synced_at ?? null,
    updated_at: now,
  };
}

/** Record the backend's per-item answer to a batch. */
export function recordIngest(results: IngestResult[], now = Date.now()): Promise<number> {
  const byId = new Map(results.map((r) => [r.op_id, r]));
  return update([...byId.keys()], (op) => {
    const result = byId.get(op.op_id);
    if (!result) return null;
    if (result.result === 'rejected') {
      return {
        ...op,
        state: 'failed',
        rejected: true,
        error: result.error ?? { code: 'rejected', message: 'The server refused this action.' },
        updated_at: now,
      };
    }
    if (result.operation) return fromServer(op, result.operation, now);
    return { ...op, state: 'accepted', rejected: false, error: null, updated_at: now };
  });
}

/** Mark one operation refused by the backend (kept, with the reason, for retry or discard). */
export function markRejected(opId: string, error: OpError, now = Date.now()): Promise<number> {
  return update([opId], (op) => ({ ...op, state: 'failed', rejected: true, error, updated_at: now }));
}

/** Apply the backend's current state of operations we follow. */
export function applyServerStates(operations: Operation[], now = Date.now()): Promise<number> {
  const byId = new Map(operations.map((o) => [o.op_id, o]));
  return update([...byId.keys()], (op) => {
    const server = byId.get(op.op_id);
    if (!server || op.state === 'discarded') return null;
    if (server.state === op.state && (server.error?.message ?? null) === (op.error?.message ?? null) && server.synced_at === op.synced_at) {
      return null;
    }
    return fromServer(op, server, now);
  });
}

/** Return this user's operations whose state the backend may still change. */
export async function toFollow(username: string, now = Date.now()): Promise<OutboxOp[]> {
  const ops = await all();
  return ops.filter(
    (op) =>
      op.username === username &&
      !op.rejected &&
      !op.superseded_by &&
      (IN_FLIGHT_STATES.has(op.state) ||
        ((op.state === 'failed' || op.state === 'conflict') && now - op.updated_at < FOLLOW_FAILED_MS)),
  );
}

/**
 * Try a failed operation again. One the backend refused and never stored goes back in the queue
 * with the same op_id; one the backend stored and then failed becomes a new operation (a repeat
 * op_id would only return the stored failure), and the old one points at it.
 */
export async function retry(opId: string, now = Date.now()): Promise<OutboxOp | null> {
  const db = await getDb();
  const tx = db.transaction('outbox', 'readwrite');
  const op = await tx.store.get(opId);
  if (!op || !needsAttention(op)) {
    await tx.done;
    return null;
  }
  let result: OutboxOp;
  if (op.rejected) {
    result = { ...op, state: 'queued', rejected: false, error: null, attempts: 0, updated_at: now };
    await tx.store.put(result);
  } else {
    result = {
      ...op,
      op_id: newOpId(),
      device_time: new Date(now).toISOString(),
      state: 'queued',
      rejected: false,
      error: null,
      attempts: 0,
      created_at: now,
      updated_at: now,
      synced_at: null,
    };
    await tx.store.add(result);
    await tx.store.put({ ...op, superseded_by: result.op_id, updated_at: now });
  }
  await tx.done;
  notify('outbox');
  return result;
}

/** Set a failed operation aside at the user's request; it stays in the history as discarded. */
export async function discard(opId: string, now = Date.now()): Promise<boolean> {
  const changed = await update([opId], (op) =>
    needsAttention(op) ? { ...op, state: 'discarded', updated_at: now } : null,
  );
  return changed > 0;
}
