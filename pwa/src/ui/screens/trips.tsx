import { newId } from '../../store/ids';
import { useEffect, useMemo, useState } from 'preact/hooks';
import {
  datesBetween, FutureDayError, isFutureDay, localDate, planToday, PURPOSES, tripStatus, type Purpose, type Trip, type TripDay, type Unit,
} from '../../store/records';
import { Badge, Banner, Field, Screen, UnitPicker } from '../components';
import { useCtx, useData } from '../context';
import { LostNotices } from '../lost';
import { formatDate } from '../i18n';

export function Trips() {
  const { t, rt, navigate } = useCtx();
  const trips = useData(() => rt.records.trips(), []);
  return (
    <Screen title={t('trips')}>
      <button class="btn btn-primary" id="new-trip" onClick={() => navigate('#/trip/new')}>{t('newTrip')}</button>
      {trips && trips.length === 0 && <p class="muted">{t('noTrips')}</p>}
      <ul class="list" id="trip-list">
        {(trips ?? []).map((tr) => (
          <li key={tr.id}>
            <button class="list-item list-btn" data-trip={tr.title} onClick={() => navigate(`#/trip/${tr.id}`)}>
              <div>
                <strong>{tr.title || t(`purpose_${tr.purpose}`)}</strong>
                <div class="muted small">{formatDate(tr.starts_on)}{tr.ends_on && tr.ends_on !== tr.starts_on ? ` – ${formatDate(tr.ends_on)}` : ''} · <span data-status={tripStatus(tr, tr.ticked)}>{t(`status_${tripStatus(tr, tr.ticked)}`)}</span></div>
                <div class="small">{t(`purpose_${tr.purpose}`)} · <span data-ticked={tr.ticked}>{t('daysTicked', tr.ticked)}</span></div>
              </div>
              <Badge mark={tr.sync} />
            </button>
          </li>
        ))}
      </ul>
    </Screen>
  );
}

const STATUSES: Trip['status'][] = ['planned', 'ongoing', 'done', 'cancelled'];

export function TripEdit({ id }: { id: string }) {
  const { t, rt, navigate } = useCtx();
  const isNew = id === 'new';
  const existing = useData(() => (isNew ? Promise.resolve(undefined) : rt.records.trip(id)), [id]);
  const ticked = useData(() => (isNew ? Promise.resolve([]) : rt.records.tripDays(id)), [id]);
  const units = useData(() => rt.records.units(), []);
  const campaigns = useData(() => rt.records.campaigns(), []);
  const [form, setForm] = useState({
    title: '', purpose: 'thematic_survey' as Purpose, campaign_id: '', unit_ids: [] as string[],
    starts_on: localDate(), ends_on: localDate(), status: 'planned' as Trip['status'], notes: '',
  });
  const [loaded, setLoaded] = useState(isNew);
  const [error, setError] = useState('');
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (existing && ticked && !loaded) {
      setForm({
        title: existing.title ?? '', purpose: existing.purpose, campaign_id: existing.campaign_id ?? '',
        unit_ids: existing.unit_ids, starts_on: existing.starts_on, ends_on: existing.ends_on ?? existing.starts_on,
        // The status its dates and ticked days give it (written if saved).
        status: tripStatus({ ...existing, status: existing.status ?? 'planned' }, ticked.length), notes: existing.notes ?? '',
      });
      setLoaded(true);
    }
  }, [existing, ticked, loaded]);
  // Leaving the form ends a fix ("Sửa") even without a save: the refused
  // values go out again with the next sync, as "Gửi lại" would send them.
  useEffect(() => () => rt.store.endFix('trips', id), [id]);
  const set = <K extends keyof typeof form>(k: K, v: (typeof form)[K]) => {
    setForm({ ...form, [k]: v });
    setSaved(false);
  };
  const save = async () => {
    if (!form.starts_on) return setError(t('required', t('startsOn')));
    if (form.unit_ids.length === 0) return setError(t('required', t('units')));
    setError('');
    const rowId = isNew ? newId() : id;
    const fields: Partial<Trip> = {
      title: form.title, purpose: form.purpose, unit_ids: form.unit_ids, starts_on: form.starts_on,
      ends_on: form.ends_on < form.starts_on ? form.starts_on : form.ends_on, status: form.status, notes: form.notes,
      campaign_id: form.purpose === 'inspection' && form.campaign_id ? form.campaign_id : null,
    };
    if (!isNew && existing) {
      // Send only what changed: fields merge one by one on the server.
      for (const k of Object.keys(fields) as (keyof Trip)[]) {
        if (JSON.stringify(fields[k]) === JSON.stringify(existing[k] ?? null)) delete fields[k];
      }
      if (Object.keys(fields).length === 0) {
        rt.store.endFix('trips', id);
        return setSaved(true);
      }
    }
    try {
      await rt.records.saveTrip(rowId, fields, isNew);
      // A save ends a fix ("Sửa"): the corrected trip goes out now.
      rt.store.endFix('trips', rowId);
      setSaved(true);
      if (isNew) navigate(`#/trip/${rowId}`);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  const unitOptions = useMemo(() => (units ?? []).map((unit) => ({ unit })), [units]);
  if (!loaded) return <Screen title={t('trip')} back="#/trips"><p class="muted">{t('loading')}</p></Screen>;
  return (
    <Screen title={isNew ? t('newTrip') : form.title || t('trip')} back="#/trips">
      {existing && <p><Badge mark={existing.sync} /></p>}
      {!isNew && <LostNotices table="trips" rowId={id} />}
      <div class="card stack">
        <Field label={t('tripTitle')}>
          <input class="input" id="trip-title" value={form.title} onInput={(e) => set('title', (e.target as HTMLInputElement).value)} />
        </Field>
        <fieldset class="field">
          <legend class="field-label">{t('purpose')}</legend>
          <div class="choice-list">
            {PURPOSES.map((p) => (
              <button type="button" key={p} class={`choice ${form.purpose === p ? 'on' : ''}`} aria-pressed={form.purpose === p}
                data-purpose={p} onClick={() => set('purpose', p)}>{t(`purpose_${p}`)}</button>
            ))}
          </div>
        </fieldset>
        {form.purpose === 'inspection' && (
          <Field label={t('campaign')}>
            <select class="input" id="trip-campaign" value={form.campaign_id} onChange={(e) => set('campaign_id', (e.target as HTMLSelectElement).value)}>
              <option value="">{t('noCampaign')}</option>
              {(campaigns ?? []).map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
            </select>
          </Field>
        )}
        <div class="grid2">
          <Field label={t('startsOn')}>
            <input class="input" type="date" id="trip-start" value={form.starts_on} onInput={(e) => set('starts_on', (e.target as HTMLInputElement).value)} />
          </Field>
          <Field label={t('endsOn')}>
            <input class="input" type="date" id="trip-end" value={form.ends_on} onInput={(e) => set('ends_on', (e.target as HTMLInputElement).value)} />
          </Field>
        </div>
        <Field label={t('status')}>
          <select class="input" id="trip-status" value={form.status} onChange={(e) => set('status', (e.target as HTMLSelectElement).value as Trip['status'])}>
            {STATUSES.map((s) => <option key={s} value={s}>{t(`status_${s}`)}</option>)}
          </select>
        </Field>
        <div class="field">
          <span class="field-label">{t('units')}</span>
          <UnitPicker units={unitOptions} value={form.unit_ids} onChange={(v) => set('unit_ids', v)} multi />
        </div>
        <Field label={t('notesField')}>
          <textarea class="input" rows={2} id="trip-notes" value={form.notes} onInput={(e) => set('notes', (e.target as HTMLTextAreaElement).value)} />
        </Field>
        {error && <Banner kind="error">{error}</Banner>}
        {saved && <Banner kind="ok">{t('saved')}</Banner>}
        <button class="btn btn-primary" id="trip-save" onClick={save}>{t('save')}</button>
      </div>
      {!isNew && existing && <TripDays trip={existing} units={units ?? []} />}
    </Screen>
  );
}

function TripDays({ trip, units }: { trip: Trip; units: Unit[] }) {
  const { t, rt } = useCtx();
  const days = useData(() => rt.records.tripDays(trip.id), [trip.id]);
  const byDay = new Map((days ?? []).map((d) => [d.day, d]));
  const dates = datesBetween(trip.starts_on, trip.ends_on);
  const tripUnits = units.filter((u) => trip.unit_ids.includes(u.id));
  return (
    <div class="card">
      <h2>{t('tripDays')}</h2>
      <p class="muted small">{t('tickDays')}</p>
      <ul class="list" id="trip-days">
        {dates.map((d) => (
          <DayRow key={d} date={d} day={byDay.get(d)} trip={trip} units={tripUnits} />
        ))}
      </ul>
    </div>
  );
}

function DayRow({ date, day, trip, units }: { date: string; day: TripDay | undefined; trip: Trip; units: Unit[] }) {
  const { t, rt } = useCtx();
  const [activity, setActivity] = useState(day?.activity ?? '');
  const [refused, setRefused] = useState(false);
  useEffect(() => setActivity(day?.activity ?? ''), [day?.id]);
  const future = isFutureDay(date, planToday());
  const toggle = async (e: Event) => {
    setRefused(false);
    if (day) return rt.records.removeTripDay(day.id);
    try {
      await rt.records.addTripDay(trip.id, date, trip.unit_ids[0] ?? null, activity);
    } catch (err) {
      if (!(err instanceof FutureDayError)) throw err;
      // A day not yet come stays unticked, and says why.
      (e.target as HTMLInputElement).checked = false;
      setRefused(true);
    }
  };
  return (
    <li class={`day ${future ? 'day-future' : ''}`} data-day={date}>
      <label class="day-tick">
        <input type="checkbox" checked={Boolean(day)} onChange={(e) => void toggle(e)} aria-describedby={refused ? `refused-${date}` : undefined} />
        <span>{formatDate(date)}</span>
        {future && !day && <span class="muted small">{t('dayNotYet')}</span>}
        {day && <Badge mark={day.sync} />}
      </label>
      {refused && <p class="small err-text" role="alert" id={`refused-${date}`} data-refused>{t('futureDayRefused')}</p>}
      {day && (
        <div class="stack">
          {units.length > 1 && (
            <select class="input" value={day.unit_id ?? ''} onChange={(e) => rt.records.updateTripDay(day.id, { unit_id: (e.target as HTMLSelectElement).value || null })}>
              {units.map((u) => <option key={u.id} value={u.id}>{u.name}</option>)}
            </select>
          )}
          <input class="input day-activity" placeholder={t('activity')} value={activity}
            onInput={(e) => setActivity((e.target as HTMLInputElement).value)}
            onBlur={() => { if (activity !== (day.activity ?? '')) void rt.records.updateTripDay(day.id, { activity }); }} />
        </div>
      )}
    </li>
  );
}
