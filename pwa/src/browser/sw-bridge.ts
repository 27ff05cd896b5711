// The one module that talks to navigator.serviceWorker: registration, the "update ready"
// prompt, Background Sync registration, and messages from the worker.

import { OUTBOX_SYNC_TAG, SKIP_WAITING, SYNC_REQUESTED } from '../sw/messages';

export interface BridgeHandlers {
  /**
   * A new version is installed and waiting; call `apply` at a safe moment (the queue is idle,
   * or the user agreed): the page reloads into the new version.
   */
  onUpdateReady(apply: () => void): void;
  /** Another tab activated a new version: this page runs old code and should reload. */
  onReplaced(): void;
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
  const hadController = Boolean(container.controller);
  container.addEventListener('controllerchange', () => {
    if (reloading) return;
    if (userAccepted) {
      reloading = true;
      window.location.reload();
    } else if (hadController) {
      handlers.onReplaced(); // a newer version took over from another tab
    }
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
  // Look for a new version now and then while the app stays open all day (and, through
  // checkForUpdate, whenever the connection returns or the app comes back to the screen).
  window.setInterval(() => void checkForUpdate(), 60 * 60_000);
}

let lastCheck = 0;
/** Checks closer together than this are skipped (visibility and connectivity flap). */
const CHECK_EVERY_MS = 30_000;

/**
 * Ask the server whether a new version was deployed (quiet when offline). `reconnected`: the
 * connection just came back, when a deploy is most likely to have been missed: always ask.
 */
export async function checkForUpdate(reconnected = false, now = Date.now()): Promise<void> {
  if (!registration || (!reconnected && now - lastCheck < CHECK_EVERY_MS)) return;
  try {
    await registration.update();
    lastCheck = now;
  } catch {
    // offline or the server is away: the next trigger tries again
  }
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
