// The headquarters console: a lazily loaded part of the app (root.tsx
// imports this module only for the console's roles and routes), so a field
// user's phone never downloads it. It runs inside the same runtime as the
// field app (AppCtx: session, device store, sync), so a decision made here
// goes through the same outbox as one made on a phone.
import { useEffect, useState } from 'preact/hooks';
import { useCtx, useData, useSyncStatus } from '../ui/context';
import { formatDateTime } from '../ui/i18n';
import css from './console.css?inline';
import { parseHash } from './paths';
import { allowed, CONSOLE_ROLES, landing, ROUTES, type ConsoleRoute } from './routes';
import { syncProblemText } from './errors';
import { shared, translate, useText } from './text';

/** The console's stylesheet, added to the page once, when the console first opens. */
function useStyle(): void {
  useEffect(() => {
    if (document.getElementById('console-style')) return;
    const el = document.createElement('style');
    el.id = 'console-style';
    el.textContent = css;
    document.head.append(el);
  }, []);
}

export function Console({ hash }: { hash: string }) {
  useStyle();
  const { rt, lang } = useCtx();
  const t = useText(shared);
  const roles = rt.user.roles ?? [];
  const { id, path, params } = parseHash(hash);
  useEffect(() => {
    // Effects run after paint: by then the user (or a link) may have gone
    // elsewhere, and sending them back to the landing page would undo it.
    const live = location.hash;
    if (!id && live.startsWith('#/console') && !parseHash(live).id) location.replace('#/console/' + landing(roles));
  }, [id]);
  const route = ROUTES.find((r) => r.id === id);
  useEffect(() => {
    document.title = `${route ? translate(lang, route.label) : t('consoleTitle')} · ${t('consoleTitle')}`;
  }, [route, lang]);
  if (!id) return null;
  const may = route && allowed(route, roles) && roles.some((r) => CONSOLE_ROLES.includes(r));
  const body = !route
    ? <p class="c-empty" id="console-not-found">{t('notFound')}</p>
    : !may
      ? <p class="c-empty" id="console-not-allowed">{t('notAllowed')}</p>
      : <route.component key={route.id} path={path} params={params} />;
  if (route && may && route.chrome === false) return <div class="c-bare">{body}</div>;
  return (
    <div class="c-shell">
      <Nav current={route} roles={roles} />
      <main class="c-main" id="console-main">{body}</main>
    </div>
  );
}

function Nav({ current, roles }: { current: ConsoleRoute | undefined; roles: readonly string[] }) {
  const { rt, lang, setLang, logout } = useCtx();
  const t = useText(shared);
  const [open, setOpen] = useState(false);
  const items = ROUTES.filter((r) => r.nav && allowed(r, roles));
  return (
    <aside class={`c-nav ${open ? 'open' : ''}`} id="console-nav">
      <div class="c-brand">
        <span>{t('consoleTitle')}</span>
        <button class="c-menu-btn" aria-expanded={open} aria-controls="console-nav-foot" onClick={() => setOpen(!open)}>
          {t('menu')}
        </button>
      </div>
      <nav class="c-nav-list" aria-label={t('consoleTitle')}>
        {items.map((r) => (
          <a key={r.id} href={`#/console/${r.id}`} id={`nav-${r.id}`} class={`c-nav-item ${current?.id === r.id ? 'on' : ''}`}
            aria-current={current?.id === r.id ? 'page' : undefined}>
            <span class="c-nav-icon" aria-hidden="true">{r.icon}</span>
            <span>{translate(lang, r.label)}</span>
          </a>
        ))}
      </nav>
      <div class="c-nav-foot" id="console-nav-foot">
        <div class="c-user" id="console-user">
          <strong>{rt.user.full_name || rt.user.username}</strong>
          <span class="small muted">{roles.map((r) => translate(lang, `role_${r}`)).join(', ')}</span>
        </div>
        <SyncState />
        <a class="c-nav-link" href="#/home" id="nav-field-app">{t('fieldApp')}</a>
        <div class="c-nav-buttons">
          <button class="c-btn c-btn-ghost" id="console-lang" onClick={() => setLang(lang === 'vi' ? 'en' : 'vi')}>{t('language')}</button>
          <button class="c-btn c-btn-ghost" id="console-logout" onClick={logout}>{t('logout')}</button>
        </div>
      </div>
    </aside>
  );
}

/** Network, the last sync, what waits to be sent, and a way to sync now. */
function SyncState() {
  const { rt, lang, online, session } = useCtx();
  const t = useText(shared);
  const status = useSyncStatus();
  const pending = useData(() => rt.store.pendingCount(), []) ?? 0;
  // The server's sentence only for a code the console has no words for.
  const problem = session.needsLogin ? t('needsLogin')
    : status.problem?.kind === 'server' ? t('syncProblem', syncProblemText(lang, status.problem.message))
      : status.problem && status.problem.kind !== 'offline' ? translate(lang, `syncProblem_${status.problem.kind}`)
        : '';
  return (
    <div class="c-sync" id="console-sync" data-at={status.lastSuccessAt ?? ''} data-running={status.running ? '1' : ''}>
      <div class="c-sync-line">
        <span class={`c-dot ${online ? 'c-dot-on' : 'c-dot-off'}`} aria-hidden="true" />
        <span id="console-net">{online ? t('online') : t('offline')}</span>
      </div>
      <div id="console-last-sync" class="muted">
        {status.running ? t('syncing') : status.lastSuccessAt ? t('syncedAt', formatDateTime(status.lastSuccessAt, lang)) : t('neverSynced')}
      </div>
      {pending > 0 && <div class="c-sync-pending" id="console-pending">{t('pendingChanges', pending)}</div>}
      {problem && <div class="c-sync-problem" id="console-sync-problem">{problem}</div>}
      <button class="c-btn c-btn-ghost" id="console-sync-now" disabled={status.running} onClick={() => void rt.sync.run()}>
        {t('syncNow')}
      </button>
    </div>
  );
}
