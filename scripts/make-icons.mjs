#!/usr/bin/env node
// Draws Airlock's icons (a ring in a rounded square, as the UI's logo) straight into PNG files with
// zlib, so no image tool is needed. Run after changing the design: `npm run icons`; commit the PNGs.
import { writeFileSync, mkdirSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buffer) {
  let c = 0xffffffff;
  for (const byte of buffer) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}
function png(size, pixel) {
  const rows = [];
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 4);
    for (let x = 0; x < size; x++) {
      // 4×4 supersampling for smooth edges at 16 px.
      let r = 0,
        g = 0,
        b = 0,
        a = 0;
      for (let sy = 0; sy < 4; sy++)
        for (let sx = 0; sx < 4; sx++) {
          const [pr, pg, pb, pa] = pixel((x + (sx + 0.5) / 4) / size, (y + (sy + 0.5) / 4) / size);
          r += pr * pa;
          g += pg * pa;
          b += pb * pa;
          a += pa;
        }
      const offset = 1 + x * 4;
      row[offset] = a ? Math.round(r / a) : 0;
      row[offset + 1] = a ? Math.round(g / a) : 0;
      row[offset + 2] = a ? Math.round(b / a) : 0;
      row[offset + 3] = Math.round((a / 16) * 255);
    }
    rows.push(row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function insideRoundedSquare(u, v, inset, radius) {
  const dx = Math.max(Math.abs(u - 0.5) - (0.5 - inset - radius), 0);
  const dy = Math.max(Math.abs(v - 0.5) - (0.5 - inset - radius), 0);
  return dx * dx + dy * dy <= radius * radius;
}
function onRing(u, v, radius, width) {
  const distance = Math.hypot(u - 0.5, v - 0.5);
  return Math.abs(distance - radius) <= width / 2;
}

// Colour: a blue-to-violet square with a white ring.
const colour = (u, v) => {
  if (!insideRoundedSquare(u, v, 0.04, 0.22)) return [0, 0, 0, 0];
  if (onRing(u, v, 0.2, 0.11)) return [255, 255, 255, 1];
  const t = (u + v) / 2;
  return [Math.round(47 + (124 - 47) * t), Math.round(111 + (77 - 111) * t), Math.round(237 + (255 - 237) * t), 1];
};
// macOS template: black shapes on transparent; the system tints them for light and dark menu bars.
const template = (u, v) => {
  const square = insideRoundedSquare(u, v, 0.06, 0.2) && !insideRoundedSquare(u, v, 0.16, 0.12);
  return square || onRing(u, v, 0.17, 0.12) ? [0, 0, 0, 1] : [0, 0, 0, 0];
};

mkdirSync('assets', { recursive: true });
const files = {
  'tray-16.png': png(16, colour),
  'tray-16@2x.png': png(32, colour),
  'tray-32.png': png(32, colour),
  'tray-32@2x.png': png(64, colour),
  'trayTemplate.png': png(16, template),
  'trayTemplate@2x.png': png(32, template),
  'icon.png': png(512, colour),
};
for (const [name, data] of Object.entries(files)) writeFileSync(`assets/${name}`, data);
console.log(
  `wrote ${Object.keys(files)
    .map((name) => `assets/${name}`)
    .join(', ')}`,
);
