// After `vite build`: writes dist/sw.js from sw/sw.js with the list of every
// built file to precache and a version derived from their contents. Same
// input, same bytes: files are listed in sorted order and nothing depends
// on time or on the machine. The headquarters console's chunks
// (assets/console-*) are not precached: a field phone never downloads them;
// the worker caches them when the console first loads them.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');

function walk(dir) {
  return readdirSync(dir).sort().flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

const files = walk(dist)
  .map((p) => '/' + relative(dist, p).split(sep).join('/'))
  .filter((p) => p !== '/sw.js' && p !== '/.gitkeep');
const precache = files.filter((p) => !p.startsWith('/assets/console-'));
const h = createHash('sha256');
for (const f of files) {
  h.update(f + '\0');
  h.update(readFileSync(join(dist, f)));
}
const version = h.digest('hex').slice(0, 16);
const sw = readFileSync(join(root, 'sw', 'sw.js'), 'utf8')
  .replace("'__VERSION__'", JSON.stringify(version))
  .replace('__PRECACHE__', JSON.stringify(precache, null, 2));
writeFileSync(join(dist, 'sw.js'), sw);
console.log(`sw.js: ${precache.length} files precached (${files.length - precache.length} console files on demand), version ${version}`);
