// Lịch sử: a note's or finding's per-field history and its concurrent
// edits, from GET /api/v1/history/{table}/{id} and GET /api/v1/conflicts:
// who changed what, from which device, what was overwritten or lost.
import { useEffect, useState } from 'preact/hooks';
import { ALL_SEEING_ROLES } from '../store/plan.gen';
import { PURPOSES } from '../store/records';
import { ApiError, readError } from '../sync/session';
import { useCtx } from '../ui/context';
import { formatDateTime, translate as uiTranslate, type Key } from '../ui/i18n';
import { fieldLabel } from '../ui/refusal';
import { getJSON, namesOf } from './api';
import { foldHistory, rowHistory, type HistoryEntry } from './notes';
import type { ConsoleRoute, ScreenProps } from './routes';
import { historyText, translate, useText, type SharedKey, type Tr } from './text';
import { Empty, Failed, Loading, Page } from './ui';

type T = Tr<keyof typeof historyText | SharedKey>;

/** A pair of concurrent writes of one field (server/api/audit.go, conflictJSON). */
interface Conflict {
  id: number;
  field: string;
  winner_value: string | null;
  winner_hlc: string;
  winner_user: string | null;
  winner_device: string | null;
  loser_value: string | null;
  loser_hlc: string;
  loser_user: string | null;
  loser_device: string | null;
  detected_at: string;
  resolved_at: string | null;
  resolved_by: string | null;
}

/** Fields whose values are user ids, shown by name. */
const PEOPLE = new Set(['author_id', 'reviewed_by', 'user_id', 'leader_id']);

function History({ path }: ScreenProps) {
  const { session, lang, rt } = useCtx();
  const t = useText(historyText) as T;
  const [table = '', id = ''] = path;
  const [state, setState] = useState<{ items?: HistoryEntry[]; conflicts?: Conflict[]; error?: unknown; missing?: boolean }>({});
  const [names, setNames] = useState<Map<string, string>>(new Map());
  const [n, setN] = useState(0);
  // Names of the rows a change points at (unit, campaign, department).
  const [refs, setRefs] = useState<Map<string, string>>(new Map());
  useEffect(() => {
    let alive = true;
    Promise.all(['units', 'campaigns', 'departments'].map((x) =>
      getJSON<{ items: { id: string; name: string }[] }>(session, `/api/v1/${x}`).then((r) => r.items, () => [])))
      .then((lists) => alive && setRefs(new Map(lists.flat().map((x) => [x.id, x.name]))));
    return () => {
      alive = false;
    };
  }, []);
  useEffect(() => {
    let alive = true;
    setState({});
    Promise.all([
      rowHistory(session, table, id).catch((e) => {
        if (e instanceof ApiError && e.status === 404 && e.code !== 'unknown_table') return { items: [] as HistoryEntry[] };
        throw e;
      }),
      getJSON<{ items: Conflict[] }>(session, '/api/v1/conflicts', { table, row_id: id, limit: '200' }),
    ]).then(([h, c]) => alive && setState({ items: h.items, conflicts: c.items }), (error) => alive && setState({ error }));
    namesOf(session).then((m) => alive && setNames(m), () => undefined);
    return () => {
      alive = false;
    };
  }, [table, id, n]);

  const ui = (k: Key, ...a: (string | number)[]) => uiTranslate(lang, k, ...a);
  const label = (f: string) => fieldLabel(ui, table, f);
  const person = (u: string | null) => (u ? names.get(u) ?? u.slice(0, 8) : t('h_server'));
  const device = (d: string | null) => (!d ? '' : d === rt.deviceId ? t('h_thisDevice') : d.startsWith('server') ? t('h_server') : <code>{d.slice(0, 8)}</code>);
  const value = (f: string, v: unknown): string => {
    if (v === null || v === undefined || v === '') return t('h_empty');
    if (Array.isArray(v)) return v.length ? v.map(String).join(', ') : t('h_empty');
    if (PEOPLE.has(f) && typeof v === 'string') return names.get(v) ?? v;
    if (typeof v === 'string' && refs.has(v)) return refs.get(v)!;
    if ((f === 'kind' || f === 'purpose') && (PURPOSES as readonly unknown[]).includes(v)) return ui(`purpose_${String(v)}` as Key);
    // Unknown values come back as their key: shown as the wire value.
    if (f === 'status' || f === 'status_to') {
      const k = `${table === 'visit_notes' ? 'note' : 'finding'}_${String(v)}`;
      const s = translate(lang, k);
      return s === k ? String(v) : s;
    }
    if (f === 'category') {
      const s = translate(lang, `cat_${String(v)}`);
      return s === `cat_${String(v)}` ? String(v) : s;
    }
    return String(v);
  };
  const row = state.items ? foldHistory(state.items).fields : {};
  const name = String(row.title ?? row.text ?? '').slice(0, 80) || id.slice(0, 8);
  const title = table === 'visit_notes' ? t('h_of_visit_notes', name) : table === 'findings' ? t('h_of_findings', name) : t('h_of_other', table, name);
  return (
    <Page title={t('h_title')} id="history" actions={<button class="c-btn c-btn-ghost" onClick={() => history.back()}>‹ {t('back')}</button>}>
      <p class="h-subject" id="history-subject"><strong>{title}</strong></p>
      <p class="muted small">{t('h_intro')}</p>
      {state.error !== undefined && (state.error instanceof ApiError && state.error.code === 'unknown_table'
        ? <Empty>{t('h_unknownTable')}</Empty>
        : <Failed error={state.error} retry={() => setN(n + 1)} />)}
      {!state.items && state.error === undefined && <Loading />}
      {state.items && state.items.length === 0 && <Empty>{t('h_noHistory')}</Empty>}
      {state.items && state.items.length > 0 && (
        <section class="h-section">
          <h2>{t('h_changes', state.items.length)}</h2>
          <div class="h-scroll">
            <table class="c-table h-table" id="history-table">
              <thead><tr><th>{t('h_when')}</th><th>{t('h_who')}</th><th>{t('h_device')}</th><th>{t('h_what')}</th></tr></thead>
              <tbody>
                {state.items.map((e, i) => (
                  <tr key={e.seq} data-seq={e.seq}>
                    <td class="h-when">{formatDateTime(e.received_at, lang)}</td>
                    <td data-user={e.user_id ?? ''}>{person(e.user_id)}</td>
                    <td class="h-device" title={e.device_id}>{device(e.device_id)}</td>
                    <td>
                      {e.op === 'delete' && <strong>{t('h_deleted')}</strong>}
                      {e.op !== 'delete' && i === 0 && <strong class="h-created">{t('h_created')}</strong>}
                      <ul class="h-fields">
                        {Object.entries(e.applied ?? {}).map(([f, v]) => (
                          <li key={f} data-field={f}>
                            <span class="h-field">{label(f)}:</span> <span class="pre h-new">{value(f, v)}</span>
                            {f in (e.previous ?? {}) && (
                              <span class="h-prev"> ({t('h_overwrote')} <span class="pre">{value(f, e.previous[f])}</span>)</span>
                            )}
                          </li>
                        ))}
                      </ul>
                      {Object.keys(e.lost ?? {}).length > 0 && (
                        <div class="h-lost" data-lost="1">
                          <strong>{t('h_lost')}</strong>
                          <ul class="h-fields">
                            {Object.entries(e.lost).map(([f, v]) => (
                              <li key={f} data-field={f}><span class="h-field">{label(f)}:</span> <span class="pre">{value(f, v)}</span></li>
                            ))}
                          </ul>
                        </div>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
      {state.conflicts && (
        <section class="h-section" id="history-conflicts">
          <h2>{t('h_conflicts', state.conflicts.length)}</h2>
          {state.conflicts.length === 0 ? <p class="muted">{t('h_noConflicts')}</p> : <p class="muted small">{t('h_conflictIntro')}</p>}
          <ul class="h-conflicts">
            {state.conflicts.map((c) => (
              <li key={c.id} data-conflict={c.id} class={c.resolved_at ? 'h-resolved' : ''}>
                <div><strong>{label(c.field)}</strong> · <span class="muted small">{t('h_detected', formatDateTime(c.detected_at, lang))}</span></div>
                <div class="h-pair">
                  <div><span class="c-pill c-pill-reviewed">{t('h_kept')}</span> {person(c.winner_user)} · {device(c.winner_device)}
                    <p class="pre">{value(c.field, parsed(c.winner_value))}</p></div>
                  <div><span class="c-pill c-pill-needs_revision">{t('h_dropped')}</span> {person(c.loser_user)} · {device(c.loser_device)}
                    <p class="pre">{value(c.field, parsed(c.loser_value))}</p></div>
                </div>
                {c.resolved_at
                  ? <p class="small muted">{t('h_resolved', formatDateTime(c.resolved_at, lang))}{c.resolved_by ? ` · ${person(c.resolved_by)}` : ''}</p>
                  : <Resolve id={c.id} t={t} onDone={() => setN(n + 1)} />}
              </li>
            ))}
          </ul>
        </section>
      )}
    </Page>
  );
}

/** Conflict values are stored as text: JSON for lists, the plain value otherwise. */
function parsed(v: string | null): unknown {
  if (v === null) return null;
  if (v.startsWith('[')) {
    try {
      return JSON.parse(v);
    } catch {
      return v;
    }
  }
  return v;
}

/** Marks a conflict as looked at (POST /api/v1/conflicts/{id}/resolve); the kept value stays. */
function Resolve({ id, t, onDone }: { id: number; t: T; onDone: () => void }) {
  const { session } = useCtx();
  const [error, setError] = useState<unknown>(undefined);
  const go = async () => {
    setError(undefined);
    try {
      const res = await session.fetch(`/api/v1/conflicts/${id}/resolve`, { method: 'POST' });
      if (!res.ok) throw await readError(res);
      onDone();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div>
      <button class="c-btn c-btn-ghost" data-resolve={id} onClick={() => void go()}>{t('h_resolve')}</button>
      {error !== undefined && <Failed error={error} />}
    </div>
  );
}

export const route: ConsoleRoute = {
  id: 'history', label: 'nav_history', icon: '⟲', roles: ALL_SEEING_ROLES, nav: false, component: History,
};
