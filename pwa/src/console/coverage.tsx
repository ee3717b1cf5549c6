// Coverage (Độ bao phủ): for each inspection campaign, each planned unit's
// team, window and state, with a bar per campaign and a way into the
// unit's notes. Read from the server's report (GET /reports/coverage), not
// from the device: headquarters needs no national dataset locally.
import { useState } from 'preact/hooks';
import { useCtx } from '../ui/context';
import { formatDate } from '../ui/i18n';
import { Legend, StackBar, type Segment } from './chart';
import './manage-style';
import { download as downloadFile } from './api';
import { errorText } from './errors';
import { apiGet, apiList, query, useRemote } from './manage-api';
import { href } from './paths';
import type { ConsoleRoute, ScreenProps } from './routes';
import { ALL_SEEING_ROLES } from '../store/plan.gen';
import { commonText, tr } from './text-common';
import type { SharedKey } from './text';
import { coverageText } from './text-coverage';

const text = { ...commonText, ...coverageText };
type TextKey = keyof typeof text | SharedKey;

/** The coverage report's shapes (server/report/coverage.go). */
export interface UnitCoverage {
  unit_id: string;
  code: string;
  name: string;
  cluster_id: string | null;
  cluster_name: string | null;
  state: 'in_window' | 'early' | 'late' | 'pending' | 'overdue';
  inspected: boolean;
  inspected_on: string | null;
  submitted_at: string | null;
  note_id: string | null;
  note_status: string | null;
  notes: number;
  /** The unit's visit in its team's schedule (first and last day). */
  scheduled_on: string | null;
  scheduled_to: string | null;
}

export interface CampaignCoverage {
  id: string;
  kind: string;
  name: string;
  starts_on: string | null;
  ends_on: string | null;
  planned: number;
  inspected: number;
  units: UnitCoverage[];
}

interface CoverageReport {
  as_of: string;
  items: CampaignCoverage[];
}

interface Team {
  id: string;
  campaign_id: string;
  name: string;
  leader_id: string | null;
  member_ids: string[];
  unit_ids: string[];
}

/**
 * What the console shows of a unit: the report's state split the way
 * headquarters reads it. A unit not yet inspected is "not yet" before its
 * window opens and "in the window" while it is open; an inspected one is
 * "reviewed" once its note is, "late" when the visit came after the window.
 */
export type ShownState = 'not_yet' | 'open' | 'inspected' | 'reviewed' | 'late' | 'overdue';
export const SHOWN_STATES: readonly ShownState[] = ['reviewed', 'inspected', 'late', 'open', 'not_yet', 'overdue'];

export function shownState(u: UnitCoverage, c: { starts_on: string | null }, asOf: string): ShownState {
  switch (u.state) {
    case 'overdue':
      return 'overdue';
    case 'pending':
      return c.starts_on && asOf < c.starts_on ? 'not_yet' : 'open';
    case 'late':
      return 'late';
  }
  return u.note_status === 'reviewed' ? 'reviewed' : 'inspected';
}

/** The review queue's address for a unit's notes in a campaign (the queue reads these filters). */
export function notesHash(campaignId: string, unitId: string): string {
  // Every note handed in (submitted, sent back, reviewed), not only those waiting.
  return href('queue') + query({ campaign_id: campaignId, unit_id: unitId, status: 'all' });
}

const HERE = href('coverage');

export function Coverage({ params }: ScreenProps) {
  const { lang, session, online, navigate, rt } = useCtx();
  const t = (k: TextKey, ...a: (string | number)[]) => tr(text, lang, k, ...a);
  const campaignId = params.get('campaign_id') ?? '';
  const clusterId = params.get('cluster_id') ?? '';
  const report = useRemote(() => apiGet<CoverageReport>(session, '/api/v1/reports/coverage' + query({ campaign_id: campaignId })), [campaignId, online]);
  const teams = useRemote(() => apiList<Team>(session, '/api/v1/teams'), [online]);
  const clusters = useRemote(() => apiList<{ id: string; name: string }>(session, '/api/v1/clusters'), [online]);
  const allCampaigns = useRemote(() => apiList<{ id: string; name: string }>(session, '/api/v1/campaigns'), [online]);
  const names = useRemote(() => rt.records.userNames(), []);
  const [dl, setDl] = useState<{ busy: boolean; error: string }>({ busy: false, error: '' });

  const go = (p: Record<string, string>) => navigate(HERE + query({ campaign_id: campaignId, cluster_id: clusterId, ...p }));
  const download = async () => {
    setDl({ busy: true, error: '' });
    try {
      // The workbook takes the same campaign and cluster as the screen; the
      // units of no cluster are a filter of this screen only, and the
      // workbook then lists every cluster (the hint says so).
      await downloadFile(session, '/api/v1/reports/coverage.xlsx' + query({
        campaign_id: campaignId, cluster_id: clusterId === 'none' ? '' : clusterId,
      }), 'do-bao-phu.xlsx');
      setDl({ busy: false, error: '' });
    } catch (e) {
      setDl({ busy: false, error: errorText(lang, e) });
    }
  };

  return (
    <section class="cscreen coverage" id="coverage">
      <header class="cscreen-head">
        <h1>{t('cov_title')}</h1>
        <div class="cfilters">
          <label class="cfilter">
            <span>{t('campaign')}</span>
            <select class="input" id="cov-campaign" value={campaignId} onChange={(e) => go({ campaign_id: (e.target as HTMLSelectElement).value })}>
              <option value="">{t('c_allCampaigns')}</option>
              {(allCampaigns.data ?? []).map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
            </select>
          </label>
          <label class="cfilter">
            <span>{t('field_cluster')}</span>
            <select class="input" id="cov-cluster" value={clusterId} onChange={(e) => go({ cluster_id: (e.target as HTMLSelectElement).value })}>
              <option value="">{t('c_allClusters')}</option>
              <option value="none">{t('c_noCluster')}</option>
              {(clusters.data ?? []).map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
            </select>
          </label>
          <button class="btn btn-secondary cbtn" id="cov-xlsx" disabled={dl.busy || !online} onClick={() => void download()}>
            {dl.busy ? t('downloading') : t('c_downloadExcel')}
          </button>
        </div>
      </header>
      {!online && <div class="banner banner-warn" id="cov-offline">{t('c_needsNetwork')}</div>}
      {clusterId === 'none' && <p class="muted small" id="cov-xlsx-hint">{t('cov_xlsxAllClusters')}</p>}
      {dl.error && <div class="banner banner-error" role="alert" id="cov-xlsx-error">{t('downloadFailed', dl.error)}</div>}
      {report.error != null && (
        <div class="banner banner-error" role="alert">
          {t('c_loadFailed', errorText(lang, report.error))} <button class="link-btn" onClick={report.reload}>{t('retry')}</button>
        </div>
      )}
      {report.data && <p class="muted small" id="cov-asof">{t('c_asOf', formatDate(report.data.as_of))}</p>}
      {!report.data && report.loading && <p class="muted">{t('loading')}</p>}
      {report.data && report.data.items.length === 0 && <p class="muted" id="cov-empty">{t('cov_noCampaigns')}</p>}
      {report.data?.items.map((c) => (
        <CampaignCard key={c.id} c={c} asOf={report.data!.as_of} clusterId={clusterId}
          teams={(teams.data ?? []).filter((x) => x.campaign_id === c.id)} teamsLoaded={!!teams.data}
          names={names.data ?? new Map()} t={t} />
      ))}
    </section>
  );
}

function CampaignCard({ c, asOf, clusterId, teams, teamsLoaded, names, t }: {
  c: CampaignCoverage;
  asOf: string;
  clusterId: string;
  teams: Team[];
  teamsLoaded: boolean;
  names: Map<string, string>;
  t: (k: TextKey, ...a: (string | number)[]) => string;
}) {
  const { navigate } = useCtx();
  const units = c.units.filter((u) => !clusterId || (clusterId === 'none' ? !u.cluster_id : u.cluster_id === clusterId));
  const states = units.map((u) => shownState(u, c, asOf));
  const segments: Segment[] = SHOWN_STATES.map((s) => ({ key: s, label: t(`cov_state_${s}`), value: states.filter((x) => x === s).length }));
  const inspected = units.filter((u) => u.inspected).length;
  const teamOf = (unitId: string) => teams.find((x) => x.unit_ids.includes(unitId));
  const kindKey = `cov_kind_${c.kind}` as TextKey;
  return (
    <article class="card cov-campaign" data-campaign={c.name} data-campaign-id={c.id}>
      <header class="cov-head">
        <div>
          <div class="muted small">{kindKey in text ? t(kindKey) : c.kind}</div>
          <h2>{c.name}</h2>
          <div class="small">{c.starts_on || c.ends_on ? t('window', formatDate(c.starts_on), formatDate(c.ends_on)) : t('cov_noWindow')}</div>
        </div>
        <div class="cov-count" data-inspected={inspected} data-planned={units.length}>{t('cov_summary', inspected, units.length)}</div>
      </header>
      <StackBar segments={segments} total={units.length} />
      <Legend segments={segments.filter((s) => s.value > 0)} />
      {teamsLoaded && teams.length === 0 && (
        <div class="banner banner-warn cov-noteam" data-noteam="1">
          {t('cov_noTeam')} <a class="link-btn" href={href('management', 'teams')}>{t('cov_manageTeams')}</a>
        </div>
      )}
      {c.units.length === 0 ? <p class="muted">{t('cov_noUnits')}</p> : units.length === 0 ? <p class="muted">{t('cov_noUnitsInCluster')}</p> : (
        <table class="ctable cov-table">
          <thead>
            <tr>
              <th>{t('cov_unit')}</th>
              <th>{t('field_cluster')}</th>
              <th>{t('field_team')}</th>
              <th>{t('cov_state')}</th>
              <th>{t('cov_inspectedOn')}</th>
              <th>{t('notes')}</th>
            </tr>
          </thead>
          <tbody>
            {units.map((u, i) => {
              const team = teamOf(u.unit_id);
              const s = states[i]!;
              return (
                <tr key={u.unit_id} data-unit={u.name} data-state={s} data-report-state={u.state} data-note-status={u.note_status ?? ''}>
                  <td><strong>{u.name}</strong></td>
                  <td class="muted">{u.cluster_name ?? '—'}</td>
                  <td>
                    {team ? (
                      <>
                        <div>{team.name}</div>
                        {team.leader_id && <div class="muted small">{t('teamLeaderIs', names.get(team.leader_id) ?? '…')}</div>}
                      </>
                    ) : <span class="muted">{t('cov_unitNoTeam')}</span>}
                  </td>
                  <td>
                    <span class={`cov-state cov-state-${s}`}>{t(`cov_state_${s}`)}</span>
                    {u.state === 'early' && <div class="muted small">{t('cov_early')}</div>}
                    {s === 'late' && u.note_status === 'reviewed' && <div class="small cov-reviewed">{t('cov_state_reviewed')}</div>}
                    {!u.inspected && u.scheduled_on && (
                      <div class={`small ${u.state === 'overdue' ? 'err-text' : 'muted'}`} data-scheduled={u.scheduled_on}>
                        {t('cov_scheduledFor', formatDate(u.scheduled_on).slice(0, 5))}
                      </div>
                    )}
                  </td>
                  <td>{formatDate(u.inspected_on)}</td>
                  <td>
                    {u.notes > 0
                      ? <button class="link-btn cov-notes" onClick={() => navigate(notesHash(c.id, u.unit_id))}>{t('cov_openNotes', u.notes)}</button>
                      : <span class="muted small">{t('noNoteYet')}</span>}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </article>
  );
}

export const route: ConsoleRoute = {
  id: 'coverage', label: 'nav_coverage', icon: '▦', roles: ALL_SEEING_ROLES, nav: true, component: Coverage,
};
