// Findings and recommendations (Phát hiện & kiến nghị) on a wide screen:
// the register, as a table beside the finding it opens, read from the
// server page by page, filtered, searched and counted there (GET
// /api/v1/reports/findings, and a finding's follow-ups): a headquarters
// browser keeps none of the national register on the device.
// Writes go through the device store as the phone's do: triage (department,
// due date, the Office's proposed answer) and follow-ups go into the outbox
// (a triage with the base of the read it was made from), show "not synced"
// over the server's values until the server has them, and a refusal waits
// in Sync. A department user lands on the findings assigned to it, soonest
// due first.
import { useRef, useState } from 'preact/hooks';
import {
  FINDING_CATEGORIES, FINDING_STATUSES, localDate, seesAll,
  type FindingStatus, type RegisterFinding, type SyncMark,
} from '../store/records';
import { Badge } from '../ui/components';
import { useCtx, useData, useSyncStatus } from '../ui/context';
import { formatDate, formatDateTime, type Key } from '../ui/i18n';
import { LostNotices } from '../ui/lost';
import { useApi, usePages, type Query } from './api';
import { Legend, StackBar } from './chart';
import { Failed } from './ui';
import { query } from './manage-api';
import './manage-style';
import { href } from './paths';
import type { ConsoleRoute, ScreenProps } from './routes';
import { REGISTER_ROLES } from '../store/plan.gen';
import { commonText, tr } from './text-common';
import type { SharedKey } from './text';
import { findingsText } from './text-findings';

const text = { ...commonText, ...findingsText };
type TextKey = keyof typeof text | SharedKey;

const HERE = href('findings');
const statusKey = (s: string | null | undefined) => `finding_${s || 'open'}` as Key;
const categoryKey = (c: string) => `cat_${c}` as Key;

/** Where a finding was raised: a cluster briefing, or a visit note. */
function sourceOf(f: RegisterFinding, t: (k: TextKey, ...a: (string | number)[]) => string): string {
  if (f.briefing_id) return t('cf_fromBriefing', f.briefing_cluster ?? '', formatDate(f.briefing_held_on));
  return f.note_title ? t('cf_fromNote', f.note_title) : '—';
}

export function isOverdue(f: { due_on: string | null; status: string }, today: string): boolean {
  return !!f.due_on && f.due_on < today && (f.status === 'open' || f.status === 'in_progress');
}

/** Text folded for search: no diacritics, đ as d, lower case ("lai chau" finds "Lai Châu"). */
export function fold(s: string): string {
  return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[đĐ]/g, 'd').toLowerCase();
}

/** A finding as the register lists it, with this device's pending changes laid over it. */
export type RegisterRow = RegisterFinding & { base: string };

type ServerFinding = Omit<RegisterRow, 'sync'>;

/** The counts of the whole selection, as GET /api/v1/reports/findings answers them. */
interface RegisterCounts {
  total: number;
  overdue: number;
  by_category: { category: string; status: string; count: number }[];
}

/** Findings a page: the register of a year may hold thousands. */
const PAGE = 50;
const SEARCH_DELAY_MS = 350;

/**
 * The server's register, page by page, with this device's changes that
 * wait in the outbox (or were refused) laid over it: the user sees what
 * they wrote, marked not synced, until the server has it.
 */
function useRegister(q: Query) {
  const { rt } = useCtx();
  const synced = useSyncStatus().lastSuccessAt;
  const server = usePages<ServerFinding, RegisterCounts>('/api/v1/reports/findings', q, PAGE, [], synced);
  const local = useData(async () => {
    const pending = await rt.store.db.query<{ row_id: string; fields: string }>(
      "SELECT row_id, fields FROM outbox WHERE tbl = 'findings' ORDER BY seq");
    const refused = await rt.store.db.query<{ row_id: string }>("SELECT row_id FROM rejected WHERE tbl = 'findings'");
    const departments = new Map((await rt.records.departments()).map((d) => [d.id, d.name]));
    return { pending, refused: new Set(refused.map((r) => r.row_id)), departments };
  }, []);
  // What this device wrote, by finding: laid over the server's row while
  // it waits in the outbox, and after the server has it until a read of
  // the register begun since shows it (no flash of the old values).
  const written = useRef(new Map<string, { fields: Partial<RegisterRow>; acked: number }>());
  const now = Date.now();
  const pendingIds = new Set((local?.pending ?? []).map((p) => p.row_id));
  for (const [id, w] of written.current) {
    if (!pendingIds.has(id) && w.acked === 0) w.acked = now;
    if (w.acked !== 0 && server.since > w.acked) written.current.delete(id);
  }
  for (const p of local?.pending ?? []) {
    const prior = written.current.get(p.row_id);
    const fields = { ...(prior?.acked === 0 ? prior.fields : {}), ...(JSON.parse(p.fields) as Partial<RegisterRow>) };
    written.current.set(p.row_id, { fields, acked: 0 });
  }
  const items = server.items?.map((f): RegisterRow => {
    let row: RegisterRow = { ...f, sync: 'sent' as SyncMark };
    const w = written.current.get(f.id);
    if (w) {
      row = { ...row, ...w.fields, sync: w.acked === 0 ? 'local' : 'sent' };
      if ('department_id' in w.fields) row.department_name = w.fields.department_id ? local?.departments.get(w.fields.department_id) ?? null : null;
    }
    if (local?.refused.has(f.id)) row.sync = 'refused';
    return row;
  });
  return { ...server, items };
}

export function Findings({ params }: ScreenProps) {
  const { lang, t: ft, rt, navigate } = useCtx();
  const t = (k: TextKey, ...a: (string | number)[]) => tr(text, lang, k, ...a);
  const roles = rt.user.roles ?? [];
  const hq = seesAll(roles);
  const category = params.get('category') ?? '';
  const status = params.get('status') ?? '';
  const dept = params.get('department') ?? '';
  const overdueOnly = params.get('overdue') === '1';
  // Headquarters work the newest first; a department down its list by due date.
  const sort = params.get('sort') || (hq ? '-recorded' : 'due_on');
  const search = params.get('q') ?? '';
  const selectedId = params.get('id') ?? '';
  const [q, setQ] = useState(search);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const go = (p: Record<string, string>) => navigate(HERE + query({
    category, status, department: dept, overdue: overdueOnly ? '1' : '', sort: params.get('sort') ?? '', q: search, id: selectedId, ...p,
  }));
  const typed = (v: string) => {
    setQ(v);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => go({ q: v.trim() }), SEARCH_DELAY_MS);
  };

  const today = localDate();
  const register = useRegister({
    category, status, sort, q: search,
    department_id: dept && dept !== 'none' ? dept : '', unassigned: dept === 'none' ? 'true' : '',
    overdue: overdueOnly ? 'true' : '', date: today,
  });
  const departments = useData(() => rt.records.departments(), []);
  const items = register.items ?? [];
  const counts = register.counts;
  const filtered = !!(category || status || dept || overdueOnly || search);
  const selected = items.find((f) => f.id === selectedId);

  return (
    <section class="cscreen cfindings" id="cfindings">
      <header class="cscreen-head">
        <h1>{hq ? t('cf_title') : t('cf_titleDept')}</h1>
        <button class={`chip cf-overdue ${overdueOnly ? 'on' : ''}`} id="cf-overdue-chip" aria-pressed={overdueOnly}
          onClick={() => go({ overdue: overdueOnly ? '' : '1' })}>{t('cf_overdueCount', counts?.overdue ?? 0)}</button>
      </header>
      {register.error !== undefined && <Failed error={register.error} retry={register.reload} />}
      {counts && counts.total > 0 && hq && <CategoryBars counts={counts} />}
      <div class="cfilters cf-filters">
        <label class="cfilter">
          <span>{t('category')}</span>
          <select class="input" id="cf-category" value={category} onChange={(e) => go({ category: (e.target as HTMLSelectElement).value })}>
            <option value="">{ft('allCategories')}</option>
            {FINDING_CATEGORIES.map((c) => <option key={c} value={c}>{ft(categoryKey(c))}</option>)}
          </select>
        </label>
        <label class="cfilter">
          <span>{t('status')}</span>
          <select class="input" id="cf-status" value={status} onChange={(e) => go({ status: (e.target as HTMLSelectElement).value })}>
            <option value="">{ft('allStatuses')}</option>
            {FINDING_STATUSES.map((s) => <option key={s} value={s}>{ft(statusKey(s))}</option>)}
          </select>
        </label>
        {hq && (
          <label class="cfilter">
            <span>{t('field_department')}</span>
            <select class="input" id="cf-department" value={dept} onChange={(e) => go({ department: (e.target as HTMLSelectElement).value })}>
              <option value="">{t('cf_allDepartments')}</option>
              <option value="none">{t('cf_unassigned')}</option>
              {(departments ?? []).map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}
            </select>
          </label>
        )}
        <label class="cfilter">
          <span>{t('cf_sort')}</span>
          <select class="input" id="cf-sort" value={sort} onChange={(e) => go({ sort: (e.target as HTMLSelectElement).value })}>
            <option value="-recorded">{t('cf_sort_newest')}</option>
            <option value="recorded">{t('cf_sort_oldest')}</option>
            <option value="due_on">{t('cf_sort_due')}</option>
          </select>
        </label>
        <label class="cfilter cf-search">
          <span>{t('cf_text')}</span>
          <input class="input" type="search" id="cf-search" value={q} placeholder={t('cf_search')}
            onInput={(e) => typed((e.target as HTMLInputElement).value)} />
        </label>
      </div>
      <div class={`cpanes ${selected ? 'cf-picked' : ''}`}>
        <div class="card cpane ctable-wrap">
          <p class="muted small" id="cf-count" data-total={counts?.total ?? ''}>
            {counts ? t('findingsCount', counts.total) : ''}
            {counts && items.length < counts.total ? ` · ${t('cf_shown', items.length)}` : ''}
          </p>
          {register.items && items.length === 0 && <p class="muted" id="cf-empty">{hq || filtered ? t('cf_empty') : t('cf_emptyDept')}</p>}
          {items.length > 0 && (
            <table class="ctable" id="cf-table">
              <thead>
                <tr>
                  <th>{t('category')}</th>
                  <th>{t('cf_text')}</th>
                  <th>{t('field_department')}</th>
                  <th>{t('cf_due')}</th>
                  <th>{t('status')}</th>
                </tr>
              </thead>
              <tbody>
                {items.map((f) => (
                  <tr key={f.id} class={`clickable ${f.id === selectedId ? 'on' : ''}`} data-finding={f.text} data-id={f.id}
                    onClick={() => go({ id: f.id })}>
                    <td><span class={`cat cat-${f.category}`}>{ft(categoryKey(f.category))}</span></td>
                    <td>
                      <div class="cf-text">{f.text}</div>
                      <div class="muted small">{[f.unit_name, f.campaign_name].filter(Boolean).join(' · ')}</div>
                      <div class="small" data-source={f.briefing_id ? 'briefing' : f.note_id ? 'note' : ''}>{sourceOf(f, t)}</div>
                    </td>
                    <td class="small">{f.department_name ?? <span class="muted">{t('cf_unassigned')}</span>}</td>
                    <td class={`small ${isOverdue(f, today) ? 'err-text' : ''}`} data-overdue={isOverdue(f, today) ? '1' : ''}>
                      {f.due_on ? formatDate(f.due_on) : <span class="muted">—</span>}
                      {isOverdue(f, today) && <div>{t('overdue')}</div>}
                    </td>
                    <td>
                      <div class={`fstatus fstatus-${f.status}`}>{ft(statusKey(f.status))}</div>
                      <Badge mark={f.sync} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {register.more && (
            <button class="btn btn-ghost cf-more" id="cf-more" disabled={register.loading} onClick={register.more}>
              {register.loading ? t('loading') : t('loadMore')}
            </button>
          )}
        </div>
        <div class="cpane cpane-sticky">
          {selected ? <FindingPane key={selected.id} f={selected} hq={hq} t={t} /> : <div class="card muted" id="cf-pick">{t('cf_pick')}</div>}
        </div>
      </div>
    </section>
  );
}

/** Findings by category, each bar split by status (the chart the Secretariat asks for): the whole selection's counts. */
function CategoryBars({ counts }: { counts: RegisterCounts }) {
  const { t: ft } = useCtx();
  const statusSeg: Record<string, string> = { open: 'overdue', in_progress: 'late', resolved: 'reviewed', dismissed: 'not_yet' };
  const n = (c: string | null, s: string | null) => counts.by_category
    .filter((x) => (c === null || x.category === c) && (s === null || x.status === s)).reduce((a, x) => a + x.count, 0);
  return (
    <div class="card cf-bars" id="cf-bars">
      {FINDING_CATEGORIES.map((c) => {
        const segs = FINDING_STATUSES.map((s) => ({ key: statusSeg[s]!, label: ft(statusKey(s)), value: n(c, s) }));
        return (
          <div class="cf-bar" key={c} data-category={c}>
            <span class="cf-bar-label">{ft(categoryKey(c))} <strong>{n(c, null)}</strong></span>
            <StackBar segments={segs} total={n(c, null)} />
          </div>
        );
      })}
      <Legend segments={FINDING_STATUSES.map((s) => ({ key: statusSeg[s]!, label: ft(statusKey(s)), value: n(null, s) }))} />
    </div>
  );
}

function FindingPane({ f, hq, t }: { f: RegisterRow; hq: boolean; t: (k: TextKey, ...a: (string | number)[]) => string }) {
  const { t: ft, rt, lang } = useCtx();
  const synced = useSyncStatus().lastSuccessAt;
  const server = useApi<{ items: { id: string; at: string | null; text: string; status_to: FindingStatus | null; author_name: string | null }[] }>(
    `/api/v1/reports/findings/${encodeURIComponent(f.id)}/follow-ups`, undefined, [f.id, synced]);
  // This device's follow-ups the server does not list yet.
  const mine = useData(async () => (await rt.records.followUps(f.id)).filter((x) => x.sync !== 'sent'), [f.id]);
  const follow = server.data && [
    ...server.data.items.map((x) => ({ ...x, at: x.at ?? '', sync: 'sent' as SyncMark })),
    ...(mine ?? []).filter((x) => !server.data!.items.some((y) => y.id === x.id)),
  ];
  const rights = useData(() => rt.records.findingRights(f, rt.user.roles ?? []), [f.id, f.department_id, f.author_id]);
  const today = localDate();
  return (
    <div class="stack" id="cf-detail" data-id={f.id}>
      <div class="card stack">
        <div class="row">
          <span class={`cat cat-${f.category}`}>{ft(categoryKey(f.category))}</span>
          <Badge mark={f.sync} />
        </div>
        {f.sync === 'refused' && (
          <div class="banner banner-error">{t('cf_refusedNote')} <a class="link-btn" href="#/sync">{t('cf_openSync')}</a></div>
        )}
        <LostNotices table="findings" rowId={f.id} />
        <p class="finding-text" id="cf-text">{f.text}</p>
        <p class="muted small">{[f.unit_name, f.campaign_name].filter(Boolean).join(' · ')}</p>
        <dl class="cf-facts">
          <div><dt>{t('status')}</dt><dd class={`fstatus fstatus-${f.status}`} id="cf-status-now">{ft(statusKey(f.status))}</dd></div>
          <div><dt>{t('field_department')}</dt><dd id="cf-department-now">{f.department_name ?? t('cf_unassigned')}</dd></div>
          <div><dt>{t('cf_due')}</dt><dd id="cf-due-now" class={isOverdue(f, today) ? 'err-text' : ''}>
            {f.due_on ? formatDate(f.due_on) : t('cf_noDue')}{isOverdue(f, today) ? ` (${t('overdue')})` : ''}</dd></div>
        </dl>
        {f.answer && <div><div class="field-label">{t('answerHint')}</div><p class="pre" id="cf-answer-now">{f.answer}</p></div>}
        <div class="small">
          <strong>{t('cf_source')}:</strong> <span id="cf-source">{sourceOf(f, t)}</span>{f.author_name ? ` · ${t('cf_author', f.author_name)}` : ''}
          {hq && <> · <a class="link-btn" href={href('history', 'findings', f.id)}>{t('cf_history')}</a></>}
        </div>
      </div>
      {rights?.triage && <Triage f={f} t={t} />}
      <div class="card stack">
        <h2>{t('followUps')}</h2>
        {server.error !== undefined && <Failed error={server.error} retry={server.reload} />}
        {follow && follow.length === 0 && <p class="muted">{t('noFollowUps')}</p>}
        <ul class="list" id="cf-followups">
          {(follow ?? []).map((x) => (
            <li class="list-item" key={x.id} data-followup={x.text}>
              <div>
                <div class="small muted">{formatDateTime(x.at, lang)} · {x.author_name ?? ''}</div>
                <div class="pre">{x.text}</div>
                {x.status_to && <div class="small"><strong>→ {ft(statusKey(x.status_to))}</strong></div>}
              </div>
              <Badge mark={x.sync} />
            </li>
          ))}
        </ul>
        {rights?.followUp && <AddFollowUp f={f} mayChangeStatus={rights.status} t={t} />}
        <p class="muted small">{t('cf_pendingNote')}</p>
      </div>
    </div>
  );
}

function AddFollowUp({ f, mayChangeStatus, t }: { f: RegisterRow; mayChangeStatus: boolean; t: (k: TextKey) => string }) {
  const { t: ft, rt } = useCtx();
  const [text, setText] = useState('');
  const [to, setTo] = useState<FindingStatus | ''>('');
  const add = async () => {
    if (!text.trim()) return;
    await rt.records.addFollowUp(f, text.trim(), to || null, mayChangeStatus, f.base);
    setText('');
    setTo('');
  };
  return (
    <div class="cform">
      <label class="field wide">
        <span class="field-label">{t('followUpText')}</span>
        <textarea class="input" id="cf-followup-text" rows={3} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
      </label>
      {mayChangeStatus && (
        <label class="field">
          <span class="field-label">{t('newStatus')}</span>
          <select class="input" id="cf-followup-status" value={to} onChange={(e) => setTo((e.target as HTMLSelectElement).value as FindingStatus | '')}>
            <option value="">{t('keepStatus')}</option>
            {FINDING_STATUSES.map((s) => <option key={s} value={s}>{ft(statusKey(s))}</option>)}
          </select>
        </label>
      )}
      <div class="cactions wide">
        <button class="btn btn-primary" id="cf-followup-add" disabled={!text.trim()} onClick={() => void add()}>{t('addFollowUp')}</button>
      </div>
    </div>
  );
}

/** Headquarters: the department in charge, the due date and the Office's proposed answer. */
function Triage({ f, t }: { f: RegisterRow; t: (k: TextKey) => string }) {
  const { rt } = useCtx();
  const departments = useData(() => rt.records.departments(), []);
  const [dept, setDept] = useState(f.department_id ?? '');
  const [due, setDue] = useState(f.due_on ?? '');
  const [answer, setAnswer] = useState(f.answer ?? '');
  const [saved, setSaved] = useState(false);
  const changed = dept !== (f.department_id ?? '') || due !== (f.due_on ?? '') || answer !== (f.answer ?? '');
  const save = async () => {
    const fields: { department_id?: string | null; due_on?: string | null; answer?: string } = {};
    if (dept !== (f.department_id ?? '')) fields.department_id = dept || null;
    if (due !== (f.due_on ?? '')) fields.due_on = due || null;
    if (answer !== (f.answer ?? '')) fields.answer = answer;
    await rt.records.triageFinding(f.id, fields, f.base);
    setSaved(true);
  };
  const edit = (fn: () => void) => {
    fn();
    setSaved(false);
  };
  return (
    <div class="card" id="cf-triage">
      <h2>{t('triage')}</h2>
      <div class="cform">
        <label class="field">
          <span class="field-label">{t('field_department')}</span>
          <select class="input" id="cf-triage-department" value={dept} onChange={(e) => edit(() => setDept((e.target as HTMLSelectElement).value))}>
            <option value="">{t('cf_unassigned')}</option>
            {(departments ?? []).map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}
          </select>
        </label>
        <label class="field">
          <span class="field-label">{t('cf_due')}</span>
          <input class="input" type="date" id="cf-triage-due" value={due} onInput={(e) => edit(() => setDue((e.target as HTMLInputElement).value))} />
          {due && due !== (f.due_on ?? '') && due < localDate() && <div class="fault">{t('cf_dueBeforeToday')}</div>}
        </label>
        <label class="field wide">
          <span class="field-label">{t('answerHint')}</span>
          <textarea class="input" id="cf-triage-answer" rows={4} value={answer} onInput={(e) => edit(() => setAnswer((e.target as HTMLTextAreaElement).value))} />
        </label>
      </div>
      <div class="cactions">
        <button class="btn btn-primary" id="cf-triage-save" disabled={!changed} onClick={() => void save()}>{t('saveTriage')}</button>
      </div>
      <p class="muted small" aria-live="polite" id="cf-triage-state">{saved && f.sync !== 'sent' ? t('cf_savedPending') : ''}</p>
    </div>
  );
}

export const route: ConsoleRoute = {
  id: 'findings', label: 'nav_findings', icon: '⚑', roles: REGISTER_ROLES, nav: true, component: Findings,
};
