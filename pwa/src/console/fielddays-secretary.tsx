// One secretary's field days in detail: the server's tally with the chart
// at full size, then their trips, days and check-ins with the server's
// flags (far from unit, low accuracy, clock ahead, no position). The
// server has no endpoint for one person's trips and check-ins; a
// headquarters device pulls every row (the all-seeing roles' pull scope),
// so they are read from this device's copy, and the screen says so.
import { useCtx, useData, useSyncStatus } from '../ui/context';
import { formatDate, formatDateTime, formatDistance } from '../ui/i18n';
import { CumulativeChart, type MonthPoint } from './chart';
import type { FdKey, FdT, FieldDaysReport, SecretaryDays } from './fielddays';
import { planToday } from '../store/records';

interface TripRow {
  id: string;
  title: string;
  purpose: string;
  status: string;
  starts_on: string;
  ends_on: string | null;
}

interface DayRow {
  id: string;
  trip_id: string;
  day: string;
  unit_name: string | null;
  activity: string;
}

interface CheckinRow {
  id: string;
  at: string;
  unit_name: string | null;
  trip_id: string | null;
  accuracy_m: number | null;
  distance_m: number | null;
  flags: string;
  voided: number;
  note: string;
}

/** The check-in's day in the plan's calendar (Vietnam), as the server counts it. */
function checkinDay(at: string): string {
  return planToday(new Date(at));
}

function flagsOf(raw: string): string[] {
  try {
    const v = JSON.parse(raw) as unknown;
    return Array.isArray(v) ? v.map(String) : [];
  } catch {
    return [];
  }
}

export function SecretaryDetail({ s, report, points, t, back, chartLabel }: {
  s: SecretaryDays;
  report: FieldDaysReport;
  points: MonthPoint[];
  t: FdT;
  back: () => void;
  chartLabel: (s: SecretaryDays, pts: MonthPoint[]) => string;
}) {
  const { rt, lang } = useCtx();
  const status = useSyncStatus();
  const year = String(report.year);
  const data = useData(async () => {
    const trips = await rt.db.query<TripRow>(
      `SELECT id, title, purpose, status, starts_on, ends_on FROM trips
       WHERE deleted = 0 AND user_id = ? AND (substr(starts_on, 1, 4) = ? OR substr(COALESCE(ends_on, starts_on), 1, 4) = ?)
       ORDER BY starts_on DESC, title`, [s.user_id, year, year]);
    const days = await rt.db.query<DayRow>(
      `SELECT d.id, d.trip_id, d.day, u.name AS unit_name, d.activity FROM trip_days d LEFT JOIN units u ON u.id = d.unit_id
       WHERE d.deleted = 0 AND d.user_id = ? AND substr(d.day, 1, 4) = ? ORDER BY d.day`, [s.user_id, year]);
    const checkins = await rt.db.query<CheckinRow>(
      `SELECT c.id, c.at, u.name AS unit_name, c.trip_id, c.accuracy_m, c.distance_m, COALESCE(c.flags, '[]') AS flags,
         COALESCE(c.voided, 0) AS voided, COALESCE(c.note, '') AS note
       FROM checkins c LEFT JOIN units u ON u.id = c.unit_id
       WHERE c.deleted = 0 AND c.user_id = ? ORDER BY c.at DESC`, [s.user_id]);
    return { trips, days, checkins: checkins.filter((c) => checkinDay(c.at).startsWith(year)) };
  }, [s.user_id, year]);
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
      <p class="muted small" id="fd-device-hint">{t('fd_deviceHint', status.lastSuccessAt ? formatDateTime(status.lastSuccessAt, lang) : t('fd_never'))}</p>
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
                    {formatDate(trip.starts_on)}{trip.ends_on && trip.ends_on !== trip.starts_on ? ` – ${formatDate(trip.ends_on)}` : ''}
                    {' · '}{t(`fd_purpose_${trip.purpose}` as FdKey)} · {t('fd_tripDays', days.length)}
                  </div>
                  {days.length > 0 && (
                    <table class="ctable fd-days-table">
                      <tbody>
                        {days.map((d) => {
                          const ck = data!.checkins.filter((c) => checkinDay(c.at) === d.day && !c.voided);
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
                  const flags = flagsOf(c.flags);
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
