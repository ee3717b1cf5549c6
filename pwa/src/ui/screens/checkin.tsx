import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  haversineM, parentKind, pickable, planToday, resolveUnit, PURPOSES, type Checkin as CheckinRow, type CheckinResult, type Purpose, type Unit,
} from '../../store/records';
import type { NewAttachment } from '../../store/store';
import { Badge, Banner, Field, Screen, UnitPicker } from '../components';
import { useCtx, useData } from '../context';
import { formatDate, formatDateTime, formatDistance, type Key } from '../i18n';
import { compressPhoto } from '../photo';

interface Fix {
  lat: number;
  lng: number;
  accuracy: number;
}

/** Why there is no position: the browser's error code, or no geolocation at all. */
type GeoProblem = 'denied' | 'unavailable' | 'timeout' | 'unsupported';

const GEO_CODES: Record<number, GeoProblem> = { 1: 'denied', 2: 'unavailable', 3: 'timeout' };

/** The trip choice that starts a one-day trip for the check-in. */
const NEW_TRIP = 'new';

/**
 * Check in at a unit, which counts the day: the confirm card on top holds
 * everything the check-in needs, already chosen (today's open trip, the
 * nearest unit), so from Home it is one tap and a confirmation.
 */
export function Checkin() {
  const { t, rt, lang, navigate } = useCtx();
  const units = useData(() => rt.records.units(), []);
  const trips = useData(() => rt.records.trips(), []);
  const recent = useData(() => rt.records.checkins(20), []);
  const recentIds = useData(() => rt.records.recentUnitIds(), []);
  const unitById = useMemo(() => new Map((units ?? []).map((u) => [u.id, u])), [units]);
  // A recent place headquarters merged into another stands for the kept unit.
  const recentUnits = useMemo(() => [...new Set((recentIds ?? []).map((id) => resolveUnit(unitById, id)?.id ?? id))], [recentIds, unitById]);
  const [added, setAdded] = useState('');
  const [fix, setFix] = useState<Fix | null>(null);
  const [locating, setLocating] = useState(false);
  const [geo, setGeo] = useState<GeoProblem | null>(null);
  const [unitId, setUnitId] = useState<string[]>([]);
  const [unitChosen, setUnitChosen] = useState(false); // by the user: no longer follows the position
  const [tripId, setTripId] = useState<string | null>(null);
  const [purpose, setPurpose] = useState<Purpose>('working_session');
  const [note, setNote] = useState('');
  const [photo, setPhoto] = useState<NewAttachment | null>(null);
  const [preview, setPreview] = useState('');
  const [photoName, setPhotoName] = useState('');
  const fileInput = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<(CheckinResult & { unit: string; trip: string }) | null>(null);
  const [error, setError] = useState('');

  const locate = () => {
    if (!('geolocation' in navigator) || !window.isSecureContext) {
      setGeo('unsupported');
      return;
    }
    setLocating(true);
    setGeo(null);
    navigator.geolocation.getCurrentPosition(
      (p) => {
        setFix({ lat: p.coords.latitude, lng: p.coords.longitude, accuracy: p.coords.accuracy });
        setLocating(false);
      },
      (e) => {
        setGeo(GEO_CODES[e.code] ?? 'unavailable');
        setLocating(false);
      },
      { enableHighAccuracy: true, timeout: 30_000, maximumAge: 0 },
    );
  };
  useEffect(locate, []);

  const today = planToday();
  const sorted = useMemo(() => {
    const live = (units ?? []).filter((u) => (!u.valid_from || u.valid_from <= today) && (!u.valid_to || u.valid_to >= today)
      && pickable(u));
    const withD = live.map((unit) => ({
      unit,
      distance: fix && unit.lat !== null && unit.lng !== null ? haversineM(fix.lat, fix.lng, unit.lat, unit.lng) : undefined,
    }));
    if (fix) withD.sort((a, b) => (a.distance ?? Infinity) - (b.distance ?? Infinity));
    return withD;
  }, [units, fix, today]);

  // The trips a check-in today may count on: not cancelled or done, dates covering today.
  const openTrips = (trips ?? []).filter((tr) => (tr.status === 'planned' || tr.status === 'ongoing')
    && tr.starts_on <= today && (tr.ends_on || tr.starts_on) >= today);
  // Today's open trip is chosen at first; a one-day trip when there is none.
  useEffect(() => {
    if (trips && tripId === null) setTripId(openTrips[0]?.id ?? NEW_TRIP);
  }, [trips]);
  const trip = openTrips.find((tr) => tr.id === tripId);
  // The unit follows the position (the nearest), else the trip's, until the user picks one.
  useEffect(() => {
    if (unitChosen) return;
    const nearest = sorted[0];
    if (fix && nearest?.distance !== undefined) setUnitId([nearest.unit.id]);
    else if (unitId.length === 0 && trip?.unit_ids[0]) setUnitId([trip.unit_ids[0]]);
  }, [sorted, fix, trip?.id, unitChosen]);
  const chosen = sorted.find((u) => u.unit.id === unitId[0]);

  const onPhoto = async (e: Event) => {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return;
    try {
      const p = await compressPhoto(file);
      setPhoto(p);
      setPhotoName(file.name);
      if (preview) URL.revokeObjectURL(preview);
      setPreview(URL.createObjectURL(new Blob([p.bytes as BlobPart], { type: p.mime })));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };

  /** Forgets the chosen photo; the input is emptied so the same file can be chosen again. */
  const clearPhoto = () => {
    if (preview) URL.revokeObjectURL(preview);
    setPhoto(null);
    setPhotoName('');
    setPreview('');
    if (fileInput.current) fileInput.current.value = '';
  };

  const save = async () => {
    if (!chosen) {
      setError(t('required', t('unit')));
      return;
    }
    setBusy(true);
    setError('');
    try {
      const r = await rt.records.checkIn({
        unit_id: chosen.unit.id, trip_id: trip ? trip.id : null,
        lat: fix?.lat ?? null, lng: fix?.lng ?? null, accuracy_m: fix ? Math.round(fix.accuracy) : null, note,
      }, { purpose, title: t('dayTripTitle', chosen.unit.name) }, photo ?? undefined);
      setDone({ ...r, unit: chosen.unit.name, trip: trip?.title || t('dayTripTitle', chosen.unit.name) });
      setTripId(r.tripId);
      setNote('');
      clearPhoto();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Screen title={t('checkinTitle')}>
      <div class="card stack checkin-confirm" id="checkin-confirm">
        <div>
          <span class="field-label">{t('checkinAt')}</span>
          {chosen ? (
            <p class="confirm-unit" id="checkin-unit">
              <strong>{chosen.unit.name}</strong>
              {chosen.distance !== undefined && <span class="muted"> · {t('distance', formatDistance(chosen.distance, lang))}</span>}
              {chosen.unit.status === 'proposed' && <span class="small muted place-waits" id="checkin-unit-proposed"><br />{t('placeProposedLong')}</span>}
            </p>
          ) : (
            <p class="muted" id="checkin-unit">{t('pickUnitBelow')}</p>
          )}
        </div>
        <Field label={t('countsOn', formatDate(today))}>
          <select class="input" id="checkin-trip" value={tripId ?? ''} onChange={(e) => setTripId((e.target as HTMLSelectElement).value)}>
            {openTrips.map((tr) => <option key={tr.id} value={tr.id}>{tr.title || t(`purpose_${tr.purpose}`)}</option>)}
            <option value={NEW_TRIP}>{t('newDayTrip')}</option>
          </select>
        </Field>
        {tripId === NEW_TRIP && (
          <Field label={t('purpose')}>
            <select class="input" id="checkin-purpose" value={purpose} onChange={(e) => setPurpose((e.target as HTMLSelectElement).value as Purpose)}>
              {PURPOSES.map((p) => <option key={p} value={p}>{t(`purpose_${p}`)}</option>)}
            </select>
          </Field>
        )}
        <div id="position">
          <span class="field-label">{t('position')}</span>
          {fix ? (
            <p id="fix">
              <strong>{fix.lat.toFixed(5)}, {fix.lng.toFixed(5)}</strong>
              {' '}<span class="accuracy muted">{t('accuracy', Math.round(fix.accuracy))}</span>
            </p>
          ) : geo ? (
            <div class="banner banner-warn geo-help" id="geo-help" role="status">
              <p>{t(`geo_${geo}` as Key)}</p>
              <p class="small">{t('geoWithout')}</p>
            </div>
          ) : (
            <p class="muted">{locating ? t('locating') : t('noPosition')}</p>
          )}
          {!fix && <button class="btn btn-ghost" id="get-position" onClick={locate} disabled={locating}>{t('getPosition')}</button>}
        </div>
        <div class="field stack">
          {/* The label is the button: tapping it opens the camera, and it
              names the input, which stays in the tab order but out of sight
              (the browser's own "Choose File" is not in the user's language). */}
          <label class="btn btn-secondary photo-btn" id="photo-btn">
            <input ref={fileInput} id="photo-input" class="visually-hidden" type="file" accept="image/*" capture="environment"
              onChange={onPhoto} />
            <CameraIcon />
            <span>{photo ? t('retakePhoto') : t('takePhoto')}</span>
          </label>
          {photo && preview && (
            <div class="photo-preview" id="photo-preview">
              <img src={preview} alt={photoName} />
              <div class="photo-meta">
                <div class="photo-name" id="photo-name">{photoName}</div>
                <div class="muted small" id="photo-size">{t('photoReady', Math.round(photo.bytes.byteLength / 1024))}</div>
                <button type="button" class="btn btn-ghost" id="photo-remove" onClick={clearPhoto}>{t('removePhoto')}</button>
              </div>
            </div>
          )}
        </div>
        <Field label={t('note')}>
          <textarea id="checkin-note" class="input" rows={2} value={note} onInput={(e) => setNote((e.target as HTMLTextAreaElement).value)} />
        </Field>
        {error && <Banner kind="error">{error}</Banner>}
        {done && (
          <div class="banner banner-ok" id="checkin-done" role="status">
            <p>{t('checkedInAt', done.unit)}</p>
            <p class="small">{done.newDay ? t('dayCounted', formatDate(done.day), done.trip) : t('dayAlreadyCounted', formatDate(done.day), done.trip)}</p>
            <button type="button" class="link-btn" id="checkin-open-trip" onClick={() => navigate(`#/trip/${done.tripId}`)}>{t('openTrip')}</button>
          </div>
        )}
        <button id="checkin-save" class="btn btn-primary btn-hero" disabled={busy || !chosen} onClick={save}>
          <PinIcon />
          <span>{t('confirmCheckin')}</span>
        </button>
      </div>
      <div class="card">
        <h2>{t('chooseUnit')}</h2>
        {added && <Banner kind="ok"><span id="place-added">{t('placeAdded', added)}</span></Banner>}
        <UnitPicker units={sorted} value={unitId} recent={recentUnits}
          onChange={(v) => { setUnitId(v); setUnitChosen(true); setDone(null); setAdded(''); }}>
          {(query) => (
            <AddPlace fix={fix} query={query} units={units ?? []} onAdded={(id, name) => {
              setUnitId([id]);
              setUnitChosen(true);
              setDone(null);
              setAdded(name);
            }} />
          )}
        </UnitPicker>
      </div>
      <div class="card">
        <h2>{t('recentCheckins')}</h2>
        <ul class="list" id="checkin-list">
          {(recent ?? []).map((c) => <CheckinItem key={c.id} c={c} unitName={placeName(unitById, c.unit_id)} />)}
        </ul>
      </div>
    </Screen>
  );
}

/**
 * Adds a grassroots place where the user stands (plan II.3: communes,
 * wards, schools, enterprises below the province): its name, typed or
 * taken from the search, and the province or central unit it belongs to,
 * the nearest first. Offline it is kept with the check-in and sent before
 * it; it is usable at once and awaits headquarters' decision.
 */
function AddPlace({ fix, query, units, onAdded }: {
  fix: Fix | null;
  query: string;
  units: Unit[];
  onAdded: (id: string, name: string) => void;
}) {
  const { t, rt } = useCtx();
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [parent, setParent] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const parents = useMemo(() => {
    const list = units.filter(parentKind).map((u) => ({
      u, d: fix && u.lat !== null && u.lng !== null ? haversineM(fix.lat, fix.lng, u.lat, u.lng) : Infinity,
    }));
    list.sort((a, b) => a.d - b.d);
    return list.map((x) => x.u);
  }, [units, fix]);
  if (!fix) return <p class="muted small" id="add-place-needs-fix">{t('addPlaceNeedsFix')}</p>;
  if (!open) {
    return (
      <button type="button" class="btn btn-secondary add-place-btn" id="add-place"
        onClick={() => { setName(query); setParent(parents[0]?.id ?? ''); setError(''); setOpen(true); }}>
        <PlusIcon />
        <span>{query ? t('addPlaceNamed', query) : t('addPlaceHere')}</span>
      </button>
    );
  }
  const save = async () => {
    if (!name.trim()) return setError(t('placeNameNeeded'));
    if (!parent) return setError(t('required', t('placeParent')));
    setBusy(true);
    try {
      const id = await rt.records.proposePlace({ name, parent_id: parent, lat: fix.lat, lng: fix.lng });
      setOpen(false);
      onAdded(id, name.trim());
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="stack place-form" id="place-form">
      <h3>{t('newPlace')}</h3>
      <p class="muted small">{fix.lat.toFixed(5)}, {fix.lng.toFixed(5)} · {t('accuracy', Math.round(fix.accuracy))}</p>
      <Field label={t('placeName')}>
        <input class="input" id="place-name" value={name} maxLength={300}
          onInput={(e) => { setName((e.target as HTMLInputElement).value); setError(''); }} />
      </Field>
      <Field label={t('placeParent')}>
        <select class="input" id="place-parent" value={parent} onChange={(e) => setParent((e.target as HTMLSelectElement).value)}>
          {parents.map((u) => <option key={u.id} value={u.id}>{u.name}</option>)}
        </select>
      </Field>
      {error && <Banner kind="error">{error}</Banner>}
      <div class="row-buttons">
        <button type="button" class="btn btn-primary" id="place-save" disabled={busy} onClick={() => void save()}>{t('placeSave')}</button>
        <button type="button" class="btn btn-ghost" onClick={() => setOpen(false)}>{t('cancel')}</button>
      </div>
    </div>
  );
}

/** A check-in's place by name; a merged place by the kept unit's name, with its own. */
function placeName(byId: Map<string, Unit>, id: string): string {
  const own = byId.get(id);
  const kept = resolveUnit(byId, id);
  if (!own || !kept) return '';
  return kept.id === own.id ? own.name : `${kept.name} (${own.name})`;
}

/** One check-in in the list; its author may void it, saying why. */
function CheckinItem({ c, unitName }: { c: CheckinRow; unitName: string }) {
  const { t, rt, lang } = useCtx();
  const [asking, setAsking] = useState(false);
  const [reason, setReason] = useState('');
  const [error, setError] = useState('');
  const confirmVoid = async () => {
    if (!reason.trim()) return setError(t('voidReasonRequired'));
    try {
      await rt.records.voidCheckin(c.id, reason);
      setAsking(false);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <li class={`list-item checkin-item ${c.voided ? 'voided' : ''}`} data-checkin={c.id}>
      <div class="stack-tight">
        <strong class="checkin-unit-name">{unitName}</strong>
        <div class="muted small">
          {formatDateTime(c.at, lang)}
          {c.accuracy_m !== null && ` · ± ${Math.round(c.accuracy_m)} m`}
          {c.distance_m !== null && ` · ${t('distance', formatDistance(c.distance_m, lang))}`}
          {c.photo && ` · ${t('photo')}${c.photo_uploaded ? '' : ` (${t('photoPending')})`}`}
        </div>
        {c.voided ? (
          <div class="small void-text" data-voided>{t('voidedBecause', c.void_reason)}</div>
        ) : c.flags.length > 0 && (
          <div class="small warn-text" data-flags>{c.flags.map((f) => t(`flag_${f}` as 'flag_far_from_unit')).join(', ')}</div>
        )}
        {c.note && <div class="small">{c.note}</div>}
        {!c.voided && !asking && (
          <button type="button" class="btn btn-ghost btn-small" data-void onClick={() => setAsking(true)}>{t('voidCheckin')}</button>
        )}
        {asking && (
          <div class="stack void-form">
            <Field label={t('voidReason')}>
              <textarea class="input void-reason" rows={2} value={reason} onInput={(e) => { setReason((e.target as HTMLTextAreaElement).value); setError(''); }} />
            </Field>
            {error && <Banner kind="error">{error}</Banner>}
            <div class="row-buttons">
              <button type="button" class="btn btn-danger" data-void-confirm onClick={() => void confirmVoid()}>{t('voidConfirm')}</button>
              <button type="button" class="btn btn-ghost" onClick={() => { setAsking(false); setReason(''); setError(''); }}>{t('cancel')}</button>
            </div>
          </div>
        )}
      </div>
      <Badge mark={c.sync} />
    </li>
  );
}

/** A camera outline; decorative, the button's text names it. */
export function CameraIcon() {
  return (
    <svg class="photo-btn-icon" width="28" height="28" viewBox="0 0 24 24" aria-hidden="true" focusable="false"
      fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
      <path d="M4 8h3l2-3h6l2 3h3a1 1 0 0 1 1 1v9a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V9a1 1 0 0 1 1-1z" />
      <circle cx="12" cy="13" r="3.5" />
    </svg>
  );
}

/** A plus; decorative, the button's text names it. */
function PlusIcon() {
  return (
    <svg class="btn-icon" width="24" height="24" viewBox="0 0 24 24" aria-hidden="true" focusable="false"
      fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round">
      <path d="M12 5v14M5 12h14" />
    </svg>
  );
}

/** A map pin; decorative, the button's text names it. */
export function PinIcon() {
  return (
    <svg class="btn-icon" width="24" height="24" viewBox="0 0 24 24" aria-hidden="true" focusable="false"
      fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
      <path d="M12 21s-7-6.2-7-11.5a7 7 0 0 1 14 0C19 14.8 12 21 12 21z" />
      <circle cx="12" cy="9.5" r="2.5" />
    </svg>
  );
}
