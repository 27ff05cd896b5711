// Background Sync: when the browser says the network is back, hand the work to a visible page
// (it has the sync engine and shows progress) or, with no page open, send the outbox from the
// worker itself with the same core. Failing the event asks the browser to try again later.

import { Api } from '../core/api';
import { csrfToken } from '../core/session';
import { OutboxSync } from '../core/sync';
import { SYNC_REQUESTED } from './messages';

export { OUTBOX_SYNC_TAG } from './messages';

/** The Background Sync event (not in TypeScript's webworker lib). */
export interface SyncEvent extends ExtendableEvent {
  readonly tag: string;
  readonly lastChance: boolean;
}

/** Send the outbox for a `sync` event: through a visible page if there is one, else here. */
export async function replayOutbox(scope: ServiceWorkerGlobalScope, lastChance: boolean): Promise<void> {
  const windows = await scope.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const visible = windows.filter((client) => client.visibilityState === 'visible');
  if (visible.length > 0) {
    for (const client of visible) client.postMessage({ type: SYNC_REQUESTED });
    return;
  }
  const sync = new OutboxSync({ api: new Api({ csrf: csrfToken }), schedule: false });
  const outcome = await sync.trigger('background-sync');
  if ((outcome === 'offline' || outcome === 'retry') && !lastChance) {
    throw new Error(`outbox not sent (${outcome}); the browser will try again`);
  }
}
