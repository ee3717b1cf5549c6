// The device schema: the synced tables, generated from the server's
// registry (schema.gen.ts, written by `go generate ./sync/schema`), plus
// the tables only the device has (outbox, rejected,
// lost_values, stage, attachments, sync_state), created by the migrations below. The registry is the only
// source of table and column names that SQL is built from; nothing from the
// network or the user is ever spliced into SQL.
import { TABLES, type FieldType, type TableDef } from './schema.gen';

export { ENUMS, FIELD_SET, TABLES, type FieldType, type TableDef } from './schema.gen';

const byName = new Map(TABLES.map((t) => [t.name, t]));

/** The table's definition, or undefined for a name the device does not know. */
export function tableDef(name: string): TableDef | undefined {
  return byName.get(name);
}

/** The column type a field is stored under. */
export function columnType(t: FieldType): string {
  switch (t) {
    case 'int':
    case 'bool':
      return 'INTEGER';
    case 'real':
      return 'REAL';
    default:
      return 'TEXT';
  }
}

/**
 * A synced table as this build creates it. Columns are nullable on purpose:
 * a row pulled from a server that does not send a field must still land.
 */
export function createTableSql(t: TableDef): string {
  const cols = [
    'id TEXT PRIMARY KEY',
    ...Object.entries(t.fields).map(([n, ft]) => `${n} ${columnType(ft)}`),
    'deleted INTEGER NOT NULL DEFAULT 0',
    "version TEXT NOT NULL DEFAULT ''",
  ];
  return `CREATE TABLE ${t.name} (${cols.join(', ')})`;
}

/**
 * One migration step: SQL to run, or a column to add to a device-only
 * table. A column is added only if the table lacks it, so a step is safe on
 * any file a released build left behind, whatever it already holds.
 */
export type Migration =
  | { sql: string }
  | { addColumn: { table: string; column: string; decl: string } };

/**
 * Migrations, append-only, applied by the worker in order; PRAGMA
 * user_version records how many ran. Columns are nullable on purpose: a
 * row pulled from a newer server with a missing field must still land.
 */
export function migrations(): Migration[] {
  return [
    // 1: the schema of the first release, frozen as written then. A synced
    // table or field added to the registry later needs no step here: the
    // worker creates what the file lacks after these steps (and pulls the
    // rows again to fill it in).
    { sql: STEP_1 },
    // 2: the field a refusal is about (protocol Result.field), so the
    // rejected list can name it in the user's words. Null on entries
    // refused before, and from servers that do not send it.
    { addColumn: { table: 'rejected', column: 'field', decl: 'TEXT' } },
    // 3: the pull cursor the device had when it queued a change, sent as
    // the push's base_cursor so the server can list concurrent edits of a
    // field as conflicts. Entries queued before carry '' (no claim).
    { addColumn: { table: 'outbox', column: 'base_cursor', decl: "TEXT NOT NULL DEFAULT ''" } },
    // 4: pushed values that lost to a concurrent later write (protocol
    // Result.lost), kept for their user to read and copy back until
    // dismissed. One notice per change and field: a duplicate answer for
    // the same change adds nothing.
    { sql: STEP_4 },
    // 5: the base of a row read over the API rather than pulled (the
    // console), sent with the change (protocol Change.base) so the server
    // judges it to have seen that read and nothing after. '' for the rows
    // the device pulled: the push's base_cursor speaks for them.
    { addColumn: { table: 'outbox', column: 'base', decl: "TEXT NOT NULL DEFAULT ''" } },
    // 6: a refused change keeps its base, so that "Gửi lại" and "Sửa" send
    // it again with the read it was made from, not as a change that had
    // seen nothing (ordered by clock alone). '' on entries refused before.
    { addColumn: { table: 'rejected', column: 'base', decl: "TEXT NOT NULL DEFAULT ''" } },
  ];
}

const STEP_1 = `CREATE TABLE departments (
  id TEXT PRIMARY KEY,
  name TEXT,
  duties TEXT,
  deleted INTEGER NOT NULL DEFAULT 0,
  version TEXT NOT NULL DEFAULT ''
);
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  username TEXT,
  full_name TEXT,
  title TEXT,
  roles TEXT,
  department_id TEXT,
  unit_id TEXT,
  deleted INTEGER NOT NULL DEFAULT 0,
  version TEXT NOT NULL DEFAULT ''
);
CREATE TABLE clusters (
  id TEXT PRIMARY KEY,
  name TEXT,
  lead_secretary_id TEXT,
  lead_department_id TEXT,
  deleted INTEGER NOT NULL DEFAULT 0,
  version TEXT NOT NULL DEFAULT ''
);
CREATE TABLE units (
  id TEXT PRIMARY KEY,
  code TEXT,
  name TEXT,
  kind TEXT,
  parent_id TEXT,
  cluster_id TEXT,
  lat REAL,
  lng REAL,
  valid_from TEXT,
  valid_to TEXT,
  replaced_by_id TEXT,
  source TEXT,
  deleted INTEGER NOT NULL DEFAULT 0,
  version TEXT NOT NULL DEFAULT ''
);
CREATE TABLE plans (
  id TEXT PRIMARY KEY,
  year INTEGER,
  number TEXT,
  issued_on TEXT,
  title TEXT,
  min_field_days INTEGER,
  deleted INTEGER NOT NULL DEFAULT 0,
  version TEXT NOT NULL DEFAULT ''
);
CREATE TABLE campaigns (
  id TEXT PRIMARY KEY,
  plan_id TEXT,
  kind TEXT,
  name TEXT,
  content TEXT,
  starts_on TEXT,
  ends_on TEXT,
  unit_ids TEXT,
  deleted INTEGER NOT NULL DEFAULT 0,
  version TEXT NOT NULL DEFAULT ''
);
CREATE TABLE special_periods (
  id TEXT PRIMARY KEY,
  plan_id TEXT,
  name TEXT,
  starts_on TEXT,
  ends_on TEXT,
  deleted INTEGER NOT NULL DEFAULT 0,
  version TEXT NOT NULL DEFAULT ''
);
CREATE TABLE teams (
  id TEXT PRIMARY KEY,
  campaign_id TEXT,
  name TEXT,
  leader_id TEXT,
  member_ids TEXT,
  unit_ids TEXT,
  deleted INTEGER NOT NULL DEFAULT 0,
  version TEXT NOT NULL DEFAULT ''
);
CREATE TABLE trips (
  id TEXT PRIMARY KEY,
  user_id TEXT,
  title TEXT,
  purpose TEXT,
  campaign_id TEXT,
  unit_ids TEXT,
  starts_on TEXT,
  ends_on TEXT,
  status TEXT,
  notes TEXT,
  deleted INTEGER NOT NULL DEFAULT 0,
  version TEXT NOT NULL DEFAULT ''
);
CREATE TABLE trip_days (
  id TEXT PRIMARY KEY,
  trip_id TEXT,
  user_id TEXT,
  day TEXT,
  unit_id TEXT,
  activity TEXT,
  deleted INTEGER NOT NULL DEFAULT 0,
  version TEXT NOT NULL DEFAULT ''
);
CREATE TABLE checkins (
  id TEXT PRIMARY KEY,
  user_id TEXT,
  unit_id TEXT,
  trip_id TEXT,
  at TEXT,
  lat REAL,
  lng REAL,
  accuracy_m REAL,
  photo TEXT,
  note TEXT,
  voided INTEGER,
  void_reason TEXT,
  received_at TEXT,
  distance_m REAL,
  flags TEXT,
  deleted INTEGER NOT NULL DEFAULT 0,
  version TEXT NOT NULL DEFAULT ''
);
CREATE TABLE visit_notes (
  id TEXT PRIMARY KEY,
  author_id TEXT,
  unit_id TEXT,
  trip_id TEXT,
  campaign_id TEXT,
  kind TEXT,
  title TEXT,
  results TEXT,
  models TEXT,
  shortcomings TEXT,
  aspirations TEXT,
  recommendations TEXT,
  conclusions TEXT,
  status TEXT,
  reviewed_by TEXT,
  review_comment TEXT,
  attachments TEXT,
  deleted INTEGER NOT NULL DEFAULT 0,
  version TEXT NOT NULL DEFAULT ''
);
CREATE TABLE findings (
  id TEXT PRIMARY KEY,
  note_id TEXT,
  author_id TEXT,
  unit_id TEXT,
  campaign_id TEXT,
  category TEXT,
  text TEXT,
  department_id TEXT,
  status TEXT,
  due_on TEXT,
  answer TEXT,
  deleted INTEGER NOT NULL DEFAULT 0,
  version TEXT NOT NULL DEFAULT ''
);
CREATE TABLE follow_ups (
  id TEXT PRIMARY KEY,
  finding_id TEXT,
  author_id TEXT,
  at TEXT,
  text TEXT,
  status_to TEXT,
  deleted INTEGER NOT NULL DEFAULT 0,
  version TEXT NOT NULL DEFAULT ''
);
CREATE INDEX trip_days_trip ON trip_days(trip_id);
CREATE INDEX trip_days_user_day ON trip_days(user_id, day);
CREATE INDEX checkins_user_at ON checkins(user_id, at);
CREATE INDEX findings_note ON findings(note_id);
-- Changes written on this device and not yet acknowledged by the server.
-- An entry leaves only when the server answered applied or duplicate
-- (deleted) or rejected (moved to rejected, in the same transaction).
CREATE TABLE outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  tbl TEXT NOT NULL,
  row_id TEXT NOT NULL,
  op TEXT NOT NULL,
  hlc TEXT NOT NULL,
  fields TEXT NOT NULL DEFAULT '{}',
  prev TEXT,
  created_at TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_row ON outbox(tbl, row_id);
-- Changes the server refused, shown to the user until fixed or discarded.
CREATE TABLE rejected (
  id TEXT PRIMARY KEY,
  tbl TEXT NOT NULL,
  row_id TEXT NOT NULL,
  op TEXT NOT NULL,
  hlc TEXT NOT NULL,
  fields TEXT NOT NULL,
  prev TEXT,
  code TEXT NOT NULL,
  message TEXT NOT NULL,
  at TEXT NOT NULL
);
-- Pulled rows waiting to be applied; a first snapshot is applied only when
-- its last page has arrived.
CREATE TABLE stage (
  tbl TEXT NOT NULL,
  row_id TEXT NOT NULL,
  fields TEXT NOT NULL,
  deleted INTEGER NOT NULL,
  version TEXT NOT NULL,
  PRIMARY KEY (tbl, row_id)
);
-- Photos and other blobs, content addressed; uploaded_at is set only after
-- the server confirmed the PUT.
CREATE TABLE attachments (
  sha256 TEXT PRIMARY KEY,
  mime TEXT NOT NULL,
  size INTEGER NOT NULL,
  bytes BLOB NOT NULL,
  created_at TEXT NOT NULL,
  uploaded_at TEXT
);
CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);`;

const STEP_4 = `CREATE TABLE IF NOT EXISTS lost_values (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  change_id TEXT NOT NULL,
  tbl TEXT NOT NULL,
  row_id TEXT NOT NULL,
  field TEXT NOT NULL,
  value TEXT NOT NULL,
  by_id TEXT,
  by_name TEXT,
  at TEXT NOT NULL,
  hlc TEXT NOT NULL,
  received_at TEXT NOT NULL,
  UNIQUE (change_id, field)
);
CREATE INDEX IF NOT EXISTS lost_values_row ON lost_values(tbl, row_id);`;
