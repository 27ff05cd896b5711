// The service worker entry: only event wiring. Caching lives in sw/app-shell.ts, the outbox
// replay for Background Sync in sw/outbox-replay.ts (it runs the same core the page runs).

import { precacheAppShell, serveAppShellForNavigations } from './sw/app-shell';
import { OUTBOX_SYNC_TAG, replayOutbox, type SyncEvent } from './sw/outbox-replay';
import { SKIP_WAITING } from './sw/messages';

declare const self: ServiceWorkerGlobalScope;

precacheAppShell(self.__WB_MANIFEST);
serveAppShellForNavigations();

self.addEventListener('message', (event) => {
  if ((event.data as { type?: string } | null)?.type === SKIP_WAITING) void self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('sync', ((event: SyncEvent) => {
  if (event.tag === OUTBOX_SYNC_TAG) event.waitUntil(replayOutbox(self, event.lastChance));
}) as EventListener);
