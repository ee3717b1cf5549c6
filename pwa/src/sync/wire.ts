// Wire types of sync protocol v1 (docs/protocol.md). Field names are binding.

export const PROTOCOL = 1;

export interface WireUser {
  id: string;
  username: string;
  full_name: string;
  roles: string[];
}

export interface LoginResponse {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  user: WireUser;
}

export interface WireChange {
  id: string;
  table: string;
  row_id: string;
  op: 'upsert' | 'delete';
  hlc: string;
  fields: Record<string, unknown>;
  /** The row's base from a read over the API (docs/protocol.md, Change.base). */
  base?: string;
}

export interface PushResult {
  id: string;
  status: 'applied' | 'duplicate' | 'rejected';
  code?: string;
  message?: string;
  /** On a refusal about one field: its wire name (optional, newer servers). */
  field?: string;
  /**
   * On an applied or duplicate change: the pushed field values that lost to
   * a concurrent later write (optional, newer servers).
   */
  lost?: LostValue[];
  /**
   * On an applied or duplicate change of a push sent with no_echo: the
   * row's version when it is not the change's clock, and the values this
   * device's clock set on the row that differ from what it sent (computed
   * fields). The pull leaves the row out (docs/protocol.md, "Own writes").
   */
  version?: string;
  fields?: Record<string, unknown>;
  /** With no_echo: the row, as merged, is not one this device reads; no pull will bring or drop it. */
  out_of_scope?: boolean;
}

/** A pushed field value that lost to a write this device had not seen, with a later clock. */
export interface LostValue {
  field: string;
  /** The value this device pushed, which did not win. */
  value: unknown;
  /** User id and full name of the winning write's author, when known. */
  by?: string;
  by_name?: string;
  /** RFC 3339 time of the winning write. */
  at: string;
  hlc: string;
}

export interface PushResponse {
  results: PushResult[];
  server_time: string;
  hlc: string;
}

export interface PulledRow {
  table: string;
  row_id: string;
  fields: Record<string, unknown>;
  deleted: boolean;
  version: string;
}

export interface PullResponse {
  rows: PulledRow[];
  cursor: string;
  has_more: boolean;
  reset: boolean;
  /** The server's clock when it answered (newer servers). */
  server_time?: string;
}

export interface ErrorEnvelope {
  error: { code: string; message: string; details?: unknown };
}

/** The smallest request body worth compressing (as on the server). */
export const COMPRESS_MIN_BYTES = 1024;

/** A JSON request body as it goes on the wire, with the headers that describe it. */
export interface JsonBody {
  body: BodyInit;
  headers: Record<string, string>;
  gzipped: boolean;
}

/**
 * Encodes value as a JSON request body, gzipped when the browser has
 * CompressionStream and the body is big enough to gain: a push of a
 * hundred changes shrinks to about a third, which a phone on a weak
 * signal feels on every sync. Anything else goes plain.
 */
export async function jsonBody(value: unknown, allowGzip = true): Promise<JsonBody> {
  const text = JSON.stringify(value);
  const plain: JsonBody = { body: text, headers: { 'Content-Type': 'application/json' }, gzipped: false };
  if (!allowGzip || typeof CompressionStream !== 'function' || text.length < COMPRESS_MIN_BYTES) return plain;
  try {
    const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'));
    const gz = await new Response(stream).arrayBuffer();
    return {
      body: gz,
      headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
      gzipped: true,
    };
  } catch {
    return plain;
  }
}
