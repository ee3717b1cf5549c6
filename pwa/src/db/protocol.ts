// Messages between the page and the database worker. The worker owns the
// SQLite handle; the page sends SQL built from the schema registry.

export type SqlValue = string | number | null | Uint8Array;

export interface Stmt {
  sql: string;
  bind?: SqlValue[];
}

export type Request =
  | { id: number; op: 'open'; file: string; userId: string }
  | { id: number; op: 'close' }
  | { id: number; op: 'query'; sql: string; bind?: SqlValue[] }
  | { id: number; op: 'tx'; stmts: Stmt[] };

/** Why the device store could not open; each has its own message for the user. */
export type OpenFailure = 'opfs_unavailable' | 'opfs_busy' | 'wrong_user' | 'failed';

export interface OpenResult {
  sqliteVersion: string;
  vfs: string;
}

export type Response =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: { kind?: OpenFailure; message: string } };

export type Row = Record<string, SqlValue>;
