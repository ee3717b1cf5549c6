// Service worker registration. A new version is never forced on the user:
// when one is installed and waiting, onUpdate is called and the app shows a
// "new version — reload" button; applyUpdate (after saving) activates it
// and reloads.

export interface SwControl {
  /** Resolves once the app shell is cached and the page is controlled (works offline). */
  ready: Promise<void>;
  applyUpdate(): void;
}

export function registerServiceWorker(onUpdate: () => void): SwControl {
  let waiting: ServiceWorker | null = null;
  let accepted = false;
  const ctl: SwControl = {
    ready: Promise.resolve(),
    applyUpdate: () => {
      if (!waiting) return location.reload();
      accepted = true;
      waiting.postMessage({ type: 'skip-waiting' });
    },
  };
  if (!('serviceWorker' in navigator)) return ctl;
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    // Only an update the user accepted reloads the page; the first install
    // taking control of the page changes nothing on screen.
    if (!accepted) return;
    accepted = false;
    location.reload();
  });
  const watch = (reg: ServiceWorkerRegistration) => {
    const check = (w: ServiceWorker | null) => {
      if (w && navigator.serviceWorker.controller) {
        waiting = w;
        onUpdate();
      }
    };
    if (reg.waiting) check(reg.waiting);
    reg.addEventListener('updatefound', () => {
      const w = reg.installing;
      w?.addEventListener('statechange', () => {
        if (w.state === 'installed') check(w);
      });
    });
  };
  ctl.ready = navigator.serviceWorker
    .register('/sw.js', { scope: '/' })
    .then(async (reg) => {
      watch(reg);
      // Look for a new version now and then while the app stays open.
      setInterval(() => {
        if (navigator.onLine) void reg.update().catch(() => undefined);
      }, 3_600_000);
      const active = await navigator.serviceWorker.ready;
      if (!navigator.serviceWorker.controller) {
        const claimed = new Promise<void>((r) => navigator.serviceWorker.addEventListener('controllerchange', () => r(), { once: true }));
        // A page that loaded while the worker was activating is not among
        // the clients its activate claimed: ask it to claim this one.
        active.active?.postMessage({ type: 'claim' });
        await claimed;
      }
    });
  return ctl;
}
