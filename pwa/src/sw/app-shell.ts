// Caching for the service worker: precache the whole build (app shell, styles, icons, the
// ZXing WebAssembly) with Workbox, drop caches of older builds, and answer every navigation with
// the precached index.html so the app starts with no network at all. The API is never cached
// here: the outbox and the device/group caches live in IndexedDB (src/core). The supervisor
// console is left to the network: it is not precached and its navigations pass through.

import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute, type PrecacheEntry } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';

/** Precache every asset of this build and remove the previous build's cache. */
export function precacheAppShell(manifest: (PrecacheEntry | string)[]): void {
  precacheAndRoute(manifest);
  cleanupOutdatedCaches();
}

/** Serve the precached index.html for navigations, except to the API and the console. */
export function serveAppShellForNavigations(): void {
  registerRoute(new NavigationRoute(createHandlerBoundToURL('index.html'), { denylist: [/^\/api\//, /^\/console(\.html)?(\/|$|\?)/] }));
}
