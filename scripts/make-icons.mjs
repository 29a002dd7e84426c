#!/usr/bin/env node
/**
 * Draws the ParkOps app icons (a white water drop with a rising water line, on the dashboard's accent
 * blue) and writes them to dashboard/static/icons/ as PNG, plus the SVG favicon. The PNGs are
 * committed; run this again only to change the design: `node scripts/make-icons.mjs`.
 *
 * - icon-192.png, icon-512.png: rounded square, transparent corners (manifest purpose "any")
 * - maskable-512.png: full bleed, the drop inside the 80 % safe circle (purpose "maskable")
 * - apple-touch-icon.png (180 px): full bleed; iOS rounds the corners itself
 * - badge-96.png: white drop on transparent, for the Android status bar (monochrome)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const OUT = fileURLToPath(new URL('../dashboard/static/icons/', import.meta.url));
const BLUE = [11, 92, 173];
const LIGHT = [124, 196, 255];
const WHITE = [255, 255, 255];

// The drop in unit coordinates (y down): a circle, and the cone from the apex tangent to it.
const C = { x: 0.5, y: 0.62 };
const R = 0.2;
const APEX = { x: 0.5, y: 0.22 };
const TAN30 = Math.tan(Math.PI / 6);
const TANGENT_Y = APEX.y + Math.sqrt((C.y - APEX.y) ** 2 - R * R) * Math.cos(Math.PI / 6);

function inDrop(x, y) {
  if ((x - C.x) ** 2 + (y - C.y) ** 2 <= R * R) return true;
  const dy = y - APEX.y;
  return dy > 0 && y <= TANGENT_Y && Math.abs(x - APEX.x) <= dy * TAN30;
}
/** The water inside the drop: below a gentle wave. */
const inWater = (x, y) => y >= 0.66 + 0.025 * Math.sin((x - 0.3) * 4 * Math.PI);

function inRoundedSquare(x, y, r) {
  const cx = Math.min(Math.max(x, r), 1 - r);
  const cy = Math.min(Math.max(y, r), 1 - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

/** RGBA pixels, 4x4 supersampled. */
function draw(size, { corner, background, badge }) {
  const px = Buffer.alloc(size * size * 4);
  const S = 4;
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sj = 0; sj < S; sj++) {
        for (let si = 0; si < S; si++) {
          const x = (i + (si + 0.5) / S) / size;
          const y = (j + (sj + 0.5) / S) / size;
          let c = null;
          if (badge) c = inDrop(x, y) ? WHITE : null;
          else if (inDrop(x, y)) c = inWater(x, y) ? LIGHT : WHITE;
          else if (background && (corner === 0 || inRoundedSquare(x, y, corner))) c = BLUE;
          if (c) { r += c[0]; g += c[1]; b += c[2]; a += 255; }
        }
      }
      const n = S * S;
      const o = (j * size + i) * 4;
      // premultiplied sum -> straight alpha
      px[o + 3] = Math.round(a / n);
      if (a > 0) { px[o] = Math.round(r / (a / 255)); px[o + 1] = Math.round(g / (a / 255)); px[o + 2] = Math.round(b / (a / 255)); }
    }
  }
  return px;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
/** PNG (RFC 2083): 8-bit RGBA, filter type 0 on every row. */
function png(size, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type RGBA
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

mkdirSync(OUT, { recursive: true });
const icons = [
  ['icon-192.png', 192, { corner: 0.18, background: true }],
  ['icon-512.png', 512, { corner: 0.18, background: true }],
  ['maskable-512.png', 512, { corner: 0, background: true }],
  ['apple-touch-icon.png', 180, { corner: 0, background: true }],
  ['badge-96.png', 96, { badge: true }],
];
for (const [name, size, opts] of icons) writeFileSync(OUT + name, png(size, draw(size, opts)));

const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">
<rect width="100" height="100" rx="18" fill="rgb(${BLUE.join(',')})"/>
<path d="M50 22 L${(50 - R * 100 * Math.cos(Math.PI / 6)).toFixed(2)} ${(TANGENT_Y * 100).toFixed(2)} A20 20 0 1 0 ${(50 + R * 100 * Math.cos(Math.PI / 6)).toFixed(2)} ${(TANGENT_Y * 100).toFixed(2)} Z" fill="#fff"/>
</svg>
`;
writeFileSync(fileURLToPath(new URL('../dashboard/static/favicon.svg', import.meta.url)), svg);
console.log(`wrote ${icons.length} PNG icons to ${OUT} and dashboard/static/favicon.svg`);
