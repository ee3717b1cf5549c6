// One tab owns the device database and the sync: the holder of the
// 'dicoso-db' Web Lock. Another tab shows "open in another tab" and waits
// for the lock; its "use it here" button asks the owner (over a
// BroadcastChannel) to hand over: the owner saves, closes its database and
// releases the lock, and the waiting tab takes over. Only one tab ever
// touches the SAH pool, which allows a single user of its files.

const LOCK = 'dicoso-db';
const CHANNEL = 'dicoso-tabs';

export interface Ownership {
  /** Resolves when this tab holds the lock. */
  acquired: Promise<void>;
  /** True until the lock was granted, if another tab held it at start. */
  waiting: boolean;
  /** Asks the current owner to hand over. */
  requestHandover(): void;
  /** Registers what to do when another tab asks for the lock; return after closing. */
  onHandover(fn: () => Promise<void>): void;
  /** Calls fn when (or if already) another tab holds the lock. */
  onWaiting(fn: () => void): void;
}

export function claimOwnership(): Ownership {
  const channel = typeof BroadcastChannel !== 'undefined' ? new BroadcastChannel(CHANNEL) : null;
  let handover: (() => Promise<void>) | null = null;
  let release: (() => void) | null = null;
  let waitingFn: (() => void) | null = null;
  const o: Ownership = {
    acquired: Promise.resolve(),
    waiting: false,
    requestHandover: () => channel?.postMessage({ type: 'handover' }),
    onHandover: (fn) => {
      handover = fn;
    },
    onWaiting: (fn) => {
      waitingFn = fn;
      if (o.waiting) fn();
    },
  };
  if (!('locks' in navigator)) return o; // no Web Locks: the SAH pool itself refuses a second user, shown as busy
  channel?.addEventListener('message', (ev: MessageEvent<{ type: string }>) => {
    if (ev.data?.type !== 'handover' || !release) return;
    const r = release;
    release = null;
    void (handover ? handover() : Promise.resolve()).finally(r);
  });
  o.acquired = new Promise<void>((granted) => {
    const hold = () =>
      new Promise<void>((r) => {
        release = r;
        o.waiting = false;
        granted();
      });
    void navigator.locks.request(LOCK, { ifAvailable: true }, (lock) => {
      if (lock) return hold();
      o.waiting = true;
      waitingFn?.();
      return navigator.locks.request(LOCK, () => hold());
    });
  });
  return o;
}
