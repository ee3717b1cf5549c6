// One secretary's field days in detail: the server's tally with the chart
// at full size, then their trips, days and check-ins with the server's
// flags (far from unit, low accuracy, clock ahead, no position), read from
// the server page by page (GET /api/v1/reports/activity/trips and
// /checkins): a headquarters browser keeps none of the national field data
// on the device.
import { useCtx } from '../ui/context';
import { formatDate, formatDateTime, formatDistance } from '../ui/i18n';
import { usePages } from './api';
import { CumulativeChart, type MonthPoint } from './chart';
import type { FdKey, FdT, FieldDaysReport, SecretaryDays } from './fielddays';
import { Failed, Loading } from './ui';

/** A trip as GET /api/v1/reports/activity/trips lists it (server/report/activity.go). */
interface Trip {
  id: string;
  title: string;
  purpose: string;
  status: string;
  starts_on: string | null;
  ends_on: string | null;
  days: { id: string; day: string; unit_name: string | null; activity: string; checked_in: boolean }[];
}

/** A check-in as GET /api/v1/reports/activity/checkins lists it. */
interface Checkin {
  id: string;
  at: string;
  /** Its day in the plan's calendar (Vietnam), as the tally counts it. */
  day: string;
  unit_name: string | null;
  trip_id: string | null;
  accuracy_m: number | null;
  distance_m: number | null;
  flags: string[];
  voided: boolean;
  note: string;
}

/** Rows a page of each list: a person's year is mostly a few dozen. */
const PAGE = 50;

export function SecretaryDetail({ s, report, points, t, back, chartLabel }: {
  s: SecretaryDays;
  report: FieldDaysReport;
  points: MonthPoint[];
  t: FdT;
  back: () => void;
  chartLabel: (s: SecretaryDays, pts: MonthPoint[]) => string;
}) {
  const { lang } = useCtx();
  const year = String(report.year);
  const who = { user_id: s.user_id, year };
  const trips = usePages<Trip>('/api/v1/reports/activity/trips', who, PAGE, []);
  const checkins = usePages<Checkin>('/api/v1/reports/activity/checkins', who, PAGE, []);
  const monthLabel = (m: number) => t('fd_month', m);
  return (
    <div class="fd-detail" id="fd-detail" data-user={s.user_id}>
      <button class="link-btn" id="fd-back" onClick={back}>{t('fd_back')}</button>
      <div class="card fd-head">
        <div>
          <h2 id="fd-name">{s.full_name || s.username}</h2>
          {s.title && <div class="muted">{s.title}</div>}
          <dl class="fd-stats">
            <div><dt>{t('fd_days')}</dt><dd id="fd-detail-days">{s.field_days}/{s.min_field_days}</dd></div>
            <div><dt>{t('fd_verified')}</dt><dd>{s.verified_days}</dd></div>
            <div><dt>{t('fd_due')}</dt><dd>{report.due_by_date}</dd></div>
            <div><dt>{t('fd_planned')}</dt><dd>{s.planned_days}</dd></div>
            <div><dt>{t('fd_pace')}</dt><dd class={s.on_pace ? 'pace-ok' : 'pace-behind'}>{s.on_pace ? t('onPace') : t('behindPace')}</dd></div>
          </dl>
          <dl class="fd-stats">
            {s.special_periods.map((p) => <div key={p.period_id}><dt>{p.name}</dt><dd>{p.field_days}</dd></div>)}
            {s.by_purpose.map((p) => <div key={p.purpose}><dt>{t(`fd_purpose_${p.purpose}` as FdKey)}</dt><dd>{p.field_days}</dd></div>)}
          </dl>
        </div>
        <figure class="fd-chart">
          <CumulativeChart points={points} min={s.min_field_days} label={chartLabel(s, points)} monthLabel={monthLabel} />
          <figcaption class="muted small">{t('fd_chart')}</figcaption>
        </figure>
      </div>
      <div class="cpanes">
        <div class="card cpane">
          <h2>{t('trips')}</h2>
          {trips.error !== undefined && <Failed error={trips.error} retry={trips.reload} />}
          {!trips.items && trips.error === undefined && <Loading />}
          {trips.items && trips.items.length === 0 && <p class="muted">{t('fd_noTrips')}</p>}
          <ul class="list" id="fd-trips">
            {(trips.items ?? []).map((trip) => {
              const days = trip.days;
              return (
                <li key={trip.id} class="fd-trip" data-trip={trip.title}>
                  <div class="row">
                    <strong>{trip.title || '—'}</strong>
                    <span class="tag">{t(`status_${trip.status}` as FdKey)}</span>
                  </div>
                  <div class="muted small">
                    {trip.starts_on ? formatDate(trip.starts_on) : '—'}{trip.ends_on && trip.ends_on !== trip.starts_on ? ` – ${formatDate(trip.ends_on)}` : ''}
                    {' · '}{t(`fd_purpose_${trip.purpose}` as FdKey)} · {t('days', days.length)}
                  </div>
                  {days.length > 0 && (
                    <table class="ctable fd-days-table">
                      <tbody>
                        {days.map((d) => {
                          return (
                            <tr key={d.id} data-day={d.day}>
                              <td>{formatDate(d.day)}</td>
                              <td>{d.unit_name ?? '—'}</td>
                              <td class="muted">{d.activity}</td>
                              <td>{d.checked_in
                                ? <span class="ok-text small">{t('checkedIn')}</span>
                                : <span class="muted small">{t('fd_noCheckin')}</span>}</td>
                            </tr>
                          );
                        })}
                      </tbody>
                    </table>
                  )}
                </li>
              );
            })}
          </ul>
          {trips.more && <More more={trips.more} loading={trips.loading} id="fd-trips-more" t={t} />}
        </div>
        <div class="card cpane">
          <h2>{t('fd_checkins')}</h2>
          {checkins.error !== undefined && <Failed error={checkins.error} retry={checkins.reload} />}
          {!checkins.items && checkins.error === undefined && <Loading />}
          {checkins.items && checkins.items.length === 0 && <p class="muted">{t('fd_noCheckins')}</p>}
          {checkins.items && checkins.items.length > 0 && (
            <table class="ctable" id="fd-checkins">
              <thead>
                <tr><th>{t('field_at')}</th><th>{t('unit')}</th><th class="num">{t('fd_distance')}</th><th>{t('fd_flags')}</th></tr>
              </thead>
              <tbody>
                {checkins.items.map((c) => {
                  const flags = c.flags;
                  return (
                    <tr key={c.id} data-checkin={c.unit_name ?? ''} data-flags={flags.join(' ')}>
                      <td>{formatDateTime(c.at, lang)}</td>
                      <td>{c.unit_name ?? '—'}{c.note && <div class="muted small">{c.note}</div>}</td>
                      <td class="num">
                        {c.distance_m != null ? formatDistance(c.distance_m, lang) : '—'}
                        {c.accuracy_m != null && <div class="muted small">{t('fd_accuracy', Math.round(c.accuracy_m))}</div>}
                      </td>
                      <td>
                        {c.voided ? <span class="tag tag-off">{t('fd_voided')}</span> : null}
                        {flags.map((f) => <span key={f} class="tag tag-off" data-flag={f}>{t(`fd_flag_${f}` as FdKey)}</span>)}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
          {checkins.more && <More more={checkins.more} loading={checkins.loading} id="fd-checkins-more" t={t} />}
        </div>
      </div>
    </div>
  );
}

/** "Xem thêm": the next page of a list. */
function More({ more, loading, id, t }: { more: () => void; loading: boolean; id: string; t: FdT }) {
  return (
    <button class="btn btn-ghost fd-more" id={id} disabled={loading} onClick={more}>{loading ? t('loading') : t('loadMore')}</button>
  );
}
