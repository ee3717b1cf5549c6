// Prints the gzipped size of the built JavaScript and fails the build above
// budget: the field app's own code (what every phone downloads) at most
// 80 KB, the headquarters console's chunks (console-*.js, loaded only when
// the console opens) at most 150 KB, and the SQLite WASM build's
// JavaScript glue apart.
import { readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const APP_BUDGET = 80 * 1024;
const CONSOLE_BUDGET = 150 * 1024;

const dir = new URL('../dist/assets/', import.meta.url);
let app = 0;
let consoleJs = 0;
let sqlite = 0;
let wasm = 0;
for (const f of readdirSync(dir).sort()) {
  const buf = readFileSync(new URL(f, dir));
  const gz = gzipSync(buf, { level: 9 }).length;
  if (f.endsWith('.wasm')) wasm += gz;
  else if (f.endsWith('.js')) {
    // The worker chunk holds the SQLite glue plus a few KB of ours.
    if (buf.includes('sqlite3_vfs_register')) sqlite += gz;
    else if (f.startsWith('console-')) consoleJs += gz;
    else app += gz;
  }
}
const kb = (n) => (n / 1024).toFixed(1) + ' KB';
console.log(`gzipped: app JS ${kb(app)} · console JS ${kb(consoleJs)} · worker JS with SQLite glue ${kb(sqlite)} · sqlite3.wasm ${kb(wasm)}`);
let over = false;
if (app > APP_BUDGET) {
  console.error(`app JavaScript is over the ${kb(APP_BUDGET)} gzipped budget`);
  over = true;
}
if (consoleJs > CONSOLE_BUDGET) {
  console.error(`console JavaScript is over the ${kb(CONSOLE_BUDGET)} gzipped budget`);
  over = true;
}
if (over) process.exit(1);
