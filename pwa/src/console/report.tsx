// The campaign report as a print view: an A4 page with no app chrome,
// showing the server's Word file (GET /api/v1/reports/campaigns/{id}/report.docx)
// read back by docx.ts, so print and Word never differ. The browser's
// print dialog gives the PDF; "Tải Word" downloads the same file to edit.
import type { CSSProperties } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ALL_SEEING_ROLES } from '../store/plan.gen';
import { readError } from '../sync/session';
import { useCtx } from '../ui/context';
import { download, withQuery } from './api';
import { readDocx, type Doc, type Para, type Run, type Table } from './docx';
import { href } from './paths';
import type { ConsoleRoute, ScreenProps } from './routes';
import { reportText, useText } from './text';
import { Failed } from './ui';

function Report({ path, params }: ScreenProps) {
  const { session } = useCtx();
  const t = useText(reportText);
  const id = path[0] ?? '';
  const date = params.get('date') ?? '';
  const url = withQuery(`/api/v1/reports/campaigns/${encodeURIComponent(id)}/report.docx`, { date });
  const [state, setState] = useState<{ doc?: Doc; error?: unknown; unreadable?: string }>({});
  const [n, setN] = useState(0);
  const [busy, setBusy] = useState(false);
  const [dlError, setDlError] = useState<unknown>(undefined);
  useEffect(() => {
    let alive = true;
    setState({});
    (async () => {
      const res = await session.fetch(url);
      if (!res.ok) throw await readError(res);
      const buf = await res.arrayBuffer();
      try {
        return await readDocx(buf);
      } catch (e) {
        throw Object.assign(new Error(e instanceof Error ? e.message : String(e)), { unreadable: true });
      }
    })().then(
      (doc) => alive && setState({ doc }),
      (error) => alive && setState(error?.unreadable ? { unreadable: error.message } : { error }),
    );
    return () => {
      alive = false;
    };
  }, [url, n]);
  useEffect(() => {
    // The page box of the print: A4 with the document's own margins.
    const p = state.doc?.page;
    if (!p) return;
    const el = document.createElement('style');
    el.textContent = `@page { size: ${p.width}mm ${p.height}mm; margin: ${p.top}mm ${p.right}mm ${p.bottom}mm ${p.left}mm; }`;
    document.head.append(el);
    return () => el.remove();
  }, [state.doc]);
  const setDate = (v: string) => {
    const q = v ? `?date=${v}` : '';
    location.replace(`${href('report', id)}${q}`);
  };
  const word = async () => {
    setBusy(true);
    setDlError(undefined);
    try {
      await download(session, url, 'bao-cao-kiem-tra.docx');
    } catch (e) {
      setDlError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="r-view" id="report-view">
      <div class="r-toolbar no-print">
        <a class="c-btn c-btn-ghost" href={`${href('queue')}?campaign_id=${encodeURIComponent(id)}`} id="report-back">‹ {t('r_backToConsole')}</a>
        <button class="c-btn c-btn-primary" id="report-print" disabled={!state.doc} onClick={() => window.print()}>{t('r_print')}</button>
        <button class="c-btn c-btn-secondary" id="report-docx" disabled={busy} onClick={() => void word()}>
          {busy ? t('downloading') : t('r_word')}
        </button>
        <label class="c-label r-date">
          {t('r_signedOn')}
          <input class="c-input" type="date" id="report-date" value={date} title={t('r_signedOnHint')}
            onChange={(e) => setDate((e.target as HTMLInputElement).value)} />
        </label>
        <p class="small muted r-source">{t('r_source')}</p>
      </div>
      <div class="no-print r-messages">
        {dlError !== undefined && <Failed error={dlError} />}
        {state.error !== undefined && <Failed error={state.error} retry={() => setN(n + 1)} />}
        {state.unreadable && <div class="banner banner-error" role="alert">{t('r_unreadable', state.unreadable)}</div>}
        {!state.doc && state.error === undefined && !state.unreadable && <p class="muted">{t('r_loading')}</p>}
      </div>
      {state.doc && <Page doc={state.doc} />}
    </div>
  );
}

function Page({ doc }: { doc: Doc }) {
  const p = doc.page;
  const style = {
    width: `${p.width}mm`, minHeight: `${p.height}mm`,
    padding: `${p.top}mm ${p.right}mm ${p.bottom}mm ${p.left}mm`, fontSize: `${doc.fontSize}pt`,
  };
  return (
    <div class="r-page" id="report-page" lang="vi" style={style}>
      {doc.blocks.map((b, i) => (b.kind === 'p' ? <P key={i} p={b} /> : <T key={i} t={b} />))}
    </div>
  );
}

function P({ p }: { p: Para }) {
  const style: CSSProperties = {
    textAlign: p.align,
    textIndent: p.firstLine ? `${p.firstLine}mm` : undefined,
    marginLeft: p.indent ? `${p.indent}mm` : undefined,
    marginTop: `${p.before}pt`,
    marginBottom: `${Math.max(p.after, 3)}pt`,
    breakAfter: p.keepNext ? 'avoid' : undefined,
  };
  const text = p.runs.map((r) => r.text).join('');
  return <p class="r-p" style={style}>{text.trim() === '' ? '\u00a0' : p.runs.map((r, i) => <R key={i} r={r} />)}</p>;
}

function R({ r }: { r: Run }) {
  const style: CSSProperties = {
    fontWeight: r.bold ? 700 : undefined,
    fontStyle: r.italic ? 'italic' : undefined,
    textDecoration: r.underline ? 'underline' : undefined,
    fontSize: r.size ? `${r.size}pt` : undefined,
  };
  const parts = r.text.replaceAll('\t', '\u2003\u2003').split('\n');
  return <span style={style}>{parts.map((s, i) => (i === 0 ? s : [<br key={i} />, s]))}</span>;
}

function T({ t }: { t: Table }) {
  const head = t.rows.filter((r) => r.header);
  const body = t.rows.filter((r) => !r.header);
  const row = (r: Table['rows'][number], i: number) => (
    <tr key={i}>{r.cells.map((c, j) => <td key={j}>{c.map((p, k) => <P key={k} p={p} />)}</td>)}</tr>
  );
  return (
    <table class={`r-table ${t.borders ? 'r-borders' : ''}`}>
      <colgroup>{t.widths.map((w, i) => <col key={i} style={{ width: `${w}mm` }} />)}</colgroup>
      {head.length > 0 && <thead>{head.map(row)}</thead>}
      <tbody>{body.map(row)}</tbody>
    </table>
  );
}

export const route: ConsoleRoute = {
  id: 'report', label: 'nav_report', icon: '⎙', roles: ALL_SEEING_ROLES, nav: false, chrome: false, component: Report,
};

