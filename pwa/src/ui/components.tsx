import type { ComponentChildren } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import { foldName, pickable, type SyncMark, type Unit } from '../store/records';
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

/**
 * A searchable list of units, nearest first when a distance is known, the
 * user's recent ones (ids, latest first) on top. Search ignores diacritics
 * and reads đ as d. Places headquarters rejected or merged away are not
 * offered (one already chosen stays); a proposed place says so. children
 * come under the list (the check-in screen's "add a place here").
 */
export function UnitPicker({ units, value, onChange, multi, recent, children }: {
  units: UnitWithDistance[];
  value: string[];
  onChange: (ids: string[]) => void;
  multi?: boolean;
  recent?: string[];
  children?: (query: string, shown: number) => ComponentChildren;
}) {
  const { t, lang } = useCtx();
  const [q, setQ] = useState('');
  const shown = useMemo(() => {
    const nq = foldName(q.trim());
    const live = units.filter((u) => value.includes(u.unit.id) || pickable(u.unit));
    const list = nq ? live.filter((u) => foldName(u.unit.name).includes(nq)) : live;
    // Chosen units stay visible on top, then the recent ones, latest
    // first, then the rest in the order given (nearest first). The sort is
    // stable.
    const rank = (u: UnitWithDistance) => {
      if (value.includes(u.unit.id)) return -1;
      const i = recent?.indexOf(u.unit.id) ?? -1;
      return i === -1 ? Infinity : i;
    };
    return [...list].sort((a, b) => {
      const ra = rank(a), rb = rank(b);
      return ra === rb ? 0 : ra < rb ? -1 : 1;
    }).slice(0, 40);
  }, [units, q, value, recent]);
  if (units.length === 0) return <p class="muted">{t('emptyUnits')}</p>;
  return (
    <div class="unit-picker">
      <input type="search" class="input" placeholder={t('searchUnit')} aria-label={t('searchUnit')} value={q}
        onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
      <ul class="choice-list">
        {shown.map(({ unit, distance }) => {
          const on = value.includes(unit.id);
          return (
            <li key={unit.id}>
              <button type="button" class={`choice ${on ? 'on' : ''}`} aria-pressed={on} data-unit={unit.name} data-status={unit.status}
                onClick={() => onChange(multi ? (on ? value.filter((v) => v !== unit.id) : [...value, unit.id]) : [unit.id])}>
                <span class="choice-name">
                  {unit.name}
                  {(unit.status === 'proposed' || recent?.includes(unit.id)) && (
                    <span class="choice-tags">
                      {recent?.includes(unit.id) && <span class="ptag ptag-recent">{t('recentPlace')}</span>}
                      {unit.status === 'proposed' && <span class="ptag ptag-proposed">{t('placeProposed')}</span>}
                    </span>
                  )}
                </span>
                {distance !== undefined && <span class="choice-meta">{formatDistance(distance, lang)}</span>}
              </button>
            </li>
          );
        })}
      </ul>
      {children?.(q.trim(), shown.length)}
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
