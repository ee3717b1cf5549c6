// Pieces of the management forms: a labelled field that shows its fault
// beside it, the faults in Vietnamese from the server's rule names (or
// from the same rules checked before sending), and the outcome of a write.
import type { ComponentChildren } from 'preact';
import { useCtx } from '../ui/context';
import type { Lang } from '../ui/i18n';
import { errorText, ruleText } from './errors';
import { ApiError, faultsOf, isOffline, type FieldFault } from './manage-api';
import { tr } from './text-common';
import type { SharedKey } from './text';
import { manageText } from './text-manage';

export type MKey = keyof typeof manageText | SharedKey;
export type MT = (k: MKey, ...a: (string | number)[]) => string;

export function useMT(): MT {
  const { lang } = useCtx();
  return (k, ...a) => tr(manageText, lang, k, ...a);
}

export type Faults = Record<string, FieldFault>;

/** A fault in words, by the rule the server (or the same check here) named. */
export function faultText(lang: Lang, f: FieldFault): string {
  return ruleText(lang, f);
}

/** A label, its input and its fault (data-fault carries the rule for tests). */
export function MField({ label, name, faults, wide, hint, children }: {
  label: string;
  name: string;
  faults: Faults;
  wide?: boolean;
  hint?: string;
  children: ComponentChildren;
}) {
  const { lang } = useCtx();
  const f = faults[name];
  return (
    <label class={`field ${wide ? 'wide' : ''} ${f ? 'has-fault' : ''}`} data-field={name}>
      <span class="field-label">{label}</span>
      {children}
      {hint && !f && <span class="muted small">{hint}</span>}
      {f && <span class="fault" role="alert" data-fault={f.rule}>{faultText(lang, f)}</span>}
    </label>
  );
}

/** A fieldset of checkboxes (roles, members, units) with its fault. */
export function MChecks({ label, name, faults, options, value, onChange, list }: {
  label: string;
  name: string;
  faults: Faults;
  options: { id: string; label: string; hint?: string }[];
  value: string[];
  onChange: (v: string[]) => void;
  list?: boolean;
}) {
  const { lang } = useCtx();
  const f = faults[name];
  return (
    <fieldset class={`field wide ${f ? 'has-fault' : ''}`} data-field={name}>
      <legend class="field-label">{label}</legend>
      <div class={list ? 'pick-list' : 'checks'}>
        {options.map((o) => (
          <label key={o.id} data-option={o.label}>
            <input type="checkbox" value={o.id} checked={value.includes(o.id)}
              onChange={(e) => onChange((e.target as HTMLInputElement).checked ? [...value, o.id] : value.filter((x) => x !== o.id))} />
            <span>{o.label}{o.hint && <span class="muted small"> · {o.hint}</span>}</span>
          </label>
        ))}
      </div>
      {f && <span class="fault" role="alert" data-fault={f.rule}>{faultText(lang, f)}</span>}
    </fieldset>
  );
}

/** What a write ended in, for the banner under a form. */
export type Outcome = { kind: 'idle' } | { kind: 'busy' } | { kind: 'ok'; text: string } | { kind: 'error'; text: string };

/**
 * Turns a failed write into field faults and a banner: validation_failed
 * (and the username, last-admin and password refusals) mark their fields;
 * a network failure says nothing was written; anything else is the
 * refusal in words (errors.ts).
 */
export function refusal(t: MT, lang: Lang, e: unknown): { faults: Faults; outcome: Outcome } {
  if (isOffline(e)) return { faults: {}, outcome: { kind: 'error', text: t('m_offlineFail') } };
  const faults = faultsOf(e);
  if (e instanceof ApiError) {
    if (e.code === 'username_taken') faults.username = { field: 'username', rule: 'username_taken' };
    if (e.code === 'last_admin') faults.roles = { field: 'roles', rule: 'last_admin' };
    if (e.code === 'wrong_password') faults.current_password = { field: 'current_password', rule: 'current_password' };
    if (Object.keys(faults).length > 0) return { faults, outcome: { kind: 'error', text: t('m_fixFields') } };
  }
  return { faults, outcome: { kind: 'error', text: errorText(lang, e) } };
}

export function OutcomeLine({ o, id }: { o: Outcome; id?: string }) {
  const t = useMT();
  if (o.kind === 'idle') return null;
  if (o.kind === 'busy') return <p class="muted small" id={id} aria-live="polite">{t('m_saving')}</p>;
  return (
    <div class={`banner ${o.kind === 'ok' ? 'banner-ok' : 'banner-error'}`} id={id} data-outcome={o.kind}
      role={o.kind === 'error' ? 'alert' : 'status'}>{o.text}</div>
  );
}

/** Checks a text against the schema's limits as the server does: required (not blank) and at most max characters. */
export function checkText(faults: Faults, name: string, v: string, opts: { required?: boolean; max?: number }): void {
  if (opts.required && !v.trim()) faults[name] = { field: name, rule: 'required' };
  else if (opts.max && [...v].length > opts.max) faults[name] = { field: name, rule: 'max', param: String(opts.max) };
}

/** An end date before its start is refused (the server's checkSpans). */
export function checkSpan(faults: Faults, endName: string, start: string, end: string): void {
  if (start && end && end < start) faults[endName] = { field: endName, rule: 'gtefield' };
}
