/// <reference types="vitest/config" />
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

/**
 * zxing-wasm keeps a jsDelivr URL as its default place to fetch the decoder from. We always
 * override it with our own precached copy (src/ui/scanner/zxing.ts), so cut the CDN URL out of
 * the bundle: nothing we ship may point at a CDN.
 */
function noZxingCdn(): Plugin {
  return {
    name: 'fieldhand-no-zxing-cdn',
    enforce: 'pre',
    transform(code, id) {
      if (!/zxing-wasm[\\/]dist[\\/]/.test(id) || !code.includes('jsdelivr')) return null;
      const replaced = code.replace(/`https:\/\/fastly\.jsdelivr\.net\/npm\/zxing-wasm@[^`]*`/g, '"./zxing-wasm-not-configured.wasm"');
      if (replaced.includes('jsdelivr')) this.error('zxing-wasm: could not remove its CDN URL; check the new version');
      return { code: replaced, map: null };
    },
  };
}

const ASSETS = 'assets/';
const CONSOLE_ASSETS = 'assets/console/';
const CONSOLE_SRC = fileURLToPath(new URL('./src/console/', import.meta.url));

function isConsoleOnly(moduleIds: string[]): boolean {
  return moduleIds.length > 0 && moduleIds.every((id) => id.startsWith(CONSOLE_SRC));
}

export default defineConfig({
  define: {
    // Which build this is (the app tells the technician when it changed: src/core/app-version.ts).
    __FIELDHAND_BUILD__: JSON.stringify(process.env.FIELDHAND_BUILD_ID ?? new Date().toISOString()),
    // Tests of a new version mid-shift build a second app whose IndexedDB version is higher,
    // with no schema change (tests/e2e/test_update_mid_shift.py). Always 0 otherwise.
    __FIELDHAND_DB_TEST_BUMP__: JSON.stringify(Number(process.env.FIELDHAND_DB_TEST_BUMP ?? 0)),
  },
  build: {
    target: 'es2022',
    assetsInlineLimit: 0,
    sourcemap: false,
    rollupOptions: {
      // The supervisor console is its own page (console.html, src/console/): its code is loaded
      // only there; the technician app's entry stays index.html.
      input: {
        index: fileURLToPath(new URL('./index.html', import.meta.url)),
        console: fileURLToPath(new URL('./console.html', import.meta.url)),
      },
      // The console's own files go under assets/console/, so the technician app's service
      // worker can leave them out of its precache: phones never need the supervisor console.
      output: {
        entryFileNames: (chunk) => (chunk.name === 'console' ? CONSOLE_ASSETS : ASSETS) + '[name]-[hash].js',
        chunkFileNames: (chunk) => (isConsoleOnly(chunk.moduleIds) ? CONSOLE_ASSETS : ASSETS) + '[name]-[hash].js',
        assetFileNames: (asset) =>
          (asset.names.some((name) => name.startsWith('console')) ? CONSOLE_ASSETS : ASSETS) + '[name]-[hash][extname]',
      },
    },
  },
  plugins: [
    noZxingCdn(),
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src',
      filename: 'sw.ts',
      registerType: 'prompt',
      injectRegister: false,
      includeManifestIcons: false,
      manifest: {
        name: 'Fieldhand',
        short_name: 'Fieldhand',
        description: 'Scan Thingsee device labels and install, remove or replace devices, even offline.',
        id: '/',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        orientation: 'portrait',
        background_color: '#ffffff',
        theme_color: '#0b4f8a',
        lang: 'en',
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
          { src: '/icons/maskable-192.png', sizes: '192x192', type: 'image/png', purpose: 'maskable' },
          { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      injectManifest: {
        globPatterns: ['**/*.{js,css,html,wasm,png,svg,ico}'],
        globIgnores: ['console.html', 'assets/console/**'],
        // The ZXing decoder is about 1 MB and must be precached so scanning works offline.
        maximumFileSizeToCacheInBytes: 3 * 1024 * 1024,
        rollupFormat: 'iife',
      },
      devOptions: { enabled: false },
    }),
  ],
  test: {
    environment: 'node',
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    restoreMocks: true,
  },
});
