// Prints the gzipped size of the built JavaScript: the app's own code, and
// the SQLite WASM build's JavaScript glue, apart (the budget is 80 KB for
// JavaScript excluding SQLite WASM).
import { readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const dir = new URL('../dist/assets/', import.meta.url);
let app = 0;
let sqlite = 0;
let wasm = 0;
for (const f of readdirSync(dir).sort()) {
  const buf = readFileSync(new URL(f, dir));
  const gz = gzipSync(buf, { level: 9 }).length;
  if (f.endsWith('.wasm')) wasm += gz;
  else if (f.endsWith('.js')) {
    // The worker chunk holds the SQLite glue plus a few KB of ours.
    if (buf.includes('sqlite3_vfs_register')) sqlite += gz;
    else app += gz;
  }
}
const kb = (n) => (n / 1024).toFixed(1) + ' KB';
console.log(`gzipped: app JS ${kb(app)} · worker JS with SQLite glue ${kb(sqlite)} · sqlite3.wasm ${kb(wasm)}`);
if (app > 80 * 1024) {
  console.error('app JavaScript is over the 80 KB gzipped budget');
  process.exit(1);
}
