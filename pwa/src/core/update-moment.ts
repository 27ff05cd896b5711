// When a new version of the app, installed and waiting, may take over. Reloading mid-send would
// leave actions `sending` until they go stale, and mid-action would lose what the technician was
// doing; so the update waits until nothing is on its way and the technician's queue is empty
// (after a sync, or straight away when there was nothing to send). No DOM: plain rules.

export interface UpdateSituation {
  /** This technician's actions still on the phone (queued or sending). */
  waiting: number;
  /** Actions of anyone in `sending` (a request may be carrying them). */
  sending: number;
  syncRunning: boolean;
  online: boolean;
  /** A dialog is open or the technician is on a device card / replacing a device. */
  busy: boolean;
  /** A sync was already asked for on this update's behalf. */
  syncAsked: boolean;
}

export type UpdateMoment = 'apply' | 'sync-first' | 'wait';

/** Decide whether the waiting update is applied now, after a sync, or later. */
export function updateMoment(s: UpdateSituation): UpdateMoment {
  if (s.busy || s.syncRunning || s.sending > 0) return 'wait';
  if (s.waiting === 0) return 'apply';
  if (s.online && !s.syncAsked) return 'sync-first';
  return 'wait';
}
