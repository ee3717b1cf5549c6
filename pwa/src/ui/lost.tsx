// Notices of pushed values that lost to a concurrent later write (protocol
// Result.lost): the record shows whose edit replaced the user's and when,
// with the user's own text to copy back. They stay until dismissed.
import { useState } from 'preact/hooks';
import type { LostNotice } from '../store/store';
import { useCtx, useData } from './context';
import { formatDateTime } from './i18n';
import { fieldLabel, tableLabel } from './refusal';

/** Where a record of the table opens; '' for tables with no screen of their own. */
export function recordHash(table: string, rowId: string): string {
  switch (table) {
    case 'trips':
      return `#/trip/${rowId}`;
    case 'visit_notes':
      return `#/note/${rowId}`;
    case 'findings':
      return `#/finding/${rowId}`;
    default:
      return '';
  }
}

/** The lost value as the user wrote it: text as is, a list one item a line. */
function lostText(n: LostNotice): string {
  let v: unknown;
  try {
    v = JSON.parse(n.value);
  } catch {
    return n.value;
  }
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.map(String).join('\n');
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * Puts text on the clipboard. The asynchronous clipboard API needs a
 * focused secure page; where it is refused (an older WebView), a selected
 * hidden text box and the copy command do the same.
 */
async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const box = document.createElement('textarea');
    box.value = text;
    box.setAttribute('readonly', '');
    box.style.position = 'fixed';
    box.style.opacity = '0';
    document.body.append(box);
    box.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    box.remove();
    return ok;
  }
}

/** One notice: what was replaced, by whom and when; the user's text; copy and dismiss. */
export function LostItem({ n, record }: { n: LostNotice; record?: { label: string; hash: string } }) {
  const { t, rt, lang, navigate } = useCtx();
  const [copied, setCopied] = useState<'' | 'yes' | 'no'>('');
  const text = lostText(n);
  const by = n.by_name || t('lostSomeone');
  const copy = async () => setCopied((await copyText(text)) ? 'yes' : 'no');
  return (
    <li class="lost banner banner-warn" role="status" data-lost-field={n.field} data-table={n.tbl} data-row={n.row_id}>
      {record && (
        <div class="small lost-record">
          {tableLabel(t, n.tbl)} · <strong>{record.label}</strong>
        </div>
      )}
      <div class="lost-title">{t('lostNotice', fieldLabel(t, n.tbl, n.field), by, formatDateTime(n.at, lang))}</div>
      <div class="small lost-caption">{t('lostYourText')}</div>
      <blockquote class="lost-text pre">{text || t('lostEmpty')}</blockquote>
      <div class="lost-actions">
        <button class="btn btn-secondary" data-action="copy-lost" disabled={!text} onClick={() => void copy()}>
          {copied === 'yes' ? t('lostCopied') : t('lostCopy')}
        </button>
        {record?.hash && (
          <button class="btn btn-ghost" data-action="open-lost" onClick={() => navigate(record.hash)}>{t('lostOpen')}</button>
        )}
        <button class="btn btn-ghost" data-action="dismiss-lost" onClick={() => void rt.store.dismissLost(n.id)}>{t('lostSeen')}</button>
      </div>
      {copied === 'no' && <div class="small" role="alert">{t('lostCopyFailed')}</div>}
    </li>
  );
}

/** The notices of one record, on its screen; nothing when there are none. */
export function LostNotices({ table, rowId }: { table: string; rowId: string }) {
  const { rt } = useCtx();
  const notices = useData(() => rt.store.lostNotices({ table, rowId }), [table, rowId]);
  if (!notices || notices.length === 0) return null;
  return (
    <ul class="lost-list" id="lost-notices">
      {notices.map((n) => <LostItem key={n.id} n={n} />)}
    </ul>
  );
}
