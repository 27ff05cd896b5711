// Queue telemetry: what this phone's outbox looks like, sent with every request to the backend
// (X-Fieldhand-Queue) so supervisors see whose queue is old or stuck. Read-only: the backend
// cannot change the queue through it. No DOM here.

import * as outbox from './outbox';
import { APP_BUILD } from './app-version';

const PACKAGE_VERSION: string = typeof __FIELDHAND_VERSION__ === 'string' ? __FIELDHAND_VERSION__ : 'dev';
/** The version and build, as the console shows it: a phone still on an old build stands out. */
export const APP_VERSION = `${PACKAGE_VERSION}+${APP_BUILD}`.slice(0, 32);
const PHONE_KEY = 'fieldhand.phone-id';
const UNSYNCED = new Set(['queued', 'sending', 'accepted', 'syncing']);

let latest: { pending: number; failed: number; oldest: number | null } | null = null;

interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** This phone's lasting random id (telemetry only: it names no person and no device). */
export function phoneId(): string {
  try {
    // The page's localStorage (this module is also type-checked for the service worker).
    const storage = (globalThis as { localStorage?: KeyValueStore }).localStorage;
    if (!storage) return 'unknown';
    let id = storage.getItem(PHONE_KEY);
    if (!id) {
      id = crypto.randomUUID();
      storage.setItem(PHONE_KEY, id);
    }
    return id;
  } catch {
    return 'unknown';
  }
}

/** The header's value: counts as of the last refresh, the oldest action's age as of now. */
export function queueReportHeader(now = Date.now()): string | null {
  if (!latest) return null;
  return JSON.stringify({
    phone: phoneId(),
    pending: latest.pending,
    failed: latest.failed,
    oldest_s: latest.oldest === null ? null : Math.max(0, Math.round((now - latest.oldest) / 1000)),
    version: APP_VERSION,
  });
}

/** Read the outbox again: pending, failed and the oldest action not yet synced. */
export async function refreshQueueReport(): Promise<void> {
  const ops = await outbox.all();
  let pending = 0;
  let failed = 0;
  let oldest: number | null = null;
  for (const op of ops) {
    if (outbox.WAITING_STATES.has(op.state)) pending += 1;
    else if (outbox.needsAttention(op)) failed += 1;
    if (UNSYNCED.has(op.state) && (oldest === null || op.created_at < oldest)) oldest = op.created_at;
  }
  latest = { pending, failed, oldest };
}
