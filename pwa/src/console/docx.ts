// Reads the campaign report's Word file (the server's report.docx, written
// by server/report/docx) back into paragraphs and tables, so that the
// print view shows exactly what the Word file says: one document, laid out
// once, on the server. Only what that writer produces is read: paragraphs
// of runs (bold, italic, underline, size, line breaks, tabs) with their
// alignment, indents and spacing; tables with column widths, borders and
// header rows; the page's size and margins.

const W = 'http://schemas.openxmlformats.org/wordprocessingml/2006/main';

export interface Run {
  text: string;
  bold: boolean;
  italic: boolean;
  underline: boolean;
  /** Points; 0 is the document's default. */
  size: number;
}

export interface Para {
  kind: 'p';
  align: 'left' | 'center' | 'right' | 'justify';
  /** Millimetres. */
  firstLine: number;
  indent: number;
  /** Points. */
  before: number;
  after: number;
  keepNext: boolean;
  runs: Run[];
}

export interface Table {
  kind: 'table';
  /** Column widths in millimetres. */
  widths: number[];
  borders: boolean;
  rows: { header: boolean; cells: Para[][] }[];
}

export interface Doc {
  blocks: (Para | Table)[];
  /** Millimetres. */
  page: { width: number; height: number; top: number; right: number; bottom: number; left: number };
  /** The default font size in points. */
  fontSize: number;
}

// ---- the zip container ----

function u16(b: DataView, o: number): number {
  return b.getUint16(o, true);
}

function u32(b: DataView, o: number): number {
  return b.getUint32(o, true);
}

/**
 * The entries of a zip archive, by name, as lazily inflated bytes. The
 * sizes come from the central directory: Go's zip writer streams its
 * entries, so their local headers carry none.
 */
export function zipEntries(buf: ArrayBuffer): Map<string, () => Promise<Uint8Array>> {
  const v = new DataView(buf);
  let eocd = -1;
  for (let o = buf.byteLength - 22; o >= Math.max(0, buf.byteLength - 22 - 0xffff); o--) {
    if (u32(v, o) === 0x06054b50) {
      eocd = o;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip file');
  const count = u16(v, eocd + 10);
  let o = u32(v, eocd + 16);
  const out = new Map<string, () => Promise<Uint8Array>>();
  const dec = new TextDecoder();
  for (let i = 0; i < count; i++) {
    if (u32(v, o) !== 0x02014b50) throw new Error('broken zip directory');
    const method = u16(v, o + 10);
    const size = u32(v, o + 20);
    const nameLen = u16(v, o + 28);
    const extraLen = u16(v, o + 30);
    const commentLen = u16(v, o + 32);
    const local = u32(v, o + 42);
    const name = dec.decode(new Uint8Array(buf, o + 46, nameLen));
    o += 46 + nameLen + extraLen + commentLen;
    if (u32(v, local) !== 0x04034b50) throw new Error('broken zip entry ' + name);
    const start = local + 30 + u16(v, local + 26) + u16(v, local + 28);
    const data = new Uint8Array(buf, start, size);
    out.set(name, async () => {
      if (method === 0) return data;
      if (method !== 8) throw new Error(`zip method ${method} of ${name}`);
      const stream = new Blob([data as BlobPart]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
      return new Uint8Array(await new Response(stream).arrayBuffer());
    });
  }
  return out;
}

// ---- WordprocessingML ----

const twipsToMm = (v: number) => (v * 25.4) / 1440;

function kids(el: Element, name?: string): Element[] {
  return [...el.children].filter((c) => c.namespaceURI === W && (!name || c.localName === name));
}

function kid(el: Element | undefined, name: string): Element | undefined {
  return el ? kids(el, name)[0] : undefined;
}

function attr(el: Element | undefined, name: string): string | null {
  return el ? el.getAttributeNS(W, name) : null;
}

function num(el: Element | undefined, name: string): number {
  const v = Number(attr(el, name));
  return Number.isFinite(v) ? v : 0;
}

/** A toggle property (w:b, w:i): on when present, unless its value says off. */
function on(el: Element | undefined): boolean {
  if (!el) return false;
  const v = attr(el, 'val');
  return v === null || !['0', 'false', 'off', 'none'].includes(v);
}

function readRun(r: Element): Run {
  const pr = kid(r, 'rPr');
  let text = '';
  for (const c of kids(r)) {
    if (c.localName === 't') text += c.textContent ?? '';
    else if (c.localName === 'br') text += '\n';
    else if (c.localName === 'tab') text += '\t';
  }
  return {
    text,
    bold: on(kid(pr, 'b')),
    italic: on(kid(pr, 'i')),
    underline: on(kid(pr, 'u')),
    size: num(kid(pr, 'sz'), 'val') / 2,
  };
}

function readPara(p: Element): Para {
  const pr = kid(p, 'pPr');
  const jc = attr(kid(pr, 'jc'), 'val');
  const ind = kid(pr, 'ind');
  const sp = kid(pr, 'spacing');
  return {
    kind: 'p',
    align: jc === 'center' ? 'center' : jc === 'right' || jc === 'end' ? 'right' : jc === 'both' ? 'justify' : 'left',
    firstLine: twipsToMm(num(ind, 'firstLine')),
    indent: twipsToMm(num(ind, 'left')),
    before: num(sp, 'before') / 20,
    after: num(sp, 'after') / 20,
    keepNext: !!kid(pr, 'keepNext'),
    runs: kids(p, 'r').map(readRun),
  };
}

function readTable(t: Element): Table {
  const pr = kid(t, 'tblPr');
  return {
    kind: 'table',
    widths: kids(kid(t, 'tblGrid') ?? t, 'gridCol').map((g) => twipsToMm(num(g, 'w'))),
    borders: !!kid(pr, 'tblBorders'),
    rows: kids(t, 'tr').map((tr) => ({
      header: !!kid(kid(tr, 'trPr'), 'tblHeader'),
      cells: kids(tr, 'tc').map((tc) => kids(tc, 'p').map(readPara)),
    })),
  };
}

function parseXML(s: string): Document {
  const d = new DOMParser().parseFromString(s, 'application/xml');
  if (d.getElementsByTagName('parsererror').length > 0) throw new Error('the report is not well-formed XML');
  return d;
}

/** Reads a .docx file into its blocks, page and default font size. */
export async function readDocx(buf: ArrayBuffer): Promise<Doc> {
  const entries = zipEntries(buf);
  const main = entries.get('word/document.xml');
  if (!main) throw new Error('the file has no word/document.xml');
  const dec = new TextDecoder();
  const doc = parseXML(dec.decode(await main()));
  const body = doc.getElementsByTagNameNS(W, 'body')[0];
  if (!body) throw new Error('the document has no body');
  const blocks: (Para | Table)[] = [];
  for (const c of kids(body)) {
    if (c.localName === 'p') blocks.push(readPara(c));
    else if (c.localName === 'tbl') blocks.push(readTable(c));
  }
  const sect = kid(body, 'sectPr');
  const size = kid(sect, 'pgSz');
  const mar = kid(sect, 'pgMar');
  const mm = (el: Element | undefined, n: string, d: number) => (attr(el, n) === null ? d : twipsToMm(num(el, n)));
  let fontSize = 14;
  const styles = entries.get('word/styles.xml');
  if (styles) {
    const s = parseXML(dec.decode(await styles()));
    const sz = s.getElementsByTagNameNS(W, 'rPrDefault')[0]?.getElementsByTagNameNS(W, 'sz')[0];
    if (sz) fontSize = num(sz, 'val') / 2 || fontSize;
  }
  return {
    blocks,
    fontSize,
    page: {
      width: mm(size, 'w', 210), height: mm(size, 'h', 297),
      top: mm(mar, 'top', 20), right: mm(mar, 'right', 15), bottom: mm(mar, 'bottom', 20), left: mm(mar, 'left', 30),
    },
  };
}
