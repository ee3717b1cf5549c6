// Proposed places (Cơ sở đề xuất): the grassroots places secretaries and
// inspectors added from the field, for headquarters to confirm, merge into
// the unit they duplicate, or reject (POST /api/v1/units/{id}/decision,
// judged on the server by the units spec: never one's own proposal, a
// merge only into a confirmed unit). An online operation, like the rest of
// management.
import { useMemo, useState } from 'preact/hooks';
import { foldName, haversineM } from '../store/records';
import { useCtx } from '../ui/context';
import { formatDistance } from '../ui/i18n';
import { apiList, apiSend, query, useRemote } from './manage-api';
import { OutcomeLine, refusal, useMT, type Outcome } from './manage-form';
import { useLookups, type Lookups } from './manage-reference';
import { placesText } from './text-places';
import { useText } from './text';

type Row = Record<string, unknown> & { id: string };
const STATUSES = ['proposed', 'confirmed', 'merged', 'rejected'] as const;

const str = (v: unknown) => (typeof v === 'string' ? v : v == null ? '' : String(v));
const num = (v: unknown) => (typeof v === 'number' ? v : null);

const usePT = () => useText(placesText);

/** The confirmed units nearest a place first (the place itself left out): what it may duplicate. */
function candidates(place: Row, units: Row[]): { u: Row; d: number | null }[] {
  const lat = num(place.lat), lng = num(place.lng);
  return units
    .filter((u) => u.id !== place.id && str(u.status || 'confirmed') === 'confirmed')
    .map((u) => {
      const ulat = num(u.lat), ulng = num(u.lng);
      return { u, d: lat !== null && lng !== null && ulat !== null && ulng !== null ? haversineM(lat, lng, ulat, ulng) : null };
    })
    .sort((a, b) => (a.d ?? Infinity) - (b.d ?? Infinity) || str(a.u.name).localeCompare(str(b.u.name), 'vi'));
}

export function PlacesSection({ canWrite }: { canWrite: boolean }) {
  const { session, online, rt, lang } = useCtx();
  const t = usePT();
  const [status, setStatus] = useState<(typeof STATUSES)[number]>('proposed');
  const [q, setQ] = useState('');
  const rows = useRemote(() => apiList<Row>(session, `/api/v1/units${query({ kind: 'grassroots', status })}`), [status, online]);
  const lookups = useLookups();
  const [picked, setPicked] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<Outcome>({ kind: 'idle' });
  const l = lookups.data;
  const list = (rows.data ?? []).filter((r) => !q || foldName(str(r.name)).includes(foldName(q)));
  const place = list.find((r) => r.id === picked) ?? null;
  const decided = () => { rows.reload(); lookups.reload(); };
  return (
    <div class="cpanes" id="m-places">
      <div class="card cpane ctable-wrap">
        <p class="muted small" id="places-intro">{t('pl_intro')}</p>
        <div class="row cfilters">
          <label class="cfilter">{t('pl_show')}
            <select class="input" id="places-status" value={status}
              onChange={(e) => { setStatus((e.target as HTMLSelectElement).value as (typeof STATUSES)[number]); setPicked(null); }}>
              {STATUSES.map((s) => <option key={s} value={s}>{t(`pl_status_${s}` as const)}</option>)}
            </select>
          </label>
          <input class="input m-search" type="search" aria-label={t('pl_search')} placeholder={t('pl_search')} value={q}
            onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
        </div>
        {rows.data && list.length === 0 && <p class="muted" id="places-empty">{t('pl_none')}</p>}
        {l && list.length > 0 && (
          <table class="ctable" id="places-table">
            <thead><tr><th>{t('pl_name')}</th><th>{t('pl_parent')}</th><th>{t('pl_by')}</th><th>{t('pl_nearest')}</th></tr></thead>
            <tbody>
              {list.map((r) => {
                const near = candidates(r, l.units)[0];
                return (
                  <tr key={r.id} class={`clickable ${r.id === picked ? 'on' : ''}`} data-place={str(r.name)}
                    onClick={() => { setPicked(r.id); setOutcome({ kind: 'idle' }); }}>
                    <td><button type="button" class="link-btn" onClick={() => { setPicked(r.id); setOutcome({ kind: 'idle' }); }}>
                      <strong>{str(r.name)}</strong></button></td>
                    <td class="small">{str(l.units.find((u) => u.id === r.parent_id)?.name)}</td>
                    <td class="small">{userName(l, r.proposed_by)}</td>
                    <td class="small">{near ? `${str(near.u.name)}${near.d !== null ? ` · ${formatDistance(near.d, lang)}` : ''}` : ''}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </div>
      <div class="cpane cpane-sticky">
        {outcome.kind !== 'idle' && !place && <div class="card"><OutcomeLine o={outcome} id="place-outcome" /></div>}
        {!place && outcome.kind === 'idle' && <p class="muted card" id="places-pick">{t('pl_pick')}</p>}
        {place && l && (
          <Decision key={place.id} place={place} l={l} canWrite={canWrite} me={rt.user.id}
            done={(text) => { setOutcome({ kind: 'ok', text }); setPicked(null); decided(); }} />
        )}
      </div>
    </div>
  );
}

function userName(l: Lookups, id: unknown): string {
  const u = l.users.find((x) => x.id === id);
  return u ? u.full_name || u.username : '';
}

/** One place and the decisions on it. */
function Decision({ place, l, canWrite, me, done }: {
  place: Row; l: Lookups; canWrite: boolean; me: string; done: (text: string) => void;
}) {
  const { session, lang } = useCtx();
  const t = usePT();
  const mt = useMT();
  const options = useMemo(() => candidates(place, l.units), [place, l.units]);
  const [kept, setKept] = useState(str(place.replaced_by_id) || options[0]?.u.id || '');
  const [outcome, setOutcome] = useState<Outcome>({ kind: 'idle' });
  const own = place.proposed_by === me;
  const name = str(place.name);
  const lat = num(place.lat), lng = num(place.lng);
  const decide = async (status: 'confirmed' | 'merged' | 'rejected') => {
    setOutcome({ kind: 'busy' });
    try {
      await apiSend(session, 'POST', `/api/v1/units/${place.id}/decision`, status === 'merged' ? { status, replaced_by_id: kept } : { status });
      const keptName = str(l.units.find((u) => u.id === kept)?.name);
      done(status === 'merged' ? t('pl_done_merged', name, keptName) : t(`pl_done_${status}` as const, name));
    } catch (e) {
      setOutcome(refusal(mt, lang, e).outcome);
    }
  };
  return (
    <div class="card stack" id="place-decision" data-place={name}>
      <h2>{name}</h2>
      <dl class="place-facts">
        <dt>{t('pl_parent')}</dt><dd>{str(l.units.find((u) => u.id === place.parent_id)?.name)}</dd>
        <dt>{t('pl_by')}</dt><dd>{userName(l, place.proposed_by)}</dd>
        <dt>{t('position')}</dt>
        <dd>{lat !== null && lng !== null ? (
          <a href={`https://www.openstreetmap.org/?mlat=${lat}&mlon=${lng}#map=16/${lat}/${lng}`} target="_blank" rel="noopener noreferrer">
            {lat.toFixed(5)}, {lng.toFixed(5)} · {t('pl_openMap')}</a>) : ''}</dd>
        {place.status === 'merged' && <><dt>{t('pl_status_merged')}</dt><dd>{t('pl_mergedInto', str(l.units.find((u) => u.id === place.replaced_by_id)?.name))}</dd></>}
      </dl>
      {own && <div class="banner banner-info" id="place-own">{t('pl_own')}</div>}
      {canWrite && !own && (
        <>
          <div class="cactions">
            {place.status !== 'confirmed' && <button class="btn btn-primary" id="place-confirm" onClick={() => void decide('confirmed')}>{t('pl_confirm')}</button>}
            {place.status !== 'rejected' && <button class="btn btn-danger" id="place-reject" onClick={() => void decide('rejected')}>{t('pl_reject')}</button>}
          </div>
          <label class="field" data-field="replaced_by_id">
            <span class="field-label">{t('pl_mergeInto')}</span>
            <select class="input" id="place-kept" value={kept} onChange={(e) => setKept((e.target as HTMLSelectElement).value)}>
              {options.map(({ u, d }) => (
                <option key={u.id} value={u.id}>{str(u.name)}{d !== null ? ` · ${t('pl_away', formatDistance(d, lang))}` : ''}</option>
              ))}
            </select>
            <span class="muted small">{t('pl_mergeHint')}</span>
          </label>
          <div class="cactions">
            <button class="btn btn-secondary" id="place-merge" disabled={!kept} onClick={() => void decide('merged')}>{t('pl_merge')}</button>
          </div>
        </>
      )}
      <OutcomeLine o={outcome} id="place-outcome" />
    </div>
  );
}
