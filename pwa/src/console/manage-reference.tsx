// The reference tables headquarters keeps: clusters (with the provinces
// placed in them and who leads them), inspection teams, campaigns, plans,
// special periods and units. One editor drives them all from a table of
// fields; each write is one REST call (POST, PATCH, DELETE), checked here
// by the schema's rules first (sync/schema: required, lengths, spans) and
// then by the server, whose refusals are shown beside their fields.
import { useState } from 'preact/hooks';
import { useCtx } from '../ui/context';
import { formatDate } from '../ui/i18n';
import { apiList, apiSend, useRemote } from './manage-api';
import { checkSpan, checkText, MChecks, MField, OutcomeLine, refusal, useMT, type Faults, type MKey, type MT, type Outcome } from './manage-form';
import type { ApiUser } from './manage-users';

type Row = Record<string, unknown> & { id: string };

/** Everything the forms choose from, read once per section. */
export interface Lookups {
  users: ApiUser[];
  departments: Row[];
  units: Row[];
  plans: Row[];
  campaigns: Row[];
  clusters: Row[];
}

interface FieldSpec {
  name: string;
  label: MKey;
  kind: 'text' | 'textarea' | 'date' | 'int' | 'select' | 'multi';
  required?: boolean;
  max?: number;
  wide?: boolean;
  hint?: MKey;
  /** Choices of a select or multi, given the form's current values. */
  options?: (l: Lookups, v: Record<string, unknown>, t: MT) => { id: string; label: string; hint?: string }[];
}

export interface TableSpec {
  table: string;
  fields: FieldSpec[];
  /** The row's name in lists and messages. */
  label: (r: Row) => string;
  /** Columns after the name. */
  columns: { label: MKey; cell: (r: Row, l: Lookups, t: MT) => string }[];
  creatable: boolean;
  /** Fields not sent on create (units are seeded, not made here). */
  spans?: [string, string][];
}

const str = (v: unknown) => (typeof v === 'string' ? v : v == null ? '' : String(v));
const arr = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);
const nameOf = (rows: Row[], id: unknown) => str(rows.find((r) => r.id === id)?.name);
const userName = (l: Lookups, id: unknown) => {
  const u = l.users.find((x) => x.id === id);
  return u ? u.full_name || u.username : '';
};
const window_ = (r: Row) => (r.starts_on || r.ends_on ? `${formatDate(str(r.starts_on))} – ${formatDate(str(r.ends_on))}` : '');
const plans = (l: Lookups) => l.plans.map((p) => ({ id: p.id, label: `${str(p.number) || p.year} · ${str(p.title)}` }));
const people = (l: Lookups, role?: string) => l.users.filter((u) => !u.disabled && (!role || u.roles.includes(role)))
  .map((u) => ({ id: u.id, label: u.full_name || u.username, hint: u.username }));
const provinces = (l: Lookups) => l.units.filter((u) => u.kind === 'province' || u.kind === 'central_affiliated');

export const SPECS: Record<string, TableSpec> = {
  clusters: {
    table: 'clusters', creatable: true, label: (r) => str(r.name),
    fields: [
      { name: 'name', label: 'm_name', kind: 'text', required: true, max: 300, wide: true },
      { name: 'lead_secretary_id', label: 'm_leadSecretary', kind: 'select', options: (l) => people(l, 'secretary') },
      { name: 'lead_department_id', label: 'm_leadDepartment', kind: 'select', options: (l) => l.departments.map((d) => ({ id: d.id, label: str(d.name) })) },
    ],
    columns: [
      { label: 'm_leadSecretary', cell: (r, l) => userName(l, r.lead_secretary_id) },
      { label: 'm_leadDepartment', cell: (r, l) => nameOf(l.departments, r.lead_department_id) },
      { label: 'm_units', cell: (r, l, t) => t('m_unitsCount', l.units.filter((u) => u.cluster_id === r.id).length) },
    ],
  },
  teams: {
    table: 'teams', creatable: true, label: (r) => str(r.name),
    fields: [
      { name: 'campaign_id', label: 'm_campaign', kind: 'select', required: true, options: (l) => l.campaigns.map((c) => ({ id: c.id, label: str(c.name) })) },
      { name: 'name', label: 'm_name', kind: 'text', required: true, max: 300 },
      { name: 'leader_id', label: 'teamLeader', kind: 'select', options: (l) => people(l) },
      { name: 'member_ids', label: 'm_members', kind: 'multi', max: 100, options: (l) => people(l) },
      {
        name: 'unit_ids', label: 'm_units', kind: 'multi', max: 200, hint: 'm_teamUnitsHint',
        options: (l, v) => {
          const c = l.campaigns.find((x) => x.id === v.campaign_id);
          return c ? arr(c.unit_ids).map((id) => ({ id, label: nameOf(l.units, id) || id })) : [];
        },
      },
    ],
    columns: [
      { label: 'm_campaign', cell: (r, l) => nameOf(l.campaigns, r.campaign_id) },
      { label: 'teamLeader', cell: (r, l) => userName(l, r.leader_id) },
      { label: 'm_members', cell: (r, _l, t) => t('m_membersCount', arr(r.member_ids).length) },
      { label: 'm_units', cell: (r, l) => arr(r.unit_ids).map((id) => nameOf(l.units, id)).join(', ') },
    ],
  },
  campaigns: {
    table: 'campaigns', creatable: true, label: (r) => str(r.name), spans: [['starts_on', 'ends_on']],
    fields: [
      { name: 'plan_id', label: 'm_plan', kind: 'select', required: true, options: plans },
      { name: 'kind', label: 'm_kind', kind: 'select', required: true, options: (_l, _v, t) => (['periodic', 'thematic', 'special'] as const).map((k) => ({ id: k, label: t(`m_kind_${k}`) })) },
      { name: 'name', label: 'm_name', kind: 'text', required: true, max: 300, wide: true },
      { name: 'starts_on', label: 'startsOn', kind: 'date' },
      { name: 'ends_on', label: 'endsOn', kind: 'date' },
      { name: 'content', label: 'm_content', kind: 'textarea', max: 20000, wide: true },
      { name: 'unit_ids', label: 'm_units', kind: 'multi', max: 200, options: (l) => provinces(l).map((u) => ({ id: u.id, label: str(u.name) })) },
    ],
    columns: [
      { label: 'm_kind', cell: (r, _l, t) => t(`m_kind_${str(r.kind)}` as MKey) },
      { label: 'm_window', cell: window_ },
      { label: 'm_units', cell: (r, _l, t) => t('m_unitsCount', arr(r.unit_ids).length) },
    ],
  },
  plans: {
    table: 'plans', creatable: true, label: (r) => `${str(r.number)} · ${str(r.title)}`,
    fields: [
      { name: 'year', label: 'year', kind: 'int', required: true },
      { name: 'number', label: 'm_number', kind: 'text', max: 64 },
      { name: 'title', label: 'm_planTitle', kind: 'text', required: true, max: 300, wide: true },
      { name: 'issued_on', label: 'm_issuedOn', kind: 'date' },
      { name: 'min_field_days', label: 'm_minDays', kind: 'int' },
    ],
    columns: [
      { label: 'year', cell: (r) => str(r.year) },
      { label: 'm_issuedOn', cell: (r) => formatDate(str(r.issued_on)) },
      { label: 'm_minDays', cell: (r) => str(r.min_field_days) },
    ],
  },
  special_periods: {
    table: 'special_periods', creatable: true, label: (r) => str(r.name), spans: [['starts_on', 'ends_on']],
    fields: [
      { name: 'plan_id', label: 'm_plan', kind: 'select', required: true, options: plans },
      { name: 'name', label: 'm_name', kind: 'text', required: true, max: 300, wide: true },
      { name: 'starts_on', label: 'startsOn', kind: 'date' },
      { name: 'ends_on', label: 'endsOn', kind: 'date' },
    ],
    columns: [
      { label: 'm_plan', cell: (r, l) => str(l.plans.find((p) => p.id === r.plan_id)?.number) },
      { label: 'm_window', cell: window_ },
    ],
  },
  units: {
    table: 'units', creatable: false, label: (r) => str(r.name), spans: [['valid_from', 'valid_to']],
    fields: [
      { name: 'name', label: 'm_name', kind: 'text', required: true, max: 300, wide: true },
      { name: 'code', label: 'm_code', kind: 'text', max: 32 },
      { name: 'cluster_id', label: 'm_cluster', kind: 'select', options: (l) => l.clusters.map((c) => ({ id: c.id, label: str(c.name) })) },
      { name: 'valid_from', label: 'm_validFrom', kind: 'date' },
      { name: 'valid_to', label: 'm_validTo', kind: 'date' },
    ],
    columns: [
      { label: 'm_unitKind', cell: (r, _l, t) => t(`m_unitKind_${str(r.kind)}` as MKey) },
      { label: 'status', cell: (r, _l, t) => t(`m_unitStatus_${str(r.status) || 'confirmed'}` as MKey) },
      { label: 'm_cluster', cell: (r, l) => nameOf(l.clusters, r.cluster_id) },
      { label: 'm_validity', cell: (r) => (r.valid_from || r.valid_to ? `${formatDate(str(r.valid_from))} – ${formatDate(str(r.valid_to))}` : '') },
    ],
  },
};

/** Loads what the forms choose from. */
export function useLookups() {
  const { session, online } = useCtx();
  return useRemote<Lookups>(async () => {
    const [users, departments, units, plansL, campaigns, clusters] = await Promise.all([
      apiList<ApiUser>(session, '/api/v1/users'), apiList<Row>(session, '/api/v1/departments'),
      apiList<Row>(session, '/api/v1/units'), apiList<Row>(session, '/api/v1/plans'),
      apiList<Row>(session, '/api/v1/campaigns'), apiList<Row>(session, '/api/v1/clusters'),
    ]);
    return { users, departments, units, plans: plansL, campaigns, clusters };
  }, [online]);
}

/** The schema's checks of a row before it is sent (the server checks again). */
export function checkRow(spec: TableSpec, v: Record<string, unknown>): Faults {
  const f: Faults = {};
  for (const fs of spec.fields) {
    const x = v[fs.name];
    if (fs.kind === 'multi') {
      if (fs.max && arr(x).length > fs.max) f[fs.name] = { field: fs.name, rule: 'max', param: String(fs.max) };
    } else if (fs.kind === 'int') {
      const s = str(x).trim();
      if (!s) {
        if (fs.required) f[fs.name] = { field: fs.name, rule: 'required' };
      } else if (!/^-?\d+$/.test(s)) f[fs.name] = { field: fs.name, rule: 'int' };
    } else {
      checkText(f, fs.name, str(x), { required: fs.required, max: fs.max });
    }
  }
  for (const [a, b] of spec.spans ?? []) checkSpan(f, b, str(v[a]), str(v[b]));
  return f;
}

/** The wire body of the form's values: empty optional fields are null, numbers are numbers. */
function body(spec: TableSpec, v: Record<string, unknown>, before: Row | null): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const fs of spec.fields) {
    let x: unknown = v[fs.name];
    if (fs.kind === 'multi') x = arr(x);
    else if (fs.kind === 'int') x = str(x).trim() ? Number(str(x).trim()) : null;
    else x = fs.kind === 'text' || fs.kind === 'textarea' ? str(x).trim() : str(x) || null;
    if (fs.kind === 'textarea' && x === '' && !before) continue;
    if (before && JSON.stringify(before[fs.name] ?? null) === JSON.stringify(x ?? null)) continue;
    if (!before && (x === null || x === '')) continue;
    out[fs.name] = x;
  }
  return out;
}

export function ReferenceSection({ tableKey, canWrite, title }: { tableKey: string; canWrite: boolean; title: string }) {
  const { session, online } = useCtx();
  const t = useMT();
  const spec = SPECS[tableKey]!;
  const rows = useRemote(() => apiList<Row>(session, `/api/v1/${spec.table}`), [spec.table, online]);
  const lookups = useLookups();
  const [editing, setEditing] = useState<Row | 'new' | null>(null);
  // What the last write said, kept for the form that opens on its result.
  const [flash, setFlash] = useState('');
  const [q, setQ] = useState('');
  const l = lookups.data;
  const list = (rows.data ?? []).filter((r) => !q || spec.label(r).toLowerCase().includes(q.toLowerCase()));
  return (
    <div class="cpanes" id={`m-${tableKey}`}>
      <div class="card cpane ctable-wrap">
        <div class="row">
          <input class="input m-search" type="search" placeholder={t('m_search')} value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
          {canWrite && spec.creatable && <button class="btn btn-primary cbtn" id={`${tableKey}-new`} onClick={() => { setFlash(''); setEditing('new'); }}>{t('m_new')}</button>}
        </div>
        {rows.data && rows.data.length === 0 && <p class="muted">{t('m_empty')}</p>}
        {l && list.length > 0 && (
          <table class="ctable" id={`${tableKey}-table`}>
            <thead><tr><th>{title}</th>{spec.columns.map((c) => <th key={c.label}>{t(c.label)}</th>)}</tr></thead>
            <tbody>
              {list.map((r) => (
                <tr key={r.id} class={`clickable ${editing !== 'new' && editing?.id === r.id ? 'on' : ''}`} data-row={spec.label(r)} onClick={() => { setFlash(''); setEditing(r); }}>
                  <td><strong>{spec.label(r)}</strong></td>
                  {spec.columns.map((c) => <td key={c.label} class="small">{c.cell(r, l, t)}</td>)}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <div class="cpane cpane-sticky">
        {editing && l && (
          <RowForm key={editing === 'new' ? 'new' : editing.id} spec={spec} row={editing === 'new' ? null : editing} lookups={l}
            canWrite={canWrite} t={t} close={() => setEditing(null)}
            flash={flash} done={(r, text) => { rows.reload(); lookups.reload(); setFlash(text); setEditing(r); }} />
        )}
      </div>
    </div>
  );
}

function RowForm({ spec, row, lookups, canWrite, t, flash, done, close }: {
  spec: TableSpec;
  row: Row | null;
  lookups: Lookups;
  canWrite: boolean;
  t: MT;
  flash: string;
  done: (r: Row | null, text: string) => void;
  close: () => void;
}) {
  const { session, lang } = useCtx();
  const creating = row === null;
  const [v, setV] = useState<Record<string, unknown>>(() => {
    const init: Record<string, unknown> = {};
    for (const f of spec.fields) init[f.name] = row?.[f.name] ?? (f.kind === 'multi' ? [] : '');
    return init;
  });
  // A cluster's provinces are the units that name it (units.cluster_id).
  const isCluster = spec.table === 'clusters';
  const members = row ? lookups.units.filter((u) => u.cluster_id === row.id).map((u) => u.id) : [];
  const [inCluster, setInCluster] = useState<string[]>(members);
  const [faults, setFaults] = useState<Faults>({});
  const [outcome, setOutcome] = useState<Outcome>(flash ? { kind: 'ok', text: flash } : { kind: 'idle' });
  const [confirmDelete, setConfirmDelete] = useState(false);
  const set = (k: string, x: unknown) => setV({ ...v, [k]: x });

  const save = async () => {
    const f = checkRow(spec, v);
    setFaults(f);
    if (Object.keys(f).length > 0) {
      setOutcome({ kind: 'error', text: t('m_fixFields') });
      return;
    }
    setOutcome({ kind: 'busy' });
    try {
      const b = body(spec, v, row);
      let saved: Row | null = row;
      if (creating) saved = await apiSend<Row>(session, 'POST', `/api/v1/${spec.table}`, b);
      else if (Object.keys(b).length > 0) saved = await apiSend<Row>(session, 'PATCH', `/api/v1/${spec.table}/${row!.id}`, b);
      let moved = 0;
      if (isCluster && saved) {
        // Each province that joins or leaves is one unit written; a failure
        // stops here and says so, and what was written stays written.
        const id = saved.id;
        for (const u of provinces(lookups)) {
          const want = inCluster.includes(u.id);
          const has = u.cluster_id === id;
          if (want === has) continue;
          await apiSend(session, 'PATCH', `/api/v1/units/${u.id}`, { cluster_id: want ? id : null });
          moved++;
        }
      }
      const text = creating ? t('m_created', spec.label(saved!)) : t('m_saved');
      const full = moved > 0 ? `${text} ${t('m_provincesSaved', inCluster.length)}` : text;
      setOutcome({ kind: 'ok', text: full });
      done(saved, full);
    } catch (e) {
      const r = refusal(t, lang, e);
      setFaults(r.faults);
      setOutcome(r.outcome);
    }
  };
  const remove = async () => {
    setConfirmDelete(false);
    setOutcome({ kind: 'busy' });
    try {
      await apiSend(session, 'DELETE', `/api/v1/${spec.table}/${row!.id}`);
      setOutcome({ kind: 'ok', text: t('m_deleted') });
      done(null, t('m_deleted'));
    } catch (e) {
      setOutcome(refusal(t, lang, e).outcome);
    }
  };

  return (
    <div class="card" id={`${spec.table}-form`}>
      <div class="row"><h2>{creating ? t('m_new') : spec.label(row!)}</h2><button class="link-btn" onClick={close}>{t('cancel')}</button></div>
      <fieldset class="cform" disabled={!canWrite}>
        {spec.fields.map((f) => {
          const id = `${spec.table}-${f.name}`;
          const opts = f.options?.(lookups, v, t) ?? [];
          if (f.kind === 'multi') {
            if (spec.table === 'teams' && f.name === 'unit_ids' && !v.campaign_id) {
              return <p key={f.name} class="muted small wide">{t('m_units')}: {t('m_pickCampaignFirst')}</p>;
            }
            return <MChecks key={f.name} label={t(f.label)} name={f.name} faults={faults} options={opts} list
              value={arr(v[f.name])} onChange={(x) => set(f.name, x)} />;
          }
          return (
            <MField key={f.name} label={t(f.label)} name={f.name} faults={faults} wide={f.wide || f.kind === 'textarea'} hint={f.hint ? t(f.hint) : undefined}>
              {f.kind === 'select' ? (
                <select class="input" id={id} value={str(v[f.name])} onChange={(e) => set(f.name, (e.target as HTMLSelectElement).value)}>
                  <option value="">{t('m_none')}</option>
                  {opts.map((o) => <option key={o.id} value={o.id}>{o.label}</option>)}
                </select>
              ) : f.kind === 'textarea' ? (
                <textarea class="input" id={id} rows={3} value={str(v[f.name])} onInput={(e) => set(f.name, (e.target as HTMLTextAreaElement).value)} />
              ) : (
                <input class="input" id={id} type={(f.kind === 'date' ? 'date' : f.kind === 'int' ? 'number' : 'text') as 'text'} value={str(v[f.name])}
                  onInput={(e) => set(f.name, (e.target as HTMLInputElement).value)} />
              )}
            </MField>
          );
        })}
        {isCluster && (
          <MChecks label={t('m_provinces')} name="unit_cluster" faults={faults} list value={inCluster} onChange={setInCluster}
            options={provinces(lookups).map((u) => ({
              id: u.id, label: str(u.name),
              hint: u.cluster_id && u.cluster_id !== row?.id ? t('m_inOtherCluster', nameOf(lookups.clusters, u.cluster_id)) : undefined,
            }))} />
        )}
      </fieldset>
      {canWrite && (
        <div class="cactions">
          <button class="btn btn-primary" id={`${spec.table}-save`} disabled={outcome.kind === 'busy'} onClick={() => void save()}>{creating ? t('m_create') : t('save')}</button>
          {!creating && spec.creatable && <button class="btn btn-danger" id={`${spec.table}-delete`} onClick={() => setConfirmDelete(true)}>{t('m_delete')}</button>}
        </div>
      )}
      {confirmDelete && (
        <div class="banner banner-warn" role="alertdialog">
          {t('m_deleteConfirm', spec.label(row!))}
          <div class="cactions">
            <button class="btn btn-ghost" onClick={() => setConfirmDelete(false)}>{t('cancel')}</button>
            <button class="btn btn-danger" id={`${spec.table}-delete-confirm`} onClick={() => void remove()}>{t('m_delete')}</button>
          </div>
        </div>
      )}
      <OutcomeLine o={outcome} id={`${spec.table}-outcome`} />
    </div>
  );
}
