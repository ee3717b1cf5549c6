// The notes list as GET /api/v1/reports/notes answers it, and a note read
// back from the server's change log (GET /api/v1/history/visit_notes/{id}).
import type { Session } from '../sync/session';
import { getJSON, type Query } from './api';

export interface Ref {
  id: string;
  name: string;
}

export interface NoteItem {
  id: string;
  title: string;
  status: NoteStatus;
  kind: string | null;
  unit: Ref;
  cluster: Ref | null;
  campaign: (Ref & { kind: string; starts_on: string | null; ends_on: string | null }) | null;
  visit_date: string | null;
  author: { id: string; full_name: string };
  team: Ref | null;
  findings: number;
  submitted_at: string | null;
  updated_at: string | null;
}

export type NoteStatus = 'draft' | 'submitted' | 'needs_revision' | 'reviewed';

export interface NoteCount {
  id: string | null;
  name: string | null;
  count: number;
}

export interface NotePage {
  items: NoteItem[];
  next_cursor: string | null;
  counts: { total: number; campaigns: NoteCount[]; units: NoteCount[] };
}

export function notesPage(session: Session, q: Query): Promise<NotePage> {
  return getJSON<NotePage>(session, '/api/v1/reports/notes', q);
}

/** One applied change of a row, as GET /api/v1/history/{table}/{id} lists it (server/api/audit.go). */
export interface HistoryEntry {
  seq: number;
  change_id: string;
  op: 'upsert' | 'delete';
  hlc: string;
  user_id: string | null;
  device_id: string;
  received_at: string;
  applied: Record<string, unknown>;
  previous: Record<string, unknown>;
  lost: Record<string, unknown>;
}

export function rowHistory(session: Session, table: string, id: string): Promise<{ items: HistoryEntry[] }> {
  return getJSON(session, `/api/v1/history/${encodeURIComponent(table)}/${encodeURIComponent(id)}`);
}

/**
 * The row as the server holds it now: every applied change laid over the
 * previous in the server's order. applied holds only the values that won
 * their merge, so the last one written of each field is the current one.
 */
export function foldHistory(entries: HistoryEntry[]): { fields: Record<string, unknown>; deleted: boolean } {
  const fields: Record<string, unknown> = {};
  let deleted = false;
  for (const e of entries) {
    if (e.op === 'delete') {
      deleted = true;
      continue;
    }
    Object.assign(fields, e.applied ?? {});
  }
  return { fields, deleted };
}

/** One note as GET /api/v1/reports/notes/{id} answers it (server/report/notedetail.go). */
export interface NoteDetail {
  note: NoteItem;
  /** The note's base: a decision made from this read carries it (docs/protocol.md, Change.base). */
  base: string;
  content: Record<'results' | 'models' | 'shortcomings' | 'aspirations' | 'recommendations' | 'conclusions', string>;
  attachments: string[];
  findings: {
    id: string;
    category: string;
    text: string;
    status: string;
    department_id: string | null;
    department_name: string | null;
    due_on: string | null;
    answer: string;
    base: string;
  }[];
  reviews: ServerRound[];
  /** Each time the note reached the server as submitted. */
  handed_in: { at: string; by: { id: string; full_name: string } }[];
  checkin_photos: { sha256: string; at: string }[];
  reviewed_by: { id: string; full_name: string } | null;
  review_comment: string;
}

/** A review round as the server keeps it. */
export interface ServerRound {
  id: string;
  decision: 'needs_revision' | 'reviewed';
  comment: string;
  at: string;
  reviewer: { id: string; full_name: string };
}

/** A review round as the console shows it. */
export interface Round {
  at: string;
  user_id: string | null;
  /** The reviewer's name. */
  name?: string;
  status: NoteStatus;
  comment: string;
  /** A decision of this device's still waiting in its outbox. */
  pending?: boolean;
}

/** A decision as the device's reviews table holds it (Records.reviewRounds). */
export interface DeviceRound {
  id: string;
  decision: 'needs_revision' | 'reviewed';
  comment: string;
  at: string;
  reviewer_id: string;
  reviewer: string;
}

/**
 * Every review round of a note, oldest first: the hand-ins and decisions
 * the server keeps, and this device's decisions still waiting in its
 * outbox (marked pending).
 */
export function reviewRounds(server: ServerRound[], pending: DeviceRound[] = [], handedIn: NoteDetail['handed_in'] = []): Round[] {
  const known = new Set(server.map((r) => r.id));
  const out: Round[] = server.map((r) => ({ at: r.at, user_id: r.reviewer.id, name: r.reviewer.full_name, status: r.decision, comment: r.comment }));
  for (const h of handedIn) out.push({ at: h.at, user_id: h.by.id, name: h.by.full_name, status: 'submitted', comment: '' });
  for (const d of pending) {
    if (known.has(d.id)) continue;
    out.push({ at: d.at, user_id: d.reviewer_id, name: d.reviewer, status: d.decision, comment: d.comment, pending: true });
  }
  return out.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}
