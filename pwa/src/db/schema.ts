// The device schema: the synced tables (same wire names as the server,
// docs/protocol.md), plus the tables only the device has (outbox, rejected,
// lost_values, stage, attachments, sync_state). This registry is the only source of table and
// column names that SQL is built from; nothing from the network or the user
// is ever spliced into SQL.

export type FieldType = 'text' | 'real' | 'int' | 'bool' | 'list';

export interface TableDef {
  name: string;
  /** Field data is written on devices; reference data only comes down by pull. */
  field: boolean;
  fields: Record<string, FieldType>;
}

const ref = (name: string, fields: Record<string, FieldType>): TableDef => ({ name, field: false, fields });
const fld = (name: string, fields: Record<string, FieldType>): TableDef => ({ name, field: true, fields });

export const TABLES: readonly TableDef[] = [
  ref('departments', { name: 'text', duties: 'text' }),
  ref('users', {
    username: 'text', full_name: 'text', title: 'text', roles: 'list',
    department_id: 'text', unit_id: 'text',
  }),
  ref('clusters', { name: 'text', lead_secretary_id: 'text', lead_department_id: 'text' }),
  ref('units', {
    code: 'text', name: 'text', kind: 'text', parent_id: 'text', cluster_id: 'text',
    lat: 'real', lng: 'real', valid_from: 'text', valid_to: 'text', replaced_by_id: 'text', source: 'text',
  }),
  ref('plans', { year: 'int', number: 'text', issued_on: 'text', title: 'text', min_field_days: 'int' }),
  ref('campaigns', {
    plan_id: 'text', kind: 'text', name: 'text', content: 'text',
    starts_on: 'text', ends_on: 'text', unit_ids: 'list',
  }),
  ref('special_periods', { plan_id: 'text', name: 'text', starts_on: 'text', ends_on: 'text' }),
  ref('teams', { campaign_id: 'text', name: 'text', leader_id: 'text', member_ids: 'list', unit_ids: 'list' }),
  fld('trips', {
    user_id: 'text', title: 'text', purpose: 'text', campaign_id: 'text', unit_ids: 'list',
    starts_on: 'text', ends_on: 'text', status: 'text', notes: 'text',
  }),
  fld('trip_days', { trip_id: 'text', user_id: 'text', day: 'text', unit_id: 'text', activity: 'text' }),
  fld('checkins', {
    user_id: 'text', unit_id: 'text', trip_id: 'text', at: 'text', lat: 'real', lng: 'real',
    accuracy_m: 'real', photo: 'text', note: 'text', voided: 'bool', void_reason: 'text',
    received_at: 'text', distance_m: 'real', flags: 'list',
  }),
  fld('visit_notes', {
    author_id: 'text', unit_id: 'text', trip_id: 'text', campaign_id: 'text', kind: 'text', title: 'text',
    results: 'text', models: 'text', shortcomings: 'text', aspirations: 'text',
    recommendations: 'text', conclusions: 'text', status: 'text', reviewed_by: 'text',
    review_comment: 'text', attachments: 'list',
  }),
  fld('findings', {
    note_id: 'text', author_id: 'text', unit_id: 'text', campaign_id: 'text', category: 'text', text: 'text',
    department_id: 'text', status: 'text', due_on: 'text', answer: 'text',
  }),
  fld('follow_ups', { finding_id: 'text', author_id: 'text', at: 'text', text: 'text', status_to: 'text' }),
];

const byName = new Map(TABLES.map((t) => [t.name, t]));

/** The table's definition, or undefined for a name the device does not know. */
export function tableDef(name: string): TableDef | undefined {
  return byName.get(name);
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
    // 1: the schema of the first release, frozen as written then: a field
    // added to TABLES later needs its own step below to reach the files
    // devices already hold.
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
