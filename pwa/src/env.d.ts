// Types for the build: the service worker's precache manifest injected by vite-plugin-pwa.
interface ServiceWorkerGlobalScope {
  __WB_MANIFEST: (import('workbox-precaching').PrecacheEntry | string)[];
}

