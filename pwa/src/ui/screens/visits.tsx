// What a phone shows of the inspection notices (plan III.1, III.2), from
// its own copy, offline after one sync: an inspector their team's schedule
// and the issued notice; a unit liaison when the team comes, who is in it,
// what will be inspected and what to prepare. A notice changed after it was
// issued shows its latest revision, marked as changed.
import { useMemo } from 'preact/hooks';
import { Notices, type AnnouncedVisit, type Visit } from '../../store/notices';
import { useCtx, useData } from '../context';
import { formatDate } from '../i18n';
import { useVisitText } from '../text-visits';

function days(v: Visit, t: ReturnType<typeof useVisitText>): string {
  return v.ends_on && v.ends_on !== v.starts_on ? t('v_daysRange', formatDate(v.starts_on), formatDate(v.ends_on)) : formatDate(v.starts_on);
}

function CalendarIcon() {
  return (
    <svg class="v-icon" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2">
      <rect x="3" y="5" width="18" height="16" rx="2" /><path d="M3 10h18M8 3v4M16 3v4" />
    </svg>
  );
}

/** One team as announced: the notice line, the visits, the people, the content. */
function Announced({ a, unitView }: { a: AnnouncedVisit; unitView: boolean }) {
  const t = useVisitText();
  const n = a.notice;
  return (
    <div class="stack v-team" data-visit-team={a.team}>
      <div>
        <strong>{a.team}</strong>
        <div class="muted small">{a.campaign}</div>
      </div>
      {n ? (
        <div class="small" data-notice={n.number} data-revision={n.revision}>
          {n.number ? t('v_notice', n.number) : t('v_noticeNoNumber')}
          {n.signed_on ? ` ${t('v_signed', formatDate(n.signed_on))}` : ''}
          {n.revision > 1 && <span class="badge badge-refused v-changed" data-changed>{t('v_changed', n.revision - 1)}</span>}
        </div>
      ) : <p class="muted small">{t('v_noNotice')}</p>}
      {a.visits.length === 0 && <p class="muted">{t('v_noTeamVisits')}</p>}
      <ul class="list">
        {a.visits.map((v) => (
          <li class="list-item v-visit" key={v.id} data-visit-unit={v.unit_name} data-visit-days={v.ends_on ? `${v.starts_on}/${v.ends_on}` : v.starts_on}>
            <CalendarIcon />
            <div>
              <strong class="v-days">{unitView ? t('v_comes', days(v, t)) : days(v, t)}</strong>
              {!unitView && <div>{v.unit_name}</div>}
              {v.place && <div class="small">{t('v_at', v.place)}</div>}
              {v.contact && <div class="small">{t('v_contact', v.contact)}</div>}
            </div>
          </li>
        ))}
      </ul>
      {a.leader && <div class="small" data-visit-leader>{t('v_leader', a.leader)}</div>}
      {a.members.length > 0 && <div class="small" data-visit-members>{t('v_members', a.members.join(', '))}</div>}
      {a.content && (
        <details class="small" open={unitView}>
          <summary>{t('v_content')}</summary>
          <p class="pre" data-visit-content>{a.content}</p>
        </details>
      )}
      {unitView && n?.preparation && (
        <details class="small" open>
          <summary>{t('v_prepare')}</summary>
          <p class="pre" data-visit-prepare>{n.preparation}</p>
        </details>
      )}
    </div>
  );
}

/** An inspector's team: its whole schedule and the notice that established it. */
export function TeamSchedule({ teamId }: { teamId: string }) {
  const { rt } = useCtx();
  const t = useVisitText();
  const notices = useMemo(() => new Notices(rt.store), [rt]);
  const all = useData(() => notices.announced({ member: rt.user.id }), []);
  const a = all?.find((x) => x.team_id === teamId);
  if (!a) return null;
  return (
    <div class="stack v-schedule" id={`team-schedule-${teamId}`}>
      <h3>{t('v_mySchedule')}</h3>
      <Announced a={a} unitView={false} />
    </div>
  );
}

/** A liaison's unit: when each announced team comes, who is in it, what it inspects. */
export function LiaisonVisits({ unitId }: { unitId: string }) {
  const { rt } = useCtx();
  const t = useVisitText();
  const notices = useMemo(() => new Notices(rt.store), [rt]);
  const all = useData(() => notices.announced({ unitId }), [unitId]);
  return (
    <div class="card stack" id="liaison-visits">
      <h2>{t('v_scheduleTitle')}</h2>
      {all && all.length === 0 && <p class="muted">{t('v_noVisits')}</p>}
      {(all ?? []).map((a) => <Announced key={a.team_id} a={a} unitView />)}
    </div>
  );
}
