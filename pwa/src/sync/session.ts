// The session on this device: who is logged in and their tokens, kept in
// localStorage so the app opens and works with no network. Tokens are
// refreshed when online; the user is asked to log in again only when the
// server has refused the refresh token (it is truly gone), and their
// unsynced work stays in their own database file meanwhile.
import { PROTOCOL, type ErrorEnvelope, type LoginResponse, type WireUser } from './wire';

const SESSION_KEY = 'dicoso.session';
const DEVICES_KEY = 'dicoso.devices';

export interface SessionData {
  user: WireUser;
  deviceId: string;
  access: string;
  refresh: string | null; // null: refused by the server, a new login is needed
  accessExpiresAt: number; // unix ms
}

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details?: unknown) {
    super(message);
  }
}

/** Network failure (offline, server down): nothing was decided, try later. */
export class NetworkError extends Error {}

/** The refresh token is gone; only a new login can get new tokens. */
export class LoginRequired extends Error {}

function deviceName(): string {
  const ua = navigator.userAgent;
  const m = /\(([^)]+)\)/.exec(ua);
  return (m?.[1] ?? 'browser').slice(0, 60);
}

/**
 * One device id per user in this browser: a device row on the server
 * belongs to one user, and the id breaks HLC ties, so two users sharing a
 * phone must not share it.
 */
export function deviceIdFor(username: string): string {
  const key = username.trim().toLowerCase();
  const map = JSON.parse(localStorage.getItem(DEVICES_KEY) ?? '{}') as Record<string, string>;
  if (!map[key]) {
    map[key] = crypto.randomUUID();
    localStorage.setItem(DEVICES_KEY, JSON.stringify(map));
  }
  return map[key]!;
}

export async function readError(res: Response): Promise<ApiError> {
  try {
    const body = (await res.json()) as ErrorEnvelope;
    if (body?.error?.code) return new ApiError(res.status, body.error.code, body.error.message, body.error.details);
  } catch {
    // not the envelope: fall through
  }
  return new ApiError(res.status, 'http_' + res.status, res.statusText || 'request failed');
}

// A connection can die without a word (the phone changes cell, the signal
// fades): no error comes, and a request would wait for ever, holding the
// sync run and every run after it. So a request is dropped, as a network
// failure, once nothing has come back for SILENCE_MS: before the answer
// starts, after the time the request body takes to go up at
// SLOWEST_UPLOAD (bytes/s, a weak 2G signal) on top; while the answer's
// body comes, between two of its chunks. Silence is the measure, not the
// whole time, so a large answer on a slow but live signal is never cut.
const SILENCE_MS = 30_000;
const SLOWEST_UPLOAD = 4_000;
// Answers that cannot have a body (new Response refuses one for them).
const NULL_BODY = new Set([101, 204, 205, 304]);

function bodyBytes(body: BodyInit | null | undefined): number {
  if (body == null) return 0;
  if (typeof body === 'string') return body.length;
  if (body instanceof Blob) return body.size;
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return body.byteLength;
  return 0;
}

function networkError(e: unknown): NetworkError {
  return e instanceof NetworkError ? e : new NetworkError(e instanceof Error ? e.message : String(e));
}

/**
 * An answer whose body comes under the watch for silence. A body that
 * broke off is read as a NetworkError, as a failed request is: Chromium
 * reports any error of a body stream as a TypeError "Failed to fetch",
 * which would pass for a bug.
 */
class WatchedResponse extends Response {
  broke: NetworkError | null = null;

  private async read<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (e) {
      throw this.broke ?? e;
    }
  }

  override json(): Promise<any> {
    return this.read(() => super.json());
  }

  override blob(): Promise<Blob> {
    return this.read(() => super.blob());
  }

  override arrayBuffer(): Promise<ArrayBuffer> {
    return this.read(() => super.arrayBuffer());
  }

  override text(): Promise<string> {
    return this.read(() => super.text());
  }
}

async function send(url: string, init: RequestInit): Promise<Response> {
  const ctl = new AbortController();
  const silent = () => ctl.abort(new NetworkError(`no answer from the server for ${SILENCE_MS / 1000} s`));
  let timer = setTimeout(silent, SILENCE_MS + (bodyBytes(init.body) * 1000) / SLOWEST_UPLOAD);
  let res: Response;
  try {
    res = await fetch(url, { ...init, cache: 'no-store', credentials: 'omit', signal: ctl.signal });
  } catch (e) {
    throw networkError(ctl.signal.aborted ? ctl.signal.reason : e);
  } finally {
    clearTimeout(timer);
  }
  if (res.body === null || NULL_BODY.has(res.status)) return res;
  // The body is handed on chunk by chunk, each awaited under the watch; a
  // chunk is awaited (and the watch runs) only while the caller reads.
  const reader = res.body.getReader();
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(out) {
        timer = setTimeout(silent, SILENCE_MS);
        try {
          const { done, value } = await reader.read();
          if (done) out.close();
          else out.enqueue(value);
        } catch (e) {
          watched.broke = networkError(ctl.signal.aborted ? ctl.signal.reason : e);
          out.error(watched.broke);
        } finally {
          clearTimeout(timer);
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  const watched = new WatchedResponse(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  return watched;
}

function stored(): SessionData | null {
  const raw = localStorage.getItem(SESSION_KEY);
  return raw ? (JSON.parse(raw) as SessionData) : null;
}

/**
 * The session is shared by every tab of this browser through localStorage:
 * another tab may log out, log someone else in, or rotate the refresh
 * token. So it is read again when another tab writes it (storage event),
 * before a waiting tab opens a database (reload), and before a refresh.
 */
export class Session {
  private data: SessionData | null = stored();
  private refreshing: Promise<void> | null = null;
  private readonly listeners = new Set<() => void>();

  constructor() {
    window.addEventListener('storage', (ev) => {
      if (ev.key === SESSION_KEY || ev.key === null) this.reload();
    });
  }

  /** Reads the session again from localStorage, where another tab may have changed it. */
  reload(): void {
    this.data = stored();
    for (const fn of this.listeners) fn();
  }

  get current(): SessionData | null {
    return this.data;
  }

  /** True when the refresh token was refused and a new login is needed to sync. */
  get needsLogin(): boolean {
    return this.data !== null && this.data.refresh === null;
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private save(d: SessionData | null): void {
    this.data = d;
    if (d) localStorage.setItem(SESSION_KEY, JSON.stringify(d));
    else localStorage.removeItem(SESSION_KEY);
    for (const fn of this.listeners) fn();
  }

  async login(username: string, password: string): Promise<SessionData> {
    const deviceId = deviceIdFor(username);
    const res = await send('/api/v1/auth/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username, password, device: { id: deviceId, name: deviceName() } }),
    });
    if (!res.ok) throw await readError(res);
    const body = (await res.json()) as LoginResponse;
    const d: SessionData = {
      user: body.user,
      deviceId,
      access: body.access_token,
      refresh: body.refresh_token,
      accessExpiresAt: Date.now() + body.expires_in * 1000,
    };
    this.save(d);
    return d;
  }

  /** Ends the session on this device; the server is told when reachable. */
  async logout(): Promise<void> {
    const d = this.data;
    this.save(null);
    if (!d?.refresh) return;
    try {
      await send('/api/v1/auth/logout', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${d.access}` },
        body: JSON.stringify({ refresh_token: d.refresh }),
      });
    } catch {
      // Offline: the refresh token simply expires on the server.
    }
  }

  private async refresh(): Promise<void> {
    // Another tab may have rotated the refresh token: presenting the old
    // one would revoke them all.
    const d = (this.data = stored());
    if (!d) throw new LoginRequired('not logged in');
    if (!d.refresh) throw new LoginRequired('the session has ended');
    const res = await send('/api/v1/auth/refresh', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: d.refresh }),
    });
    if (res.status === 401 || res.status === 403) {
      this.save({ ...d, refresh: null });
      throw new LoginRequired('the server refused the refresh token');
    }
    if (!res.ok) throw await readError(res);
    const body = (await res.json()) as LoginResponse;
    this.save({
      ...d,
      user: body.user ?? d.user,
      access: body.access_token,
      refresh: body.refresh_token,
      accessExpiresAt: Date.now() + body.expires_in * 1000,
    });
  }

  private ensureFresh(force: boolean): Promise<void> {
    const d = this.data;
    if (!d) return Promise.reject(new LoginRequired('not logged in'));
    if (!force && d.accessExpiresAt - Date.now() > 30_000) return Promise.resolve();
    // One refresh at a time: refresh tokens rotate, and presenting a used
    // one revokes the whole family.
    this.refreshing ??= this.refresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /** An authenticated request; refreshes the access token once on 401. */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    await this.ensureFresh(false);
    const go = () =>
      send(path, {
        ...init,
        headers: { ...(init.headers as Record<string, string>), Authorization: `Bearer ${this.data!.access}` },
      });
    let res = await go();
    if (res.status === 401) {
      await this.ensureFresh(true);
      res = await go();
    }
    return res;
  }

  async postJSON<T>(path: string, body: unknown): Promise<T> {
    const res = await this.fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw await readError(res);
    return (await res.json()) as T;
  }
}

export { PROTOCOL };
