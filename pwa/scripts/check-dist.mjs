// Check the build: every asset the app needs is precached (the ZXing WebAssembly included),
// nothing points at a CDN, and the manifest is linked. Fails the build when not.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else files.push(relative(dist, path).split('\\').join('/'));
  }
})(dist);

const problems = [];
const CDN = /https?:\/\/[^\s"'`)]*(jsdelivr|unpkg|cdnjs|googleapis|gstatic|esm\.sh|skypack|jspm)[^\s"'`)]*/gi;
for (const file of files.filter((f) => /\.(js|css|html|webmanifest|json)$/.test(f))) {
  const text = readFileSync(join(dist, file), 'utf8');
  for (const match of text.matchAll(CDN)) problems.push(`${file}: CDN URL ${match[0]}`);
}

const sw = readFileSync(join(dist, 'sw.js'), 'utf8');
const wasm = files.filter((f) => f.endsWith('.wasm'));
if (wasm.length === 0) problems.push('no .wasm in the build: the ZXing decoder is missing');
const isConsole = (f) => f === 'console.html' || f.startsWith('assets/console/');
const mustPrecache = files.filter((f) => /\.(js|css|html|wasm|png|svg|webmanifest)$/.test(f) && f !== 'sw.js' && !f.startsWith('workbox-') && !isConsole(f));
for (const file of mustPrecache) if (!sw.includes(`"${file}"`)) problems.push(`${file} is not precached by sw.js`);
// The supervisor console stays off phones: none of its files in the technician precache.
const consoleFiles = files.filter(isConsole);
if (!consoleFiles.some((f) => f.endsWith('.js'))) problems.push('no console script under assets/console/');
for (const file of consoleFiles) if (sw.includes(`"${file}"`)) problems.push(`${file} (console) is precached by sw.js`);

const index = readFileSync(join(dist, 'index.html'), 'utf8');
if (!/rel="manifest"/.test(index)) problems.push('index.html does not link the web app manifest');

if (problems.length) {
  console.error('dist check failed:\n  ' + problems.join('\n  '));
  process.exit(1);
}
console.log(`dist check: ${mustPrecache.length} files precached (incl. ${wasm.join(', ')}), ${consoleFiles.length} console files not, no CDN URLs`);
