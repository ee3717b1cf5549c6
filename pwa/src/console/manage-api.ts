// The console's online calls: the REST API and the server's reports, with
// the session's token. Reports and management are read and written on the
// server (a headquarters browser never needs the national dataset on the
// device); every refusal comes back as the server's envelope, so a form can
// put each field's complaint next to that field.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, NetworkError, readError, type Session } from '../sync/session';

export { faultsOf, type FieldFault } from './errors';

/** GET a JSON document; throws ApiError (the envelope) or NetworkError. */
export async function apiGet<T>(session: Session, path: string): Promise<T> {
  const res = await session.fetch(path);
  if (!res.ok) throw await readError(res);
  return (await res.json()) as T;
}

/** POST, PATCH or DELETE a JSON body; the answer's JSON, or null for 204. */
export async function apiSend<T>(session: Session, method: 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T | null> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.headers = { 'Content-Type': 'application/json' };
    init.body = JSON.stringify(body);
  }
  const res = await session.fetch(path, init);
  if (!res.ok) throw await readError(res);
  if (res.status === 204) return null;
  return (await res.json()) as T;
}

/** The items of a reference list (GET /api/v1/<table> answers {"items": [...]}). */
export async function apiList<T>(session: Session, path: string): Promise<T[]> {
  return (await apiGet<{ items: T[] }>(session, path)).items;
}

/** Whether the failure is the network's (nothing was decided). */
export function isOffline(e: unknown): boolean {
  return e instanceof NetworkError;
}

/** A query string from the set values only ("" when none). */
export function query(params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? '?' + s : '';
}

export interface Remote<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/**
 * Loads something from the server when deps change (and on reload); an
 * answer that arrives after a newer request started is dropped.
 */
export function useRemote<T>(load: () => Promise<T>, deps: unknown[]): Remote<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: null, loading: true });
  const [gen, setGen] = useState(0);
  useEffect(() => {
    let alive = true;
    setState((s) => ({ ...s, loading: true }));
    load().then((data) => {
      if (alive) setState({ data, error: null, loading: false });
    }, (error: unknown) => {
      if (alive) setState((s) => ({ data: s.data, error, loading: false }));
    });
    return () => {
      alive = false;
    };
  }, [...deps, gen]);
  return { ...state, reload: () => setGen((g) => g + 1) };
}

export { ApiError, NetworkError };
