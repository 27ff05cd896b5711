// The one module that talks to navigator.serviceWorker: registration, the "update ready"
// prompt, Background Sync registration, and messages from the worker.

import { OUTBOX_SYNC_TAG, SKIP_WAITING, SYNC_REQUESTED } from '../sw/messages';

export interface BridgeHandlers {
  /** A new version is installed and waiting; call `apply` when the user agrees to reload. */
  onUpdateReady(apply: () => void): void;
  /** The worker asks the page to send the outbox (Background Sync fired). */
  onSyncRequested(): void;
}

interface SyncManager {
  register(tag: string): Promise<void>;
}

let registration: ServiceWorkerRegistration | null = null;

/** Register the service worker and wire its events to the app. */
export async function registerServiceWorker(handlers: BridgeHandlers, url = '/sw.js'): Promise<void> {
  if (!('serviceWorker' in navigator)) return;
  const container = navigator.serviceWorker;
  let reloading = false;
  let userAccepted = false;

  container.addEventListener('message', (event: MessageEvent<{ type?: string }>) => {
    if (event.data?.type === SYNC_REQUESTED) handlers.onSyncRequested();
  });
  // The first install also changes the controller (clients.claim); reload only for an update
  // the user accepted.
  container.addEventListener('controllerchange', () => {
    if (!userAccepted || reloading) return;
    reloading = true;
    window.location.reload();
  });

  const offer = (worker: ServiceWorker) => {
    handlers.onUpdateReady(() => {
      userAccepted = true;
      worker.postMessage({ type: SKIP_WAITING });
    });
  };

  try {
    registration = await container.register(url, { scope: '/' });
  } catch (error) {
    console.warn('service worker registration failed', error);
    return;
  }
  const reg = registration;
  if (reg.waiting && container.controller) offer(reg.waiting);
  reg.addEventListener('updatefound', () => {
    const installing = reg.installing;
    if (!installing) return;
    installing.addEventListener('statechange', () => {
      if (installing.state === 'installed' && container.controller) offer(installing);
    });
  });
  // Look for a new version now and then while the app stays open all day.
  window.setInterval(() => void reg.update().catch(() => undefined), 60 * 60_000);
}

/** Ask the browser to wake us when the network is back (Background Sync), where supported. */
export async function requestBackgroundSync(): Promise<boolean> {
  try {
    const reg = registration ?? (('serviceWorker' in navigator) ? await navigator.serviceWorker.getRegistration() : undefined);
    const sync = (reg as (ServiceWorkerRegistration & { sync?: SyncManager }) | undefined)?.sync;
    if (!sync) return false;
    await sync.register(OUTBOX_SYNC_TAG);
    return true;
  } catch {
    return false; // not supported, or permission refused: the timer and `online` still trigger
  }
}
