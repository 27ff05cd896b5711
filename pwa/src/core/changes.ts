// Tell every open copy of the app (tabs and the service worker) that stored data changed, so
// views re-read it. Works in windows and workers alike: BroadcastChannel, no DOM.

export type ChangeTopic = 'outbox' | 'devices' | 'groups' | 'session' | 'settings' | 'sync';

type Listener = (topic: ChangeTopic) => void;

const CHANNEL = 'fieldhand-changes';
const listeners = new Set<Listener>();
let channel: BroadcastChannel | null = null;

function ensureChannel(): void {
  if (channel || typeof BroadcastChannel === 'undefined') return;
  channel = new BroadcastChannel(CHANNEL);
  channel.onmessage = (event: MessageEvent<ChangeTopic>) => deliver(event.data);
  // Node (unit tests) would otherwise keep the process alive for the channel.
  (channel as unknown as { unref?: () => void }).unref?.();
}

function deliver(topic: ChangeTopic): void {
  for (const listener of [...listeners]) {
    try {
      listener(topic);
    } catch (error) {
      console.error('change listener failed', error);
    }
  }
}

/** Announce a change here and in every other context of this origin. */
export function notify(topic: ChangeTopic): void {
  deliver(topic);
  ensureChannel();
  channel?.postMessage(topic);
}

/** Call `listener` on every change; returns the unsubscribe function. */
export function subscribe(listener: Listener): () => void {
  ensureChannel();
  listeners.add(listener);
  return () => listeners.delete(listener);
}
