import { useState } from 'preact/hooks';
import { holdsFieldRole, planToday, PURPOSES, showsFieldTabs } from '../../store/records';
import { TALLIED_ROLE } from '../../store/plan.gen';
import { Banner, Screen } from '../components';
import { useCtx, useData } from '../context';
import { formatDate, formatDateTime } from '../i18n';
import { PinIcon } from './checkin';
import { BriefingsButton, recordsBriefings } from './briefings';
import { DepartmentHome, LiaisonHome } from './rolehome';

/**
 * Home by role: a unit liaison follows their unit, a department its
 * assigned findings; whoever works in the field gets the field home.
 */
export function Home() {
  const { rt } = useCtx();
  const roles = rt.user.roles ?? [];
  if (!holdsFieldRole(roles) && roles.includes('unit_liaison')) return <LiaisonHome />;
  if (!holdsFieldRole(roles) && roles.includes('department')) return <DepartmentHome />;
  return <FieldHome />;
}

/** This user's notes sent back: who sent each back, when, and why; each opens the note. */
function Revisions() {
  const { t, rt, navigate, lang } = useCtx();
  const notes = useData(() => rt.records.revisionNotes(), []);
  if (!notes || notes.length === 0) return null;
  return (
    <div class="card stack" id="home-revisions">
      <h2>{t('revisionsTitle')} ({notes.length})</h2>
      <ul class="list">
        {notes.map((n) => (
          <li key={n.id}>
            <button class="list-item list-btn revision-item" data-revision={n.title} onClick={() => navigate(`#/note/${n.id}`)}>
              <strong>{n.title || t('visitNote')}</strong>
              {n.unit_name && <div class="muted small">{n.unit_name}</div>}
              <div class="small">{t('revisionBy', n.reviewer, formatDateTime(n.at, lang))}</div>
              {n.comment && <div class="pre warn-text" data-revision-comment>{n.comment}</div>}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

/**
 * The one thing to do next, by what matters most: a note sent back, today's
 * trip not yet counted, a draft to finish, work waiting to be sent, the
 * next trip. One line and one tap.
 */
function NextStep({ field, hasTrip }: { field: boolean; hasTrip: boolean }) {
  const { t, rt, navigate } = useCtx();
  const next = useData(async () => {
    const revisions = await rt.records.revisionNotes();
    if (revisions.length > 0) return { text: t('nextRevision', revisions[0]!.title || t('visitNote')), to: `#/note/${revisions[0]!.id}` };
    if (field && hasTrip && !(await rt.records.todayTicked())) return { text: t('nextCheckin'), to: '#/checkin' };
    const drafts = await rt.records.draftNotes();
    if (drafts.length > 0) return { text: t('nextDraft', drafts[0]!.title || drafts[0]!.unit_name || t('visitNote')), to: `#/note/${drafts[0]!.id}` };
    const pending = await rt.store.pendingCount();
    if (pending > 0) return { text: t('nextSync', pending), to: '#/sync' };
    const up = field ? (await rt.records.upcomingTrips())[0] : undefined;
    if (up) return { text: t('nextTrip', up.title || t(`purpose_${up.purpose}`), formatDate(up.starts_on)), to: `#/trip/${up.id}` };
    return null;
  }, [field, hasTrip]);
  if (next === undefined) return null;
  return (
    <div class="card next-step" id="home-next">
      <h2>{t('nextTitle')}</h2>
      {next
        ? <button class="list-btn list-item next-btn" data-next={next.to} onClick={() => navigate(next.to)}><span>{next.text}</span><span aria-hidden="true">›</span></button>
        : <p class="muted">{t('nextNothing')}</p>}
    </div>
  );
}

/** This user's trips to come, soonest first; each opens; a new one starts here. */
function UpcomingTrips() {
  const { t, rt, navigate } = useCtx();
  const trips = useData(() => rt.records.upcomingTrips(), []);
  if (!trips) return null;
  return (
    <div class="card stack" id="home-upcoming">
      <h2>{t('upcomingTrips')}</h2>
      {trips.length === 0 && <p class="muted small">{t('noUpcomingTrips')}</p>}
      {trips.length > 0 && (
        <ul class="list">
          {trips.map((tr) => (
            <li key={tr.id}>
              <button class="list-item list-btn" data-upcoming={tr.title} onClick={() => navigate(`#/trip/${tr.id}`)}>
                <div>
                  <strong>{tr.title || t(`purpose_${tr.purpose}`)}</strong>
                  <div class="muted small">{formatDate(tr.starts_on)}{tr.ends_on && tr.ends_on !== tr.starts_on ? ` – ${formatDate(tr.ends_on)}` : ''} · {t(`purpose_${tr.purpose}`)}</div>
                </div>
              </button>
            </li>
          ))}
        </ul>
      )}
      <button class="btn btn-secondary" id="home-new-trip" onClick={() => navigate('#/trip/new')}>{t('newTrip')}</button>
    </div>
  );
}

function FieldHome() {
  const { t, rt, navigate } = useCtx();
  const roles = rt.user.roles ?? [];
  // The plan counts a secretary's field days (plan.TalliedRole): nobody
  // else has a minimum to keep pace with.
  const tallied = roles.includes(TALLIED_ROLE);
  const years = useData(() => rt.records.years(), []);
  const [year, setYear] = useState(Number(planToday().slice(0, 4)));
  const tally = useData(() => (tallied ? rt.records.tally(year) : Promise.resolve(null)), [year, tallied]);
  const teams = useData(() => rt.records.myTeams(), []);
  const openTrip = useData(() => rt.records.openTripToday(), []);
  const field = showsFieldTabs(roles);
  return (
    <Screen title={rt.user.full_name || rt.user.username}>
      {field && <div class="card stack home-checkin">
        <button class="btn btn-primary btn-hero" id="home-checkin" onClick={() => navigate('#/checkin')}>
          <PinIcon />
          <span>{t('checkin')}</span>
        </button>
        <p class="muted small" id="home-today">
          {openTrip ? t('todayTrip', openTrip.title || t(`purpose_${openTrip.purpose}`)) : t('todayNoTrip')}
        </p>
      </div>}
      <NextStep field={field} hasTrip={!!openTrip} />
      <Revisions />
      {field && <UpcomingTrips />}
      {teams && teams.length > 0 && (
        <button class="btn btn-secondary" data-teams onClick={() => navigate('#/campaign')}>{t('myCampaigns')} ({teams.length})</button>
      )}
      {tallied && <div class="chips" role="group" aria-label={t('year')}>
        {(years ?? [year]).map((y) => (
          <button key={y} class={`chip ${y === year ? 'on' : ''}`} aria-pressed={y === year} onClick={() => setYear(y)}>{y}</button>
        ))}
      </div>}
      {tally && (
        <div class="card tally" id="tally">
          <p class="big" id="tally-days">{t('fieldDays', tally.days, tally.min)}</p>
          <div class="progress" aria-hidden="true">
            <div class="progress-bar" style={{ width: `${Math.min(100, (100 * tally.days) / Math.max(1, tally.min))}%` }} />
            <div class="progress-mark" style={{ left: `${Math.min(100, (100 * tally.due) / Math.max(1, tally.min))}%` }} />
          </div>
          <p class={`pace ${tally.onPace ? 'pace-ok' : 'pace-behind'}`} id="tally-pace">
            {tally.onPace ? t('onPace') : t('behindPace')}
          </p>
          <p class="muted" id="tally-due">{t('paceDetail', formatDate(tally.asOf), tally.due)}</p>
          <p class="row"><span>{t('verifiedDays')}</span><strong id="tally-verified">{tally.verified}</strong></p>
          {tally.plan
            ? <p class="muted small">{t('planRef', tally.plan.number)}</p>
            : <p class="muted small" id="tally-no-plan">{t('noPlan', tally.year, tally.min)}</p>}
        </div>
      )}
      {tally && (
        <div class="card">
          <h2>{t('byPurpose')}</h2>
          {PURPOSES.map((p) => (
            <p class="row" key={p}><span>{t(`purpose_${p}`)}</span><strong>{tally.byPurpose[p]}</strong></p>
          ))}
        </div>
      )}
      {tally && (
        <div class="card">
          <h2>{t('specialPeriods')}</h2>
          {tally.periods.length === 0 && <p class="muted">{t('noPeriods')}</p>}
          {tally.periods.map((p) => (
            <p class="row" key={p.name}>
              <span>{p.name}<br /><span class="muted small">{formatDate(p.starts_on)} – {formatDate(p.ends_on)}</span></span>
              <strong>{t('days', p.days)}</strong>
            </p>
          ))}
        </div>
      )}
      {recordsBriefings(roles) && <BriefingsButton />}
      {tally === undefined && <Banner kind="info">{t('loading')}</Banner>}
    </Screen>
  );
}
