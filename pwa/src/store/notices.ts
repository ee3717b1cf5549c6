// Team schedules, inspection notices and cluster briefings (plan III.1,
// II.1), as the console and the phones read and write them. Every write goes
// through Store.write (row + outbox in one transaction), like Records'; the
// server's specs decide who may (docs/architecture.md, Table specs): the
// Inspection Committee schedules and issues, a briefing's recorders are
// headquarters and the secretary and department leading its cluster.
import { newId } from './ids';
import type { SqlValue } from '../db/client';
import type { Store } from './store';

/** One schedule row: a team's visit to one of its units. */
export interface Visit {
  id: string;
  team_id: string;
  unit_id: string;
  unit_name: string;
  starts_on: string;
  ends_on: string | null;
  place: string;
  contact: string;
}

export interface NoticeRow {
  id: string;
  campaign_id: string;
  team_id: string | null;
  number: string;
  revision: number;
  revises_id: string | null;
  title: string;
  content: string;
  preparation: string;
  recipients: string;
  signed_on: string | null;
  status: 'draft' | 'issued';
  /** Still only on this device (an edit waits in the outbox). */
  pending: boolean;
}

export interface TeamInfo {
  id: string;
  name: string;
  campaign_id: string;
  leader_id: string | null;
  member_ids: string[];
  unit_ids: string[];
}

/** What the console points out in a schedule: each is a warning, the server does not refuse them. */
export type Conflict =
  | { kind: 'outside_window'; visit: Visit & { team_name: string }; starts: string | null; ends: string | null }
  | { kind: 'member_twice'; visit: Visit & { team_name: string }; member: string; day: string; otherTeam: string };

/** A team's visit to a unit as a phone shows it, with the notice that announced it. */
export interface AnnouncedVisit {
  team: string;
  team_id: string;
  campaign: string;
  leader: string;
  members: string[];
  visits: Visit[];
  notice: NoticeRow | undefined;
  /** What will be inspected: the notice's content, else the campaign's. */
  content: string;
}

export interface Briefing {
  id: string;
  cluster_id: string;
  cluster_name: string;
  campaign_id: string | null;
  held_on: string;
  place: string;
  host_unit_id: string | null;
  lead_secretary_id: string | null;
  lead_department_id: string | null;
  unit_ids: string[];
  minutes: string;
  pending: boolean;
}

export interface BriefingRecommendation {
  id: string;
  unit_id: string | null;
  unit_name: string | null;
  text: string;
  status: string;
  department_name: string | null;
  due_on: string | null;
  answer: string;
  pending: boolean;
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

const pendingSql = (table: string, alias: string) =>
  `EXISTS (SELECT 1 FROM outbox o WHERE o.tbl = '${table}' AND o.row_id = ${alias}.id) AS pending`;

/** The days from start to end (inclusive), YYYY-MM-DD. */
export function visitDays(start: string, end: string | null): string[] {
  const out: string[] = [];
  const last = end && end > start ? end : start;
  for (let d = new Date(start + 'T00:00:00Z'); out.length < 60; d.setUTCDate(d.getUTCDate() + 1)) {
    const s = d.toISOString().slice(0, 10);
    out.push(s);
    if (s >= last) break;
  }
  return out;
}

export class Notices {
  constructor(readonly store: Store) {}

  private get db() {
    return this.store.db;
  }

  private async q<T>(sql: string, bind: SqlValue[] = []): Promise<T[]> {
    return this.db.query<T>(sql, bind);
  }

  // ---- teams and their schedules ----

  async teams(campaignId: string): Promise<TeamInfo[]> {
    const rows = await this.q<Record<string, unknown>>(
      'SELECT id, name, campaign_id, leader_id, member_ids, unit_ids FROM teams WHERE deleted = 0 AND campaign_id = ? ORDER BY name', [campaignId]);
    return rows.map((r) => ({ ...(r as unknown as TeamInfo), member_ids: list(r.member_ids), unit_ids: list(r.unit_ids) }));
  }

  async visits(teamId: string): Promise<Visit[]> {
    return this.q<Visit>(
      `SELECT v.id, v.team_id, v.unit_id, COALESCE(u.name, '') AS unit_name, v.starts_on, v.ends_on,
         COALESCE(v.place, '') AS place, COALESCE(v.contact, '') AS contact
       FROM team_visits v LEFT JOIN units u ON u.id = v.unit_id
       WHERE v.deleted = 0 AND v.team_id = ? ORDER BY v.starts_on, u.name`, [teamId]);
  }

  saveVisit(id: string, fields: Partial<Omit<Visit, 'id' | 'unit_name'>>): Promise<void> {
    return this.store.write([{ table: 'team_visits', rowId: id, op: 'upsert', fields }]);
  }

  removeVisit(id: string): Promise<void> {
    return this.store.write([{ table: 'team_visits', rowId: id, op: 'delete' }]);
  }

  /**
   * The schedule's conflicts in a campaign: a unit visited outside the
   * campaign's window, and a member (or leader) of one of its teams on two
   * teams' visits the same day (any campaign's).
   */
  async conflicts(campaignId: string): Promise<Conflict[]> {
    const c = await this.db.one<{ starts_on: string | null; ends_on: string | null }>(
      'SELECT starts_on, ends_on FROM campaigns WHERE id = ?', [campaignId]);
    const out: Conflict[] = [];
    const all = await this.q<Visit & { campaign_id: string; team_name: string; leader_id: string | null; member_ids: string }>(
      `SELECT v.id, v.team_id, v.unit_id, COALESCE(u.name, '') AS unit_name, v.starts_on, v.ends_on,
         COALESCE(v.place, '') AS place, COALESCE(v.contact, '') AS contact,
         t.campaign_id, t.name AS team_name, t.leader_id, t.member_ids
       FROM team_visits v JOIN teams t ON t.id = v.team_id AND t.deleted = 0 LEFT JOIN units u ON u.id = v.unit_id
       WHERE v.deleted = 0 ORDER BY v.starts_on, u.name`);
    const busy = new Map<string, { team: string; teamName: string }[]>(); // person|day → teams
    for (const v of all) {
      const people = new Set([...(v.leader_id ? [v.leader_id] : []), ...list(v.member_ids)]);
      for (const day of visitDays(v.starts_on, v.ends_on)) {
        for (const p of people) {
          const k = `${p}|${day}`;
          const had = busy.get(k) ?? [];
          if (!had.some((h) => h.team === v.team_id)) had.push({ team: v.team_id, teamName: v.team_name });
          busy.set(k, had);
        }
      }
    }
    for (const v of all) {
      if (v.campaign_id !== campaignId) continue;
      const end = v.ends_on || v.starts_on;
      if (c && ((c.starts_on && v.starts_on < c.starts_on) || (c.ends_on && end > c.ends_on))) {
        out.push({ kind: 'outside_window', visit: v, starts: c.starts_on, ends: c.ends_on });
      }
      const people = new Set([...(v.leader_id ? [v.leader_id] : []), ...list(v.member_ids)]);
      const seen = new Set<string>();
      for (const day of visitDays(v.starts_on, v.ends_on)) {
        for (const p of people) {
          for (const other of busy.get(`${p}|${day}`) ?? []) {
            if (other.team === v.team_id || seen.has(`${p}|${other.team}`)) continue;
            seen.add(`${p}|${other.team}`);
            out.push({ kind: 'member_twice', visit: v, member: p, day, otherTeam: other.teamName });
          }
        }
      }
    }
    return out;
  }

  // ---- notices ----

  async notices(campaignId: string): Promise<NoticeRow[]> {
    const rows = await this.q<NoticeRow>(
      `SELECT n.id, n.campaign_id, n.team_id, COALESCE(n.number, '') AS number, COALESCE(n.revision, 1) AS revision, n.revises_id,
         COALESCE(n.title, '') AS title, COALESCE(n.content, '') AS content, COALESCE(n.preparation, '') AS preparation,
         COALESCE(n.recipients, '') AS recipients, n.signed_on, COALESCE(n.status, 'draft') AS status, ${pendingSql('notices', 'n')}
       FROM notices n WHERE n.deleted = 0 AND n.campaign_id = ? ORDER BY n.team_id IS NOT NULL, n.revision DESC, n.rowid DESC`, [campaignId]);
    return rows.map((r) => ({ ...r, pending: Boolean(r.pending) }));
  }

  saveNotice(id: string, fields: Partial<Omit<NoticeRow, 'id' | 'pending'>>): Promise<void> {
    return this.store.write([{ table: 'notices', rowId: id, op: 'upsert', fields }]);
  }

  issueNotice(id: string): Promise<void> {
    return this.store.write([{ table: 'notices', rowId: id, op: 'upsert', fields: { status: 'issued' } }]);
  }

  removeNotice(id: string): Promise<void> {
    return this.store.write([{ table: 'notices', rowId: id, op: 'delete' }]);
  }

  /** A new draft revising an issued notice: its text copied, numbered one after it. */
  async reviseNotice(issued: NoticeRow): Promise<string> {
    const id = newId();
    await this.store.write([{
      table: 'notices', rowId: id, op: 'upsert', fields: {
        campaign_id: issued.campaign_id, team_id: issued.team_id, number: issued.number, revision: issued.revision + 1,
        revises_id: issued.id, title: issued.title, content: issued.content, preparation: issued.preparation,
        recipients: issued.recipients, signed_on: null, status: 'draft',
      },
    }]);
    return id;
  }

  // ---- what phones show ----

  /** The latest issued notice announcing a team (its own, or its campaign's). */
  async latestNotice(team: { id: string; campaign_id: string }): Promise<NoticeRow | undefined> {
    const r = await this.db.one<NoticeRow>(
      `SELECT n.id, n.campaign_id, n.team_id, COALESCE(n.number, '') AS number, COALESCE(n.revision, 1) AS revision, n.revises_id,
         COALESCE(n.title, '') AS title, COALESCE(n.content, '') AS content, COALESCE(n.preparation, '') AS preparation,
         COALESCE(n.recipients, '') AS recipients, n.signed_on, n.status, 0 AS pending
       FROM notices n WHERE n.deleted = 0 AND n.status = 'issued' AND (n.team_id = ?1 OR (n.team_id IS NULL AND n.campaign_id = ?2))
       ORDER BY n.team_id IS NULL, COALESCE(n.revision, 1) DESC, n.rowid DESC LIMIT 1`, [team.id, team.campaign_id]);
    return r ? { ...r, pending: false } : undefined;
  }

  /**
   * The teams that visit a unit (or, with no unit, that this user is on),
   * each with its visits there (all its visits, for its own members) and
   * the latest issued notice. A liaison's device holds only announced
   * visits and issued notices: the server sends nothing else.
   */
  async announced(opts: { unitId?: string; member?: string }): Promise<AnnouncedVisit[]> {
    const names = new Map((await this.q<{ id: string; name: string }>(
      "SELECT id, COALESCE(NULLIF(full_name, ''), username) AS name FROM users")).map((u) => [u.id, u.name]));
    const teams = await this.q<Record<string, unknown>>(
      `SELECT t.id, t.name, t.campaign_id, t.leader_id, t.member_ids, t.unit_ids, COALESCE(c.name, '') AS campaign,
         COALESCE(c.content, '') AS campaign_content, c.starts_on
       FROM teams t LEFT JOIN campaigns c ON c.id = t.campaign_id
       WHERE t.deleted = 0 AND (
         (?1 <> '' AND EXISTS (SELECT 1 FROM team_visits v WHERE v.team_id = t.id AND v.deleted = 0 AND v.unit_id = ?1))
         OR (?2 <> '' AND (t.leader_id = ?2 OR EXISTS (SELECT 1 FROM json_each(t.member_ids) m WHERE m.value = ?2))))
       ORDER BY c.starts_on, t.name`, [opts.unitId ?? '', opts.member ?? '']);
    const out: AnnouncedVisit[] = [];
    for (const t of teams) {
      const team = { id: t.id as string, campaign_id: t.campaign_id as string };
      const visits = (await this.visits(team.id)).filter((v) => !opts.unitId || v.unit_id === opts.unitId);
      const notice = await this.latestNotice(team);
      out.push({
        team: t.name as string, team_id: team.id, campaign: t.campaign as string,
        leader: t.leader_id ? names.get(t.leader_id as string) ?? '' : '',
        members: list(t.member_ids).filter((m) => m !== t.leader_id).map((m) => names.get(m) ?? ''),
        visits, notice, content: notice?.content || (t.campaign_content as string),
      });
    }
    return out;
  }

  // ---- cluster briefings ----

  async briefings(): Promise<Briefing[]> {
    const rows = await this.q<Record<string, unknown>>(
      `SELECT b.id, b.cluster_id, COALESCE(c.name, '') AS cluster_name, b.campaign_id, b.held_on, COALESCE(b.place, '') AS place,
         b.host_unit_id, b.lead_secretary_id, b.lead_department_id, b.unit_ids, COALESCE(b.minutes, '') AS minutes, ${pendingSql('briefings', 'b')}
       FROM briefings b LEFT JOIN clusters c ON c.id = b.cluster_id WHERE b.deleted = 0 ORDER BY b.held_on DESC, c.name`);
    return rows.map((r) => ({ ...(r as unknown as Briefing), unit_ids: list(r.unit_ids), pending: Boolean(r.pending) }));
  }

  /**
   * The clusters this user may record briefings of: every cluster for
   * headquarters, else those they lead as secretary or whose leading
   * department is theirs.
   */
  async recordableClusters(roles: readonly string[], hq: boolean): Promise<{ id: string; name: string; lead_secretary_id: string | null; lead_department_id: string | null }[]> {
    const me = await this.db.one<{ department_id: string | null }>('SELECT department_id FROM users WHERE id = ?', [this.store.userId]);
    const dept = roles.includes('department') ? me?.department_id ?? '' : '';
    const sec = roles.includes('secretary') ? this.store.userId : '';
    return this.q(
      `SELECT id, name, lead_secretary_id, lead_department_id FROM clusters
       WHERE deleted = 0 AND (?1 OR (?2 <> '' AND lead_secretary_id = ?2) OR (?3 <> '' AND lead_department_id = ?3)) ORDER BY name`,
      [hq ? 1 : 0, sec, dept]);
  }

  /** The live units of a cluster, by name. */
  clusterUnits(clusterId: string): Promise<{ id: string; name: string }[]> {
    return this.q("SELECT id, name FROM units WHERE deleted = 0 AND cluster_id = ? AND kind <> 'grassroots' ORDER BY name", [clusterId]);
  }

  saveBriefing(id: string, fields: Partial<Omit<Briefing, 'id' | 'cluster_name' | 'pending'>>): Promise<void> {
    return this.store.write([{ table: 'briefings', rowId: id, op: 'upsert', fields }]);
  }

  async recommendations(briefingId: string): Promise<BriefingRecommendation[]> {
    const rows = await this.q<BriefingRecommendation>(
      `SELECT f.id, f.unit_id, (SELECT name FROM units u WHERE u.id = f.unit_id) AS unit_name, f.text, COALESCE(f.status, 'open') AS status,
         (SELECT name FROM departments d WHERE d.id = f.department_id) AS department_name, f.due_on, COALESCE(f.answer, '') AS answer,
         ${pendingSql('findings', 'f')}
       FROM findings f WHERE f.deleted = 0 AND f.briefing_id = ? ORDER BY f.rowid`, [briefingId]);
    return rows.map((r) => ({ ...r, pending: Boolean(r.pending) }));
  }

  /** A recommendation raised at a briefing: a finding naming it, in the Office's register. */
  addRecommendation(b: Pick<Briefing, 'id' | 'campaign_id'>, unitId: string | null, text: string): Promise<void> {
    return this.store.write([{
      table: 'findings', rowId: newId(), op: 'upsert', fields: {
        author_id: this.store.userId, briefing_id: b.id, unit_id: unitId, campaign_id: b.campaign_id,
        category: 'recommendation', text, status: 'open',
      },
    }]);
  }
}
