// Console addresses. Apart from routes.ts (which imports every screen), so
// that a screen can link to another without an import cycle.

/** The hash of a console page: href('history', 'visit_notes', id) → #/console/history/visit_notes/<id>. */
export function href(id: string, ...path: string[]): string {
  return '#/console/' + [id, ...path.map(encodeURIComponent)].join('/');
}

/** Splits #/console/<id>/<a>/<b>?<query>. */
export function parseHash(hash: string): { id: string; path: string[]; params: URLSearchParams } {
  const [p, q] = hash.replace(/^#/, '').split('?');
  const parts = (p ?? '').split('/').filter(Boolean).slice(1).map(decodeURIComponent);
  return { id: parts[0] ?? '', path: parts.slice(1), params: new URLSearchParams(q ?? '') };
}
