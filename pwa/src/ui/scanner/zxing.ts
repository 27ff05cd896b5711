// The self-hosted ZXing WebAssembly decoder, loaded only when the browser has no
// BarcodeDetector. The .wasm comes from our own origin (Vite's ?url import, precached by the
// service worker), never from a CDN.

import { prepareZXingModule, readBarcodes } from 'zxing-wasm/reader';
import wasmUrl from 'zxing-wasm/reader/zxing_reader.wasm?url';

let ready: Promise<unknown> | null = null;

/** Load and compile the decoder once. */
export function loadZxing(): Promise<unknown> {
  ready ??= prepareZXingModule({
    overrides: {
      locateFile: (path: string, prefix: string) => (path.endsWith('.wasm') ? new URL(wasmUrl, self.location.href).href : prefix + path),
    },
    fireImmediately: true,
  });
  return ready;
}

/** Return the text of every QR code in the image. */
export async function readQrCodes(image: ImageData | Blob): Promise<string[]> {
  await loadZxing();
  const results = await readBarcodes(image, { formats: ['QRCode'], tryHarder: true, maxNumberOfSymbols: 4 });
  return results.filter((r) => r.isValid && r.text).map((r) => r.text);
}
