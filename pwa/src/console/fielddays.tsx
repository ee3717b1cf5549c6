// Field days (Ngày đi cơ sở, plan II.3): every secretary's tally from the
// server's report, sortable, with a small chart of cumulative days by
// month against the pace line. The months come from the same report read
// as of each month's end, so the chart counts by the server's rules and
// the device needs none of the secretaries' trips to draw it.
import { useState } from 'preact/hooks';
import { planToday } from '../store/records';
import { useCtx, useData } from '../ui/context';
import { formatDate } from '../ui/i18n';
import { CumulativeChart, type MonthPoint } from './chart';
import { SecretaryDetail } from './fielddays-secretary';
import { download as downloadFile } from './api';
import { errorText } from './errors';
import { apiGet, query, useRemote } from './manage-api';
import './manage-style';
import { href } from './paths';
import type { ConsoleRoute, ScreenProps } from './routes';
import { ALL_SEEING_ROLES } from '../store/plan.gen';
import { commonText, tr } from './text-common';
import type { SharedKey } from './text';
import { fieldDaysText } from './text-fielddays';

const text = { ...commonText, ...fieldDaysText };
export type FdKey = keyof typeof text | SharedKey;
export type FdT = (k: FdKey, ...a: (string | number)[]) => string;

/** The field-day report's shapes (server/report/fielddays.go). */
export interface SecretaryDays {
  user_id: string;
  username: string;
  full_name: string;
  title: string;
  field_days: number;
  verified_days: number;
  planned_days: number;
  min_field_days: number;
  remaining_days: number;
  expected_by_date: number;
  on_pace: boolean;
  by_purpose: { purpose: string; field_days: number; verified_days: number }[];
  special_periods: { period_id: string; name: string; field_days: number; verified_days: number }[];
}

export interface FieldDaysReport {
  year: number;
  as_of: string;
  plan_id: string | null;
  plan_number: string | null;
  min_field_days: number;
  expected_by_date: number;
  due_by_date: number;
  special_periods: { id: string; name: string; starts_on: string | null; ends_on: string | null }[];
  items: SecretaryDays[];
}

const HERE = href('fielddays');

/** The days read for the chart: each month's last day up to asOf, within year. */
export function monthEnds(year: number, asOf: string): { month: number; date: string }[] {
  const out: { month: number; date: string }[] = [];
  for (let m = 1; m <= 12; m++) {
    const last = new Date(Date.UTC(year, m, 0)).toISOString().slice(0, 10);
    const first = `${year}-${String(m).padStart(2, '0')}-01`;
    if (first > asOf) break;
    out.push({ month: m, date: last < asOf ? last : asOf });
  }
  return out;
}

type SortKey = string; // 'name' | 'field_days' | 'verified_days' | 'on_pace' | 'purpose:<p>' | 'period:<id>'

function sortValue(s: SecretaryDays, key: SortKey): number | string {
  if (key === 'name') return s.full_name || s.username;
  if (key === 'on_pace') return (s.on_pace ? 1 : 0) * 10000 + s.field_days;
  if (key.startsWith('purpose:')) return s.by_purpose.find((p) => p.purpose === key.slice(8))?.field_days ?? 0;
  if (key.startsWith('period:')) return s.special_periods.find((p) => p.period_id === key.slice(7))?.field_days ?? 0;
  const v = (s as unknown as Record<string, unknown>)[key];
  return typeof v === 'number' ? v : 0;
}

export function FieldDays({ params }: ScreenProps) {
  const { lang, session, online, navigate, rt } = useCtx();
  const t: FdT = (k, ...a) => tr(text, lang, k, ...a);
  const today = planToday();
  // Without a year asked for, the latest plan's year up to this one (a
  // year with no plan has no minimum to be on pace with, nor a workbook).
  const planYears = useData(() => rt.db.query<{ year: number }>(
    'SELECT DISTINCT year FROM plans WHERE deleted = 0 AND year <= ? ORDER BY year', [Number(today.slice(0, 4))]), []);
  const thisYear = Number(today.slice(0, 4));
  const year = Number(params.get('year')) || (planYears?.length ? planYears[planYears.length - 1]!.year : thisYear);
  const asOf = String(year) < today.slice(0, 4) ? `${year}-12-31` : today;
  const sort = params.get('sort') || 'name';
  const dir = params.get('dir') === 'desc' ? 'desc' : 'asc';
  const userId = params.get('user') ?? '';
  const go = (p: Record<string, string>) => navigate(HERE + query({ year: params.get('year') ?? '', sort, dir, user: userId, ...p }));

  const report = useRemote(() => apiGet<FieldDaysReport>(session, '/api/v1/reports/field-days' + query({ year, date: asOf })), [year, asOf, online]);
  // One report per month end: the cumulative days of every secretary.
  const months = useRemote(async () => {
    const ends = monthEnds(year, asOf);
    const reports = await Promise.all(ends.map((e) =>
      apiGet<FieldDaysReport>(session, '/api/v1/reports/field-days' + query({ year, date: e.date }))));
    const by = new Map<string, MonthPoint[]>();
    reports.forEach((r, i) => {
      for (const s of r.items) {
        const list = by.get(s.user_id) ?? [];
        list.push({ month: ends[i]!.month, days: s.field_days });
        by.set(s.user_id, list);
      }
    });
    return by;
  }, [year, asOf, online]);
  const [dl, setDl] = useState<{ busy: boolean; error: string }>({ busy: false, error: '' });
  const download = async () => {
    setDl({ busy: true, error: '' });
    try {
      await downloadFile(session, '/api/v1/reports/field-days.xlsx' + query({ year, date: asOf }), 'ngay-di-co-so.xlsx');
      setDl({ busy: false, error: '' });
    } catch (e) {
      setDl({ busy: false, error: errorText(lang, e) });
    }
  };

  const r = report.data;
  const items = [...(r?.items ?? [])].sort((a, b) => {
    const x = sortValue(a, sort), y = sortValue(b, sort);
    const c = typeof x === 'string' ? x.localeCompare(String(y), 'vi') : x - (y as number);
    return dir === 'asc' ? c : -c;
  });
  const selected = r?.items.find((s) => s.user_id === userId);
  const Th = ({ k, label, num }: { k: SortKey; label: string; num?: boolean }) => (
    <th class={num ? 'num' : ''}>
      <button class="sort-btn" data-sort={k} aria-sort={sort === k ? (dir === 'asc' ? 'ascending' : 'descending') : undefined}
        onClick={() => go({ sort: k, dir: sort === k && dir === 'asc' ? 'desc' : sort === k ? 'asc' : num ? 'desc' : 'asc' })}>{label}</button>
    </th>
  );
  const years = [...new Set([...(planYears ?? []).map((p) => p.year), thisYear, year])].sort((a, b) => b - a);
  const chartLabel = (s: SecretaryDays, pts: MonthPoint[]) =>
    t('fd_chartLabel', s.full_name || s.username, pts[pts.length - 1]?.days ?? 0, pts[pts.length - 1]?.month ?? 0, s.min_field_days);

  return (
    <section class="cscreen fielddays" id="fielddays">
      <header class="cscreen-head">
        <h1>{t('fd_title')}</h1>
        <div class="cfilters">
          <label class="cfilter">
            <span>{t('year')}</span>
            <select class="input" id="fd-year" value={String(year)} onChange={(e) => go({ year: (e.target as HTMLSelectElement).value, user: '' })}>
              {years.map((y) => <option key={y} value={String(y)}>{y}</option>)}
            </select>
          </label>
          <button class="btn btn-secondary cbtn" id="fd-xlsx" disabled={dl.busy || !online} onClick={() => void download()}>
            {dl.busy ? t('downloading') : t('c_downloadExcel')}
          </button>
        </div>
      </header>
      {!online && <div class="banner banner-warn">{t('c_needsNetwork')}</div>}
      {dl.error && <div class="banner banner-error" role="alert" id="fd-xlsx-error">{t('downloadFailed', dl.error)}</div>}
      {report.error != null && (
        <div class="banner banner-error" role="alert">
          {t('c_loadFailed', errorText(lang, report.error))} <button class="link-btn" onClick={report.reload}>{t('retry')}</button>
        </div>
      )}
      {!r && report.loading && <p class="muted">{t('loading')}</p>}
      {r && (
        <p class="muted small" id="fd-summary">
          {r.plan_number
            ? t('fd_summary', r.plan_number, r.min_field_days, formatDate(r.as_of), r.due_by_date)
            : t('fd_noPlan', r.year, r.min_field_days)}
        </p>
      )}
      {r && r.items.length === 0 && <p class="muted" id="fd-empty">{t('fd_noSecretaries')}</p>}
      {selected && r ? (
        <SecretaryDetail s={selected} report={r} points={months.data?.get(selected.user_id) ?? []} t={t}
          back={() => go({ user: '' })} chartLabel={chartLabel} />
      ) : r && r.items.length > 0 && (
        <div class="card ctable-wrap">
          <table class="ctable fd-table" id="fd-table">
            <thead>
              <tr>
                <Th k="name" label={t('fd_secretary')} />
                <Th k="field_days" label={t('fd_days')} num />
                <Th k="verified_days" label={t('fd_verified')} num />
                <th class="num">{t('fd_min')}</th>
                <th class="num">{t('fd_due')}</th>
                <Th k="on_pace" label={t('fd_pace')} />
                {r.special_periods.map((p) => <Th key={p.id} k={`period:${p.id}`} label={p.name} num />)}
                {(r.items[0]?.by_purpose ?? []).map((p) => <Th key={p.purpose} k={`purpose:${p.purpose}`} label={t(`fd_purpose_${p.purpose}` as FdKey)} num />)}
                <th>{t('fd_chart')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((s) => {
                const pts = months.data?.get(s.user_id) ?? [];
                return (
                  <tr key={s.user_id} class="clickable" data-secretary={s.full_name || s.username} data-user={s.user_id}
                    onClick={() => go({ user: s.user_id })}>
                    <td>
                      <button class="link-btn fd-open" onClick={(e) => { e.stopPropagation(); go({ user: s.user_id }); }}>{s.full_name || s.username}</button>
                      {s.title && <div class="muted small">{s.title}</div>}
                    </td>
                    <td class="num fd-days"><strong>{s.field_days}</strong></td>
                    <td class="num">{s.verified_days}</td>
                    <td class="num">{s.min_field_days}</td>
                    <td class="num">{r.due_by_date}</td>
                    <td><span class={s.on_pace ? 'pace-ok' : 'pace-behind'} data-pace={s.on_pace ? 'ok' : 'behind'}>{s.on_pace ? t('onPace') : t('behindPace')}</span></td>
                    {r.special_periods.map((p) => <td key={p.id} class="num">{s.special_periods.find((x) => x.period_id === p.id)?.field_days ?? 0}</td>)}
                    {s.by_purpose.map((p) => <td key={p.purpose} class="num">{p.field_days}</td>)}
                    <td>{pts.length > 0 && <CumulativeChart small points={pts} min={s.min_field_days} label={chartLabel(s, pts)} />}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export const route: ConsoleRoute = {
  id: 'fielddays', label: 'nav_fielddays', icon: '◷', roles: ALL_SEEING_ROLES, nav: true, component: FieldDays,
};
