import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import type { Runtime } from '../runtime';
import type { Session } from '../sync/session';
import type { Key, Lang } from './i18n';

export interface Ctx {
  lang: Lang;
  t: (key: Key, ...args: (string | number)[]) => string;
  setLang: (l: Lang) => void;
  session: Session;
  rt: Runtime;
  online: boolean;
  persisted: boolean | null;
  logout: () => void;
  navigate: (hash: string) => void;
}

export const AppCtx = createContext<Ctx | null>(null);

export function useCtx(): Ctx {
  const c = useContext(AppCtx);
  if (!c) throw new Error('no app context');
  return c;
}

/**
 * Loads data and loads it again after every committed change (a local
 * write, a sync result), so every screen shows the device's current state.
 */
export function useData<T>(load: () => Promise<T>, deps: unknown[]): T | undefined {
  const { rt } = useCtx();
  const [v, setV] = useState<T | undefined>(undefined);
  useEffect(() => {
    let alive = true;
    let gen = 0;
    const run = () => {
      const my = ++gen;
      load().then((r) => {
        if (alive && my === gen) setV(r);
      }, (e) => console.error(e));
    };
    run();
    const unsub = rt.store.subscribe(run);
    return () => {
      alive = false;
      unsub();
    };
  }, deps);
  return v;
}

/**
 * Re-renders when the sync client's status changes. Effects run after
 * paint, so a run may end between the first render and the subscription:
 * the status is read again once subscribed, or the screen would show
 * "syncing" until the next run (up to a minute).
 */
export function useSyncStatus() {
  const { rt } = useCtx();
  const [s, setS] = useState(rt.sync.state);
  useEffect(() => {
    const unsub = rt.sync.subscribe(() => setS(rt.sync.state));
    setS(rt.sync.state);
    return unsub;
  }, [rt]);
  return s;
}
