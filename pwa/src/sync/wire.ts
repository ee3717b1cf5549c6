// Wire types of sync protocol v1 (design §4). Field names are binding.

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
}

export interface PushResult {
  id: string;
  status: 'applied' | 'duplicate' | 'rejected';
  code?: string;
  message?: string;
  /** On a refusal about one field: its wire name (optional, newer servers). */
  field?: string;
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
}

export interface ErrorEnvelope {
  error: { code: string; message: string; details?: unknown };
}
