// The batch scanning list and what a label read in batch mode means for a device the
// technician may already have dealt with. The list is kept in IndexedDB (meta) so it survives
// a reload or a closed browser; the verdict reads the phone's own outbox, so a device whose
// newest action is this technician's own (still queued, or already synced) is "already done
// by you", not a warning about the status that action gave it.

import { getMeta, setMeta } from './db';
import * as outbox from './outbox';
import { needsALook, operationFor, type DeviceAction } from './actions';
import type { OutboxOp } from './types';

export interface BatchEntry {
  tuid: string;
  deviceType: string;
  outcome: 'queued' | 'already' | 'needs-look';
  status?: string | null;
  at: number;
  /** The operation this entry queued (or found already done), for undo. */
  opId?: string;
}

const KEY = 'batch_list';
/** Enough for a long shift's batch; older entries are dropped from the list (not the outbox). */
export const BATCH_LIST_MAX = 500;

/** Return the stored batch list, newest first. */
export async function loadBatchList(): Promise<BatchEntry[]> {
  return (await getMeta<BatchEntry[]>(KEY)) ?? [];
}

/** Store the batch list (newest first). */
export async function saveBatchList(items: readonly BatchEntry[]): Promise<void> {
  await setMeta(KEY, items.slice(0, BATCH_LIST_MAX));
}

const REMOVED_KEY = 'batch_removed';

/** Return the devices taken out of the current batch (kept across reloads: see UndoFlow). */
export async function loadBatchRemoved(): Promise<string[]> {
  return (await getMeta<string[]>(REMOVED_KEY)) ?? [];
}

/** Store the devices taken out of the current batch. */
export async function saveBatchRemoved(tuids: readonly string[]): Promise<void> {
  await setMeta(REMOVED_KEY, tuids.slice(-BATCH_LIST_MAX));
}

const GONE: ReadonlySet<string> = new Set(['cancelled', 'discarded']);

/** The device's newest action on this phone that still counts, if it is this user's. */
export async function ownNewestAction(tuid: string, username: string): Promise<OutboxOp | null> {
  const newest = (await outbox.forDevice(tuid)).filter((op) => !GONE.has(op.state) && !op.rejected).pop();
  return newest && newest.username === username ? newest : null;
}

function sameArgs(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => a[k] === b[k]);
}

export type BatchVerdict =
  | { outcome: 'already'; op: OutboxOp }
  | { outcome: 'needs-look' }
  | { outcome: 'queue' };

/**
 * Decide what a batch read of `tuid` does: `already` when the technician's own newest action on
 * it is this very action (queued or synced, before or after a reload), `needs-look` when its
 * status makes the action risky, else `queue`.
 */
export async function batchVerdict(
  action: DeviceAction,
  tuid: string,
  group: string | null,
  status: string | null,
  username: string,
): Promise<BatchVerdict> {
  const own = await ownNewestAction(tuid, username);
  const wanted = operationFor(action, tuid, group);
  if (own && !own.undone_by && own.kind === wanted.kind && sameArgs(own.args, wanted.args)) return { outcome: 'already', op: own };
  if (needsALook(action, status)) return { outcome: 'needs-look' };
  return { outcome: 'queue' };
}

/** How long a batch scan of an unknown device waits for its lookup before it is sent anyway. */
export const LEARN_SEEN_MS = 4_000;

/**
 * A batch scan of a device this phone knew nothing about is queued at once (no waiting for the
 * network) but held for up to LEARN_SEEN_MS while the device is looked up, so the operation
 * carries what the device was before it: that is what an undo restores. Resolves when the
 * action may go (the caller then triggers a sync).
 */
export async function learnBeforeSending(
  lookup: () => Promise<{ status: string | null; group: string | null }>,
  opId: string,
  waitMs = LEARN_SEEN_MS,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), waitMs);
  });
  const found = await Promise.race([lookup().catch(() => null), timeout]);
  clearTimeout(timer);
  await outbox.learnSeen(opId, found);
}
