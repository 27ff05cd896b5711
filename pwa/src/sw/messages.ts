// Messages between the page (src/sw-bridge.ts) and the service worker.

/** Page → worker: the user accepted the update; activate the waiting worker now. */
export const SKIP_WAITING = 'fieldhand:skip-waiting';
/** Worker → page: Background Sync fired; the page should send its outbox. */
export const SYNC_REQUESTED = 'fieldhand:sync-requested';
/** The Background Sync tag the page registers and the worker answers. */
export const OUTBOX_SYNC_TAG = 'fieldhand-outbox';
