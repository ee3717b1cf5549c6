// New ids for rows and changes: UUIDs of version 7 (RFC 9562), whose first
// 48 bits are the creation time in milliseconds and the rest random. The
// server keeps change ids and row ids in B-tree indexes; ids that grow with
// time land at the end of them instead of on a random page each, which is
// most of what a merged change cost the server's one writer
// (docs/architecture.md, "The one write path"). The time they carry is no
// more than the record's own clock stamps already say.
export function newId(): string {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  let ms = Date.now();
  for (let i = 5; i >= 0; i--) {
    b[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  b[6] = (b[6] & 0x0f) | 0x70; // version 7
  b[8] = (b[8] & 0x3f) | 0x80; // variant 10
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
