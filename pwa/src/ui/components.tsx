import type { ComponentChildren } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import type { SyncMark, Unit } from '../store/records';
import { useCtx } from './context';
import { formatDistance } from './i18n';

export function Badge({ mark }: { mark: SyncMark }) {
  const { t } = useCtx();
  const key = mark === 'local' ? 'sync_local' : mark === 'refused' ? 'sync_refused' : 'sync_sent';
  return (
    <span class={`badge badge-${mark}`} data-sync={mark}>
      {t(key)}
      {mark === 'local' && <small class="badge-hint">{t('sync_local_hint')}</small>}
    </span>
  );
}

export function Screen({ title, children, back }: { title: string; children: ComponentChildren; back?: string }) {
  const { t, navigate } = useCtx();
  return (
    <section class="screen">
      <header class="screen-head">
        {back && <button class="icon-btn" aria-label={t('back')} onClick={() => navigate(back)}>‹</button>}
        <h1>{title}</h1>
      </header>
      {children}
    </section>
  );
}

export function Banner({ kind, children }: { kind: 'warn' | 'error' | 'info' | 'ok'; children: ComponentChildren }) {
  return <div class={`banner banner-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>{children}</div>;
}

export interface UnitWithDistance {
  unit: Unit;
  distance?: number;
}

/** A searchable list of units, nearest first when a distance is known. */
export function UnitPicker({ units, value, onChange, multi }: {
  units: UnitWithDistance[];
  value: string[];
  onChange: (ids: string[]) => void;
  multi?: boolean;
}) {
  const { t, lang } = useCtx();
  const [q, setQ] = useState('');
  const shown = useMemo(() => {
    const norm = (s: string) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/g, 'd').replace(/Đ/g, 'D').toLowerCase();
    const nq = norm(q.trim());
    const list = nq ? units.filter((u) => norm(u.unit.name).includes(nq)) : units;
    // Chosen units stay visible on top.
    return [...list.filter((u) => value.includes(u.unit.id)), ...list.filter((u) => !value.includes(u.unit.id))].slice(0, 40);
  }, [units, q, value]);
  if (units.length === 0) return <p class="muted">{t('emptyUnits')}</p>;
  return (
    <div class="unit-picker">
      <input type="search" class="input" placeholder={t('searchUnit')} value={q}
        onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
      <ul class="choice-list">
        {shown.map(({ unit, distance }) => {
          const on = value.includes(unit.id);
          return (
            <li key={unit.id}>
              <button type="button" class={`choice ${on ? 'on' : ''}`} aria-pressed={on} data-unit={unit.name}
                onClick={() => onChange(multi ? (on ? value.filter((v) => v !== unit.id) : [...value, unit.id]) : [unit.id])}>
                <span class="choice-name">{unit.name}</span>
                {distance !== undefined && <span class="choice-meta">{formatDistance(distance, lang)}</span>}
              </button>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

export function Field({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <label class="field">
      <span class="field-label">{label}</span>
      {children}
    </label>
  );
}
