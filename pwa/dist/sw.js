// dicoso service worker. scripts/postbuild.mjs writes it to dist/sw.js with
// VERSION and PRECACHE filled in from the built files, so a new build is a
// new worker. It precaches the app shell and the SQLite WASM, serves them
// cache first (the app opens with no network), and never touches /api/.
// The headquarters console's chunks (/assets/console-*) are not precached,
// so a field phone never downloads them: they are cached the first time the
// console loads them, and then open offline too.
// A new version waits until the page asks it to take over (the user tapped
// "new version — reload"), so an update never lands in the middle of an edit.
const VERSION = "dd12e346b6b7afbf";
const PRECACHE = [
  "/assets/index-kMFuZwrO.js",
  "/assets/refusal-Det0YCx-.js",
  "/assets/sqlite3-k2cTanUO.wasm",
  "/assets/worker-DC9tg-_y.js",
  "/icons/icon-192.png",
  "/icons/icon-512.png",
  "/index.html",
  "/manifest.webmanifest"
];
const CACHE = 'dicoso-shell-' + VERSION;

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(PRECACHE.map((p) => new Request(p, { cache: 'reload' })))));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const k of await caches.keys()) {
      if (k.startsWith('dicoso-shell-') && k !== CACHE) await caches.delete(k);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'skip-waiting') self.skipWaiting();
  // A page loaded while this worker was activating missed the claim in
  // activate; it asks to be claimed so it works offline without a reload.
  if (event.data && event.data.type === 'claim') event.waitUntil(self.clients.claim());
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith('/api/')) return;
  if (req.mode === 'navigate') {
    // Every page of the app is the same shell (hash routes), served
    // without the login form the network's index.html carries for a first
    // visit: the app opens at once from here, and decides itself whether
    // to ask for a login.
    event.respondWith(caches.match('/index.html', { cacheName: CACHE }).then(async (hit) => {
      if (!hit) return fetch(req);
      const html = (await hit.text()).replace(/<!--shell-login-->[\s\S]*<!--\/shell-login-->/,
        '<p style="padding:24px;font:18px system-ui">Đang tải…</p>');
      return new Response(html, { status: hit.status, statusText: hit.statusText, headers: hit.headers });
    }));
    return;
  }
  if (url.pathname.startsWith('/assets/console-')) {
    event.respondWith(caches.open(CACHE).then(async (c) => {
      const hit = await c.match(url.pathname);
      if (hit) return hit;
      const res = await fetch(req);
      if (res.ok) await c.put(url.pathname, res.clone());
      return res;
    }));
    return;
  }
  event.respondWith(caches.match(url.pathname, { cacheName: CACHE }).then((hit) => hit || fetch(req)));
});
