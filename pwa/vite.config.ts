import { defineConfig, type Plugin } from 'vite';

/**
 * The sqlite-wasm ES module also carries two helpers this app never uses
 * (the Worker1 promiser's default worker and the plain "opfs" VFS's async
 * proxy). Their `new URL(..., import.meta.url)` references would make the
 * bundler copy about 700 KB of unused scripts into dist, so they are cut
 * here; the build fails loudly if a new sqlite-wasm release changes them.
 */
function sqliteUnusedWorkers(): Plugin {
  const cuts: [RegExp, string][] = [
    [/new Worker\(new URL\("sqlite3-worker1\.mjs", import\.meta\.url\), \{ type: "module" \}\)/,
      '(() => { throw new Error("sqlite3-worker1 is not bundled"); })()'],
    [/new URL\("sqlite3-opfs-async-proxy\.js", import\.meta\.url\)/,
      '(() => { throw new Error("the opfs VFS is not bundled; dicoso uses opfs-sahpool"); })()'],
  ];
  return {
    name: 'dicoso-sqlite-unused-workers',
    transform(code, id) {
      if (!id.includes('@sqlite.org/sqlite-wasm/dist/index.mjs')) return null;
      let out = code;
      for (const [re, repl] of cuts) {
        if (!re.test(out)) throw new Error(`sqlite-wasm changed: ${re} not found`);
        out = out.replace(re, repl);
      }
      return { code: out, map: null };
    },
  };
}

/**
 * Chunks holding console code are named console-*: scripts/postbuild.mjs
 * leaves them out of the service worker's precache (a field phone never
 * downloads them) and scripts/size.mjs holds them to their own budget.
 */
function chunkName(chunk: { moduleIds: string[] }): string {
  const console = chunk.moduleIds.some((id) => id.replaceAll('\\', '/').includes('/src/console/'));
  return console ? 'assets/console-[hash].js' : 'assets/[name]-[hash].js';
}

export default defineConfig({
  plugins: [sqliteUnusedWorkers()],
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: false,
    // index.html names the entry's static imports (modulepreload), so a
    // first visit fetches them with the entry instead of a round trip
    // later (2 s on a weak signal). No preload helper in the field bundle:
    // its one dynamic import (the console) has no dependencies to preload
    // and its CSS is inlined.
    modulePreload: { polyfill: false, resolveDependencies: (_file, deps, ctx) => (ctx.hostType === 'html' ? deps : []) },
    reportCompressedSize: false,
    rolldownOptions: { output: { chunkFileNames: chunkName } },
  },
  worker: {
    format: 'es',
    plugins: () => [sqliteUnusedWorkers()],
  },
  optimizeDeps: { exclude: ['@sqlite.org/sqlite-wasm'] },
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
});
