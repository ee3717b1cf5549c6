import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { haversineM, localDate, type Checkin as CheckinRow } from '../../store/records';
import type { NewAttachment } from '../../store/store';
import { Badge, Banner, Field, Screen, UnitPicker } from '../components';
import { useCtx, useData } from '../context';
import { formatDateTime, formatDistance } from '../i18n';
import { compressPhoto } from '../photo';

interface Fix {
  lat: number;
  lng: number;
  accuracy: number;
}

export function Checkin() {
  const { t, rt, lang } = useCtx();
  const units = useData(() => rt.records.units(), []);
  const trips = useData(() => rt.records.trips(), []);
  const recent = useData(() => rt.records.checkins(20), []);
  const [fix, setFix] = useState<Fix | null>(null);
  const [locating, setLocating] = useState(false);
  const [geoError, setGeoError] = useState('');
  const [unitId, setUnitId] = useState<string[]>([]);
  const [tripId, setTripId] = useState('');
  const [note, setNote] = useState('');
  const [photo, setPhoto] = useState<NewAttachment | null>(null);
  const [preview, setPreview] = useState('');
  const [photoName, setPhotoName] = useState('');
  const fileInput = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const [error, setError] = useState('');

  const locate = () => {
    if (!('geolocation' in navigator)) {
      setGeoError('geolocation unavailable');
      return;
    }
    setLocating(true);
    setGeoError('');
    navigator.geolocation.getCurrentPosition(
      (p) => {
        setFix({ lat: p.coords.latitude, lng: p.coords.longitude, accuracy: p.coords.accuracy });
        setLocating(false);
      },
      (e) => {
        setGeoError(e.message || String(e.code));
        setLocating(false);
      },
      { enableHighAccuracy: true, timeout: 30_000, maximumAge: 0 },
    );
  };
  useEffect(locate, []);

  const today = localDate();
  const sorted = useMemo(() => {
    const live = (units ?? []).filter((u) => (!u.valid_from || u.valid_from <= today) && (!u.valid_to || u.valid_to >= today));
    const withD = live.map((unit) => ({
      unit,
      distance: fix && unit.lat !== null && unit.lng !== null ? haversineM(fix.lat, fix.lng, unit.lat, unit.lng) : undefined,
    }));
    if (fix) withD.sort((a, b) => (a.distance ?? Infinity) - (b.distance ?? Infinity));
    return withD;
  }, [units, fix, today]);

  const openTrips = (trips ?? []).filter((tr) => tr.status !== 'cancelled' && tr.starts_on <= today && (tr.ends_on ?? tr.starts_on) >= today);

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
    if (unitId.length === 0) {
      setError(t('required', t('unit')));
      return;
    }
    setBusy(true);
    setError('');
    try {
      await rt.records.createCheckin({
        unit_id: unitId[0]!, trip_id: tripId || null,
        lat: fix?.lat ?? null, lng: fix?.lng ?? null, accuracy_m: fix ? Math.round(fix.accuracy) : null, note,
      }, photo ?? undefined);
      setDone(true);
      setNote('');
      clearPhoto();
      setUnitId([]);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Screen title={t('checkinTitle')}>
      <div class="card">
        <h2>{t('position')}</h2>
        {fix ? (
          <p id="fix">
            <strong>{fix.lat.toFixed(5)}, {fix.lng.toFixed(5)}</strong>
            <br /><span class="accuracy">{t('accuracy', Math.round(fix.accuracy))}</span>
          </p>
        ) : (
          <p class="muted">{locating ? t('locating') : t('noPosition')}</p>
        )}
        {geoError && <p class="muted small">{t('positionDenied', geoError)}</p>}
        <button class="btn btn-secondary" onClick={locate} disabled={locating}>{t('getPosition')}</button>
      </div>
      <div class="card">
        <h2>{t('chooseUnit')}</h2>
        <UnitPicker units={sorted} value={unitId} onChange={(v) => { setUnitId(v); setDone(false); }} />
      </div>
      <div class="card stack">
        {openTrips.length > 0 && (
          <Field label={t('trip')}>
            <select class="input" value={tripId} onChange={(e) => setTripId((e.target as HTMLSelectElement).value)}>
              <option value="">{t('noTrip')}</option>
              {openTrips.map((tr) => <option key={tr.id} value={tr.id}>{tr.title}</option>)}
            </select>
          </Field>
        )}
        <div class="field stack">
          <span class="field-label">{t('photo')}</span>
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
        {done && <Banner kind="ok">{t('checkedIn')} · {t('saved')}</Banner>}
        <button id="checkin-save" class="btn btn-primary" disabled={busy} onClick={save}>{t('saveCheckin')}</button>
      </div>
      <div class="card">
        <h2>{t('recentCheckins')}</h2>
        <ul class="list" id="checkin-list">
          {(recent ?? []).map((c) => <CheckinItem key={c.id} c={c} unitName={units?.find((u) => u.id === c.unit_id)?.name ?? ''} lang={lang} />)}
        </ul>
      </div>
    </Screen>
  );
}

function CheckinItem({ c, unitName, lang }: { c: CheckinRow; unitName: string; lang: 'vi' | 'en' }) {
  const { t } = useCtx();
  return (
    <li class="list-item" data-checkin={c.id}>
      <div>
        <strong>{unitName}</strong>
        <div class="muted small">
          {formatDateTime(c.at, lang)}
          {c.accuracy_m !== null && ` · ± ${Math.round(c.accuracy_m)} m`}
          {c.distance_m !== null && ` · ${t('distance', formatDistance(c.distance_m, lang))}`}
          {c.photo && ` · ${t('photo')}${c.photo_uploaded ? '' : ` (${t('photoPending')})`}`}
        </div>
        {c.flags.length > 0 && (
          <div class="small warn-text">{c.flags.map((f) => t(`flag_${f}` as 'flag_far_from_unit')).join(', ')}</div>
        )}
        {c.note && <div class="small">{c.note}</div>}
      </div>
      <Badge mark={c.sync} />
    </li>
  );
}

/** A camera outline; decorative, the button's text names it. */
function CameraIcon() {
  return (
    <svg class="photo-btn-icon" width="28" height="28" viewBox="0 0 24 24" aria-hidden="true" focusable="false"
      fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
      <path d="M4 8h3l2-3h6l2 3h3a1 1 0 0 1 1 1v9a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V9a1 1 0 0 1 1-1z" />
      <circle cx="12" cy="13" r="3.5" />
    </svg>
  );
}
