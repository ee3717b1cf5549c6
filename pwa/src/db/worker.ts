/// <reference lib="webworker" />
// The database worker: the only place the SQLite handle lives. It installs
// the OPFS SAH-pool VFS (persistent, no cross-origin isolation needed) and
// opens one database file per user. It never falls back to memory: if OPFS
// is missing or held by another tab, opening fails with a reason the page
// shows to the user.
import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import { columnType, createTableSql, FIELD_SET, migrations, TABLES, type Migration } from './schema';
import type { OpenFailure, OpenResult, Request, Response, Row, SqlValue, Stmt } from './protocol';

type Sqlite3 = Awaited<ReturnType<typeof sqlite3InitModule>>;
type Pool = Awaited<ReturnType<Sqlite3['installOpfsSAHPoolVfs']>>;
type DB = InstanceType<Pool['OpfsSAHPoolDb']>;

class OpenError extends Error {
  constructor(readonly kind: OpenFailure, message: string) {
    super(message);
  }
}

interface State {
  sqlite3?: Sqlite3;
  pool?: Pool;
  db?: DB;
}

const state: State = {};

async function installPool(): Promise<Pool> {
  if (state.pool) return state.pool;
  if (!('storage' in navigator) || typeof navigator.storage.getDirectory !== 'function' ||
    typeof FileSystemFileHandle === 'undefined' ||
    !('createSyncAccessHandle' in FileSystemFileHandle.prototype)) {
    throw new OpenError('opfs_unavailable', 'this browser has no Origin Private File System with sync access handles');
  }
  // Quiet: the module would otherwise log its start-up to the console.
  const init = sqlite3InitModule as unknown as (o: object) => Promise<Sqlite3>;
  state.sqlite3 ??= await init({ print: () => {}, printErr: () => {} });
  try {
    state.pool = await state.sqlite3.installOpfsSAHPoolVfs({
      name: 'dicoso-sahpool',
      directory: '.dicoso-sahpool',
      initialCapacity: 8,
    });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    // Another tab (or a stale worker) holds the pool's access handles.
    if (/NoModificationAllowed|InvalidState|access handle|locked/i.test(msg + ' ' + (e as Error)?.name)) {
      throw new OpenError('opfs_busy', msg);
    }
    throw new OpenError('opfs_unavailable', msg);
  }
  return state.pool;
}

function runStep(db: DB, step: Migration): void {
  if ('sql' in step) {
    db.exec(step.sql);
    return;
  }
  // Names come from the schema registry, never from data.
  const { table, column, decl } = step.addColumn;
  const has = db.selectValue('SELECT 1 FROM pragma_table_info(?) WHERE name = ?', [table, column]);
  if (has === undefined) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${decl}`);
}

/**
 * Brings the file up to this build's schema, one step per transaction. A
 * file from a newer build (user_version beyond the steps) is left alone.
 */
function migrate(db: DB): void {
  const steps = migrations();
  const have = Number(db.selectValue('PRAGMA user_version') ?? 0);
  for (let v = have; v < steps.length; v++) {
    db.transaction(() => {
      runStep(db, steps[v]!);
      db.exec(`PRAGMA user_version = ${v + 1}`);
    });
  }
}

/**
 * Makes the synced tables what this build's registry says, in one
 * transaction: a table or column it lists and the file lacks is created.
 * Rows pulled before then lack the new fields' values (a device drops what
 * it does not know, and the server does not send a row again until it
 * changes), so when the field set differs from the one recorded with the
 * pull cursor, the cursor is dropped: the next sync pulls a full snapshot,
 * which keeps pending local changes on top like any snapshot. A file from
 * before field sets were recorded is treated the same, once.
 */
function followRegistry(db: DB): void {
  db.transaction(() => {
    for (const t of TABLES) {
      const have = new Set(db.selectValues('SELECT name FROM pragma_table_info(?)', [t.name]) as string[]);
      if (have.size === 0) {
        db.exec(createTableSql(t));
        continue;
      }
      for (const [name, type] of Object.entries(t.fields)) {
        // Names come from the generated registry, never from data.
        if (!have.has(name)) db.exec(`ALTER TABLE ${t.name} ADD COLUMN ${name} ${columnType(type)}`);
      }
    }
    if (db.selectValue("SELECT value FROM sync_state WHERE key = 'field_set'") === FIELD_SET) return;
    db.exec('DELETE FROM stage');
    db.exec("DELETE FROM sync_state WHERE key IN ('cursor', 'snapshot_cursor')");
    db.exec({
      sql: "INSERT INTO sync_state(key, value) VALUES ('field_set', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      bind: [FIELD_SET],
    });
  });
}

async function open(file: string, userId: string): Promise<OpenResult> {
  const pool = await installPool();
  state.db?.close();
  state.db = undefined;
  // Each database needs its file plus a journal; keep room for one more user.
  await pool.reserveMinimumCapacity(pool.getFileCount() + 4);
  const db = new pool.OpfsSAHPoolDb(file);
  try {
    migrate(db);
    const owner = db.selectValue("SELECT value FROM sync_state WHERE key = 'user_id'");
    if (owner === undefined) {
      db.exec({ sql: "INSERT INTO sync_state(key, value) VALUES ('user_id', ?)", bind: [userId] });
    } else if (owner !== userId) {
      throw new OpenError('wrong_user', 'the database file belongs to another user');
    }
    followRegistry(db);
  } catch (e) {
    db.close();
    throw e;
  }
  state.db = db;
  return { sqliteVersion: state.sqlite3!.version.libVersion, vfs: 'opfs-sahpool' };
}

function requireDb(): DB {
  if (!state.db) throw new Error('the device database is not open');
  return state.db;
}

function query(db: DB, sql: string, bind?: SqlValue[]): Row[] {
  return db.exec({ sql, bind: bind as never, rowMode: 'object', returnValue: 'resultRows' }) as Row[];
}

/** Runs all statements in one transaction; returns each statement's rows and the changes it made. */
function tx(db: DB, stmts: Stmt[]): { rows: Row[]; changes: number }[] {
  const out: { rows: Row[]; changes: number }[] = [];
  db.transaction('IMMEDIATE', () => {
    for (const s of stmts) {
      const rows = query(db, s.sql, s.bind);
      out.push({ rows, changes: db.changes() });
    }
  });
  return out;
}

async function handle(req: Request): Promise<unknown> {
  switch (req.op) {
    case 'open':
      return open(req.file, req.userId);
    case 'close':
      state.db?.close();
      state.db = undefined;
      return null;
    case 'query':
      return query(requireDb(), req.sql, req.bind);
    case 'tx':
      return tx(requireDb(), req.stmts);
  }
}

async function answer(req: Request): Promise<void> {
  let res: Response;
  try {
    res = { id: req.id, ok: true, result: await handle(req) };
  } catch (e) {
    const kind = e instanceof OpenError ? e.kind : req.op === 'open' ? 'failed' : undefined;
    res = { id: req.id, ok: false, error: { kind, message: e instanceof Error ? e.message : String(e) } };
  }
  self.postMessage(res);
}

// Requests run strictly one after another, in arrival order, even across
// the awaits of opening.
let queue: Promise<void> = Promise.resolve();
self.onmessage = (ev: MessageEvent<Request>) => {
  const req = ev.data;
  queue = queue.then(() => answer(req));
};
