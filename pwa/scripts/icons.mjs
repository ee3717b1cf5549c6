// Draws the app icons (a white map pin on the brand blue, full bleed so the
// icon is also maskable) and writes them as PNG with Node's zlib only.
// Run by hand (`npm run icons`); the PNGs are committed, so the build does
// not depend on this machine's zlib producing identical bytes.
import { writeFileSync, mkdirSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const BLUE = [11, 79, 156];
const WHITE = [255, 255, 255];

function crc32(buf) {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

function png(size) {
  const raw = Buffer.alloc(size * (size * 3 + 1));
  const cx = size / 2;
  const cy = size * 0.42;
  const r = size * 0.2;
  const tipY = size * 0.8;
  for (let y = 0; y < size; y++) {
    raw[y * (size * 3 + 1)] = 0;
    for (let x = 0; x < size; x++) {
      const px = x + 0.5;
      const py = y + 0.5;
      const d = Math.hypot(px - cx, py - cy);
      // The pin: a circle, and a triangle from its sides to the tip below.
      let on = d <= r;
      if (!on && py > cy && py <= tipY) {
        const half = r * (1 - (py - cy) / (tipY - cy));
        on = Math.abs(px - cx) <= half * 1.05;
      }
      const hole = d <= r * 0.42;
      const c = on && !hole ? WHITE : BLUE;
      raw.set(c, y * (size * 3 + 1) + 1 + x * 3);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour RGB
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

mkdirSync(new URL('../public/icons/', import.meta.url), { recursive: true });
for (const s of [192, 512]) {
  writeFileSync(new URL(`../public/icons/icon-${s}.png`, import.meta.url), png(s));
}
