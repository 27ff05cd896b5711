// Print the technician app's files in dist/: index.html's script and stylesheet and every chunk
// they load, followed through their imports (the camera and ZXing glue are lazy chunks of it).
// Other pages built from pwa/ are not part of the phone's shell. Used by bench/pwa.sh.
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const todo = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]);
const seen = new Set();
while (todo.length) {
  const file = todo.pop();
  if (seen.has(file) || !existsSync(join(dist, file))) continue;
  seen.add(file);
  if (!file.endsWith('.js')) continue;
  const text = readFileSync(join(dist, file), 'utf8');
  for (const m of text.matchAll(/["'`(/]([\w.-]+\.(?:js|css))["'`)]/g)) todo.push(`assets/${basename(m[1])}`);
}
console.log([...seen].sort().join('\n'));
