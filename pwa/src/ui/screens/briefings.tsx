// Cluster briefings (giao ban cụm, plan II.1.1, II.1.2) recorded by whoever
// takes the minutes: headquarters, or the secretary or department leading
// the cluster (the server's rule; docs/architecture.md). On a phone it works
// offline like a visit note: the briefing and each recommendation raised at
// it are written to the device with their outbox entries and sent at the
// next sync. The console's briefing screen shows the same editor.
import { newId } from '../../store/ids';
import { useMemo, useState } from 'preact/hooks';
import { Notices, type Briefing } from '../../store/notices';
import { seesAll } from '../../store/records';
import { Banner, Field, Screen } from '../components';
import { useCtx, useData } from '../context';
import { formatDate } from '../i18n';
import { useVisitText } from '../text-visits';

/**
 * Whether the field home offers briefings: to secretaries (a cluster's
 * leading secretary takes its minutes) and headquarters; departments get
 * the button on their own home.
 */
export function recordsBriefings(roles: readonly string[]): boolean {
  return roles.includes('secretary') || seesAll([...roles]);
}

export function BriefingsButton() {
  const { navigate } = useCtx();
  const t = useVisitText();
  return <button class="btn btn-secondary" id="home-briefings" onClick={() => navigate('#/briefings')}>{t('b_title')}</button>;
}

/** The briefings this device holds, newest first; each opens its editor. */
export function BriefingList() {
  const { rt, navigate } = useCtx();
  const t = useVisitText();
  const notices = useMemo(() => new Notices(rt.store), [rt]);
  const list = useData(() => notices.briefings(), []);
  return (
    <Screen title={t('b_title')} back="#/home">
      <button class="btn btn-primary" id="briefing-new" onClick={() => navigate('#/briefing/new')}>{t('b_new')}</button>
      {list && list.length === 0 && <p class="muted">{t('b_none')}</p>}
      <ul class="list">
        {(list ?? []).map((b) => (
          <li key={b.id}>
            <button class="list-item list-btn" data-briefing={b.cluster_name} onClick={() => navigate(`#/briefing/${b.id}`)}>
              <strong>{b.cluster_name}</strong>
              <div class="small">{formatDate(b.held_on)}{b.place ? ` · ${b.place}` : ''}</div>
              {b.pending && <div class="small warn-text">{t('b_pending')}</div>}
            </button>
          </li>
        ))}
      </ul>
    </Screen>
  );
}

/** The phone's screen for one briefing ("new" for a new one). */
export function BriefingScreen({ id }: { id: string }) {
  const { navigate } = useCtx();
  const t = useVisitText();
  return (
    <Screen title={t('b_title')} back="#/briefings">
      <BriefingEditor id={id} onCreated={(nid) => navigate(`#/briefing/${nid}`)} />
    </Screen>
  );
}

/**
 * A briefing's record and its recommendations. id is "new" for a new
 * briefing: saving it calls onCreated with its id.
 */
export function BriefingEditor({ id, onCreated }: { id: string; onCreated: (id: string) => void }) {
  const { rt } = useCtx();
  const t = useVisitText();
  const notices = useMemo(() => new Notices(rt.store), [rt]);
  const roles = rt.user.roles ?? [];
  const clusters = useData(() => notices.recordableClusters(roles, seesAll(roles)), []);
  const existing = useData(() => (id === 'new' ? Promise.resolve(undefined) : notices.briefings().then((l) => l.find((b) => b.id === id))), [id]);
  if (clusters === undefined || (id !== 'new' && existing === undefined)) return <Banner kind="info">…</Banner>;
  if (clusters.length === 0) return <Banner kind="warn">{t('b_noClusters')}</Banner>;
  return (
    <div class="stack" id="briefing-editor">
      <BriefingForm key={existing?.id ?? 'new'} b={existing} clusters={clusters} notices={notices} onCreated={onCreated} />
      {existing && <Recommendations b={existing} notices={notices} />}
    </div>
  );
}

function BriefingForm({ b, clusters, notices, onCreated }: {
  b: Briefing | undefined;
  clusters: { id: string; name: string; lead_secretary_id: string | null; lead_department_id: string | null }[];
  notices: Notices;
  onCreated: (id: string) => void;
}) {
  const { rt } = useCtx();
  const t = useVisitText();
  const campaigns = useData(() => rt.records.campaigns(), []);
  const [f, setF] = useState({
    cluster_id: b?.cluster_id ?? clusters[0]?.id ?? '', campaign_id: b?.campaign_id ?? '', held_on: b?.held_on ?? '',
    place: b?.place ?? '', host_unit_id: b?.host_unit_id ?? '', unit_ids: b?.unit_ids ?? [], minutes: b?.minutes ?? '',
  });
  const [msg, setMsg] = useState('');
  const units = useData(() => (f.cluster_id ? notices.clusterUnits(f.cluster_id) : Promise.resolve([])), [f.cluster_id]);
  const set = (k: keyof typeof f) => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value });
  const toggle = (u: string) => setF({ ...f, unit_ids: f.unit_ids.includes(u) ? f.unit_ids.filter((x) => x !== u) : [...f.unit_ids, u] });
  const save = async () => {
    if (!f.cluster_id || !f.held_on) {
      setMsg(t('b_need'));
      return;
    }
    const c = clusters.find((x) => x.id === f.cluster_id);
    const nid = b?.id ?? newId();
    await notices.saveBriefing(nid, {
      cluster_id: f.cluster_id, campaign_id: f.campaign_id || null, held_on: f.held_on, place: f.place.trim(),
      host_unit_id: f.host_unit_id || null, unit_ids: f.unit_ids, minutes: f.minutes,
      ...(b ? {} : { lead_secretary_id: c?.lead_secretary_id ?? null, lead_department_id: c?.lead_department_id ?? null }),
    });
    setMsg(t('b_saved'));
    if (!b) onCreated(nid);
  };
  return (
    <div class="card stack b-form" id="briefing-form">
      <Field label={t('b_cluster')}>
        <select class="input" id="briefing-cluster" value={f.cluster_id} onChange={set('cluster_id')}>
          {clusters.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
        </select>
      </Field>
      <Field label={t('b_round')}>
        <select class="input" id="briefing-campaign" value={f.campaign_id} onChange={set('campaign_id')}>
          <option value="">{t('b_noRound')}</option>
          {(campaigns ?? []).filter((c) => c.kind === 'periodic').map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
        </select>
      </Field>
      <Field label={t('b_date')}><input class="input" type="date" id="briefing-date" value={f.held_on} onInput={set('held_on')} /></Field>
      <Field label={t('b_place')}><input class="input" id="briefing-place" value={f.place} onInput={set('place')} /></Field>
      <Field label={t('b_host')}>
        <select class="input" id="briefing-host" value={f.host_unit_id} onChange={set('host_unit_id')}>
          <option value="">—</option>
          {(units ?? []).map((u) => <option key={u.id} value={u.id}>{u.name}</option>)}
        </select>
      </Field>
      <fieldset class="b-wide b-units-set">
        <legend class="field-label">{t('b_units')}</legend>
        <div class="b-units" id="briefing-units">
          {(units ?? []).map((u) => (
            <label key={u.id}><input type="checkbox" checked={f.unit_ids.includes(u.id)} onChange={() => toggle(u.id)} /> {u.name}</label>
          ))}
        </div>
      </fieldset>
      <div class="b-wide">
        <Field label={t('b_minutes')}>
          <textarea class="input" rows={6} id="briefing-minutes" value={f.minutes} onInput={set('minutes')} />
        </Field>
      </div>
      <button class="btn btn-primary b-wide" id="briefing-save" onClick={() => void save()}>{t('b_save')}</button>
      {msg && <p class="small b-wide" role="status" id="briefing-msg">{msg}</p>}
    </div>
  );
}

function Recommendations({ b, notices }: { b: Briefing; notices: Notices }) {
  const { t: ft } = useCtx();
  const t = useVisitText();
  const list = useData(() => notices.recommendations(b.id), [b.id]);
  const units = useData(() => notices.clusterUnits(b.cluster_id), [b.cluster_id]);
  const [text, setText] = useState('');
  const [unit, setUnit] = useState('');
  const add = async () => {
    if (!text.trim()) return;
    await notices.addRecommendation(b, unit || null, text.trim());
    setText('');
  };
  return (
    <div class="card stack" id="briefing-recs">
      <h2>{t('b_recs')}</h2>
      {list && list.length === 0 && <p class="muted">{t('b_noRecs')}</p>}
      {(list ?? []).map((r) => (
        <div class="b-rec" key={r.id} data-rec={r.text}>
          <div>{r.text}</div>
          <div class="small muted">{[r.unit_name, r.department_name].filter(Boolean).join(' · ')}</div>
          <div class="small">
            <span class={`fstatus fstatus-${r.status}`}>{ft(`finding_${r.status}` as Parameters<typeof ft>[0])}</span>
            {' · '}{r.answer ? t('b_answer', r.answer) : t('b_unanswered')}
            {r.pending && <span class="warn-text"> · {t('b_pending')}</span>}
          </div>
        </div>
      ))}
      <Field label={t('b_recUnit')}>
        <select class="input" id="rec-unit" value={unit} onChange={(e) => setUnit((e.target as HTMLSelectElement).value)}>
          <option value="">{t('b_anyUnit')}</option>
          {(units ?? []).map((u) => <option key={u.id} value={u.id}>{u.name}</option>)}
        </select>
      </Field>
      <Field label={t('b_recText')}>
        <textarea class="input" rows={3} id="rec-text" value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
      </Field>
      <button class="btn btn-secondary" id="rec-add" onClick={() => void add()}>{t('b_addRec')}</button>
    </div>
  );
}
