import { useEffect, useState } from 'preact/hooks';
import type { RejectedEntry } from '../../store/store';
import { Badge, Banner, Screen } from '../components';
import { useCtx, useData, useSyncStatus } from '../context';
import { formatDateTime, type Key } from '../i18n';
import { LostItem, recordHash } from '../lost';
import { fieldLabel, refusalExplanation, tableLabel } from '../refusal';
import type { LostNotice } from '../../store/store';

export function Sync() {
  const { t, rt, lang, online, persisted, setLang, logout, navigate } = useCtx();
  const status = useSyncStatus();
  const pending = useData(() => rt.store.pendingCount(), []);
  const rejected = useData(() => rt.store.rejectedList(), []);
  const records = useData(() => rt.records.recordStates(), []);
  const lost = useData(() => rt.store.lostNotices(), []);
  const [usage, setUsage] = useState('');
  useEffect(() => {
    void navigator.storage?.estimate?.().then((e) => setUsage(`${Math.round((e.usage ?? 0) / 1024)} KB / ${Math.round((e.quota ?? 0) / 1048576)} MB`));
  }, [pending]);
  const problem = status.problem;
  return (
    <Screen title={t('sync')}>
      <div class="card stack">
        <p class="row"><span class={online ? 'ok-text' : 'warn-text'} id="net-state">{online ? t('online') : t('offline')}</span></p>
        <p class="big" id="pending-count">{t('pending', pending ?? 0)}</p>
        <p id="last-sync" data-at={status.lastSuccessAt ?? ''}>{t('lastSync', status.lastSuccessAt ? formatDateTime(status.lastSuccessAt, lang) : t('never'))}</p>
        {problem && (
          <Banner kind={problem.kind === 'offline' ? 'warn' : 'error'}>
            <span id="sync-problem">{problem.kind === 'server' ? t('syncProblem_server', problem.message) : t(`syncProblem_${problem.kind}` as Key)}</span>
          </Banner>
        )}
        <button class="btn btn-primary" id="sync-now" disabled={status.running} onClick={() => void rt.sync.run()}>
          {status.running ? t('syncing') : t('syncNow')}
        </button>
      </div>
      {lost && lost.length > 0 && (
        <div class="card">
          <h2>{t('lostList')}</h2>
          <p class="muted small">{t('lostListHint')}</p>
          <ul class="lost-list" id="lost-list">
            {lost.map((n) => <SyncLostItem key={n.id} n={n} />)}
          </ul>
        </div>
      )}
      <div class="card">
        <h2>{t('rejectedList')}</h2>
        {rejected && rejected.length === 0 && <p class="muted">{t('noRejected')}</p>}
        <ul class="list" id="rejected-list">
          {(rejected ?? []).map((r) => <RejectedItem key={r.id} r={r} navigate={navigate} />)}
        </ul>
      </div>
      <div class="card">
        <h2>{t('records')}</h2>
        <ul class="list" id="record-list">
          {(records ?? []).map((r) => (
            <li class="list-item" key={r.table + r.id} data-record={r.table}>
              <div>
                <div class="small muted">{tableLabel(t, r.table)}</div>
                <div class="clip">{r.label}</div>
              </div>
              <Badge mark={r.sync} />
            </li>
          ))}
        </ul>
      </div>
      <div class="card stack">
        <h2>{t('storage')}</h2>
        <p class={persisted === false ? 'warn-text' : 'muted'}>{persisted === false ? t('persistDenied') : persisted ? t('persistGranted') : ''}</p>
        <p class="muted small">SQLite {rt.sqliteVersion} · OPFS · {usage}</p>
      </div>
      <div class="card stack">
        <h2>{t('account')}</h2>
        <p>{rt.user.full_name} ({rt.user.username})</p>
        <button class="btn btn-secondary" id="change-password" onClick={() => navigate('#/password')}>{t('changePassword')}</button>
        <button class="btn btn-secondary" id="lang-switch" onClick={() => setLang(lang === 'vi' ? 'en' : 'vi')}>{t('language')}</button>
        <button class="btn btn-danger" id="logout" onClick={logout}>{t('logout')}</button>
      </div>
    </Screen>
  );
}

function RejectedItem({ r, navigate }: { r: RejectedEntry; navigate: (h: string) => void }) {
  const { t, rt } = useCtx();
  const label = useData(() => rt.records.rowLabel(r.tbl, r.row_id), [r.tbl, r.row_id]);
  // Position is three fields (lat, lng, accuracy_m) under one label.
  const fields = [...new Set(Object.keys(JSON.parse(r.fields) as object).map((f) => fieldLabel(t, r.tbl, f)))];
  const [confirming, setConfirming] = useState(false);
  const fixTarget = r.tbl === 'trips' ? `#/trip/${r.row_id}` : r.tbl === 'visit_notes' ? `#/note/${r.row_id}` : '';
  // The form must open on the values the user wrote, not on the server's
  // that a pull may have laid over the row since: put them back first.
  const fix = async () => {
    await rt.store.reopen(r.id);
    navigate(fixTarget);
  };
  return (
    <li class="rejected" data-rejected={r.code} data-table={r.tbl} data-row={r.row_id}>
      <div class="small muted">{tableLabel(t, r.tbl)} · {fields.join(', ')}</div>
      <div class="clip"><strong>{label}</strong></div>
      <div class="reason" data-field={r.field ?? ''}>{t('rejectedReason', refusalExplanation(t, r.tbl, r.code, r.field))}</div>
      <div class="reason-detail small muted">{r.message ? `${r.message} ` : ''}({r.code})</div>
      <div class="grid3">
        {fixTarget && <button class="btn btn-ghost" data-action="fix" onClick={() => void fix()}>{t('fix')}</button>}
        <button class="btn btn-secondary" data-action="resend" onClick={() => void rt.store.resend(r.id)}>{t('resend')}</button>
        <button class="btn btn-danger" data-action="discard" onClick={() => setConfirming(true)}>{t('discard')}</button>
      </div>
      {confirming && (
        <div class="banner banner-warn stack" role="alertdialog">
          <span>{t('discardConfirm')}</span>
          <div class="grid2">
            <button class="btn btn-ghost" onClick={() => setConfirming(false)}>{t('cancel')}</button>
            <button class="btn btn-danger" data-action="discard-confirm" onClick={() => void rt.store.discard(r.id)}>{t('discard')}</button>
          </div>
        </div>
      )}
    </li>
  );
}

/** A lost value in the Sync screen's list: named by its record, with a way to open it. */
function SyncLostItem({ n }: { n: LostNotice }) {
  const { rt } = useCtx();
  const label = useData(() => rt.records.rowLabel(n.tbl, n.row_id), [n.tbl, n.row_id]);
  return <LostItem n={n} record={{ label: label ?? '', hash: recordHash(n.tbl, n.row_id) }} />;
}
