// One secretary's field days in detail: the server's tally with the chart
// at full size, then their trips, days and check-ins with the server's
// flags (far from unit, low accuracy, clock ahead, no position), read from
// the server (GET /api/v1/reports/activity): a headquarters browser keeps
// none of the national field data on the device.
import { useCtx } from '../ui/context';
import { formatDate, formatDateTime, formatDistance } from '../ui/i18n';
import { useApi } from './api';
import { CumulativeChart, type MonthPoint } from './chart';
import type { FdKey, FdT, FieldDaysReport, SecretaryDays } from './fielddays';
import { Failed, Loading } from './ui';

/** GET /api/v1/reports/activity (server/report/activity.go). */
interface Activity {
  trips: { id: string; title: string; purpose: string; status: string; starts_on: string | null; ends_on: string | null }[];
  days: { id: string; trip_id: string | null; day: string; unit_name: string | null; activity: string }[];
  checkins: {
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
  }[];
}

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
  const activity = useApi<Activity>('/api/v1/reports/activity', { user_id: s.user_id, year }, [s.user_id, year]);
  const data = activity.data;
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
            <div><dt>{t('fd_pace')}</dt><dd class={s.on_pace ? 'pace-ok' : 'pace-behind'}>{s.on_pace ? t('fd_onPace') : t('fd_behind')}</dd></div>
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
      {activity.error !== undefined && <Failed error={activity.error} retry={activity.reload} />}
      {!data && activity.error === undefined && <Loading />}
      <div class="cpanes">
        <div class="card cpane">
          <h2>{t('fd_trips')}</h2>
          {data && data.trips.length === 0 && <p class="muted">{t('fd_noTrips')}</p>}
          <ul class="list" id="fd-trips">
            {(data?.trips ?? []).map((trip) => {
              const days = data!.days.filter((d) => d.trip_id === trip.id);
              return (
                <li key={trip.id} class="fd-trip" data-trip={trip.title}>
                  <div class="row">
                    <strong>{trip.title || '—'}</strong>
                    <span class="tag">{t(`fd_status_${trip.status}` as FdKey)}</span>
                  </div>
                  <div class="muted small">
                    {trip.starts_on ? formatDate(trip.starts_on) : '—'}{trip.ends_on && trip.ends_on !== trip.starts_on ? ` – ${formatDate(trip.ends_on)}` : ''}
                    {' · '}{t(`fd_purpose_${trip.purpose}` as FdKey)} · {t('fd_tripDays', days.length)}
                  </div>
                  {days.length > 0 && (
                    <table class="ctable fd-days-table">
                      <tbody>
                        {days.map((d) => {
                          const ck = data!.checkins.filter((c) => c.day === d.day && !c.voided);
                          return (
                            <tr key={d.id} data-day={d.day}>
                              <td>{formatDate(d.day)}</td>
                              <td>{d.unit_name ?? '—'}</td>
                              <td class="muted">{d.activity}</td>
                              <td>{ck.length > 0
                                ? <span class="ok-text small">{t('fd_checkinOk')}</span>
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
        </div>
        <div class="card cpane">
          <h2>{t('fd_checkins')}</h2>
          {data && data.checkins.length === 0 && <p class="muted">{t('fd_noCheckins')}</p>}
          {data && data.checkins.length > 0 && (
            <table class="ctable" id="fd-checkins">
              <thead>
                <tr><th>{t('fd_time')}</th><th>{t('fd_unit')}</th><th class="num">{t('fd_distance')}</th><th>{t('fd_flags')}</th></tr>
              </thead>
              <tbody>
                {data.checkins.map((c) => {
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
        </div>
      </div>
    </div>
  );
}
