// Schedules and notices (Lịch & thông báo kiểm tra), plan III.1: per
// campaign, each team's schedule (unit, days, place, contact) with the
// conflicts pointed out (a unit visited outside the campaign's window, a
// member on two teams the same day), and the notice establishing the teams:
// drafted, issued once, revised by a new revision; its Word file is the
// server's (GET /api/v1/reports/notices/{id}/notice.docx). Everything is
// read from and written to the device store like the rest of the console,
// so it works offline and syncs through the outbox.
import { newId } from '../store/ids';
import { useMemo, useState } from 'preact/hooks';
import { Notices, type Conflict, type NoticeRow, type TeamInfo, type Visit } from '../store/notices';
import { ALL_SEEING_ROLES } from '../store/plan.gen';
import { useCtx, useData } from '../ui/context';
import { formatDate } from '../ui/i18n';
import { download } from './api';
import './manage-style';
import './notices-style';
import { query } from './manage-api';
import { href } from './paths';
import type { ConsoleRoute, ScreenProps } from './routes';
import { commonText, tr } from './text-common';
import type { SharedKey } from './text';
import { noticesText } from './text-notices';
import { Failed } from './ui';
import { refusalExplanation, tableLabel } from '../ui/refusal';
import { translate } from './text';

const text = { ...commonText, ...noticesText };
export type NoticeKey = keyof typeof text | SharedKey;

/** The screen's translate function. */
export function useNoticeText(): (k: NoticeKey, ...a: (string | number)[]) => string {
  const { lang } = useCtx();
  return (k, ...a) => tr(text, lang, k, ...a);
}

const WRITERS = ['admin', 'inspection_committee'];

function Schedule({ params }: ScreenProps) {
  const { rt, navigate } = useCtx();
  const t = useNoticeText();
  const notices = useMemo(() => new Notices(rt.store), [rt]);
  const may = (rt.user.roles ?? []).some((r) => WRITERS.includes(r));
  const campaigns = useData(() => rt.records.campaigns(), []);
  const inspections = (campaigns ?? []).filter((c) => c.kind !== 'special');
  const campaignId = params.get('campaign') || inspections[0]?.id || '';
  const campaign = inspections.find((c) => c.id === campaignId);
  const teams = useData(() => (campaignId ? notices.teams(campaignId) : Promise.resolve([])), [campaignId]);
  const conflicts = useData(() => (campaignId ? notices.conflicts(campaignId) : Promise.resolve([])), [campaignId]);
  const names = useData(() => rt.records.userNames(), []);
  const units = useData(() => rt.records.units(), []);
  const unitName = (id: string) => units?.find((u) => u.id === id)?.name ?? id;
  return (
    <section class="c-page cnotices" id="cnotices">
      <header class="c-page-head">
        <h1>{t('n_title')}</h1>
        <label class="c-label">
          {t('n_campaign')}
          <select class="c-input" id="n-campaign" value={campaignId}
            onChange={(e) => navigate(href('notices') + query({ campaign: (e.target as HTMLSelectElement).value }))}>
            {inspections.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
          </select>
        </label>
      </header>
      {campaign?.starts_on && <p class="muted" id="n-window">{t('n_window', formatDate(campaign.starts_on), formatDate(campaign.ends_on))}</p>}
      {!may && <div class="banner banner-info">{t('n_readOnly')}</div>}
      <Refused />
      {conflicts && conflicts.length > 0 && <Conflicts items={conflicts} names={names} />}
      <div class="n-grid">
        <div class="stack">
          {teams && teams.length === 0 && <div class="c-empty">{t('n_noTeams')}</div>}
          {(teams ?? []).map((team) => (
            <TeamCard key={team.id} team={team} may={may} names={names} unitName={unitName} notices={notices} />
          ))}
        </div>
        {campaignId && <NoticePanel campaignId={campaignId} teams={teams ?? []} may={may} notices={notices} />}
      </div>
    </section>
  );
}

/**
 * Schedules and notices of this device the server refused, each with why
 * (the field app's explanation of a refusal, in the user's language), and
 * the way to the Sync screen, where they are fixed, sent again or dropped.
 */
function Refused() {
  const { rt, lang } = useCtx();
  const t = useNoticeText();
  const rows = useData(() => rt.store.db.query<{ id: string; tbl: string; code: string; field: string | null }>(
    "SELECT id, tbl, code, field FROM rejected WHERE tbl IN ('team_visits', 'notices') ORDER BY at"), []);
  if (!rows || rows.length === 0) return null;
  const ft = (k: string, ...a: (string | number)[]) => translate(lang, k, ...a);
  return (
    <div class="banner banner-error n-refused" id="n-refused" role="alert">
      <strong>{t('n_refused')}</strong>
      <ul>
        {rows.map((r) => (
          <li key={r.id} data-table={r.tbl} data-code={r.code} data-field={r.field ?? ''}>
            {tableLabel(ft, r.tbl)}: {refusalExplanation(ft, r.tbl, r.code, r.field)}
          </li>
        ))}
      </ul>
      <a class="link-btn" href="#/sync" id="n-refused-sync">{t('n_openSync')}</a>
    </div>
  );
}

function Conflicts({ items, names }: { items: Conflict[]; names: Map<string, string> | undefined }) {
  const t = useNoticeText();
  return (
    <div class="banner banner-warn n-conflicts" id="n-conflicts" role="status">
      <strong>{t('n_conflicts')}</strong>
      <ul>
        {items.map((c, i) => c.kind === 'outside_window'
          ? <li key={i} data-conflict="outside_window" data-unit={c.visit.unit_name}>
            {t('n_outside', c.visit.unit_name, days(c.visit), formatDate(c.starts), formatDate(c.ends))}</li>
          : <li key={i} data-conflict="member_twice">
            {t('n_twice', names?.get(c.member) ?? c.member, formatDate(c.day), c.visit.team_name, c.otherTeam)}</li>)}
      </ul>
    </div>
  );
}

function days(v: Visit): string {
  return v.ends_on && v.ends_on !== v.starts_on ? `${formatDate(v.starts_on)} – ${formatDate(v.ends_on)}` : formatDate(v.starts_on);
}

function TeamCard({ team, may, names, unitName, notices }: {
  team: TeamInfo; may: boolean; names: Map<string, string> | undefined; unitName: (id: string) => string; notices: Notices;
}) {
  const t = useNoticeText();
  const visits = useData(() => notices.visits(team.id), [team.id]);
  const [draft, setDraft] = useState({ unit: '', from: '', to: '', place: '', contact: '' });
  const [error, setError] = useState('');
  const [failed, setFailed] = useState<unknown>(undefined);
  const scheduled = new Set((visits ?? []).map((v) => v.unit_id));
  const unscheduled = team.unit_ids.filter((u) => !scheduled.has(u));
  const add = async () => {
    if (!draft.unit || !draft.from) {
      setError(t('n_needDate'));
      return;
    }
    setError('');
    try {
      await notices.saveVisit(newId(), {
        team_id: team.id, unit_id: draft.unit, starts_on: draft.from, ends_on: draft.to || null, place: draft.place.trim(), contact: draft.contact.trim(),
      });
      setDraft({ unit: '', from: '', to: '', place: '', contact: '' });
    } catch (e) {
      setFailed(e);
    }
  };
  const set = (k: keyof typeof draft) => (e: Event) => setDraft({ ...draft, [k]: (e.target as HTMLInputElement).value });
  return (
    <div class="card stack n-team" data-team={team.name} id={`n-team-${team.id}`}>
      <h2>{team.name}</h2>
      <p class="small muted">
        {team.leader_id ? t('teamLeaderIs', names?.get(team.leader_id) ?? '') : ''}
        {team.member_ids.length > 0 ? ` · ${t('teamMembersAre', team.member_ids.filter((m) => m !== team.leader_id).map((m) => names?.get(m) ?? '').join(', '))}` : ''}
      </p>
      <table class="c-table n-visits">
        <thead><tr><th>{t('unit')}</th><th>{t('startsOn')}</th><th>{t('endsOn')}</th><th>{t('field_place')}</th><th>{t('field_contact')}</th>{may && <th />}</tr></thead>
        <tbody>
          {(visits ?? []).map((v) => <VisitRow key={v.id} v={v} may={may} notices={notices} />)}
        </tbody>
      </table>
      {unscheduled.length > 0 && <p class="small warn-text" data-unscheduled>{t('n_unscheduled', unscheduled.map(unitName).join(', '))}</p>}
      {may && (
        <div class="n-add">
          <label class="c-label">{t('unit')}
            <select class="c-input" data-add="unit" value={draft.unit} onChange={set('unit')}>
              <option value="">{t('chooseUnit')}</option>
              {team.unit_ids.map((u) => <option key={u} value={u}>{unitName(u)}</option>)}
            </select>
          </label>
          <label class="c-label">{t('startsOn')}<input class="c-input" type="date" data-add="from" value={draft.from} onInput={set('from')} /></label>
          <label class="c-label">{t('endsOn')}<input class="c-input" type="date" data-add="to" value={draft.to} onInput={set('to')} /></label>
          <label class="c-label">{t('field_place')}<input class="c-input" data-add="place" value={draft.place} onInput={set('place')} /></label>
          <label class="c-label">{t('field_contact')}<input class="c-input" data-add="contact" value={draft.contact} onInput={set('contact')} /></label>
          <button class="c-btn c-btn-primary" data-add="save" onClick={() => void add()}>{t('n_add')}</button>
        </div>
      )}
      {error && <p class="err-text" role="alert">{error}</p>}
      {failed !== undefined && <Failed error={failed} />}
    </div>
  );
}

function VisitRow({ v, may, notices }: { v: Visit; may: boolean; notices: Notices }) {
  const t = useNoticeText();
  const save = (field: keyof Visit) => (e: Event) => {
    const value = (e.target as HTMLInputElement).value;
    if (field === 'starts_on' && !value) return;
    void notices.saveVisit(v.id, { [field]: value || (field === 'ends_on' ? null : '') });
  };
  if (!may) {
    return (
      <tr data-visit={v.unit_name}>
        <td>{v.unit_name}</td><td>{formatDate(v.starts_on)}</td><td>{formatDate(v.ends_on)}</td><td>{v.place}</td><td>{v.contact}</td>
      </tr>
    );
  }
  return (
    <tr data-visit={v.unit_name}>
      <td><strong>{v.unit_name}</strong></td>
      <td><input class="c-input" type="date" aria-label={t('startsOn')} value={v.starts_on} onChange={save('starts_on')} /></td>
      <td><input class="c-input" type="date" aria-label={t('endsOn')} value={v.ends_on ?? ''} onChange={save('ends_on')} /></td>
      <td><input class="c-input" aria-label={t('field_place')} value={v.place} onChange={save('place')} /></td>
      <td><input class="c-input" aria-label={t('field_contact')} value={v.contact} onChange={save('contact')} /></td>
      <td><button class="c-btn c-btn-danger" onClick={() => void notices.removeVisit(v.id)}>{t('n_remove')}</button></td>
    </tr>
  );
}

function NoticePanel({ campaignId, teams, may, notices }: { campaignId: string; teams: TeamInfo[]; may: boolean; notices: Notices }) {
  const t = useNoticeText();
  const list = useData(() => notices.notices(campaignId), [campaignId]);
  const [open, setOpen] = useState('');
  const draft = async (teamId: string | null) => {
    const id = newId();
    await notices.saveNotice(id, { campaign_id: campaignId, team_id: teamId, status: 'draft', revision: 1 });
    setOpen(id);
  };
  const teamName = (id: string | null) => (id ? teams.find((x) => x.id === id)?.name ?? '' : t('n_forCampaign'));
  return (
    <div class="stack n-notices" id="n-notices">
      <h2>{t('n_notices')}</h2>
      {may && (
        <div class="row-wrap">
          <button class="c-btn c-btn-primary" id="n-new-campaign" onClick={() => void draft(null)}>{t('n_newCampaign')}</button>
          {teams.map((team) => (
            <button key={team.id} class="c-btn c-btn-secondary" data-new-notice={team.name} onClick={() => void draft(team.id)}>
              {t('n_newTeam')}: {team.name}
            </button>
          ))}
        </div>
      )}
      {list && list.length === 0 && <p class="muted">{t('n_none')}</p>}
      {(list ?? []).map((n) => (
        <NoticeCard key={n.id} n={n} teamName={teamName(n.team_id)} open={open === n.id || (open === '' && n.status === 'draft')}
          onOpen={() => setOpen(open === n.id ? '-' : n.id)} may={may} notices={notices} onRevised={setOpen} />
      ))}
    </div>
  );
}

function NoticeCard({ n, teamName, open, onOpen, may, notices, onRevised }: {
  n: NoticeRow; teamName: string; open: boolean; onOpen: () => void; may: boolean; notices: Notices; onRevised: (id: string) => void;
}) {
  const { session } = useCtx();
  const t = useNoticeText();
  const [f, setF] = useState(n);
  const [failed, setFailed] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const editable = may && n.status === 'draft';
  const set = (k: keyof NoticeRow) => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value });
  const fields = () => ({
    number: f.number.trim(), signed_on: f.signed_on || null, title: f.title.trim(), content: f.content, preparation: f.preparation, recipients: f.recipients,
  });
  const run = async (fn: () => Promise<unknown>) => {
    setFailed(undefined);
    setBusy(true);
    try {
      await fn();
    } catch (e) {
      setFailed(e);
    } finally {
      setBusy(false);
    }
  };
  const issue = () => run(async () => {
    if (!confirm(t('n_issueConfirm'))) return;
    await notices.saveNotice(n.id, fields());
    await notices.issueNotice(n.id);
  });
  return (
    <div class={`card stack n-notice n-${n.status}`} data-notice={n.number || n.id} data-status={n.status} id={`notice-${n.id}`}>
      <button class="n-notice-head" onClick={onOpen} aria-expanded={open}>
        <strong>{n.number || t('n_number')}</strong>
        <span class={`badge ${n.status === 'issued' ? 'badge-sent' : 'badge-local'}`} data-notice-status>{n.status === 'issued' ? t('n_issued') : t('note_draft')}</span>
        {n.revision > 1 && <span class="badge badge-refused">{t('n_revision', n.revision - 1)}</span>}
        {n.pending && <span class="small warn-text">{t('n_pending')}</span>}
        <span class="muted small">{teamName}{n.signed_on ? ` · ${formatDate(n.signed_on)}` : ''}</span>
      </button>
      {open && (
        <div class="stack">
          <div class="n-fields">
            <label class="c-label">{t('n_number')}<input class="c-input" data-notice-field="number" disabled={!editable} value={f.number} onInput={set('number')} /></label>
            <label class="c-label">{t('field_signed_on')}<input class="c-input" type="date" data-notice-field="signed_on" disabled={!editable} value={f.signed_on ?? ''} onInput={set('signed_on')} /></label>
          </div>
          <label class="c-label">{t('n_subject')}<input class="c-input" data-notice-field="title" disabled={!editable} value={f.title} onInput={set('title')} /></label>
          <label class="c-label">{t('n_content')}<textarea class="c-input" rows={4} data-notice-field="content" disabled={!editable} value={f.content} onInput={set('content')} /></label>
          <label class="c-label">{t('n_prepare')}<textarea class="c-input" rows={3} data-notice-field="preparation" disabled={!editable} value={f.preparation} onInput={set('preparation')} /></label>
          <label class="c-label">{t('n_recipients')}<textarea class="c-input" rows={3} data-notice-field="recipients" disabled={!editable} value={f.recipients} onInput={set('recipients')} /></label>
          <div class="row-wrap">
            {editable && <button class="c-btn c-btn-secondary" data-notice-action="save" disabled={busy} onClick={() => void run(() => notices.saveNotice(n.id, fields()))}>{t('n_save')}</button>}
            {editable && <button class="c-btn c-btn-primary" data-notice-action="issue" disabled={busy} onClick={() => void issue()}>{t('n_issue')}</button>}
            {editable && <button class="c-btn c-btn-danger" data-notice-action="delete" disabled={busy} onClick={() => void run(() => notices.removeNotice(n.id))}>{t('n_delete')}</button>}
            {may && n.status === 'issued' && <button class="c-btn c-btn-secondary" data-notice-action="revise" disabled={busy}
              onClick={() => void run(async () => onRevised(await notices.reviseNotice(n)))}>{t('n_revise')}</button>}
            <button class="c-btn c-btn-ghost" data-notice-action="word" disabled={busy || n.pending}
              title={n.pending ? t('n_wordNeedsSync') : ''}
              onClick={() => void run(() => download(session, `/api/v1/reports/notices/${n.id}/notice.docx`, 'thong-bao.docx'))}>{t('n_word')}</button>
          </div>
          {n.pending && <p class="small muted">{t('n_wordNeedsSync')}</p>}
          {failed !== undefined && <Failed error={failed} />}
        </div>
      )}
    </div>
  );
}

export const route: ConsoleRoute = {
  id: 'notices', label: 'nav_notices', icon: '▦', roles: ALL_SEEING_ROLES, nav: true, component: Schedule,
};
