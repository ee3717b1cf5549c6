// The device store: every local write puts the row and its outbox entry in
// ONE transaction, so a change is either both visible and queued, or
// neither. Outbox entries leave only when the server has answered for them
// (see ack and reject); pulled rows never overwrite a field that still has
// a pending local change, and a pull that kept one over a different server
// value does not save its cursor, so that the rows come again, merged, after
// the push (see applyPage). A refused change waits in `rejected` with the
// values the user wrote: pulls may lay the server's values over its row
// meanwhile, and resend or reopen put the user's values back. A pushed
// value that lost to a concurrent later write is kept in `lost_values` for
// its user to read and copy back.
import { newId } from './ids';
import type { Db, Row, SqlValue, Stmt } from '../db/client';
import { TABLES, tableDef, type FieldType, type TableDef } from '../db/schema';
import type { Hlc } from '../sync/hlc';
import type { LostValue, PulledRow, WireChange } from '../sync/wire';

/**
 * What a committed change was: 'local', a write of the user's (a sync
 * follows shortly); 'fix', a refused change put back on its row for the
 * user to correct (no sync follows by itself: the form's save will be the
 * write); 'sync', a sync result or pull.
 */
export type ChangeKind = 'local' | 'fix' | 'sync';

export interface Change {
  table: string;
  rowId: string;
  op: 'upsert' | 'delete';
  fields?: Record<string, unknown>;
  /**
   * The row's base when the values it changes were read over the API, not
   * pulled (the console reads the server: docs/protocol.md, Change.base).
   */
  base?: string;
}

export interface OutboxEntry {
  seq: number;
  id: string;
  tbl: string;
  row_id: string;
  op: 'upsert' | 'delete';
  hlc: string;
  fields: string;
  prev: string | null;
  /** The pull cursor the device had when the change was made (docs/protocol.md, base_cursor). */
  base_cursor: string;
  /** The row's base from a read over the API, '' when none (Change.base). */
  base: string;
}

/**
 * SQL for the pull cursor this device holds now, stored with each new
 * outbox entry: the server lists a change as concurrent with the edits
 * made after it, which this device had not seen. A folded entry keeps the
 * cursor of its first change.
 */
const BASE_CURSOR = "COALESCE((SELECT value FROM sync_state WHERE key = 'cursor'), '')";

export interface RejectedEntry {
  id: string;
  tbl: string;
  row_id: string;
  op: string;
  hlc: string;
  fields: string;
  prev: string | null;
  code: string;
  message: string;
  /** Wire name of the field the refusal is about; null when the server named none. */
  field: string | null;
  at: string;
  /**
   * The row's base when the change was made from a read over the API ('' when
   * none): resend and reopen send it again with it (docs/protocol.md,
   * Change.base), since the user's values are still those of that read.
   */
  base: string;
}

/** The server's refusal of one outbox entry, as the push answered it. */
export interface Refusal {
  entry: OutboxEntry;
  code: string;
  message: string;
  field: string | null;
}

/** Pushed values of one outbox entry that lost, as the push answered them. */
export interface Loss {
  entry: OutboxEntry;
  values: LostValue[];
}

/**
 * What the server made of an applied change beyond what the device sent
 * (push answer with no_echo): the row's version, when not the change's
 * clock, and values its clock set that differ from what was sent.
 */
export interface Echo {
  entry: OutboxEntry;
  version: string;
  fields: Record<string, unknown>;
  /** The row is not one this device reads: its copy goes once nothing of it waits. */
  outOfScope: boolean;
}

/** A pushed value that lost to a concurrent later write, kept until its user dismisses it. */
export interface LostNotice {
  id: number;
  tbl: string;
  row_id: string;
  field: string;
  /** The lost value, wire JSON. */
  value: string;
  by_id: string | null;
  by_name: string | null;
  /** RFC 3339 time of the winning write. */
  at: string;
}

/** A blob to store with a write, content addressed by its SHA-256. */
export interface NewAttachment {
  sha256: string;
  mime: string;
  bytes: Uint8Array;
}

/** Serializes a sequence of async critical sections (one writer at a time). */
class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.tail.then(fn, fn);
    this.tail = p.catch(() => undefined);
    return p;
  }
}

function mustTable(name: string): TableDef {
  const def = tableDef(name);
  if (!def) throw new Error(`unknown table ${name}`);
  return def;
}

/** Wire value (JSON) → column value. */
export function toColumn(type: FieldType, v: unknown): SqlValue {
  if (v === undefined || v === null) return null;
  switch (type) {
    case 'list':
      return JSON.stringify(Array.isArray(v) ? v.map(String) : []);
    case 'bool':
      return v ? 1 : 0;
    case 'int':
    case 'real':
      return typeof v === 'number' ? v : Number(v);
    default:
      return String(v);
  }
}

/** Column value → wire value (JSON). */
export function toWire(type: FieldType, v: SqlValue | undefined): unknown {
  if (v === undefined || v === null) return null;
  switch (type) {
    case 'list':
      try {
        return JSON.parse(String(v));
      } catch {
        return [];
      }
    case 'bool':
      return Boolean(v);
    default:
      return v;
  }
}

function nowIso(): string {
  return new Date().toISOString();
}

export class Store {
  private readonly mutex = new Mutex();
  private readonly listeners = new Set<(kind: ChangeKind) => void>();
  /**
   * Outbox entries (by seq) in a push whose answer has not been settled:
   * a local write never folds into them (see changeStmts).
   */
  private readonly sending = new Set<number>();
  /**
   * Rows (rowKey) whose refused change the user is fixing ("Sửa"): their
   * entries stay out of pushes until the fix ends (see reopen, endFix).
   */
  private readonly fixing = new Set<string>();

  constructor(readonly db: Db, private readonly hlc: Hlc, readonly userId: string) {}

  /** Called after every committed change: a local write, or a sync result or pull. */
  subscribe(fn: (kind: ChangeKind) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  notify(kind: ChangeKind = 'sync'): void {
    for (const fn of this.listeners) fn(kind);
  }

  /** Runs fn while no other write (local or sync) is in progress. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.mutex.run(fn);
  }

  private clockStmt(): Stmt {
    return {
      sql: "INSERT INTO sync_state(key, value) VALUES ('hlc', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      bind: [JSON.stringify(this.hlc.state)],
    };
  }

  /**
   * Applies local changes: each row and its outbox entry, all in one
   * transaction (with the attachments, if any). A new upsert of a row whose
   * latest queued entry is also an upsert is folded into that entry under
   * a new change id, unless that entry is being sent: then the new upsert
   * is an entry of its own, so the answer settles exactly what was sent,
   * and what was sent is never sent again.
   */
  write(changes: Change[], attachments: NewAttachment[] = []): Promise<void> {
    return this.writeDecided(async () => ({ changes, attachments, result: undefined }));
  }

  /**
   * A write whose changes depend on what the device holds: decide reads
   * and returns them inside the same exclusive turn as the write, so no
   * other write comes in between (two quick taps cannot both start a trip).
   */
  writeDecided<T>(decide: () => Promise<{ changes: Change[]; attachments?: NewAttachment[]; result: T }>): Promise<T> {
    return this.exclusive(async () => {
      const { changes, attachments = [], result } = await decide();
      const stmts: Stmt[] = [];
      for (const a of attachments) {
        stmts.push({
          sql: 'INSERT OR IGNORE INTO attachments(sha256, mime, size, bytes, created_at) VALUES (?, ?, ?, ?, ?)',
          bind: [a.sha256, a.mime, a.bytes.byteLength, a.bytes, nowIso()],
        });
      }
      for (const ch of changes) stmts.push(...(await this.changeStmts(ch)));
      stmts.push(this.clockStmt());
      await this.db.tx(stmts);
      return result;
    }).then((result) => {
      this.notify('local');
      return result;
    });
  }

  /**
   * The statements of one local change: the row and its outbox entry. The
   * entry's prev (what the server had, for discard; null for a creation)
   * is read from the row unless given. given.earlier: the change was made
   * before the entries already queued for its row (a refused change sent
   * again), so its base, the earlier read, is the one a folded entry keeps.
   */
  private async changeStmts(ch: Change, given: { prev?: Record<string, unknown> | null; earlier?: boolean } = {}): Promise<Stmt[]> {
    const def = mustTable(ch.table);
    const names = Object.keys(ch.fields ?? {});
    for (const n of names) {
      if (!(n in def.fields)) throw new Error(`unknown field ${ch.table}.${n}`);
    }
    const current = await this.db.one(`SELECT * FROM ${def.name} WHERE id = ?`, [ch.rowId]);
    const hlc = this.hlc.next();
    const stmts: Stmt[] = [];
    const wireFields: Record<string, unknown> = {};
    const read: Record<string, unknown> = {};
    if (ch.op === 'delete') {
      stmts.push({ sql: `UPDATE ${def.name} SET deleted = 1, version = ? WHERE id = ?`, bind: [hlc, ch.rowId] });
    } else {
      const cols = names.map((n) => toColumn(def.fields[n]!, ch.fields![n]));
      for (const n of names) {
        const t = def.fields[n]!;
        wireFields[n] = toWire(t, toColumn(t, ch.fields![n]));
        if (current) read[n] = toWire(t, current[n]);
      }
      const colList = ['id', ...names, 'version'].join(', ');
      const marks = ['?', ...names.map(() => '?'), '?'].join(', ');
      const sets = [...names.map((n) => `${n} = excluded.${n}`), 'version = excluded.version'].join(', ');
      stmts.push({
        sql: `INSERT INTO ${def.name} (${colList}) VALUES (${marks}) ON CONFLICT(id) DO UPDATE SET ${sets}`,
        bind: [ch.rowId, ...cols, hlc],
      });
    }
    const prev = given.prev !== undefined ? given.prev : current ? read : null;
    const last = await this.db.one<OutboxEntry>(
      'SELECT seq, id, op, fields, prev FROM outbox WHERE tbl = ? AND row_id = ? ORDER BY seq DESC LIMIT 1',
      [def.name, ch.rowId],
    );
    if (ch.op === 'upsert' && last && last.op === 'upsert' && !this.sending.has(last.seq)) {
      const merged = { ...(JSON.parse(last.fields) as Record<string, unknown>), ...wireFields };
      // The earliest known previous value wins: it is what the server had.
      // A creation on either side keeps the merged entry a creation.
      const lastPrev = last.prev === null ? null : (JSON.parse(last.prev) as Record<string, unknown>);
      const mergedPrev = lastPrev === null || prev === null ? null : { ...prev, ...lastPrev };
      // The earliest read's base stays: the merged change saw no more than
      // it. That is the queued entry's, unless this change was made before
      // it (a refused change sent again: given.earlier).
      const keep = given.earlier && ch.base ? '?' : "CASE WHEN base = '' THEN ? ELSE base END";
      stmts.push({
        sql: `UPDATE outbox SET id = ?, hlc = ?, fields = ?, prev = ?, base = ${keep} WHERE seq = ?`,
        bind: [newId(), hlc, JSON.stringify(merged), mergedPrev === null ? null : JSON.stringify(mergedPrev), ch.base ?? '', last.seq],
      });
    } else {
      stmts.push({
        sql: 'INSERT INTO outbox(id, tbl, row_id, op, hlc, fields, prev, created_at, base, base_cursor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ' + BASE_CURSOR + ')',
        bind: [newId(), def.name, ch.rowId, ch.op, hlc, JSON.stringify(wireFields),
          prev === null ? null : JSON.stringify(prev), nowIso(), ch.base ?? ''],
      });
    }
    return stmts;
  }

  // ---- outbox, as the sync client sees it ----

  /** Changes and photos on this device that the server has not confirmed yet. */
  pendingCount(): Promise<number> {
    return this.db.one<{ n: number }>(
      'SELECT (SELECT count(*) FROM outbox) + (SELECT count(*) FROM attachments WHERE uploaded_at IS NULL) AS n',
    ).then((r) => r?.n ?? 0);
  }

  /**
   * The oldest entries after afterSeq, in order. To choose a push from
   * them, read them inside exclusive and mark the chosen ones with
   * markSending before the mutex is released: a write in between could
   * fold into an entry already read.
   */
  outboxBatch(limit: number, afterSeq: number): Promise<OutboxEntry[]> {
    return this.db.query<OutboxEntry>(
      'SELECT seq, id, tbl, row_id, op, hlc, fields, prev, base_cursor, base FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?',
      [afterSeq, limit]);
  }

  /** Marks entries as being sent: until release, no local write folds into them. Call inside exclusive. */
  markSending(entries: OutboxEntry[]): void {
    for (const e of entries) this.sending.add(e.seq);
  }

  /** The push of these entries is over (answered and settled, or failed). */
  release(entries: OutboxEntry[]): void {
    for (const e of entries) this.sending.delete(e.seq);
  }

  /** Whether the entry's row is being fixed by its user: it is not pushed meanwhile. */
  isHeld(e: OutboxEntry): boolean {
    return this.fixing.has(rowKey(e.tbl, e.row_id));
  }

  static toWireChange(e: OutboxEntry): WireChange {
    return { id: e.id, table: e.tbl, row_id: e.row_id, op: e.op, hlc: e.hlc, fields: JSON.parse(e.fields), ...(e.base ? { base: e.base } : {}) };
  }

  /**
   * Records the server's answers for one push, in one transaction: applied
   * and duplicate entries are deleted, rejected ones move to the rejected
   * list, and the values of applied ones that lost to a concurrent later
   * write become notices. Entries are matched by change id. What the
   * server made of an applied change (echoes: computed fields, a version
   * ordered after the value it replaced) is laid on its row as a pulled
   * value would be, since the pull no longer sends the row back.
   *
   * A row changed from a read over the API (an entry with a base: the
   * console's decision on a note this device does not pull) is not the
   * device's to keep: once the server has the change, the device drops its
   * partial copy, unless more of its changes wait. Should the row be one
   * the device pulls after all, the next pull brings it whole (the change
   * moved it past the cursor, and the row holds other writers' values).
   */
  settle(done: string[], rejected: Refusal[], lost: Loss[] = [], echoes: Echo[] = []): Promise<void> {
    if (done.length === 0 && rejected.length === 0) return Promise.resolve();
    return this.exclusive(async () => {
      const read = done.length === 0 ? [] : await this.db.query<{ tbl: string; row_id: string }>(
        `SELECT DISTINCT tbl, row_id FROM outbox WHERE base <> '' AND id IN (${done.map(() => '?').join(', ')})`, done);
      const stmts: Stmt[] = done.map((id) => ({ sql: 'DELETE FROM outbox WHERE id = ?', bind: [id] }));
      for (const r of read) {
        const def = tableDef(r.tbl);
        if (!def) continue;
        stmts.push({
          sql: `DELETE FROM ${def.name} WHERE id = ? AND NOT EXISTS (SELECT 1 FROM outbox WHERE tbl = ? AND row_id = ?)
                AND NOT EXISTS (SELECT 1 FROM rejected WHERE tbl = ? AND row_id = ?)`,
          bind: [r.row_id, def.name, r.row_id, def.name, r.row_id],
        });
      }
      for (const e of echoes) {
        const st = echoStmt(e);
        if (st) stmts.push(st);
      }
      const received = nowIso();
      for (const l of lost) {
        for (const v of l.values) {
          if (typeof v?.field !== 'string' || !v.field) continue;
          stmts.push({
            sql: `INSERT OR IGNORE INTO lost_values(change_id, tbl, row_id, field, value, by_id, by_name, at, hlc, received_at)
                  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            bind: [l.entry.id, l.entry.tbl, l.entry.row_id, v.field, JSON.stringify(v.value ?? null),
              v.by ?? null, v.by_name ?? null, v.at || received, v.hlc ?? '', received],
          });
        }
      }
      for (const r of rejected) {
        stmts.push({
          // The base goes with it: a resend is still the change made from that read.
          sql: `INSERT OR REPLACE INTO rejected(id, tbl, row_id, op, hlc, fields, prev, code, message, field, at, base)
                SELECT id, tbl, row_id, op, hlc, fields, prev, ?, ?, ?, ?, base FROM outbox WHERE id = ?`,
          bind: [r.code, r.message, r.field, nowIso(), r.entry.id],
        });
        stmts.push({ sql: 'DELETE FROM outbox WHERE id = ?', bind: [r.entry.id] });
      }
      await this.db.tx(stmts);
    }).then(() => this.notify());
  }

  /**
   * After the clock was corrected for a clock_skew refusal: gives fresh
   * clocks, in outbox order, to every entry from fromSeq on (same change
   * ids: the server applied none of them). The later entries are restamped
   * too, so the device's own edits keep the order they were made in, and
   * stamps still in the future are not sent to be refused one batch at a
   * time.
   */
  restampFrom(fromSeq: number): Promise<void> {
    return this.exclusive(async () => {
      const entries = await this.db.query<{ id: string }>('SELECT id FROM outbox WHERE seq >= ? ORDER BY seq', [fromSeq]);
      const stmts: Stmt[] = entries.map((e) => ({
        sql: 'UPDATE outbox SET hlc = ?, attempts = attempts + 1 WHERE id = ?',
        bind: [this.hlc.next(), e.id],
      }));
      stmts.push(this.clockStmt());
      await this.db.tx(stmts);
    });
  }

  saveClock(): Promise<void> {
    return this.exclusive(async () => {
      await this.db.tx([this.clockStmt()]);
    });
  }

  // ---- lost values: the user reads, copies back, dismisses ----

  /** Notices of lost values, newest first; of one row when given. */
  lostNotices(row?: { table: string; rowId: string }): Promise<LostNotice[]> {
    const cols = 'id, tbl, row_id, field, value, by_id, by_name, at';
    if (row) {
      return this.db.query<LostNotice>(
        `SELECT ${cols} FROM lost_values WHERE tbl = ? AND row_id = ? ORDER BY id DESC`, [row.table, row.rowId]);
    }
    return this.db.query<LostNotice>(`SELECT ${cols} FROM lost_values ORDER BY id DESC`);
  }

  /** "Đã xem": the user has read the notice. */
  dismissLost(id: number): Promise<void> {
    return this.exclusive(async () => {
      await this.db.tx([{ sql: 'DELETE FROM lost_values WHERE id = ?', bind: [id] }]);
    }).then(() => this.notify());
  }

  // ---- rejected changes: the user decides ----

  rejectedList(): Promise<RejectedEntry[]> {
    return this.db.query<RejectedEntry>('SELECT * FROM rejected ORDER BY at DESC');
  }

  /**
   * "Gửi lại": sends a refused change again with the values the user wrote.
   * They are kept in the rejected entry, not read from the row: since the
   * refusal, pulls may have laid the server's values over the row, and a
   * snapshot may have removed a refused creation's row. See requeue.
   */
  resend(id: string): Promise<void> {
    return this.exclusive(() => this.requeue(id)).then((done) => {
      if (done) this.notify('local');
    });
  }

  /**
   * "Sửa": puts a refused change back on its row as a pending edit, as
   * resend does, so that the form then opens on what the user wrote rather
   * than on what the server has. The row's entries stay out of pushes
   * until its form calls endFix (saved, or left): a sync meanwhile (the
   * network coming back, the periodic run) would only have the values the
   * user is correcting refused again.
   */
  reopen(id: string): Promise<void> {
    return this.exclusive(async () => {
      const r = await this.db.one<{ tbl: string; row_id: string }>('SELECT tbl, row_id FROM rejected WHERE id = ?', [id]);
      const done = await this.requeue(id);
      if (done && r) this.fixing.add(rowKey(r.tbl, r.row_id));
      return done;
    }).then((done) => {
      if (done) this.notify('fix');
    });
  }

  /**
   * The user is done fixing the row (saved the form, or left it): its
   * entries go out with the next sync, which follows shortly.
   */
  endFix(table: string, rowId: string): void {
    if (this.fixing.delete(rowKey(table, rowId))) this.notify('local');
  }

  /**
   * Moves a refused change back to the outbox, in one transaction: the row
   * gets the refused values again (a removed creation comes back whole), a
   * new outbox entry carries them with a fresh clock (folded into a pending
   * upsert of the row, if any), and the rejected entry leaves. A field the
   * user changed again since the refusal, still pending in the outbox,
   * keeps that newer value. An edit of a row the device no longer holds
   * (out of its scope since) is queued without a partial row. The new entry
   * carries the refused change's base (a change made from a read over the
   * API): the user's values are still those of that read, and without it
   * the server would take the change as having seen nothing of a row this
   * device does not pull, or everything up to this device's cursor today.
   * Returns false when there was no such entry.
   */
  private async requeue(id: string): Promise<boolean> {
    const r = await this.db.one<RejectedEntry>('SELECT * FROM rejected WHERE id = ?', [id]);
    if (!r) return false;
    const def = mustTable(r.tbl);
    const stmts: Stmt[] = [];
    const base = r.base || undefined;
    if (r.op === 'delete') {
      stmts.push(...(await this.changeStmts({ table: def.name, rowId: r.row_id, op: 'delete', base }, { earlier: true })));
    } else {
      const refused = JSON.parse(r.fields) as Record<string, unknown>;
      const newer = await this.pendingFields(def.name, r.row_id);
      const fields: Record<string, unknown> = {};
      for (const [n, v] of Object.entries(refused)) {
        if (n in def.fields && !newer.has(n)) fields[n] = v;
      }
      const row = await this.db.one(`SELECT * FROM ${def.name} WHERE id = ?`, [r.row_id]);
      const before = r.prev === null ? null : (JSON.parse(r.prev) as Record<string, unknown>);
      if (Object.keys(fields).length === 0) {
        // Every field was changed again since: the pending entry sends the newer values.
      } else if (row || before === null) {
        // prev is what the server has now: the value a pull laid over the
        // row, or, where the row still shows the refused value, the value
        // from before the refused change.
        let prev: Record<string, unknown> | null = null;
        if (before !== null && row) {
          prev = {};
          for (const [n, v] of Object.entries(fields)) {
            const now = toWire(def.fields[n]!, row[n]);
            prev[n] = n in before && JSON.stringify(now) === JSON.stringify(v) ? before[n] : now;
          }
        }
        stmts.push(...(await this.changeStmts({ table: def.name, rowId: r.row_id, op: 'upsert', fields, base }, { prev, earlier: true })));
      } else {
        stmts.push({
          sql: 'INSERT INTO outbox(id, tbl, row_id, op, hlc, fields, prev, created_at, base, base_cursor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ' + BASE_CURSOR + ')',
          bind: [newId(), def.name, r.row_id, 'upsert', this.hlc.next(), JSON.stringify(fields), r.prev, nowIso(), r.base ?? ''],
        });
      }
    }
    stmts.push({ sql: 'DELETE FROM rejected WHERE id = ?', bind: [id] });
    stmts.push(this.clockStmt());
    await this.db.tx(stmts);
    return true;
  }

  /** Names of the row's fields that a queued outbox entry still holds a change to. */
  private async pendingFields(tbl: string, rowId: string): Promise<Set<string>> {
    const entries = await this.db.query<{ fields: string }>('SELECT fields FROM outbox WHERE tbl = ? AND row_id = ?', [tbl, rowId]);
    const names = new Set<string>();
    for (const e of entries) for (const n of Object.keys(JSON.parse(e.fields) as object)) names.add(n);
    return names;
  }

  /**
   * Drops a refused change on purpose: each of its fields goes back to the
   * value it had before, unless something newer (a pull, a later edit)
   * already replaced it. A refused creation removes the row.
   */
  discard(id: string): Promise<void> {
    return this.exclusive(async () => {
      const r = await this.db.one<RejectedEntry>('SELECT * FROM rejected WHERE id = ?', [id]);
      if (!r) return;
      const def = mustTable(r.tbl);
      const stmts: Stmt[] = [];
      const pending = await this.db.one<{ n: number }>(
        'SELECT count(*) AS n FROM outbox WHERE tbl = ? AND row_id = ?', [r.tbl, r.row_id]);
      if (r.op === 'upsert' && r.prev === null) {
        if (!pending?.n) stmts.push({ sql: `DELETE FROM ${def.name} WHERE id = ?`, bind: [r.row_id] });
      } else if (r.op === 'delete') {
        stmts.push({ sql: `UPDATE ${def.name} SET deleted = 0 WHERE id = ?`, bind: [r.row_id] });
      } else {
        const fields = JSON.parse(r.fields) as Record<string, unknown>;
        const prev = JSON.parse(r.prev ?? '{}') as Record<string, unknown>;
        const row = await this.db.one(`SELECT * FROM ${def.name} WHERE id = ?`, [r.row_id]);
        for (const [n, v] of Object.entries(fields)) {
          const t = def.fields[n];
          if (!t || !row || !(n in prev)) continue;
          if (JSON.stringify(toWire(t, row[n])) !== JSON.stringify(v)) continue;
          stmts.push({ sql: `UPDATE ${def.name} SET ${n} = ? WHERE id = ?`, bind: [toColumn(t, prev[n]), r.row_id] });
        }
      }
      stmts.push({ sql: 'DELETE FROM rejected WHERE id = ?', bind: [id] });
      await this.db.tx(stmts);
    }).then(() => this.notify());
  }

  // ---- attachments ----

  pendingAttachments(): Promise<{ sha256: string; mime: string }[]> {
    return this.db.query('SELECT sha256, mime FROM attachments WHERE uploaded_at IS NULL ORDER BY created_at');
  }

  async attachmentBytes(sha256: string): Promise<{ mime: string; bytes: Uint8Array } | undefined> {
    return this.db.one<{ mime: string; bytes: Uint8Array }>('SELECT mime, bytes FROM attachments WHERE sha256 = ?', [sha256]);
  }

  markUploaded(sha256: string): Promise<void> {
    return this.exclusive(async () => {
      await this.db.tx([{ sql: 'UPDATE attachments SET uploaded_at = ? WHERE sha256 = ?', bind: [nowIso(), sha256] }]);
    }).then(() => this.notify());
  }

  // ---- sync state ----

  async getState(key: string): Promise<string | undefined> {
    const r = await this.db.one<{ value: string }>('SELECT value FROM sync_state WHERE key = ?', [key]);
    return r?.value;
  }

  setState(key: string, value: string): Promise<void> {
    return this.exclusive(async () => {
      await this.db.tx([stateStmt(key, value)]);
    }).then(() => this.notify());
  }

  // ---- pulled rows ----

  /**
   * Stages one page of a first (or reset) snapshot, with the cursor to
   * resume from; nothing is visible until applySnapshot.
   */
  stagePage(rows: PulledRow[], snapshotCursor: string): Promise<void> {
    return this.exclusive(async () => {
      // The whole page as one JSON text, spread into rows by SQLite in the
      // worker: one statement for thousands of rows.
      const stmts: Stmt[] = [{
        sql: `INSERT OR REPLACE INTO stage(tbl, row_id, fields, deleted, version)
              SELECT json_extract(value, '$.table'), json_extract(value, '$.row_id'),
                     COALESCE(json_extract(value, '$.fields'), '{}'), COALESCE(json_extract(value, '$.deleted'), 0),
                     COALESCE(json_extract(value, '$.version'), '')
              FROM json_each(?)`,
        bind: [JSON.stringify(rows)],
      }];
      stmts.push(stateStmt('snapshot_cursor', snapshotCursor));
      await this.db.tx(stmts);
    });
  }

  clearStage(): Promise<void> {
    return this.exclusive(async () => {
      await this.db.tx([
        { sql: 'DELETE FROM stage' },
        { sql: "DELETE FROM sync_state WHERE key IN ('snapshot_cursor', 'cursor')" },
      ]);
    });
  }

  /**
   * Swaps a complete snapshot in, in one transaction: staged rows are
   * applied, local rows the snapshot no longer holds are dropped unless they
   * carry pending changes, and the cursor moves on, unless a pending local
   * change was kept over a different server value (see applyPage): then no
   * cursor is saved, and the next run pushes, then pulls a full snapshot
   * again. Returns true when the cursor was held back.
   */
  applySnapshot(cursor: string): Promise<boolean> {
    return this.exclusive(async () => {
      // Only staged rows that meet a pending local change can hold the
      // cursor back: those few are judged here; all the others go in with
      // one INSERT … SELECT per table, inside the worker (a first snapshot
      // of tens of thousands of rows must not cross to this thread and back).
      const touched = await this.db.query<{ tbl: string; row_id: string; fields: string; deleted: number; version: string }>(
        `SELECT s.tbl, s.row_id, s.fields, s.deleted, s.version FROM stage s
         WHERE EXISTS (SELECT 1 FROM outbox o WHERE o.tbl = s.tbl AND o.row_id = s.row_id)`);
      const pending = touched.length > 0 ? await this.pendingByRow() : new Map<string, PendingRow>();
      let held = false;
      for (const s of touched) {
        held ||= overlaysPending({
          table: s.tbl, row_id: s.row_id, fields: JSON.parse(s.fields), deleted: s.deleted === 1, version: s.version,
        }, pending);
      }
      const stmts: Stmt[] = [];
      for (const t of tableNames()) {
        stmts.push({
          sql: `DELETE FROM ${t} WHERE id NOT IN (SELECT row_id FROM stage WHERE tbl = ?)
                AND id NOT IN (SELECT row_id FROM outbox WHERE tbl = ?)`,
          bind: [t, t],
        });
      }
      for (const def of TABLES) stmts.push(swapStmt(def));
      stmts.push({ sql: 'DELETE FROM stage' });
      stmts.push({ sql: "DELETE FROM sync_state WHERE key = 'snapshot_cursor'" });
      if (!held) stmts.push(stateStmt('cursor', cursor));
      await this.db.tx(stmts);
      return held;
    }).then((held) => {
      this.notify();
      return held;
    });
  }

  /**
   * Applies one page of an incremental pull and its cursor, in one
   * transaction. The cursor is not saved when a row of the page keeps a
   * pending local value over a different server value, nor when an earlier
   * page of the same pull did (heldBefore): if that change then loses the
   * merge, the server does not send the row again (its sequence does not
   * move), so the next run must push first and then pull the row again
   * from the old cursor, in its merged state. The pull itself goes on with
   * the new cursor: one pull per run, never a loop. Returns true when the
   * cursor was held back (by this page or an earlier one).
   */
  applyPage(rows: PulledRow[], cursor: string, heldBefore = false): Promise<boolean> {
    return this.exclusive(async () => {
      const pending = await this.pendingByRow();
      let held = heldBefore;
      const stmts: Stmt[] = [];
      for (const r of rows) {
        held ||= overlaysPending(r, pending);
        const st = upsertPulled(r);
        if (st) stmts.push(st);
      }
      if (!held) stmts.push(stateStmt('cursor', cursor));
      await this.db.tx(stmts);
      return held;
    }).then((held) => {
      this.notify();
      return held;
    });
  }

  /**
   * What the outbox still holds, by row: the latest queued value of each
   * field (wire JSON, normalized by the field's type) and whether a delete
   * is queued. Read inside the pull's critical section, so a write cannot
   * slip in between this read and the rows being laid.
   */
  private async pendingByRow(): Promise<Map<string, PendingRow>> {
    const entries = await this.db.query<{ tbl: string; row_id: string; op: string; fields: string }>(
      'SELECT tbl, row_id, op, fields FROM outbox ORDER BY seq');
    const out = new Map<string, PendingRow>();
    for (const e of entries) {
      const def = tableDef(e.tbl);
      if (!def) continue;
      const key = rowKey(e.tbl, e.row_id);
      let p = out.get(key);
      if (!p) out.set(key, (p = { fields: new Map(), deletes: false }));
      if (e.op === 'delete') p.deletes = true;
      for (const [n, v] of Object.entries(JSON.parse(e.fields) as Record<string, unknown>)) {
        const t = def.fields[n];
        if (t) p.fields.set(n, normalized(t, v));
      }
    }
    return out;
  }
}

interface PendingRow {
  fields: Map<string, string>;
  deletes: boolean;
}

function rowKey(tbl: string, rowId: string): string {
  return tbl + '\u0000' + rowId;
}

function normalized(t: FieldType, v: unknown): string {
  return JSON.stringify(toWire(t, toColumn(t, v)));
}

/**
 * Whether laying the pulled row keeps a pending local value (see
 * upsertPulled) that differs from the server's. Where they are equal the
 * device already shows what the server will hold whichever change wins, so
 * nothing needs pulling again.
 */
function overlaysPending(r: PulledRow, pending: Map<string, PendingRow>): boolean {
  const def = tableDef(r.table);
  const p = def && pending.get(rowKey(def.name, r.row_id));
  if (!def || !p) return false;
  if (p.deletes && !r.deleted) return true;
  for (const [n, v] of Object.entries(r.fields ?? {})) {
    const t = def.fields[n];
    const mine = p.fields.get(n);
    if (t && mine !== undefined && mine !== normalized(t, v)) return true;
  }
  return false;
}

function stateStmt(key: string, value: string): Stmt {
  return {
    sql: 'INSERT INTO sync_state(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    bind: [key, value],
  };
}

function tableNames(): string[] {
  return TABLES.map((t) => t.name);
}

/**
 * The statement that lays a pulled row over the local one. Only fields the
 * device knows and the server sent are written, and each keeps its local
 * value while an outbox entry still holds a change to it: pending local
 * edits stay on top. Rows of tables the device does not know are skipped.
 */
/**
 * The statement that lays one table's staged snapshot rows over the local
 * ones, as upsertPulled does row by row: each field keeps its local value
 * while an outbox entry still holds a change to it, and a queued delete
 * keeps the row deleted. A snapshot row carries every field the server
 * has; a field it lacks (a device newer than its server) is laid as null.
 * Values come out of the staged JSON as the columns hold them: lists as
 * JSON text, booleans as 1 and 0.
 */
function swapStmt(def: TableDef): Stmt {
  const names = Object.keys(def.fields);
  const cols = names.map((n) => `json_extract(s.fields, '$.${n}')`);
  const sets = names.map((n) => `${n} = CASE WHEN ${pendingFieldSql(def, n)} THEN ${n} ELSE excluded.${n} END`);
  sets.push(`deleted = CASE WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.tbl = '${def.name}' AND o.row_id = ${def.name}.id AND o.op = 'delete') THEN deleted ELSE excluded.deleted END`);
  sets.push('version = excluded.version');
  return {
    sql: `INSERT INTO ${def.name} (id${names.map((n) => ', ' + n).join('')}, deleted, version)
          SELECT s.row_id${cols.map((c) => ', ' + c).join('')}, s.deleted, s.version FROM stage s WHERE s.tbl = ?
          ON CONFLICT(id) DO UPDATE SET ${sets.join(', ')}`,
    bind: [def.name],
  };
}

function pendingFieldSql(def: TableDef, n: string): string {
  return `EXISTS (SELECT 1 FROM outbox o WHERE o.tbl = '${def.name}' AND o.row_id = ${def.name}.id AND json_type(o.fields, '$.${n}') IS NOT NULL)`;
}

/**
 * The statement that lays what the server answered for one of this
 * device's changes on its row: the fields it computed (each kept while a
 * later local change to it is still queued) and the version, when later
 * than the row's; a row the device cannot read is dropped unless more of
 * its changes wait. Run after the entry left the outbox.
 */
function echoStmt(e: Echo): Stmt | undefined {
  const def = tableDef(e.entry.tbl);
  if (!def) return undefined;
  if (e.outOfScope) {
    return {
      sql: `DELETE FROM ${def.name} WHERE id = ? AND NOT EXISTS (SELECT 1 FROM outbox WHERE tbl = ? AND row_id = ?)
            AND NOT EXISTS (SELECT 1 FROM rejected WHERE tbl = ? AND row_id = ?)`,
      bind: [e.entry.row_id, def.name, e.entry.row_id, def.name, e.entry.row_id],
    };
  }
  const names = Object.keys(e.fields).filter((n) => n in def.fields);
  const sets = names.map((n) => `${n} = CASE WHEN ${pendingFieldSql(def, n)} THEN ${n} ELSE ? END`);
  const bind: SqlValue[] = names.map((n) => toColumn(def.fields[n]!, e.fields[n]));
  if (e.version) {
    sets.push('version = CASE WHEN ? > version THEN ? ELSE version END');
    bind.push(e.version, e.version);
  }
  if (sets.length === 0) return undefined;
  return { sql: `UPDATE ${def.name} SET ${sets.join(', ')} WHERE id = ?`, bind: [...bind, e.entry.row_id] };
}

function upsertPulled(r: PulledRow): Stmt | undefined {
  const def = tableDef(r.table);
  if (!def) return undefined;
  const fields = r.fields ?? {};
  const names = Object.keys(fields).filter((n) => n in def.fields);
  const bind: SqlValue[] = [r.row_id, ...names.map((n) => toColumn(def.fields[n]!, fields[n])), r.deleted ? 1 : 0, r.version ?? ''];
  const pendingField = (n: string) =>
    `EXISTS (SELECT 1 FROM outbox o WHERE o.tbl = '${def.name}' AND o.row_id = excluded.id AND json_type(o.fields, '$.${n}') IS NOT NULL)`;
  const sets = names.map((n) => `${n} = CASE WHEN ${pendingField(n)} THEN ${n} ELSE excluded.${n} END`);
  sets.push(`deleted = CASE WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.tbl = '${def.name}' AND o.row_id = excluded.id AND o.op = 'delete') THEN deleted ELSE excluded.deleted END`);
  sets.push('version = excluded.version');
  return {
    sql: `INSERT INTO ${def.name} (id${names.map((n) => ', ' + n).join('')}, deleted, version)
          VALUES (?${names.map(() => ', ?').join('')}, ?, ?) ON CONFLICT(id) DO UPDATE SET ${sets.join(', ')}`,
    bind,
  };
}

export type { Row };
