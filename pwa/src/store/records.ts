// What the screens read and write, in the plan's terms. Every write goes
// through Store.write (row + outbox in one transaction). Queries only read.
import { newId } from './ids';
import type { SqlValue } from '../db/client';
import { ENUMS } from '../db/schema';
import {
  ALL_SEEING_ROLES, NEAR_UNIT_M, PERIODS_QUERY, PLAN_QUERY, PLAN_UTC_OFFSET_HOURS, TALLY_KINDS, TALLY_QUERY, TRIP_PURPOSES,
  type Query,
} from './plan.gen';
import type { Change, NewAttachment, Store } from './store';

export type SyncMark = 'local' | 'sent' | 'refused';
export type Purpose = (typeof TRIP_PURPOSES)[number];
export const PURPOSES: readonly Purpose[] = TRIP_PURPOSES;
export type NoteStatus = (typeof ENUMS.visit_notes.status)[number];
export type FindingCategory = (typeof ENUMS.findings.category)[number];
export const FINDING_CATEGORIES: readonly FindingCategory[] = ENUMS.findings.category;
export const NOTE_SECTIONS = ['results', 'models', 'shortcomings', 'aspirations', 'recommendations', 'conclusions'] as const;
export type NoteSection = (typeof NOTE_SECTIONS)[number];

export type UnitStatus = (typeof ENUMS.units.status)[number];

export interface Unit {
  id: string;
  code: string | null;
  name: string;
  kind: string;
  parent_id: string | null;
  lat: number | null;
  lng: number | null;
  valid_from: string | null;
  valid_to: string | null;
  /** The plan's units are confirmed; a place proposed from the field is proposed until headquarters decide. */
  status: UnitStatus;
  proposed_by: string | null;
  /** For a merged place: the unit it duplicates. */
  replaced_by_id: string | null;
}

/** Whether a unit may be picked for new work: not a place headquarters rejected or merged into another. */
export function pickable(u: Pick<Unit, 'status'>): boolean {
  return u.status !== 'rejected' && u.status !== 'merged';
}

/**
 * The unit a row naming id stands for: the unit itself, or for a place
 * headquarters merged into another, the kept unit (followed along a chain
 * of merges). Undefined when the device has no such unit.
 */
export function resolveUnit(byId: Map<string, Unit>, id: string): Unit | undefined {
  let u = byId.get(id);
  for (let hops = 0; u && u.status === 'merged' && u.replaced_by_id && hops < 16; hops++) {
    const next = byId.get(u.replaced_by_id);
    if (!next) break;
    u = next;
  }
  return u;
}

/** A province or central unit, under which a grassroots place is proposed. */
export function parentKind(u: Pick<Unit, 'kind' | 'status'>): boolean {
  return (u.kind === 'province' || u.kind === 'central_affiliated') && u.status === 'confirmed';
}

/**
 * Folds a name for search: no diacritics, đ as d, lower case, so "xa ta
 * phin" finds "Xã Tả Phìn".
 */
export function foldName(s: string): string {
  return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[đĐ]/g, 'd').toLowerCase();
}

export interface Campaign {
  id: string;
  plan_id: string | null;
  kind: string;
  name: string;
  content: string | null;
  starts_on: string | null;
  ends_on: string | null;
  unit_ids: string[];
}

export interface Trip {
  id: string;
  user_id: string;
  title: string;
  purpose: Purpose;
  campaign_id: string | null;
  unit_ids: string[];
  starts_on: string;
  ends_on: string | null;
  status: 'planned' | 'ongoing' | 'done' | 'cancelled';
  notes: string;
  sync: SyncMark;
}

export interface TripDay {
  id: string;
  trip_id: string;
  day: string;
  unit_id: string | null;
  activity: string;
  sync: SyncMark;
}

export interface Checkin {
  id: string;
  unit_id: string;
  trip_id: string | null;
  at: string;
  lat: number | null;
  lng: number | null;
  accuracy_m: number | null;
  photo: string;
  note: string;
  voided: boolean;
  void_reason: string;
  distance_m: number | null;
  flags: string[];
  sync: SyncMark;
  photo_uploaded: boolean;
}

export interface Note {
  id: string;
  author_id: string;
  unit_id: string;
  trip_id: string | null;
  campaign_id: string | null;
  kind: Purpose;
  title: string;
  results: string;
  models: string;
  shortcomings: string;
  aspirations: string;
  recommendations: string;
  conclusions: string;
  status: NoteStatus;
  reviewed_by: string | null;
  review_comment: string;
  sync: SyncMark;
  /** The unit's and campaign's names, and the visit's date: the trip's first day, else the day it was last written. */
  unit_name: string | null;
  campaign_name: string | null;
  visit_date: string | null;
}

/**
 * How a note reads on screen: its status, except that a note handed in on
 * this device and not yet sent reads "waiting to be sent" (never "sent"
 * beside "not synced").
 */
export type NoteShown = NoteStatus | 'pending';
export function noteShown(n: { status: NoteStatus; sync: SyncMark }): NoteShown {
  return n.status === 'submitted' && n.sync !== 'sent' ? 'pending' : n.status;
}

/** Whether the user works in the field (check-ins, trips, notes of their own): plan II.3, I.1. */
export function holdsFieldRole(roles: readonly string[] | undefined): boolean {
  return (roles ?? []).some((r) => r === 'secretary' || r === 'inspector');
}

/**
 * Whether the field tabs (check-in, trips) are for this user: those who
 * work in the field, and anyone whose only duty is not a liaison's or a
 * department's (headquarters keep them, as before).
 */
export function showsFieldTabs(roles: readonly string[] | undefined): boolean {
  return holdsFieldRole(roles) || !(roles ?? []).some((r) => r === 'unit_liaison' || r === 'department');
}

/** One of this user's notes sent back, with the latest review round. */
export interface RevisionNote {
  id: string;
  title: string;
  unit_name: string | null;
  reviewer: string;
  at: string;
  comment: string;
}

/** A liaison's unit as the plan has it: who inspects it when, what was concluded, what follows. */
export interface LiaisonView {
  unit: { id: string; name: string } | null;
  schedule: { campaign: string; starts_on: string | null; ends_on: string | null; team: string; leader: string; members: string[] }[];
  notes: { id: string; title: string; campaign: string | null; conclusions: string; reviewer: string | null;
    findings: { id: string; category: FindingCategory; text: string; status: FindingStatus; due_on: string | null; department: string | null;
      followUps: { id: string; at: string; text: string; author: string | null }[] }[] }[];
}

export type FindingStatus = (typeof ENUMS.findings.status)[number];
export const FINDING_STATUSES: readonly FindingStatus[] = ENUMS.findings.status;

/** One review round of a note: who decided what, when, and why. */
export interface ReviewRound {
  id: string;
  decision: 'needs_revision' | 'reviewed';
  comment: string;
  at: string;
  reviewer_id: string;
  reviewer: string;
}

/** Headquarters, who see and triage every finding and review every note (plan.SeesAll). */
export function seesAll(roles: string[]): boolean {
  return roles.some((r) => ALL_SEEING_ROLES.includes(r));
}

/** A finding as the register shows it. */
export interface RegisterFinding {
  id: string;
  note_id: string | null;
  author_id: string | null;
  unit_id: string | null;
  campaign_id: string | null;
  category: FindingCategory;
  text: string;
  department_id: string | null;
  status: FindingStatus;
  due_on: string | null;
  answer: string | null;
  unit_name: string | null;
  campaign_name: string | null;
  department_name: string | null;
  note_title: string | null;
  author_name: string | null;
  /** Set when the finding was raised at a cluster briefing: which, its cluster and date. */
  briefing_id: string | null;
  briefing_cluster: string | null;
  briefing_held_on: string | null;
  sync: SyncMark;
}

const REGISTER_COLUMNS = `f.id, f.note_id, f.author_id, f.unit_id, f.campaign_id, f.category, f.text, f.department_id,
  COALESCE(f.status, 'open') AS status, f.due_on, f.answer,
  (SELECT name FROM units u WHERE u.id = f.unit_id) AS unit_name,
  (SELECT name FROM campaigns c WHERE c.id = f.campaign_id) AS campaign_name,
  (SELECT name FROM departments d WHERE d.id = f.department_id) AS department_name,
  (SELECT title FROM visit_notes n WHERE n.id = f.note_id AND n.deleted = 0) AS note_title,
  (SELECT COALESCE(NULLIF(u.full_name, ''), u.username) FROM users u WHERE u.id = f.author_id) AS author_name,
  f.briefing_id,
  (SELECT c.name FROM briefings b JOIN clusters c ON c.id = b.cluster_id WHERE b.id = f.briefing_id) AS briefing_cluster,
  (SELECT b.held_on FROM briefings b WHERE b.id = f.briefing_id) AS briefing_held_on`;
const REGISTER_FROM = 'FROM findings f';

/** A note's unit, campaign and visit date (its trip's first day, else the day of its last change, from its HLC version, in Vietnam). */
const NOTE_CONTEXT = `(SELECT name FROM units u WHERE u.id = n.unit_id) AS unit_name,
  (SELECT name FROM campaigns c WHERE c.id = n.campaign_id) AS campaign_name,
  COALESCE((SELECT starts_on FROM trips tr WHERE tr.id = n.trip_id),
    CASE WHEN n.version <> '' THEN date(CAST(substr(n.version, 1, 15) AS INTEGER) / 1000, 'unixepoch', '+${PLAN_UTC_OFFSET_HOURS} hours') END)
    AS visit_date`;

export interface FollowUp {
  id: string;
  finding_id: string;
  author_id: string;
  at: string;
  text: string;
  status_to: FindingStatus | null;
  author_name: string | null;
  sync: SyncMark;
}

export interface Finding {
  id: string;
  note_id: string;
  category: FindingCategory;
  text: string;
  status: string;
  sync: SyncMark;
}

/**
 * The record's sync state, as a SQL expression: refused while a rejected
 * change is waiting for the user, only-on-this-device while an outbox entry
 * (or, for a check-in, its photo upload) is pending, sent otherwise. table
 * is always a literal from this file.
 */
function markSql(table: string, alias: string): string {
  let pending = `EXISTS (SELECT 1 FROM outbox o WHERE o.tbl = '${table}' AND o.row_id = ${alias}.id)`;
  if (table === 'checkins') {
    pending = `(${pending} OR EXISTS (SELECT 1 FROM attachments a WHERE a.sha256 = ${alias}.photo AND a.uploaded_at IS NULL))`;
  }
  if (table === 'visit_notes') {
    pending = `(${pending} OR EXISTS (SELECT 1 FROM ${jsonList(`${alias}.attachments`)} j
      JOIN attachments a ON a.sha256 = j.value AND a.uploaded_at IS NULL))`;
  }
  return `CASE WHEN EXISTS (SELECT 1 FROM rejected r WHERE r.tbl = '${table}' AND r.row_id = ${alias}.id) THEN 'refused'
    WHEN ${pending} THEN 'local' ELSE 'sent' END AS sync`;
}

/** A list column as json_each rows; a value that is not a JSON array reads as empty. */
function jsonList(col: string): string {
  return `json_each(CASE WHEN json_valid(${col}) AND json_type(${col}) = 'array' THEN ${col} ELSE '[]' END)`;
}

/** One photo of a visit note: whether its bytes are on this device, and whether they reached the server. */
export interface NotePhoto {
  sha256: string;
  held: boolean;
  uploaded: boolean;
}

function list(v: unknown): string[] {
  if (typeof v !== 'string') return [];
  try {
    const a = JSON.parse(v);
    return Array.isArray(a) ? a.map(String) : [];
  } catch {
    return [];
  }
}

export function haversineM(lat1: number, lng1: number, lat2: number, lng2: number): number {
  const r = 6371000;
  const rad = Math.PI / 180;
  const dlat = (lat2 - lat1) * rad;
  const dlng = (lng2 - lng1) * rad;
  const h = Math.sin(dlat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dlng / 2) ** 2;
  return 2 * r * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Local calendar date (YYYY-MM-DD) of an instant or of now. */
export function localDate(d: Date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** The dates from start to end inclusive (at most 366). */
export function datesBetween(start: string, end: string | null): string[] {
  const out: string[] = [];
  const d = new Date(start + 'T12:00:00');
  const last = new Date((end || start) + 'T12:00:00');
  while (d <= last && out.length < 366) {
    out.push(localDate(d));
    d.setDate(d.getDate() + 1);
  }
  return out;
}

/** A field day after today (in Vietnam) is refused: the server refuses it too (trip_days, validation_failed on day). */
export class FutureDayError extends Error {
  constructor(readonly day: string) {
    super('a field day cannot be in the future');
  }
}

/** Whether day is after today in the plan's calendar. */
export function isFutureDay(day: string, today: string = planToday()): boolean {
  return day > today;
}

/**
 * A trip's status as its dates and ticked days make it: a planned trip is
 * ongoing from its first day (or its first ticked day) and done after its
 * last; one marked done or cancelled stays so. Computed where it is shown,
 * never written on its own: the user's own choice (cancel, done) wins.
 */
export function tripStatus(trip: Pick<Trip, 'status' | 'starts_on' | 'ends_on'>, ticked: number, today: string = planToday()): Trip['status'] {
  if (trip.status === 'cancelled' || trip.status === 'done') return trip.status;
  if (today > (trip.ends_on || trip.starts_on)) return 'done';
  if (today >= trip.starts_on || ticked > 0) return 'ongoing';
  return 'planned';
}

/** What a check-in counted: the trip its day was ticked on, and whether that trip was started for it. */
export interface CheckinResult {
  id: string;
  tripId: string;
  day: string;
  newTrip: boolean;
  newDay: boolean;
}

export class Records {
  constructor(readonly store: Store) {}

  private get db() {
    return this.store.db;
  }

  private get me(): string {
    return this.store.userId;
  }

  // ---- reference data ----

  async units(): Promise<Unit[]> {
    return this.db.query<Unit>(
      `SELECT id, code, name, kind, parent_id, lat, lng, valid_from, valid_to, COALESCE(status, 'confirmed') AS status,
         proposed_by, replaced_by_id FROM units WHERE deleted = 0
       ORDER BY CASE kind WHEN 'province' THEN 0 WHEN 'central_affiliated' THEN 1 ELSE 2 END, name`);
  }

  /** The units this user checked in at lately, the latest first. */
  async recentUnitIds(limit = 5): Promise<string[]> {
    const rows = await this.db.query<{ unit_id: string }>(
      `SELECT unit_id FROM checkins WHERE deleted = 0 AND user_id = ? AND COALESCE(voided, 0) = 0
       GROUP BY unit_id ORDER BY max(at) DESC LIMIT ?`, [this.me, limit]);
    return rows.map((r) => r.unit_id);
  }

  /**
   * Proposes a grassroots place where the user stands (a commune, a
   * school, an enterprise the plan does not list), under the province or
   * central unit it belongs to. It is usable at once, on this device and,
   * once synced, by the others as a proposed place, until headquarters
   * confirm, merge or reject it. Returns its id.
   */
  async proposePlace(p: { name: string; parent_id: string; lat: number; lng: number }): Promise<string> {
    const id = newId();
    await this.store.write([{
      table: 'units', rowId: id, op: 'upsert', fields: {
        name: p.name.trim(), kind: 'grassroots', parent_id: p.parent_id, lat: p.lat, lng: p.lng, status: 'proposed', proposed_by: this.me,
      },
    }]);
    return id;
  }

  async campaigns(): Promise<Campaign[]> {
    const rows = await this.db.query(
      'SELECT id, plan_id, kind, name, content, starts_on, ends_on, unit_ids FROM campaigns WHERE deleted = 0 ORDER BY starts_on');
    return rows.map((r) => ({ ...(r as unknown as Campaign), unit_ids: list(r.unit_ids) }));
  }

  async userNames(): Promise<Map<string, string>> {
    const rows = await this.db.query<{ id: string; full_name: string; username: string }>(
      'SELECT id, full_name, username FROM users');
    return new Map(rows.map((r) => [r.id, r.full_name || r.username]));
  }

  // ---- trips and trip days ----

  /** This user's trips, newest first, with how many days are ticked on each. */
  async trips(): Promise<(Trip & { ticked: number })[]> {
    const rows = await this.db.query(
      `SELECT t.*, ${markSql('trips', 't')},
         (SELECT count(DISTINCT d.day) FROM trip_days d WHERE d.trip_id = t.id AND d.deleted = 0) AS ticked
       FROM trips t WHERE t.deleted = 0 AND t.user_id = ?
       ORDER BY t.starts_on DESC, t.title`, [this.me]);
    return rows.map((r) => ({ ...(r as unknown as Trip & { ticked: number }), unit_ids: list(r.unit_ids) }));
  }

  /**
   * The trip a check-in today counts on: this user's live trip that is not
   * cancelled or done and whose dates cover today, one already going to
   * unitId first, then the latest started.
   */
  async openTripToday(unitId?: string, today: string = planToday()): Promise<Trip | undefined> {
    const r = await this.db.one(
      `SELECT t.*, ${markSql('trips', 't')} FROM trips t
       WHERE t.deleted = 0 AND t.user_id = ? AND COALESCE(t.status, 'planned') IN ('planned', 'ongoing')
         AND t.starts_on <= ? AND COALESCE(NULLIF(t.ends_on, ''), t.starts_on) >= ?
       ORDER BY EXISTS (SELECT 1 FROM json_each(t.unit_ids) u WHERE u.value = ?) DESC, t.starts_on DESC, t.rowid DESC
       LIMIT 1`, [this.me, today, today, unitId ?? '']);
    return r ? { ...(r as unknown as Trip), unit_ids: list(r.unit_ids) } : undefined;
  }

  async trip(id: string): Promise<Trip | undefined> {
    const r = await this.db.one(`SELECT t.*, ${markSql('trips', 't')} FROM trips t WHERE t.id = ?`, [id]);
    return r ? { ...(r as unknown as Trip), unit_ids: list(r.unit_ids) } : undefined;
  }

  saveTrip(id: string, fields: Partial<Omit<Trip, 'id' | 'sync'>>, isNew: boolean): Promise<void> {
    const f: Record<string, unknown> = { ...fields };
    if (isNew) {
      f.user_id = this.me;
      f.status ??= 'planned';
    }
    return this.store.write([{ table: 'trips', rowId: id, op: 'upsert', fields: f }]);
  }

  async tripDays(tripId: string): Promise<TripDay[]> {
    return this.db.query<TripDay>(
      `SELECT d.id, d.trip_id, d.day, d.unit_id, d.activity, ${markSql('trip_days', 'd')}
       FROM trip_days d WHERE d.trip_id = ? AND d.deleted = 0 ORDER BY d.day`, [tripId]);
  }

  /**
   * Ticks a day of a trip as spent in the field; a day not yet come is
   * refused (FutureDayError). A planned trip with a day spent is under
   * way: it is marked ongoing in the same transaction.
   */
  addTripDay(tripId: string, day: string, unitId: string | null, activity: string): Promise<void> {
    if (isFutureDay(day)) return Promise.reject(new FutureDayError(day));
    return this.store.writeDecided(async () => {
      const trip = await this.trip(tripId);
      const changes: Change[] = [{
        table: 'trip_days', rowId: newId(), op: 'upsert',
        fields: { trip_id: tripId, user_id: this.me, day, unit_id: unitId, activity },
      }];
      if (trip && (trip.status ?? 'planned') === 'planned') {
        changes.push({ table: 'trips', rowId: tripId, op: 'upsert', fields: { status: 'ongoing' } });
      }
      return { changes, result: undefined };
    });
  }

  /** This user's trips still to come (planned, starting after today), soonest first. */
  upcomingTrips(today: string = planToday(), limit = 3): Promise<Trip[]> {
    return this.db.query(
      `SELECT t.*, ${markSql('trips', 't')} FROM trips t
       WHERE t.deleted = 0 AND t.user_id = ? AND COALESCE(t.status, 'planned') IN ('planned', 'ongoing') AND t.starts_on > ?
       ORDER BY t.starts_on, t.title LIMIT ?`, [this.me, today, limit],
    ).then((rows) => rows.map((r) => ({ ...(r as unknown as Trip), unit_ids: list(r.unit_ids) })));
  }

  /** Whether this user has today (in Vietnam) ticked as a field day on any trip. */
  async todayTicked(today: string = planToday()): Promise<boolean> {
    const r = await this.db.one<{ n: number }>(
      'SELECT count(*) AS n FROM trip_days WHERE deleted = 0 AND user_id = ? AND day = ?', [this.me, today]);
    return (r?.n ?? 0) > 0;
  }

  /** This user's notes still drafts, latest first. */
  draftNotes(): Promise<{ id: string; title: string; unit_name: string | null }[]> {
    return this.db.query(
      `SELECT n.id, COALESCE(n.title, '') AS title, (SELECT name FROM units u WHERE u.id = n.unit_id) AS unit_name
         FROM visit_notes n WHERE n.deleted = 0 AND n.author_id = ? AND COALESCE(n.status, 'draft') = 'draft'
        ORDER BY n.rowid DESC`, [this.me]);
  }

  updateTripDay(id: string, fields: { unit_id?: string | null; activity?: string }): Promise<void> {
    return this.store.write([{ table: 'trip_days', rowId: id, op: 'upsert', fields }]);
  }

  removeTripDay(id: string): Promise<void> {
    return this.store.write([{ table: 'trip_days', rowId: id, op: 'delete' }]);
  }

  // ---- check-ins ----

  async checkins(limit = 50): Promise<Checkin[]> {
    const rows = await this.db.query(
      `SELECT c.*, ${markSql('checkins', 'c')},
         (c.photo = '' OR c.photo IS NULL OR EXISTS (SELECT 1 FROM attachments a WHERE a.sha256 = c.photo AND a.uploaded_at IS NOT NULL)
           OR NOT EXISTS (SELECT 1 FROM attachments a WHERE a.sha256 = c.photo)) AS photo_uploaded
       FROM checkins c WHERE c.deleted = 0 AND c.user_id = ? ORDER BY c.at DESC LIMIT ?`, [this.me, limit]);
    const units = new Map((await this.db.query<{ id: string; lat: number | null; lng: number | null }>(
      'SELECT id, lat, lng FROM units WHERE deleted = 0')).map((u) => [u.id, u]));
    return rows.map((r) => {
      const c = {
        ...(r as unknown as Checkin),
        voided: Boolean(r.voided),
        void_reason: (r.void_reason as string | null) ?? '',
        flags: list(r.flags),
        photo_uploaded: Boolean(r.photo_uploaded),
      };
      // Not judged by the server yet (still on this device): flagged here
      // as the server will flag it, so a check-in without a position says
      // so today.
      if (!r.received_at) {
        const u = units.get(c.unit_id);
        if (c.lat === null || c.lng === null) c.flags = ['no_position'];
        else if (u && u.lat !== null && u.lng !== null && haversineM(c.lat, c.lng, u.lat, u.lng) > NEAR_UNIT_M) {
          c.flags = ['far_from_unit'];
        }
      }
      return c;
    });
  }

  /**
   * Checks in at a unit and counts the day (plan II.3): in the same local
   * transaction, today (in Vietnam) is ticked on tripId, else on the open
   * trip covering today (openTripToday), else on a one-day trip started
   * for it with newTrip's purpose and title. A day already ticked on that
   * trip is not ticked twice.
   */
  async checkIn(c: {
    unit_id: string; trip_id: string | null; lat: number | null; lng: number | null;
    accuracy_m: number | null; note: string;
  }, newTrip: { purpose: Purpose; title: string }, photo?: NewAttachment): Promise<CheckinResult> {
    const now = new Date();
    const today = planToday(now);
    const id = newId();
    // Decided and written in one exclusive turn of the store, so two quick
    // taps cannot both start a trip or tick the day.
    return this.store.writeDecided(async () => {
      let trip = c.trip_id ? await this.trip(c.trip_id) : await this.openTripToday(c.unit_id, today);
      if (trip && trip.status === 'cancelled') trip = undefined;
      const changes: Change[] = [];
      let tripId: string;
      if (trip) {
        tripId = trip.id;
        // A check-in puts the trip under way (planned -> ongoing) and adds its unit.
        const fields: Record<string, unknown> = {};
        if (!trip.unit_ids.includes(c.unit_id)) fields.unit_ids = [...trip.unit_ids, c.unit_id];
        if ((trip.status ?? 'planned') === 'planned') fields.status = 'ongoing';
        if (Object.keys(fields).length > 0) changes.push({ table: 'trips', rowId: tripId, op: 'upsert', fields });
      } else {
        tripId = newId();
        changes.push({
          table: 'trips', rowId: tripId, op: 'upsert', fields: {
            user_id: this.me, title: newTrip.title, purpose: newTrip.purpose, unit_ids: [c.unit_id],
            starts_on: today, ends_on: today, status: 'ongoing', notes: '',
          },
        });
      }
      const ticked = trip ? await this.db.one<{ id: string }>(
        'SELECT id FROM trip_days WHERE trip_id = ? AND day = ? AND deleted = 0', [tripId, today]) : undefined;
      if (!ticked) {
        changes.push({
          table: 'trip_days', rowId: newId(), op: 'upsert',
          fields: { trip_id: tripId, user_id: this.me, day: today, unit_id: c.unit_id, activity: '' },
        });
      }
      changes.push({
        table: 'checkins', rowId: id, op: 'upsert', fields: {
          user_id: this.me, unit_id: c.unit_id, trip_id: tripId, at: now.toISOString(), note: c.note,
          lat: c.lat, lng: c.lng, accuracy_m: c.accuracy_m, photo: photo?.sha256 ?? '', voided: false,
        },
      });
      return {
        changes, attachments: photo ? [photo] : [],
        result: { id, tripId, day: today, newTrip: !trip, newDay: !ticked },
      };
    });
  }

  /** Voids one of this user's check-ins, saying why (the server lets its author do so). */
  voidCheckin(id: string, reason: string): Promise<void> {
    const why = reason.trim();
    if (!why) return Promise.reject(new Error('voiding a check-in needs a reason'));
    return this.store.write([{ table: 'checkins', rowId: id, op: 'upsert', fields: { voided: true, void_reason: why } }]);
  }

  async photoURL(sha256: string): Promise<string | undefined> {
    const a = await this.store.attachmentBytes(sha256);
    if (!a) return undefined;
    return URL.createObjectURL(new Blob([a.bytes as BlobPart], { type: a.mime }));
  }

  // ---- visit notes and findings ----

  /** Notes this user wrote, then notes of others they can see (reviewers see them all). */
  async notes(): Promise<Note[]> {
    return this.db.query<Note>(
      `SELECT n.*, ${markSql('visit_notes', 'n')}, ${NOTE_CONTEXT} FROM visit_notes n WHERE n.deleted = 0
       ORDER BY (n.author_id = ?) DESC, n.rowid DESC`, [this.me]);
  }

  async note(id: string): Promise<Note | undefined> {
    return this.db.one<Note>(`SELECT n.*, ${markSql('visit_notes', 'n')}, ${NOTE_CONTEXT} FROM visit_notes n WHERE n.id = ?`, [id]);
  }

  /** This user's notes sent back for revision, newest decision first, with who sent each back, when and why. */
  revisionNotes(): Promise<RevisionNote[]> {
    return this.db.query<RevisionNote>(
      `SELECT n.id, COALESCE(n.title, '') AS title, (SELECT name FROM units u WHERE u.id = n.unit_id) AS unit_name,
         COALESCE(r.reviewer, '') AS reviewer, COALESCE(r.at, '') AS at, COALESCE(r.comment, n.review_comment, '') AS comment
       FROM visit_notes n LEFT JOIN (
         SELECT x.note_id, x.at, x.comment, COALESCE(NULLIF(u.full_name, ''), u.username) AS reviewer,
           row_number() OVER (PARTITION BY x.note_id ORDER BY x.at DESC, x.id DESC) AS k
         FROM reviews x LEFT JOIN users u ON u.id = x.reviewer_id WHERE x.deleted = 0) r ON r.note_id = n.id AND r.k = 1
       WHERE n.deleted = 0 AND n.author_id = ? AND n.status = 'needs_revision'
       ORDER BY r.at DESC, n.rowid DESC`, [this.me]);
  }

  createNote(n: { unit_id: string; trip_id: string | null; campaign_id: string | null; kind: Purpose; title: string }): Promise<string> {
    const id = newId();
    const fields: Record<string, unknown> = {
      author_id: this.me, unit_id: n.unit_id, kind: n.kind, title: n.title, status: 'draft',
    };
    if (n.trip_id) fields.trip_id = n.trip_id;
    if (n.campaign_id) fields.campaign_id = n.campaign_id;
    return this.store.write([{ table: 'visit_notes', rowId: id, op: 'upsert', fields }]).then(() => id);
  }

  saveNote(id: string, fields: Partial<Record<NoteSection | 'title' | 'status', string>>): Promise<void> {
    return this.store.write([{ table: 'visit_notes', rowId: id, op: 'upsert', fields }]);
  }

  /**
   * The note's photos in the order taken. A photo taken on this device is
   * held here (uploaded or not); one taken elsewhere is read from the
   * server when there is a network.
   */
  notePhotos(noteId: string): Promise<NotePhoto[]> {
    return this.db.query<{ sha256: string; held: number; uploaded: number }>(
      `SELECT j.value AS sha256, a.sha256 IS NOT NULL AS held, COALESCE(a.uploaded_at IS NOT NULL, 0) AS uploaded
         FROM visit_notes n, ${jsonList('n.attachments')} j LEFT JOIN attachments a ON a.sha256 = j.value
        WHERE n.id = ? ORDER BY j.key`, [noteId],
    ).then((rows) => rows.map((r) => ({ sha256: r.sha256, held: Boolean(r.held), uploaded: Boolean(r.uploaded) })));
  }

  /**
   * Adds a photo (compressed on the device) to a note: the bytes and the
   * note's new list in one local transaction. The sync client uploads the
   * bytes before it pushes the note that names them.
   */
  addNotePhoto(noteId: string, photo: NewAttachment): Promise<void> {
    return this.store.writeDecided(async () => {
      const n = await this.db.one<{ a: string | null }>('SELECT attachments AS a FROM visit_notes WHERE id = ?', [noteId]);
      const cur = list(n?.a);
      if (cur.includes(photo.sha256)) return { changes: [], result: undefined };
      return {
        changes: [{ table: 'visit_notes', rowId: noteId, op: 'upsert', fields: { attachments: [...cur, photo.sha256] } }],
        attachments: [photo], result: undefined,
      };
    });
  }

  /** Takes a photo off a note (the bytes stay on the server, unnamed by it). */
  removeNotePhoto(noteId: string, sha256: string): Promise<void> {
    return this.store.writeDecided(async () => {
      const n = await this.db.one<{ a: string | null }>('SELECT attachments AS a FROM visit_notes WHERE id = ?', [noteId]);
      const cur = list(n?.a);
      if (!cur.includes(sha256)) return { changes: [], result: undefined };
      return {
        changes: [{ table: 'visit_notes', rowId: noteId, op: 'upsert', fields: { attachments: cur.filter((h) => h !== sha256) } }],
        result: undefined,
      };
    });
  }

  /**
   * A reviewer's decision: needs_revision with a comment saying what to
   * revise, or reviewed. The note takes the latest decision and a review
   * round keeps it for ever, in one local transaction (one outbox batch).
   */
  review(id: string, status: 'needs_revision' | 'reviewed', comment: string, base?: string): Promise<void> {
    const text = comment.trim();
    if (status === 'needs_revision' && !text) return Promise.reject(new Error('a note sent back needs a comment'));
    return this.store.write([
      // base: the note as the console read it from the server (the phone
      // pulled it, and has none).
      { table: 'visit_notes', rowId: id, op: 'upsert', fields: { status, review_comment: text, reviewed_by: this.me }, base },
      {
        table: 'reviews', rowId: newId(), op: 'upsert',
        fields: { note_id: id, reviewer_id: this.me, decision: status, comment: text, at: new Date().toISOString() },
      },
    ]);
  }

  /** Every review round of a note, oldest first, with the reviewer's name. */
  reviewRounds(noteId: string): Promise<ReviewRound[]> {
    return this.db.query<ReviewRound>(
      `SELECT r.id, r.decision, r.comment, r.at, r.reviewer_id, COALESCE(u.full_name, u.username, '') AS reviewer
         FROM reviews r LEFT JOIN users u ON u.id = r.reviewer_id
        WHERE r.deleted = 0 AND r.note_id = ? ORDER BY r.at, r.id`, [noteId]);
  }

  /**
   * Whether this user may decide on the note, by the server's rule: an
   * all-seeing role (headquarters) or the leader of
   * the inspection team for the note's campaign and unit.
   */
  async canReview(note: Note, roles: string[]): Promise<boolean> {
    if (note.author_id === this.me) return false;
    if (seesAll(roles)) return true;
    if (!note.campaign_id) return false;
    const r = await this.db.one<{ n: number }>(
      `SELECT count(*) AS n FROM teams t, json_each(t.unit_ids) u
       WHERE t.deleted = 0 AND t.leader_id = ? AND t.campaign_id = ? AND u.value = ?`,
      [this.me, note.campaign_id, note.unit_id]);
    return (r?.n ?? 0) > 0;
  }

  async findings(noteId: string): Promise<Finding[]> {
    return this.db.query<Finding>(
      `SELECT f.id, f.note_id, f.category, f.text, f.status, ${markSql('findings', 'f')}
       FROM findings f WHERE f.note_id = ? AND f.deleted = 0 ORDER BY f.rowid`, [noteId]);
  }

  /** Whether the author may still change the note's findings: while it is a draft or sent back (not while handed in). */
  findingsEditable(note: Note): boolean {
    return note.author_id === this.me && (note.status === 'draft' || note.status === 'needs_revision');
  }

  updateFinding(id: string, fields: { category: FindingCategory; text: string }): Promise<void> {
    return this.store.write([{ table: 'findings', rowId: id, op: 'upsert', fields }]);
  }

  deleteFinding(id: string): Promise<void> {
    return this.store.write([{ table: 'findings', rowId: id, op: 'delete' }]);
  }

  addFinding(note: Note, category: FindingCategory, text: string): Promise<void> {
    const fields: Record<string, unknown> = {
      note_id: note.id, author_id: this.me, unit_id: note.unit_id, category, text, status: 'open',
    };
    if (note.campaign_id) fields.campaign_id = note.campaign_id;
    return this.store.write([{ table: 'findings', rowId: newId(), op: 'upsert', fields }]);
  }

  // ---- the findings register (headquarters and departments) ----

  /**
   * The findings this device holds, with their unit, campaign, department
   * and note in words; open work first, soonest due first. The device holds
   * what the server's pull scope gives this user: everything for the
   * all-seeing roles, a department's assigned findings for a department.
   */
  async register(filter: { category?: string; status?: string } = {}): Promise<RegisterFinding[]> {
    const where = ['f.deleted = 0'];
    const args: (string | number)[] = [];
    if (filter.category) {
      where.push('f.category = ?');
      args.push(filter.category);
    }
    if (filter.status) {
      where.push("COALESCE(f.status, 'open') = ?");
      args.push(filter.status);
    }
    return this.db.query<RegisterFinding>(
      `SELECT ${REGISTER_COLUMNS}, ${markSql('findings', 'f')} ${REGISTER_FROM}
       WHERE ${where.join(' AND ')}
       ORDER BY CASE COALESCE(f.status, 'open') WHEN 'open' THEN 0 WHEN 'in_progress' THEN 1 ELSE 2 END,
         f.due_on IS NULL, f.due_on, f.rowid DESC`, args);
  }

  async registerFinding(id: string): Promise<RegisterFinding | undefined> {
    return this.db.one<RegisterFinding>(
      `SELECT ${REGISTER_COLUMNS}, ${markSql('findings', 'f')} ${REGISTER_FROM} WHERE f.id = ?`, [id]);
  }

  /** The follow-ups of a finding (Theo dõi việc thực hiện kết luận), oldest first. */
  async followUps(findingId: string): Promise<FollowUp[]> {
    return this.db.query<FollowUp>(
      `SELECT x.id, x.finding_id, x.author_id, x.at, x.text, x.status_to,
         (SELECT COALESCE(NULLIF(u.full_name, ''), u.username) FROM users u WHERE u.id = x.author_id) AS author_name,
         ${markSql('follow_ups', 'x')}
       FROM follow_ups x WHERE x.finding_id = ? AND x.deleted = 0 ORDER BY x.at, x.rowid`, [findingId]);
  }

  async departments(): Promise<{ id: string; name: string }[]> {
    return this.db.query('SELECT id, name FROM departments WHERE deleted = 0 ORDER BY name');
  }

  /** The department this user's account names, from the pulled users table. */
  async myDepartmentId(): Promise<string | null> {
    const r = await this.db.one<{ d: string | null }>('SELECT department_id AS d FROM users WHERE id = ?', [this.me]);
    return r?.d || null;
  }

  /**
   * What this user may do with a finding, by the server's rules
   * (server/syncdb/rules.go): the all-seeing roles triage it (department,
   * due date, answer, status) and follow it up; its author and its assigned
   * department follow it up and change its status.
   */
  async findingRights(f: RegisterFinding, roles: string[]): Promise<{ triage: boolean; followUp: boolean; status: boolean }> {
    const triage = seesAll(roles);
    const dept = roles.includes('department') ? await this.myDepartmentId() : null;
    const own = f.author_id === this.me || (dept !== null && f.department_id === dept);
    return { triage, followUp: triage || own, status: triage || own };
  }

  /**
   * A follow-up, appended; with a new status it also moves the finding's
   * status (when the user may), in the same transaction and the same sync.
   */
  addFollowUp(f: RegisterFinding, text: string, statusTo: FindingStatus | null, mayChangeStatus: boolean, base?: string): Promise<void> {
    const fields: Record<string, unknown> = {
      finding_id: f.id, author_id: this.me, at: new Date().toISOString(), text,
    };
    if (statusTo) fields.status_to = statusTo;
    const changes: Change[] = [{ table: 'follow_ups', rowId: newId(), op: 'upsert', fields }];
    if (statusTo && mayChangeStatus && statusTo !== f.status) {
      changes.push({ table: 'findings', rowId: f.id, op: 'upsert', fields: { status: statusTo }, base });
    }
    return this.store.write(changes);
  }

  /**
   * Headquarters' triage: the department in charge, the due date, the
   * proposed answer. base: the finding as the console read it from the
   * server (the phone pulled it, and has none).
   */
  triageFinding(id: string, fields: { department_id?: string | null; due_on?: string | null; answer?: string }, base?: string): Promise<void> {
    if (Object.keys(fields).length === 0) return Promise.resolve();
    return this.store.write([{ table: 'findings', rowId: id, op: 'upsert', fields, base }]);
  }

  // ---- inspection teams ----

  /**
   * The teams this user leads or belongs to, with their campaign and, for
   * each unit, the notes of this campaign by the team (or by this user) in
   * whatever state: this user's own first, then the latest. The campaign
   * view opens the first rather than starting a second note.
   */
  async myTeams(): Promise<{
    team: { id: string; name: string; leader_id: string | null };
    campaign: Campaign | undefined;
    units: { unit: Unit; notes: { id: string; status: NoteStatus; sync: SyncMark; author_id: string }[] }[];
  }[]> {
    const teams = await this.db.query(
      `SELECT t.* FROM teams t WHERE t.deleted = 0 AND (t.leader_id = ?
         OR EXISTS (SELECT 1 FROM json_each(t.member_ids) m WHERE m.value = ?)) ORDER BY t.name`, [this.me, this.me]);
    const campaigns = new Map((await this.campaigns()).map((c) => [c.id, c]));
    const units = new Map((await this.units()).map((u) => [u.id, u]));
    const out = [];
    for (const t of teams) {
      const notes = await this.db.query<{ id: string; unit_id: string; status: NoteStatus; sync: SyncMark; author_id: string }>(
        `SELECT n.id, n.unit_id, COALESCE(n.status, 'draft') AS status, n.author_id, ${markSql('visit_notes', 'n')}
           FROM visit_notes n, teams t
          WHERE n.deleted = 0 AND n.campaign_id = t.campaign_id AND t.id = ?
            AND (n.author_id = ? OR n.author_id = t.leader_id OR EXISTS (SELECT 1 FROM json_each(t.member_ids) m WHERE m.value = n.author_id))
          ORDER BY (n.author_id = ?) DESC, n.rowid DESC`,
        [t.id as string, this.me, this.me]);
      out.push({
        team: { id: t.id as string, name: t.name as string, leader_id: t.leader_id as string | null },
        campaign: campaigns.get(t.campaign_id as string),
        units: list(t.unit_ids).flatMap((uid) => {
          const unit = units.get(uid);
          return unit ? [{ unit, notes: notes.filter((n) => n.unit_id === uid) }] : [];
        }),
      });
    }
    return out;
  }

  // ---- a liaison's unit, a department's findings ----

  /**
   * What a unit liaison follows (plan III.2): the campaigns that inspect
   * their unit with each team, the reviewed notes' conclusions and
   * findings (a draft's never reach this device), and each finding's
   * follow-ups and due date.
   */
  async liaisonView(): Promise<LiaisonView> {
    const u = await this.db.one<{ id: string; name: string }>(
      `SELECT un.id, un.name FROM users me JOIN units un ON un.id = me.unit_id WHERE me.id = ?`, [this.me]);
    if (!u) return { unit: null, schedule: [], notes: [] };
    const names = await this.userNames();
    const teams = await this.db.query<{ name: string; leader_id: string | null; member_ids: string; campaign: string; starts_on: string | null; ends_on: string | null }>(
      `SELECT t.name, t.leader_id, t.member_ids, c.name AS campaign, c.starts_on, c.ends_on
         FROM teams t JOIN campaigns c ON c.id = t.campaign_id AND c.deleted = 0
        WHERE t.deleted = 0 AND EXISTS (SELECT 1 FROM json_each(t.unit_ids) x WHERE x.value = ?)
        ORDER BY c.starts_on, c.name, t.name`, [u.id]);
    const notes = await this.db.query<{ id: string; title: string; campaign: string | null; conclusions: string; reviewer: string | null }>(
      `SELECT n.id, COALESCE(n.title, '') AS title, (SELECT name FROM campaigns c WHERE c.id = n.campaign_id) AS campaign,
         COALESCE(n.conclusions, '') AS conclusions,
         (SELECT COALESCE(NULLIF(x.full_name, ''), x.username) FROM users x WHERE x.id = n.reviewed_by) AS reviewer
       FROM visit_notes n WHERE n.deleted = 0 AND n.unit_id = ? AND n.status = 'reviewed' ORDER BY n.rowid DESC`, [u.id]);
    const findings = await this.db.query<{ id: string; note_id: string; category: FindingCategory; text: string; status: FindingStatus; due_on: string | null; department: string | null }>(
      `SELECT f.id, f.note_id, f.category, f.text, COALESCE(f.status, 'open') AS status, f.due_on,
         (SELECT name FROM departments d WHERE d.id = f.department_id) AS department
       FROM findings f JOIN visit_notes n ON n.id = f.note_id AND n.deleted = 0 AND n.status = 'reviewed'
       WHERE f.deleted = 0 AND n.unit_id = ? ORDER BY f.due_on IS NULL, f.due_on, f.rowid`, [u.id]);
    const follow = await this.db.query<{ id: string; finding_id: string; at: string; text: string; author: string | null }>(
      `SELECT x.id, x.finding_id, x.at, x.text,
         (SELECT COALESCE(NULLIF(u.full_name, ''), u.username) FROM users u WHERE u.id = x.author_id) AS author
       FROM follow_ups x JOIN findings f ON f.id = x.finding_id AND f.deleted = 0
       JOIN visit_notes n ON n.id = f.note_id AND n.unit_id = ? AND n.status = 'reviewed'
       WHERE x.deleted = 0 ORDER BY x.at, x.rowid`, [u.id]);
    return {
      unit: u,
      schedule: teams.map((t) => ({
        campaign: t.campaign, starts_on: t.starts_on, ends_on: t.ends_on, team: t.name,
        leader: t.leader_id ? names.get(t.leader_id) ?? '' : '',
        members: list(t.member_ids).filter((m) => m !== t.leader_id).map((m) => names.get(m) ?? ''),
      })),
      notes: notes.map((n) => ({
        ...n,
        findings: findings.filter((f) => f.note_id === n.id).map((f) => ({
          ...f, followUps: follow.filter((x) => x.finding_id === f.id),
        })),
      })),
    };
  }

  /** A department's assigned findings by due date: overdue first, then the soonest due, then undated; closed ones last. */
  async departmentFindings(today: string = planToday()): Promise<RegisterFinding[]> {
    const dept = await this.myDepartmentId();
    if (!dept) return [];
    const open = (f: RegisterFinding) => f.status === 'open' || f.status === 'in_progress';
    const rank = (f: RegisterFinding) => (!open(f) ? 3 : f.due_on && f.due_on < today ? 0 : f.due_on ? 1 : 2);
    const all = (await this.register()).filter((f) => f.department_id === dept);
    return all.sort((a, b) => rank(a) - rank(b) || (a.due_on ?? '').localeCompare(b.due_on ?? ''));
  }

  // ---- the tally of field days ----

  async years(): Promise<number[]> {
    const rows = await this.db.query<{ y: number }>(
      `SELECT DISTINCT CAST(substr(day, 1, 4) AS INTEGER) AS y FROM trip_days WHERE deleted = 0 AND user_id = ?
       UNION SELECT year FROM plans WHERE deleted = 0`, [this.me]);
    const ys = new Set(rows.map((r) => r.y).filter(Boolean));
    ys.add(Number(planToday().slice(0, 4)));
    return [...ys].sort((a, b) => b - a);
  }

  /**
   * This user's field days of a year as of today, by the rules the server's
   * report applies (sync/plan): the same SQL, run on this device's copy.
   * Check-ins still waiting to be sent are judged here by the server's
   * radius, so the count does not change when they arrive.
   */
  async tally(year: number, today: string = planToday()): Promise<Tally> {
    const p = await this.db.one<{
      plan_id: string | null; plan_number: string; plan_title: string; min_field_days: number;
      expected_by_date: number; due_by_date: number;
    }>(PLAN_QUERY.sql, bind(PLAN_QUERY, { year, as_of: today }));
    if (!p) throw new Error('the plan query answered no row');
    const periods = await this.db.query<{ id: string; name: string; starts_on: string | null; ends_on: string | null }>(
      PERIODS_QUERY.sql, bind(PERIODS_QUERY, { plan_id: p.plan_id }));
    const rows = await this.db.query<{ kind: string; key: string; days: number; verified: number | null }>(
      TALLY_QUERY.sql, bind(TALLY_QUERY, { year, as_of: today, user_id: this.me, plan_id: p.plan_id }));
    const count = (kind: string, key = '') => rows.find((r) => r.kind === kind && r.key === key);
    const days = count(TALLY_KINDS.field)?.days ?? 0;
    return {
      year,
      asOf: today,
      plan: p.plan_id ? { number: p.plan_number, title: p.plan_title } : null,
      min: p.min_field_days,
      days,
      verified: count(TALLY_KINDS.field)?.verified ?? 0,
      planned: count(TALLY_KINDS.planned)?.days ?? 0,
      due: p.due_by_date,
      onPace: days >= p.due_by_date,
      byPurpose: Object.fromEntries(PURPOSES.map((k) => [k, count(TALLY_KINDS.purpose, k)?.days ?? 0])) as Record<Purpose, number>,
      periods: periods.map((x) => ({
        name: x.name, starts_on: x.starts_on, ends_on: x.ends_on,
        days: count(TALLY_KINDS.period, x.id)?.days ?? 0,
      })),
    };
  }

  // ---- sync overview ----

  async rowLabel(table: string, rowId: string): Promise<string> {
    switch (table) {
      case 'trips':
        return (await this.db.one<{ t: string }>('SELECT title AS t FROM trips WHERE id = ?', [rowId]))?.t ?? rowId;
      case 'visit_notes':
        return (await this.db.one<{ t: string }>('SELECT title AS t FROM visit_notes WHERE id = ?', [rowId]))?.t ?? rowId;
      case 'trip_days':
        return (await this.db.one<{ t: string }>('SELECT day AS t FROM trip_days WHERE id = ?', [rowId]))?.t ?? rowId;
      case 'checkins':
        return (await this.db.one<{ t: string }>(
          'SELECT u.name AS t FROM checkins c LEFT JOIN units u ON u.id = c.unit_id WHERE c.id = ?', [rowId]))?.t ?? rowId;
      case 'findings':
        return (await this.db.one<{ t: string }>('SELECT text AS t FROM findings WHERE id = ?', [rowId]))?.t ?? rowId;
      case 'follow_ups':
        return (await this.db.one<{ t: string }>('SELECT text AS t FROM follow_ups WHERE id = ?', [rowId]))?.t ?? rowId;
      case 'units':
        return (await this.db.one<{ t: string }>('SELECT name AS t FROM units WHERE id = ?', [rowId]))?.t ?? rowId;
      case 'team_visits':
        return (await this.db.one<{ t: string }>(
          `SELECT COALESCE(u.name, '') || ' · ' || COALESCE(v.starts_on, '') AS t
             FROM team_visits v LEFT JOIN units u ON u.id = v.unit_id WHERE v.id = ?`, [rowId]))?.t ?? rowId;
      case 'notices':
        return (await this.db.one<{ t: string }>("SELECT COALESCE(NULLIF(number, ''), title) AS t FROM notices WHERE id = ?", [rowId]))?.t || rowId;
      case 'briefings':
        return (await this.db.one<{ t: string }>(
          `SELECT COALESCE(c.name, '') || ' · ' || COALESCE(b.held_on, '') AS t
             FROM briefings b LEFT JOIN clusters c ON c.id = b.cluster_id WHERE b.id = ?`, [rowId]))?.t ?? rowId;
      case 'reviews':
        return (await this.db.one<{ t: string }>(
          'SELECT n.title AS t FROM reviews r JOIN visit_notes n ON n.id = r.note_id WHERE r.id = ?', [rowId]))?.t ?? rowId;
      default:
        return rowId;
    }
  }

  /** Every field record of this user with its sync state, newest first. */
  async recordStates(): Promise<{ table: string; id: string; label: string; sync: SyncMark }[]> {
    const q = (table: string, label: string, owner: string) =>
      `SELECT '${table}' AS tbl, x.id, ${label} AS label, ${markSql(table, 'x')}, x.rowid AS rid FROM ${table} x
       WHERE x.deleted = 0 AND x.${owner} = ?`;
    const rows = await this.db.query<{ tbl: string; id: string; label: string; sync: SyncMark }>(
      `SELECT * FROM (
         ${q('trips', 'x.title', 'user_id')} UNION ALL
         ${q('trip_days', 'x.day', 'user_id')} UNION ALL
         ${q('checkins', "(SELECT name FROM units u WHERE u.id = x.unit_id)", 'user_id')} UNION ALL
         ${q('visit_notes', 'x.title', 'author_id')} UNION ALL
         ${q('findings', 'x.text', 'author_id')} UNION ALL
         ${q('follow_ups', 'x.text', 'author_id')}
       ) ORDER BY CASE sync WHEN 'refused' THEN 0 WHEN 'local' THEN 1 ELSE 2 END, rid DESC LIMIT 200`,
      [this.me, this.me, this.me, this.me, this.me, this.me]);
    return rows.map((r) => ({ table: r.tbl, id: r.id, label: r.label ?? '', sync: r.sync }));
  }

  /** Fields changed on this device and waiting to be sent (for the logout warning). */
  pendingCount(): Promise<number> {
    return this.store.pendingCount();
  }
}

export interface Tally {
  year: number;
  /** The day counted to (in Vietnam): later days are planned, not spent. */
  asOf: string;
  /** The year's plan; null when the year has none (the standing minimum applies). */
  plan: { number: string; title: string } | null;
  min: number;
  days: number;
  verified: number;
  planned: number;
  /** Whole field days due by asOf to keep pace with the minimum. */
  due: number;
  onPace: boolean;
  byPurpose: Record<Purpose, number>;
  periods: { name: string; starts_on: string | null; ends_on: string | null; days: number }[];
}

/** A rule query's parameters, in its order. */
function bind<P extends string>(q: Query<P>, values: Record<P, SqlValue>): SqlValue[] {
  return q.params.map((p) => values[p]);
}

/** Today in the plan's calendar (Vietnam), as YYYY-MM-DD, whatever the device's zone. */
export function planToday(now: Date = new Date()): string {
  return new Date(now.getTime() + PLAN_UTC_OFFSET_HOURS * 3_600_000).toISOString().slice(0, 10);
}
