// The homes of the two user groups who do not work in the field: a unit
// liaison (plan III.2) coordinates the inspection of their unit and follows
// its conclusions up; a movement department works the findings assigned to
// it. Neither checks in, logs trips or writes notes (the server refuses
// them too), so their homes have none of those buttons.
import { planToday, type RegisterFinding } from '../../store/records';
import { Banner, Screen } from '../components';
import { useCtx, useData } from '../context';
import { formatDate, formatDateTime, type Key } from '../i18n';
import { BriefingsButton } from './briefings';
import { LiaisonVisits } from './visits';

const statusKey = (s: string | null | undefined) => `finding_${s || 'open'}` as Key;

function isOverdue(f: { status: string; due_on: string | null }, today: string): boolean {
  return !!f.due_on && f.due_on < today && (f.status === 'open' || f.status === 'in_progress');
}

/** Due date in words, red when past and still open. */
function Due({ f }: { f: { status: string; due_on: string | null } }) {
  const { t } = useCtx();
  if (!f.due_on) return null;
  const late = isOverdue(f, planToday());
  return (
    <span class={late ? 'err-text' : ''} data-due={f.due_on}>
      {' · '}{t('dueOn', formatDate(f.due_on))}{late ? ` (${t('overdue')})` : ''}
    </span>
  );
}

export function LiaisonHome() {
  const { t, rt, lang } = useCtx();
  const v = useData(() => rt.records.liaisonView(), []);
  return (
    <Screen title={rt.user.full_name || rt.user.username}>
      {!v && <Banner kind="info">{t('loading')}</Banner>}
      {v && !v.unit && <Banner kind="warn">{t('liaisonNoUnit')}</Banner>}
      {v?.unit && <p class="big" id="liaison-unit">{v.unit.name}</p>}
      {v?.unit && <LiaisonVisits unitId={v.unit.id} />}
      {v?.unit && (
        <div class="card stack" id="liaison-schedule">
          <h2>{t('liaisonSchedule')}</h2>
          {v.schedule.length === 0 && <p class="muted">{t('liaisonNoSchedule')}</p>}
          <ul class="list">
            {v.schedule.map((s, i) => (
              <li class="list-item schedule-item" key={i} data-schedule={s.campaign}>
                <strong>{s.campaign}</strong>
                {s.starts_on && <div>{t('window', formatDate(s.starts_on), formatDate(s.ends_on))}</div>}
                <div class="small">{s.team}</div>
                {s.leader && <div class="small muted">{t('teamLeaderIs', s.leader)}</div>}
                {s.members.length > 0 && <div class="small muted">{t('teamMembersAre', s.members.join(', '))}</div>}
              </li>
            ))}
          </ul>
        </div>
      )}
      {v?.unit && (
        <div class="card stack" id="liaison-conclusions">
          <h2>{t('liaisonConclusions')}</h2>
          {v.notes.length === 0 && <p class="muted">{t('liaisonNoConclusions')}</p>}
          {v.notes.map((n) => (
            <div class="stack" key={n.id} data-reviewed-note={n.title}>
              <h3>{n.title || t('visitNote')}</h3>
              <p class="muted small">{[n.campaign, n.reviewer ? t('reviewedBy', n.reviewer) : ''].filter(Boolean).join(' · ')}</p>
              {n.conclusions && <p class="pre" data-conclusions>{n.conclusions}</p>}
              <ul class="list">
                {n.findings.map((f) => (
                  <li class="list-item schedule-item" key={f.id} data-liaison-finding={f.text}>
                    <span class={`cat cat-${f.category}`}>{t(`cat_${f.category}`)}</span>
                    <div>{f.text}</div>
                    <div class="small">
                      <span class={`fstatus fstatus-${f.status}`}>{t(statusKey(f.status))}</span>
                      <Due f={f} />
                      {f.department && <span class="muted"> · {f.department}</span>}
                    </div>
                    {f.followUps.length > 0 && (
                      <ul class="list small">
                        {f.followUps.map((x) => (
                          <li key={x.id} data-followup={x.text}>
                            <span class="muted">{formatDateTime(x.at, lang)}{x.author ? ` · ${x.author}` : ''}: </span>{x.text}
                          </li>
                        ))}
                      </ul>
                    )}
                  </li>
                ))}
              </ul>
            </div>
          ))}
        </div>
      )}
    </Screen>
  );
}

export function DepartmentHome() {
  const { t, rt, navigate } = useCtx();
  const dept = useData(() => rt.records.myDepartmentId(), []);
  const items = useData(() => rt.records.departmentFindings(), []);
  return (
    <Screen title={rt.user.full_name || rt.user.username}>
      {dept === null && <Banner kind="warn">{t('deptNoDept')}</Banner>}
      <div class="card stack" id="dept-findings">
        <h2>{t('deptFindingsTitle')}</h2>
        {items && items.length === 0 && <p class="muted">{t('deptNoFindings')}</p>}
        <ul class="list">
          {(items ?? []).map((f: RegisterFinding) => (
            <li key={f.id}>
              <button class="list-item list-btn schedule-item" data-dept-finding={f.text} onClick={() => navigate(`#/finding/${f.id}`)}>
                <span class={`cat cat-${f.category}`}>{t(`cat_${f.category}`)}</span>
                <div>{f.text}</div>
                <div class="muted small">{[f.unit_name, f.campaign_name].filter(Boolean).join(' · ')}</div>
                <div class="small">
                  <span class={`fstatus fstatus-${f.status}`}>{t(statusKey(f.status))}</span>
                  <Due f={f} />
                </div>
              </button>
            </li>
          ))}
        </ul>
      </div>
      <button class="btn btn-secondary" onClick={() => navigate('#/findings')}>{t('openRegister')}</button>
      <BriefingsButton />
    </Screen>
  );
}
