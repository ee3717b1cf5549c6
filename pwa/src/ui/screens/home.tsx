import { useState } from 'preact/hooks';
import { planToday, PURPOSES } from '../../store/records';
import { Banner, Screen } from '../components';
import { useCtx, useData } from '../context';
import { formatDate } from '../i18n';
import { PinIcon } from './checkin';

export function Home() {
  const { t, rt, navigate } = useCtx();
  const years = useData(() => rt.records.years(), []);
  const [year, setYear] = useState(Number(planToday().slice(0, 4)));
  const tally = useData(() => rt.records.tally(year), [year]);
  const teams = useData(() => rt.records.myTeams(), []);
  const openTrip = useData(() => rt.records.openTripToday(), []);
  return (
    <Screen title={rt.user.full_name || rt.user.username}>
      <div class="card stack home-checkin">
        <button class="btn btn-primary btn-hero" id="home-checkin" onClick={() => navigate('#/checkin')}>
          <PinIcon />
          <span>{t('checkin')}</span>
        </button>
        <p class="muted small" id="home-today">
          {openTrip ? t('todayTrip', openTrip.title || t(`purpose_${openTrip.purpose}`)) : t('todayNoTrip')}
        </p>
      </div>
      <div class="chips" role="group" aria-label={t('year')}>
        {(years ?? [year]).map((y) => (
          <button key={y} class={`chip ${y === year ? 'on' : ''}`} aria-pressed={y === year} onClick={() => setYear(y)}>{y}</button>
        ))}
      </div>
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
      {teams && teams.length > 0 && (
        <button class="btn btn-secondary" data-teams onClick={() => navigate('#/campaign')}>{t('myCampaigns')} ({teams.length})</button>
      )}
      <button class="btn btn-secondary" onClick={() => navigate('#/trip/new')}>{t('newTrip')}</button>
      {!tally && <Banner kind="info">{t('loading')}</Banner>}
    </Screen>
  );
}
