// Hàng chờ duyệt: notes waiting for review, oldest first, read from the
// server page by page (GET /api/v1/reports/notes), with the note open on
// the right. A decision is written as the phone writes it, into the
// device store and its outbox (Records.review), so it is never silently
// lost, and shows as waiting to be sent until the server has it.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { NOTE_SECTIONS } from '../store/records';
import { ALL_SEEING_ROLES } from '../store/plan.gen';
import { useCtx, useData } from '../ui/context';
import { formatDate, formatDateTime } from '../ui/i18n';
import { useApi, type Query } from './api';
import { notesPage, reviewRounds, type NoteDetail, type NoteItem, type NotePage, type NoteStatus } from './notes';
import { href } from './paths';
import type { ConsoleRoute, ScreenProps } from './routes';
import { queueText, translate, useText, type SharedKey, type Tr } from './text';
import { refusalExplanation } from '../ui/refusal';
import { Empty, Failed, Loading, Page } from './ui';

const PAGE = 50;
/** The statuses a reviewer lists: every note handed in (drafts are their author's own). */
const HANDED_IN: NoteStatus[] = ['submitted', 'needs_revision', 'reviewed'];
const FILTERS = ['campaign_id', 'round', 'cluster_id', 'unit_id', 'team_id', 'author_id', 'from', 'to', 'q'] as const;
const SEARCH_DELAY_MS = 350;

type T = Tr<keyof typeof queueText | SharedKey>;

/** A decision this device holds for a note: waiting in the outbox, refused, or acknowledged. */
interface LocalDecision {
  status: NoteStatus;
  state: 'pending' | 'refused' | 'sent';
  /** Why the server refused it (protocol Result code and field), for a refused one. */
  refusal?: { code: string; field: string | null };
}

interface Named {
  id: string;
  name: string;
}

function Queue({ params }: ScreenProps) {
  const { session, rt } = useCtx();
  const t = useText(queueText) as T;
  const status = params.get('status') ?? 'submitted';
  const selected = params.get('note') ?? '';
  const query: Query = { status: status === 'all' ? HANDED_IN : status };
  for (const k of FILTERS) query[k] = params.get(k) ?? '';
  const key = JSON.stringify(query);

  // The list: the first page on every change of filter, then "Xem thêm".
  const [list, setList] = useState<{ key: string; page?: NotePage; items: NoteItem[]; error?: unknown; loading: boolean }>(
    { key: '', items: [], loading: true });
  const [reload, setReload] = useState(0);
  useEffect(() => {
    let alive = true;
    setList((l) => ({ key, items: l.key === key ? l.items : [], page: l.key === key ? l.page : undefined, loading: true }));
    notesPage(session, { ...query, limit: String(PAGE) }).then(
      (page) => alive && setList({ key, page, items: page.items, loading: false }),
      (error) => alive && setList({ key, items: [], error, loading: false }),
    );
    return () => {
      alive = false;
    };
  }, [key, reload]);
  // What the list shows: only a list read for this filter. Effects run
  // after paint, so for a moment after the filter changes the state still
  // holds the previous filter's list; it is not shown as this one's.
  const shown: typeof list = list.key === key ? list : { key, items: [], loading: true };
  const more = async () => {
    const cursor = list.page?.next_cursor;
    if (!cursor || list.loading) return;
    setList((l) => ({ ...l, loading: true }));
    try {
      const page = await notesPage(session, { ...query, limit: String(PAGE), cursor });
      setList((l) => (l.key === key ? { ...l, page, items: [...l.items, ...page.items.filter((n) => !l.items.some((x) => x.id === n.id))], loading: false } : l));
    } catch (error) {
      setList((l) => ({ ...l, error, loading: false }));
    }
  };

  // Decisions this device holds, from its outbox and rejected list, and
  // the ones made here since the queue opened (acknowledged ones stay
  // marked: the listed page still has the status it was read with).
  // A decision made here is about the hand-in it was made on: once the
  // author hands the note in again, the listed note is a new round.
  const [decidedHere, setDecidedHere] = useState<Map<string, { status: NoteStatus; round: string | null }>>(new Map());
  const local = useData(() => localDecisions(rt.store.db), []);
  const decision = (n: NoteItem): LocalDecision | undefined => {
    const l = local?.get(n.id);
    if (l) return l;
    const s = decidedHere.get(n.id);
    return s && s.round === n.submitted_at ? { status: s.status, state: 'sent' } : undefined;
  };
  const open = (id: string) => setParam('note', id);
  const onDecided = (id: string, s: NoteStatus) => {
    const i = list.items.findIndex((n) => n.id === id);
    const next = new Map(decidedHere).set(id, { status: s, round: list.items[i]?.submitted_at ?? null });
    setDecidedHere(next);
    const waiting = (n: NoteItem) => n.status === 'submitted' && n.id !== id && !decision(n) && !next.has(n.id);
    const after = list.items.slice(i + 1).find(waiting) ?? list.items.slice(0, Math.max(0, i)).find(waiting);
    setParam('note', after?.id ?? '');
  };

  // The open note stays open when a refreshed list no longer holds it
  // (decided meanwhile, or filtered out).
  const shownItem = useRef<NoteItem | undefined>(undefined);
  const current = shown.items.find((n) => n.id === selected) ?? (shownItem.current?.id === selected ? shownItem.current : undefined);
  shownItem.current = current;
  const filtered = FILTERS.some((k) => params.get(k)) || status !== 'submitted';
  const campaignId = params.get('campaign_id') ?? '';
  return (
    <Page title={t('q_title')} id="queue" class={selected ? 'q-root q-has-note' : 'q-root'} actions={
      campaignId
        ? <a class="c-btn c-btn-secondary" id="open-report" href={href('report', campaignId)}>{t('q_openReport')}</a>
        : <span class="small muted" id="report-hint">{t('q_reportNeedsCampaign')}</span>
    }>
      <Filters params={params} t={t} />
      <div class="q-summary">
        {shown.page && <Counts page={shown.page} shown={shown.items.length} t={t} />}
        <button class="c-btn c-btn-ghost" id="queue-refresh" disabled={shown.loading} onClick={() => setReload(reload + 1)}>{t('q_refresh')}</button>
      </div>
      <div class={`q-panes ${selected ? 'q-has-note' : ''}`}>
        <div class="q-list-pane">
          {shown.error !== undefined && <Failed error={shown.error} retry={() => setReload(reload + 1)} />}
          {!shown.page && shown.loading && <Loading />}
          {shown.page && shown.items.length === 0 && <Empty>{filtered ? t('q_emptyFiltered') : t('q_empty')}</Empty>}
          <ul class="q-list" id="queue-list">
            {shown.items.map((n) => <Row key={n.id} n={n} on={n.id === selected} d={decision(n)} t={t} onOpen={() => open(n.id)} />)}
          </ul>
          {shown.page?.next_cursor && (
            <button class="c-btn c-btn-ghost q-more" id="queue-more" disabled={shown.loading} onClick={() => void more()}>
              {shown.loading ? t('loading') : t('loadMore')}
            </button>
          )}
        </div>
        <div class="q-note-pane" id="note-pane">
          {selected && (
            <button class="c-btn c-btn-ghost q-back" id="queue-back" onClick={() => setParam('note', '')}>‹ {t('q_backToList')}</button>
          )}
          {selected && current
            ? <NotePane key={selected} item={current} d={decision(current)} t={t} onDecided={onDecided} />
            : <Empty>{list.items.length > 0 && list.items.every((n) => n.status !== 'submitted' || decision(n)) && status === 'submitted'
              ? t('q_done') : t('q_pick')}</Empty>}
        </div>
      </div>
    </Page>
  );
}

/** Sets one query parameter of the console address (empty removes it). */
function setParam(k: string, v: string, replace = false): void {
  const [path, q] = location.hash.split('?');
  const p = new URLSearchParams(q ?? '');
  if ((p.get(k) ?? '') === v) return;
  if (v) p.set(k, v);
  else p.delete(k);
  // The open note stays open across a change of filter, even if the new
  // list no longer holds it (see shownItem).
  const s = p.toString();
  const next = `${path}${s ? '?' + s : ''}`;
  if (replace) location.replace(next);
  else location.hash = next;
}

/** The decisions waiting in the outbox or refused, by note, read from the device store. */
async function localDecisions(db: import('../db/client').Db): Promise<Map<string, LocalDecision>> {
  const out = new Map<string, LocalDecision>();
  const rows = await db.query<{ row_id: string; fields: string; kind: string; code: string; field: string | null }>(
    `SELECT row_id, fields, 'pending' AS kind, '' AS code, NULL AS field FROM outbox WHERE tbl = 'visit_notes'
     UNION ALL SELECT row_id, fields, 'refused', code, field FROM rejected WHERE tbl = 'visit_notes'`);
  for (const r of rows) {
    const f = JSON.parse(r.fields) as Record<string, unknown>;
    if (f.status !== 'needs_revision' && f.status !== 'reviewed') continue;
    out.set(r.row_id, r.kind === 'refused'
      ? { status: f.status, state: 'refused', refusal: { code: r.code, field: r.field } }
      : { status: f.status, state: 'pending' });
  }
  return out;
}

function Filters({ params, t }: { params: URLSearchParams; t: T }) {
  const campaigns = useApi<{ items: (Named & { kind: string; starts_on: string | null })[] }>('/api/v1/campaigns', undefined, []);
  const clusters = useApi<{ items: Named[] }>('/api/v1/clusters', undefined, []);
  const units = useApi<{ items: Named[] }>('/api/v1/units', undefined, []);
  const teams = useApi<{ items: (Named & { campaign_id: string })[] }>('/api/v1/teams', undefined, []);
  const users = useApi<{ items: { id: string; full_name: string; username: string; roles: string[] }[] }>('/api/v1/users', undefined, []);
  const [q, setQ] = useState(params.get('q') ?? '');
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  const typed = (v: string) => {
    setQ(v);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => setParam('q', v.trim(), true), SEARCH_DELAY_MS);
  };
  const campaignId = params.get('campaign_id') ?? '';
  const byName = <X extends { name: string }>(xs: X[] | undefined) => [...(xs ?? [])].sort((a, b) => a.name.localeCompare(b.name, 'vi'));
  const select = (k: string, label: string, options: { v: string; l: string }[], any = t('q_any')) => (
    <label class="c-label">
      {label}
      <select class="c-input" id={`f-${k}`} value={params.get(k) ?? ''} onChange={(e) => setParam(k, (e.target as HTMLSelectElement).value)}>
        <option value="">{any}</option>
        {options.map((o) => <option key={o.v} value={o.v}>{o.l}</option>)}
      </select>
    </label>
  );
  const authors = (users.data?.items ?? []).filter((u) => !u.roles.every((r) => ALL_SEEING_ROLES.includes(r)))
    .map((u) => ({ v: u.id, l: u.full_name || u.username })).sort((a, b) => a.l.localeCompare(b.l, 'vi'));
  const anyFilter = FILTERS.some((k) => params.get(k)) || (params.get('status') ?? 'submitted') !== 'submitted';
  // On a phone or tablet the filters beyond search and status fold away.
  const active = FILTERS.filter((k) => k !== 'q' && params.get(k)).length;
  const [more, setMore] = useState(false);
  return (
    <div class="q-filters" role="search">
      <label class="c-label q-search">
        {t('q_search')}
        <input class="c-input" type="search" id="f-q" value={q} placeholder={t('q_searchHint')}
          onInput={(e) => typed((e.target as HTMLInputElement).value)} />
      </label>
      <label class="c-label">
        {t('status')}
        <select class="c-input" id="f-status" value={params.get('status') ?? 'submitted'} onChange={(e) => setParam('status', (e.target as HTMLSelectElement).value)}>
          <option value="submitted">{t('note_submitted')}</option>
          <option value="needs_revision">{t('note_needs_revision')}</option>
          <option value="reviewed">{t('note_reviewed')}</option>
          <option value="all">{t('q_statusHandedIn')}</option>
        </select>
      </label>
      <button class="c-btn c-btn-ghost q-filter-toggle" id="f-more" aria-expanded={more} aria-controls="f-extra" onClick={() => setMore(!more)}>
        {active > 0 ? t('q_moreFiltersOn', active) : t('q_moreFilters')}
      </button>
      <div class={`q-extra ${more ? 'open' : ''}`} id="f-extra">
        {select('campaign_id', t('q_campaign'), (campaigns.data?.items ?? []).map((c) => ({ v: c.id, l: c.name })))}
        {select('round', t('q_round'), (['periodic', 'thematic', 'special'] as const).map((r) => ({ v: r, l: t(`q_round_${r}`) })))}
        {select('cluster_id', t('q_cluster'), byName(clusters.data?.items).map((c) => ({ v: c.id, l: c.name })))}
        {select('unit_id', t('unit'), byName(units.data?.items).map((u) => ({ v: u.id, l: u.name })))}
        {select('team_id', t('field_team'), byName((teams.data?.items ?? []).filter((x) => !campaignId || x.campaign_id === campaignId))
          .map((x) => ({ v: x.id, l: x.name })))}
        {select('author_id', t('author'), authors)}
        <label class="c-label">
          {t('startsOn')}
          <input class="c-input" type="date" id="f-from" value={params.get('from') ?? ''} onChange={(e) => setParam('from', (e.target as HTMLInputElement).value)} />
        </label>
        <label class="c-label">
          {t('endsOn')}
          <input class="c-input" type="date" id="f-to" value={params.get('to') ?? ''} onChange={(e) => setParam('to', (e.target as HTMLInputElement).value)} />
        </label>
      </div>
      {anyFilter && (
        <button class="c-btn c-btn-ghost q-clear" id="f-clear" onClick={() => {
          setQ('');
          location.hash = '#/console/queue';
        }}>{t('q_clear')}</button>
      )}
    </div>
  );
}

function Counts({ page, shown, t }: { page: NotePage; shown: number; t: T }) {
  const c = page.counts;
  return (
    <div class="q-counts" id="queue-counts">
      <strong id="queue-total" data-total={c.total}>{t('q_total', c.total)}</strong>
      {shown < c.total && <span class="muted small"> ({t('q_shown', shown)})</span>}
      {c.campaigns.length > 0 && (
        <ul class="q-count-list" aria-label={t('q_byCampaign')}>
          {c.campaigns.map((x) => (
            <li key={x.id ?? ''}>
              {x.id
                ? <button class="q-chip" data-campaign-count={x.name ?? ''} onClick={() => setParam('campaign_id', x.id ?? '')}>{x.name} <b>{x.count}</b></button>
                : <span class="q-chip">{t('noCampaign')} <b>{x.count}</b></span>}
            </li>
          ))}
        </ul>
      )}
      {c.units.length > 0 && (
        <details class="q-units">
          <summary>{t('q_byUnit', c.units.length)}</summary>
          <ul class="q-count-list">
            {c.units.map((x) => (
              <li key={x.id ?? ''}>
                <button class="q-chip" data-unit-count={x.name ?? ''} onClick={() => setParam('unit_id', x.id ?? '')}>{x.name} <b>{x.count}</b></button>
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}

function daysSince(iso: string | null): number | null {
  if (!iso) return null;
  return Math.max(0, Math.floor((Date.now() - new Date(iso).getTime()) / 86_400_000));
}

function Row({ n, on, d, t, onOpen }: { n: NoteItem; on: boolean; d: LocalDecision | undefined; t: T; onOpen: () => void }) {
  const wait = n.status === 'submitted' ? daysSince(n.submitted_at) : null;
  return (
    <li>
      <button class={`q-row ${on ? 'on' : ''}`} data-note={n.id} data-title={n.title} aria-current={on ? 'true' : undefined} onClick={onOpen}>
        <span class="q-row-top">
          <strong class="q-row-title">{n.title || t('q_untitled')}</strong>
          <StatusPills status={n.status} d={d} t={t} />
        </span>
        <span class="q-row-meta">{n.unit.name}{n.campaign ? ` · ${n.campaign.name}` : ''}</span>
        <span class="q-row-meta muted">
          {n.author.full_name}{n.team ? ` · ${n.team.name}` : ''}
          {n.visit_date ? ` · ${formatDate(n.visit_date)}` : ''}
          {wait !== null ? ` · ${wait === 0 ? t('q_waitingToday') : t('q_waiting', wait)}` : ''}
          {n.findings > 0 ? ` · ${t('findingsCount', n.findings)}` : ''}
        </span>
      </button>
    </li>
  );
}

/** The note's status as listed, or the decision this device holds for it. */
function StatusPills({ status, d, t }: { status: NoteStatus; d: LocalDecision | undefined; t: T }) {
  if (!d) return <span class={`c-pill c-pill-${status}`} data-status={status}>{t(`note_${status}`)}</span>;
  return (
    <span class="q-pills">
      <span class={`c-pill c-pill-${d.status}`} data-status={d.status}>{t(`note_${d.status}`)}</span>
      <span class={`c-pill c-pill-${d.state === 'sent' ? 'reviewed' : d.state}`} data-decision={d.state}
        title={d.state === 'refused' ? t('q_refusedHint') : undefined}>
        {d.state === 'pending' ? t('q_pending') : d.state === 'refused' ? t('sync_refused') : t('q_sent')}
      </span>
    </span>
  );
}

function NotePane({ item, d, t, onDecided }: {
  item: NoteItem;
  d: LocalDecision | undefined;
  t: T;
  onDecided: (id: string, s: NoteStatus) => void;
}) {
  const { rt, lang } = useCtx();
  // The note as the server holds it, with its findings, photos and every
  // review round, in one read; its base goes with the decision.
  const detail = useApi<NoteDetail>(`/api/v1/reports/notes/${encodeURIComponent(item.id)}`, undefined, [item.id, d?.state]);
  const body = detail.data;
  const status: NoteStatus = d?.status ?? body?.note.status ?? item.status;
  // This device's decisions on the note still waiting in its outbox.
  const pendingRounds = useData(async () => {
    const rounds = await rt.records.reviewRounds(item.id);
    const queued = new Set((await rt.store.db.query<{ row_id: string }>(
      "SELECT row_id FROM outbox WHERE tbl = 'reviews'")).map((r) => r.row_id));
    return rounds.filter((r) => queued.has(r.id));
  }, [item.id, d?.state]);
  const rounds = reviewRounds(body?.reviews ?? [], pendingRounds ?? [], body?.handed_in ?? []);
  const c = item.campaign;
  const who = (id: string, name: string) => (id === rt.user.id ? (name ? `${name} (${t('q_you')})` : t('q_you')) : name);
  return (
    <article class="q-note" id="note-view" data-note={item.id} data-status={status}>
      <header class="q-note-head">
        <h2 id="note-title">{item.title || t('q_untitled')}</h2>
        <StatusPills status={status} d={d} t={t} />
      </header>
      <dl class="q-facts">
        <div><dt>{t('unit')}</dt><dd id="note-unit">{item.unit.name}</dd></div>
        <div><dt>{t('q_campaign')}</dt><dd id="note-campaign">{c ? c.name : t('noCampaign')}</dd></div>
        {c && (c.starts_on || c.ends_on) && <div><dt>{t('q_window')}</dt><dd>{formatDate(c.starts_on)} – {formatDate(c.ends_on)}</dd></div>}
        <div><dt>{t('q_visitDate')}</dt><dd id="note-visit-date">{item.visit_date ? formatDate(item.visit_date) : '—'}</dd></div>
        <div><dt>{t('author')}</dt><dd id="note-author">{item.author.full_name}</dd></div>
        <div><dt>{t('field_team')}</dt><dd id="note-team">{item.team?.name ?? '—'}</dd></div>
        {item.submitted_at && <div><dt>{t('q_submittedAt')}</dt><dd>{formatDateTime(item.submitted_at, lang)}</dd></div>}
      </dl>
      <p class="q-note-links">
        <a href={href('history', 'visit_notes', item.id)} id="note-history">{t('q_history')} ›</a>
      </p>
      {d?.refusal && (
        // Why, in words (the field app's explanation of a refused change),
        // and where to send it again.
        <div class="banner banner-error" role="alert" id="decision-refused" data-code={d.refusal.code}>
          {t('q_refusedWhy', refusalExplanation((k, ...a) => translate(lang, k, ...a), 'visit_notes', d.refusal.code, d.refusal.field))}
          {' '}<a class="link-btn" href="#/sync" id="decision-refused-sync">{t('q_openSync')}</a>
        </div>
      )}

      <section class="q-section">
        <h3>{t('q_sections')}</h3>
        {detail.error !== undefined && <Failed error={detail.error} retry={detail.reload} />}
        {!body && detail.error === undefined && <Loading />}
        {body && NOTE_SECTIONS.map((s) => {
          const text = String(body.content[s] ?? '').trim();
          return (
            <div class="q-part" key={s} data-section={s}>
              <h4>{t(`section_${s}`)}</h4>
              {text ? <p class="pre">{text}</p> : <p class="muted">{t('q_emptySection')}</p>}
            </div>
          );
        })}
      </section>

      <section class="q-section">
        <h3>{t('findings')}</h3>
        {body && body.findings.length === 0 && <p class="muted">{t('q_noFindings')}</p>}
        <ul class="q-findings" id="note-findings">
          {(body?.findings ?? []).map((f) => (
            <li key={f.id} data-finding={f.id}>
              <span class={`cat cat-${f.category}`}>{t(`cat_${f.category}` as 'cat_model')}</span>
              <span class="muted small"> · {t(`finding_${f.status}` as 'finding_open')}{f.department_name ? ` · ${f.department_name}` : ''}</span>
              <p class="pre">{f.text}</p>
              <a class="small" href={href('history', 'findings', f.id)}>{t('q_history')} ›</a>
            </li>
          ))}
        </ul>
      </section>

      {body && <Photos attachments={body.attachments} checkins={body.checkin_photos} t={t} />}

      <section class="q-section">
        <h3>{t('q_rounds')}</h3>
        {body && rounds.length === 0 && <p class="muted">{t('q_noRounds')}</p>}
        <ol class="q-rounds" id="note-rounds">
          {rounds.map((r, i) => (
            <li key={i} data-round={r.status} data-pending={r.pending ? '1' : undefined}>
              <span class="muted small">{formatDateTime(r.at, lang)}</span>
              {' · '}<strong>{t(`q_round_${r.status}` as 'q_round_reviewed')}</strong>
              {(r.name || r.user_id === rt.user.id) && <span> · {who(r.user_id ?? '', r.name ?? '')}</span>}
              {r.pending && <> · <span class="c-pill c-pill-pending">{t('q_pending')}</span></>}
              {r.comment && <p class="pre q-round-comment">{r.comment}</p>}
            </li>
          ))}
        </ol>
      </section>

      {/* Last, and kept in sight while the note scrolls above it. */}
      <Decision key={`${item.id}:${d?.status ?? ''}:${d?.state ?? ''}`} item={item} status={status} base={body?.base} t={t} onDecided={onDecided} />
    </article>
  );
}

/**
 * The reviewer's decision. The comment box starts empty for every note and
 * after every decision (the component is keyed by both): a comment is
 * never carried over from an earlier round or another note.
 */
function Decision({ item, status, base, t, onDecided }: {
  item: NoteItem;
  status: NoteStatus;
  /** The note's base from the read shown (undefined until it is loaded: no decision before the reviewer sees the note). */
  base: string | undefined;
  t: T;
  onDecided: (id: string, s: NoteStatus) => void;
}) {
  const { rt } = useCtx();
  const [comment, setComment] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const box = useRef<HTMLTextAreaElement>(null);
  if (item.author.id === rt.user.id) return <p class="banner banner-info" id="decision-own">{t('q_ownNote')}</p>;
  if (status !== 'submitted') return <p class="banner banner-info" id="decision-done">{t('q_decided', t(`note_${status}`))}</p>;
  const decide = async (s: 'needs_revision' | 'reviewed') => {
    const text = comment.trim();
    if (s === 'needs_revision' && !text) {
      setError(t('q_commentRequired'));
      box.current?.focus();
      return;
    }
    setBusy(true);
    try {
      // The same write as the phone's ReviewPanel: status, comment and
      // reviewer, and the review round, in one outbox batch. This device
      // does not pull notes (headquarters read them here): the change
      // carries the base of the read shown, so the server orders it after
      // what the reviewer saw and nothing else (docs/protocol.md, Merge).
      await rt.records.review(item.id, s, text, base);
      void rt.sync.run();
      onDecided(item.id, s);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="q-decision" id="decision">
      <h3>{t('field_decision')}</h3>
      <label class="c-label" for="decision-comment">{t('q_comment')}</label>
      <textarea class="c-input q-comment" id="decision-comment" ref={box} rows={3} value={comment} aria-describedby="decision-hint"
        onInput={(e) => {
          setComment((e.target as HTMLTextAreaElement).value);
          setError('');
        }} />
      <p class="small muted" id="decision-hint">{t('q_commentHint')}</p>
      {error && <p class="err-text" role="alert" id="decision-error">{error}</p>}
      <div class="q-decision-buttons">
        <button class="c-btn c-btn-danger" id="decide-revise" disabled={busy || !base} onClick={() => void decide('needs_revision')}>{t('q_sendBack')}</button>
        <button class="c-btn c-btn-primary" id="decide-approve" disabled={busy || !base} onClick={() => void decide('reviewed')}>{t('q_approve')}</button>
      </div>
    </section>
  );
}

/**
 * The note's own photos, and the author's check-in photos at the unit the
 * reader may see, each fetched from the server with the session's token
 * (GET /api/v1/attachments/{sha256}).
 */
function Photos({ attachments, checkins, t }: { attachments: string[]; checkins: { sha256: string; at: string }[]; t: T }) {
  const shas = useMemo(() => attachments.filter((s) => /^[0-9a-f]{64}$/.test(s)), [attachments.join()]);
  if (shas.length === 0 && checkins.length === 0) return null;
  return (
    <section class="q-section" id="note-photos">
      {shas.length > 0 && (
        <>
          <h3>{t('notePhotos')}</h3>
          <div class="q-photos">{shas.map((s) => <Photo key={s} sha={s} t={t} />)}</div>
        </>
      )}
      {checkins.length > 0 && (
        <>
          <h3>{t('q_checkinPhotos')}</h3>
          <div class="q-photos">{checkins.map((c) => <Photo key={c.sha256} sha={c.sha256} caption={c.at} t={t} />)}</div>
        </>
      )}
    </section>
  );
}

function Photo({ sha, caption, t }: { sha: string; caption?: string; t: T }) {
  const { session, lang } = useCtx();
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let alive = true;
    let made = '';
    session.fetch(`/api/v1/attachments/${sha}`).then(async (res) => {
      if (!res.ok) throw new Error(String(res.status));
      made = URL.createObjectURL(await res.blob());
      if (alive) setUrl(made);
      else URL.revokeObjectURL(made);
    }).catch(() => alive && setFailed(true));
    return () => {
      alive = false;
      if (made) URL.revokeObjectURL(made);
    };
  }, [sha]);
  return (
    <figure class="q-photo" data-photo={sha}>
      {url ? <a href={url} target="_blank" rel="noopener"><img src={url} alt={caption ? formatDateTime(caption, lang) : ''} /></a>
        : <div class="q-photo-empty">{failed ? t('q_photoFailed') : t('loading')}</div>}
      {caption && <figcaption class="small muted">{formatDateTime(caption, lang)}</figcaption>}
    </figure>
  );
}

export const route: ConsoleRoute = {
  id: 'queue', label: 'nav_queue', icon: '☰', roles: ALL_SEEING_ROLES, nav: true, component: Queue,
};

