// The findings register (Vấn đề phát hiện) for headquarters and the
// movement departments, read from the device database so it works offline:
// the Inspection Committee compiles shortcomings, the Office answers
// recommendations (the "Kiến nghị" filter is its register), departments
// follow conclusions up. Every change goes through the outbox.
import { useState } from 'preact/hooks';
import {
  FINDING_CATEGORIES, FINDING_STATUSES, localDate,
  type FindingStatus, type RegisterFinding,
} from '../../store/records';
import { REGISTER_ROLES } from '../../store/plan.gen';
import { readError } from '../../sync/session';
import { Badge, Banner, Field, Screen } from '../components';
import { useCtx, useData } from '../context';
import { formatDate, formatDateTime, type Key } from '../i18n';
import { LostNotices } from '../lost';
import { useVisitText } from '../text-visits';

/** Whether the register is in the bottom navigation: for the roles that read it. */
export function hasRegister(roles: string[] | undefined): boolean {
  return (roles ?? []).some((r) => REGISTER_ROLES.includes(r));
}

const statusKey = (s: string | null | undefined) => `finding_${s || 'open'}` as Key;
const categoryKey = (c: string) => `cat_${c}` as Key;

function overdue(f: RegisterFinding, today: string): boolean {
  return !!f.due_on && f.due_on < today && (f.status === 'open' || f.status === 'in_progress');
}

function filterHash(category: string, status: string): string {
  const q = new URLSearchParams();
  if (category) q.set('category', category);
  if (status) q.set('status', status);
  const s = q.toString();
  return '#/findings' + (s ? '?' + s : '');
}

export function FindingsRegister({ category, status }: { category: string; status: string }) {
  const { t, rt, navigate, online } = useCtx();
  const items = useData(() => rt.records.register({ category, status }), [category, status]);
  const today = localDate();
  return (
    <Screen title={t('findings')}>
      <div class="chips" role="group" aria-label={t('filterCategory')} id="filter-category">
        {['', ...FINDING_CATEGORIES].map((c) => (
          <button key={c || 'all'} class={`chip ${c === category ? 'on' : ''}`} aria-pressed={c === category}
            data-category={c} onClick={() => navigate(filterHash(c, status))}>
            {c ? t(categoryKey(c)) : t('allCategories')}
          </button>
        ))}
      </div>
      <div class="chips" role="group" aria-label={t('filterStatus')} id="filter-status">
        {['', ...FINDING_STATUSES].map((s) => (
          <button key={s || 'all'} class={`chip ${s === status ? 'on' : ''}`} aria-pressed={s === status}
            data-status={s} onClick={() => navigate(filterHash(category, s))}>
            {s ? t(statusKey(s)) : t('allStatuses')}
          </button>
        ))}
      </div>
      {online ? <ReportDownload category={category} status={status} /> : <p class="muted small">{t('reportOnline')}</p>}
      {items && <p class="muted small" id="findings-count">{t('findingsCount', items.length)}</p>}
      {items && items.length === 0 && <p class="muted">{t('noFindings')}</p>}
      <ul class="list" id="register-list">
        {(items ?? []).map((f) => (
          <li key={f.id}>
            <button class="list-item list-btn finding-row" data-finding={f.text} onClick={() => navigate(`#/finding/${f.id}`)}>
              <div class="finding-main">
                <span class={`cat cat-${f.category}`}>{t(categoryKey(f.category))}</span>
                <div class="finding-text">{f.text}</div>
                <div class="muted small">
                  {[f.unit_name, f.campaign_name].filter(Boolean).join(' · ')}
                </div>
                <div class="small">
                  <span class={`fstatus fstatus-${f.status}`} data-status={f.status}>{t(statusKey(f.status))}</span>
                  {f.due_on && <span class={overdue(f, today) ? ' err-text' : ''}> · {t('dueOn', formatDate(f.due_on))}{overdue(f, today) ? ` (${t('overdue')})` : ''}</span>}
                  {f.department_name && <span class="muted"> · {f.department_name}</span>}
                </div>
              </div>
              <Badge mark={f.sync} />
            </button>
          </li>
        ))}
      </ul>
    </Screen>
  );
}

/**
 * The register as a workbook, with the filters on screen: fetched with the
 * session's access token (the API wants a Bearer header, so a plain link
 * cannot do), then handed to the browser as a download.
 */
function ReportDownload({ category, status }: { category: string; status: string }) {
  const { t, session } = useCtx();
  const [state, setState] = useState<{ busy: boolean; error: string }>({ busy: false, error: '' });
  const download = async () => {
    setState({ busy: true, error: '' });
    try {
      const q = new URLSearchParams();
      if (category) q.set('category', category);
      if (status) q.set('status', status);
      const qs = q.toString();
      const res = await session.fetch('/api/v1/reports/findings.xlsx' + (qs ? '?' + qs : ''));
      if (!res.ok) throw await readError(res);
      const blob = await res.blob();
      const name = /filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') ?? '')?.[1] ?? 'bao-cao-van-de-phat-hien.xlsx';
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = name;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      setState({ busy: false, error: '' });
    } catch (e) {
      setState({ busy: false, error: e instanceof Error ? e.message : String(e) });
    }
  };
  return (
    <div>
      <button class="btn btn-secondary" id="report-download" disabled={state.busy} onClick={() => void download()}>
        {state.busy ? t('downloading') : t('downloadReport')}
      </button>
      {state.error && <Banner kind="error"><span id="report-error">{t('downloadFailed', state.error)}</span></Banner>}
    </div>
  );
}

export function FindingView({ id }: { id: string }) {
  const { t, rt, lang, navigate } = useCtx();
  const vt = useVisitText();
  const f = useData(() => rt.records.registerFinding(id), [id]);
  const follow = useData(() => rt.records.followUps(id), [id]);
  const rights = useData(async () => {
    const x = await rt.records.registerFinding(id);
    return x ? rt.records.findingRights(x, rt.user.roles ?? []) : undefined;
  }, [id]);
  const back = '#/findings';
  if (!f) return <Screen title={t('finding')} back={back}><p class="muted">{t('loading')}</p></Screen>;
  const today = localDate();
  return (
    <Screen title={t('finding')} back={back}>
      <div class="card stack" id="finding-card">
        <p class="row">
          <span class={`cat cat-${f.category}`}>{t(categoryKey(f.category))}</span>
          <Badge mark={f.sync} />
        </p>
        <LostNotices table="findings" rowId={f.id} />
        <p class="finding-text" id="finding-text">{f.text}</p>
        <p class="muted small">{[f.unit_name, f.campaign_name].filter(Boolean).join(' · ')}</p>
        <p class="row">
          <span>{t('status')}</span>
          <strong class={`fstatus fstatus-${f.status}`} id="finding-status" data-status={f.status}>{t(statusKey(f.status))}</strong>
        </p>
        <p class="row">
          <span>{t('field_department')}</span>
          <strong id="finding-department">{f.department_name ?? t('noDepartment')}</strong>
        </p>
        {f.due_on && (
          <p class="row">
            <span>{t('field_due_on')}</span>
            <strong id="finding-due" class={overdue(f, today) ? 'err-text' : ''}>{formatDate(f.due_on)}{overdue(f, today) ? ` (${t('overdue')})` : ''}</strong>
          </p>
        )}
        {f.answer && (
          <div>
            <div class="field-label">{t('answerLabel')}</div>
            <p class="pre" id="finding-answer">{f.answer}</p>
          </div>
        )}
      </div>
      <div class="card stack" id="source-note">
        <h2>{t('sourceNote')}</h2>
        {f.briefing_id ? (
          <div class="row" data-source="briefing">
            <strong>{vt('b_source', f.briefing_cluster ?? '', formatDate(f.briefing_held_on))}</strong>
            <button class="btn btn-ghost" onClick={() => navigate(`#/briefing/${f.briefing_id}`)}>{vt('b_open')}</button>
          </div>
        ) : f.note_title !== null && f.note_id ? (
          <div class="row">
            <div>
              <strong>{f.note_title || t('visitNote')}</strong>
              {f.author_name && <div class="muted small">{t('author')}: {f.author_name}</div>}
            </div>
            <button class="btn btn-ghost" onClick={() => navigate(`#/note/${f.note_id}`)}>{t('openNote')}</button>
          </div>
        ) : (
          <p class="muted">{t('noteNotOnDevice')}{f.author_name ? ` ${t('author')}: ${f.author_name}` : ''}</p>
        )}
      </div>
      {rights?.triage && <Triage key={f.id} f={f} />}
      <div class="card stack">
        <h2>{t('followUps')}</h2>
        {follow && follow.length === 0 && <p class="muted">{t('noFollowUps')}</p>}
        <ul class="list" id="followup-list">
          {(follow ?? []).map((x) => (
            <li class="list-item" key={x.id} data-followup={x.text}>
              <div>
                <div class="small muted">{formatDateTime(x.at, lang)} · {x.author_name ?? ''}</div>
                <div class="pre">{x.text}</div>
                {x.status_to && <div class="small"><strong>{t('statusTo', t(statusKey(x.status_to)))}</strong></div>}
              </div>
              <Badge mark={x.sync} />
            </li>
          ))}
        </ul>
        {rights?.followUp && <AddFollowUp f={f} mayChangeStatus={rights.status} />}
      </div>
    </Screen>
  );
}

function AddFollowUp({ f, mayChangeStatus }: { f: RegisterFinding; mayChangeStatus: boolean }) {
  const { t, rt } = useCtx();
  const [text, setText] = useState('');
  const [to, setTo] = useState<FindingStatus | ''>('');
  const add = async () => {
    if (!text.trim()) return;
    await rt.records.addFollowUp(f, text.trim(), to || null, mayChangeStatus);
    setText('');
    setTo('');
  };
  return (
    <div class="stack">
      <Field label={t('followUpText')}>
        <textarea class="input" id="followup-text" rows={3} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
      </Field>
      {mayChangeStatus && (
        <Field label={t('newStatus')}>
          <select class="input" id="followup-status" value={to} onChange={(e) => setTo((e.target as HTMLSelectElement).value as FindingStatus | '')}>
            <option value="">{t('keepStatus')}</option>
            {FINDING_STATUSES.map((s) => <option key={s} value={s}>{t(statusKey(s))}</option>)}
          </select>
        </Field>
      )}
      <button class="btn btn-primary" id="followup-add" disabled={!text.trim()} onClick={() => void add()}>{t('addFollowUp')}</button>
    </div>
  );
}

/** Headquarters: the department in charge, the due date and the Office's proposed answer. */
function Triage({ f }: { f: RegisterFinding }) {
  const { t, rt } = useCtx();
  const departments = useData(() => rt.records.departments(), []);
  const [dept, setDept] = useState(f.department_id ?? '');
  const [due, setDue] = useState(f.due_on ?? '');
  const [answer, setAnswer] = useState(f.answer ?? '');
  const [saved, setSaved] = useState(false);
  const save = async () => {
    const fields: { department_id?: string | null; due_on?: string | null; answer?: string } = {};
    if (dept !== (f.department_id ?? '')) fields.department_id = dept || null;
    if (due !== (f.due_on ?? '')) fields.due_on = due || null;
    if (answer !== (f.answer ?? '')) fields.answer = answer;
    await rt.records.triageFinding(f.id, fields);
    setSaved(true);
  };
  return (
    <div class="card stack" id="triage">
      <h2>{t('triage')}</h2>
      <Field label={t('field_department')}>
        <select class="input" id="triage-department" value={dept} onChange={(e) => { setDept((e.target as HTMLSelectElement).value); setSaved(false); }}>
          <option value="">{t('noDepartment')}</option>
          {(departments ?? []).map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}
        </select>
      </Field>
      <Field label={t('field_due_on')}>
        <input class="input" type="date" id="triage-due" value={due} onInput={(e) => { setDue((e.target as HTMLInputElement).value); setSaved(false); }} />
      </Field>
      <Field label={t('answerHint')}>
        <textarea class="input" id="triage-answer" rows={3} value={answer} onInput={(e) => { setAnswer((e.target as HTMLTextAreaElement).value); setSaved(false); }} />
      </Field>
      <button class="btn btn-primary" id="triage-save" onClick={() => void save()}>{t('saveTriage')}</button>
      <p class="muted small" aria-live="polite" id="triage-state">{saved ? t('saved') : ''}</p>
    </div>
  );
}
