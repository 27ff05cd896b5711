// Write a Brotli (.br) and a gzip (.gz) copy beside every text and WebAssembly file in dist/, as
// a static file server's gzip_static would read them: the backend (app/web.py) sends the copy
// a browser accepts, so a phone on a poor link downloads the app shell and the ZXing decoder
// at a third of their size without the server compressing anything per request.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const COMPRESSIBLE = /\.(js|mjs|css|html|svg|json|webmanifest|wasm)$/;
let files = 0;
let before = 0;
let after = 0;
(function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      walk(path);
      continue;
    }
    if (!COMPRESSIBLE.test(name)) continue;
    const raw = readFileSync(path);
    if (raw.length < 1024) continue; // a header's worth: not worth a second request path
    const br = brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length } });
    const gz = gzipSync(raw, { level: 9 });
    writeFileSync(path + '.br', br);
    writeFileSync(path + '.gz', gz);
    files += 1;
    before += raw.length;
    after += br.length;
  }
})(dist);
console.log(`precompressed ${files} files: ${Math.round(before / 1024)} KB -> ${Math.round(after / 1024)} KB (Brotli)`);
