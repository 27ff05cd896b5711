// Draw the app icons (PNG, no dependencies): a QR-like mark on the brand blue.
//   public/icons/icon-{192,512}.png      rounded square, for "any"
//   public/icons/maskable-{192,512}.png  full bleed, mark inside the 80% safe zone
// Run: npm run icons (the PNGs are committed; run again only to change them).
import { deflateSync } from 'node:zlib';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BLUE = [0x0b, 0x4f, 0x8a, 255];
const WHITE = [255, 255, 255, 255];
const CLEAR = [0, 0, 0, 0];

// The mark on a 12 x 12 grid: three finder patterns and a few modules.
const MARK = [
  'WWWWW..WWWWW',
  'WBBBW..WBBBW',
  'WBBBW..WBBBW',
  'WBBBW..WBBBW',
  'WWWWW..WWWWW',
  '............',
  '............',
  'WWWWW..WW..W',
  'WBBBW..WW..W',
  'WBBBW....WW.',
  'WBBBW..W.WW.',
  'WWWWW..WW..W',
];

function crc32(buf) {
  let c;
  const table = crc32.table ?? (crc32.table = Array.from({ length: 256 }, (_, n) => {
    c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  }));
  let crc = 0xffffffff;
  for (const byte of buf) crc = table[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

function png(size, pixel) {
  const rows = [];
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 4);
    for (let x = 0; x < size; x++) Buffer.from(pixel(x, y)).copy(row, 1 + x * 4);
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows), { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function icon(size, { maskable }) {
  const markSize = Math.round(size * (maskable ? 0.5 : 0.62));
  const cell = markSize / MARK.length;
  const origin = (size - markSize) / 2;
  const radius = size * 0.18;
  return png(size, (x, y) => {
    if (!maskable) {
      const cx = Math.min(Math.max(x + 0.5, radius), size - radius);
      const cy = Math.min(Math.max(y + 0.5, radius), size - radius);
      if ((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 > radius ** 2) return CLEAR;
    }
    const gx = Math.floor((x - origin) / cell);
    const gy = Math.floor((y - origin) / cell);
    const ch = MARK[gy]?.[gx];
    return ch === 'W' ? WHITE : BLUE;
  });
}

const out = fileURLToPath(new URL('../public/icons/', import.meta.url));
mkdirSync(out, { recursive: true });
for (const size of [192, 512]) {
  writeFileSync(`${out}icon-${size}.png`, icon(size, { maskable: false }));
  writeFileSync(`${out}maskable-${size}.png`, icon(size, { maskable: true }));
}
console.log('icons written to', out);
