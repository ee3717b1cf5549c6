// Reading the server from the console. The console lists and reports from
// the API, page by page, rather than from the device's copy: a headquarters
// browser must not need the whole national dataset to work. Writes do not
// go through here: they go through the device store and its outbox, as the
// phone's do (store/records.ts), so that none is silently lost.
import { useEffect, useRef, useState } from 'preact/hooks';
import { readError, type Session } from '../sync/session';
import { useCtx } from '../ui/context';

export type Query = Record<string, string | readonly string[] | null | undefined>;

/** path?query, leaving out empty values; arrays repeat the parameter. */
export function withQuery(path: string, q: Query = {}): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === null || v === undefined || v === '') continue;
    if (typeof v === 'string') p.set(k, v);
    else for (const x of v) p.append(k, x);
  }
  const s = p.toString();
  return s ? `${path}?${s}` : path;
}

/** GET path as JSON, with the session's token; throws ApiError or NetworkError. */
export async function getJSON<T>(session: Session, path: string, q?: Query): Promise<T> {
  const res = await session.fetch(withQuery(path, q));
  if (!res.ok) throw await readError(res);
  return (await res.json()) as T;
}

export interface Loaded<T> {
  data: T | undefined;
  /** When the request that brought data began (Date.now()). */
  since: number;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/**
 * GETs path (null: nothing yet) and loads again when deps change or reload
 * is called. An answer that arrives after a newer request began is dropped.
 */
export function useApi<T>(path: string | null, q: Query | undefined, deps: unknown[]): Loaded<T> {
  const { session } = useCtx();
  const [state, setState] = useState<{ data?: T; since?: number; error?: unknown; loading: boolean }>({ loading: path !== null });
  const [n, setN] = useState(0);
  useEffect(() => {
    if (path === null) return;
    let alive = true;
    setState((s) => ({ ...s, loading: true, error: undefined }));
    const since = Date.now();
    getJSON<T>(session, path, q).then(
      (data) => alive && setState({ data, since, loading: false }),
      (error) => alive && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => {
      alive = false;
    };
  }, [path, n, ...deps]);
  return { data: state.data, since: state.since ?? 0, error: state.error, loading: state.loading, reload: () => setN((x) => x + 1) };
}

/** One page of a listing the API pages (GET /api/v1/reports/notes and the others like it). */
export interface Page<T, C = undefined> {
  items: T[];
  /** Continues the listing; null on the last page. */
  next_cursor: string | null;
  counts?: C;
}

export interface Pages<T, C> {
  /** Every row loaded so far, in the listing's order; undefined before the first page. */
  items: T[] | undefined;
  /** The counts of the whole selection, as the last page read said. */
  counts: C | undefined;
  /** Loads the next page; null on the last. */
  more: (() => void) | null;
  loading: boolean;
  error: unknown;
  /** When the request that brought the rows began (Date.now()). */
  since: number;
  /** Reads again as many rows as are loaded (at most the API's 200 in one page). */
  reload: () => void;
}

const MAX_PAGE = 200;

/**
 * Reads a paged listing (path with q, limit rows a page) from its first
 * page whenever deps change, then page after page on more(). A reload
 * (reload(), or a change of reloadWhen) reads the rows shown again in one
 * request, so the list keeps its length. Answers that arrive after a newer
 * request began are dropped; a row met twice (it moved between two reads)
 * is kept once.
 */
export function usePages<T extends { id: string }, C = undefined>(
  path: string, q: Query, limit: number, deps: unknown[], reloadWhen: unknown = 0,
): Pages<T, C> {
  const { session } = useCtx();
  const [state, setState] = useState<{ items?: T[]; counts?: C; next: string | null; loading: boolean; error?: unknown; since: number }>(
    { next: null, loading: true, since: 0 });
  const [n, setN] = useState(0);
  const seq = useRef(0);
  const shown = useRef(0);
  shown.current = state.items?.length ?? 0;
  const key = JSON.stringify([path, q, limit, ...deps]);
  const lastKey = useRef('');
  useEffect(() => {
    const fresh = lastKey.current !== key;
    lastKey.current = key;
    const mine = ++seq.current;
    const since = Date.now();
    const rows = fresh ? limit : Math.min(MAX_PAGE, Math.max(limit, shown.current));
    setState((s) => (fresh ? { next: null, loading: true, since: s.since } : { ...s, loading: true, error: undefined }));
    getJSON<Page<T, C>>(session, path, { ...q, limit: String(rows) }).then(
      (p) => mine === seq.current && setState({ items: p.items, counts: p.counts, next: p.next_cursor, loading: false, since }),
      (error) => mine === seq.current && setState((s) => ({ ...s, error, loading: false })),
    );
  }, [key, n, reloadWhen]);
  const more = () => {
    const cursor = state.next;
    if (!cursor || state.loading) return;
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true, error: undefined }));
    getJSON<Page<T, C>>(session, path, { ...q, limit: String(limit), cursor }).then(
      (p) => mine === seq.current && setState((s) => {
        const have = new Set((s.items ?? []).map((x) => x.id));
        return { ...s, items: [...(s.items ?? []), ...p.items.filter((x) => !have.has(x.id))], counts: p.counts, next: p.next_cursor, loading: false };
      }),
      (error) => mine === seq.current && setState((s) => ({ ...s, error, loading: false })),
    );
  };
  return {
    items: state.items, counts: state.counts, loading: state.loading, error: state.error, since: state.since,
    more: state.next ? more : null, reload: () => setN((x) => x + 1),
  };
}

export { errorText } from './errors';

/**
 * Fetches a file with the session's token (the API wants a Bearer header,
 * so a plain link cannot do) and hands it to the browser as a download,
 * named as the server's Content-Disposition says, else fallback.
 */
export async function download(session: Session, path: string, fallback: string): Promise<void> {
  const res = await session.fetch(path);
  if (!res.ok) throw await readError(res);
  const blob = await res.blob();
  const name = /filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') ?? '')?.[1] ?? fallback;
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A user as GET /api/v1/users lists them. */
export interface ApiUser {
  id: string;
  username: string;
  full_name: string;
  roles: string[];
  disabled?: boolean;
}

let userNames: { who: string; names: Promise<Map<string, string>> } | null = null;

/**
 * Everyone's display name by id, read once per console session of one
 * user (names change rarely; a failed read is tried again next time).
 */
export function namesOf(session: Session): Promise<Map<string, string>> {
  const who = session.current?.user.id ?? '';
  if (userNames?.who !== who) {
    const names = getJSON<{ items: ApiUser[] }>(session, '/api/v1/users').then(
      (r) => new Map(r.items.map((u) => [u.id, u.full_name || u.username])),
      (e) => {
        userNames = null;
        throw e;
      },
    );
    userNames = { who, names };
  }
  return userNames.names;
}
