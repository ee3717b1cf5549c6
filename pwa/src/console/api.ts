// Reading the server from the console. The console lists and reports from
// the API, page by page, rather than from the device's copy: a headquarters
// browser must not need the whole national dataset to work. Writes do not
// go through here: they go through the device store and its outbox, as the
// phone's do (store/records.ts), so that none is silently lost.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, NetworkError, readError, type Session } from '../sync/session';
import { useCtx } from '../ui/context';
import { translate } from './text';
import type { Lang } from '../ui/i18n';

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

/**
 * A failed request in the user's words: the network, a field the server
 * refused (by the label given for it, else its wire name), or the
 * server's code and message.
 */
export function errorText(lang: Lang, e: unknown, labels: Record<string, string> = {}): string {
  if (e instanceof NetworkError) return translate(lang, 'networkError');
  if (e instanceof ApiError) {
    const fields = Array.isArray(e.details)
      ? (e.details as { field?: string }[]).map((d) => d?.field).filter((f): f is string => !!f)
      : [];
    if (e.code === 'validation_failed' && fields.length > 0) {
      return fields.map((f) => translate(lang, 'invalidField', labels[f] ?? f)).join('; ');
    }
    return translate(lang, 'serverError', `${e.message} (${e.code})`);
  }
  return translate(lang, 'serverError', e instanceof Error ? e.message : String(e));
}

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
