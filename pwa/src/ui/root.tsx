import type { ComponentType } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { DbError } from '../db/client';
import { openRuntime, type Runtime } from '../runtime';
import { REGISTER_ROLES } from '../store/plan.gen';
import { showsFieldTabs } from '../store/records';
import type { ShellLogin } from '../shell';
import type { SwControl } from '../swreg';
import type { Session, SessionData } from '../sync/session';
import type { Ownership } from '../tabs';
import { AppCtx, useCtx, useData, type Ctx } from './context';
import { loadLang, saveLang, translate, type Key, type Lang } from './i18n';
import { BriefingList, BriefingScreen } from './screens/briefings';
import { CampaignView } from './screens/campaign';
import { Checkin } from './screens/checkin';
import { FindingView, FindingsRegister, hasRegister } from './screens/findings';
import { Home } from './screens/home';
import { Login } from './screens/login';
import { NoteEdit, NoteNew, Notes } from './screens/notes';
import { Sync } from './screens/sync';
import { TripEdit, Trips } from './screens/trips';

type Phase =
  | { k: 'starting' }
  | { k: 'other-tab' }
  | { k: 'moved' }
  | { k: 'login' }
  | { k: 'opening' }
  | { k: 'error'; key: Key; detail: string }
  | { k: 'ready'; rt: Runtime };

function useHash(): string {
  const [h, setH] = useState(location.hash || '#/home');
  useEffect(() => {
    const on = () => setH(location.hash || '#/home');
    window.addEventListener('hashchange', on);
    on(); // a change between the first render and this effect
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return h;
}

function useOnline(): boolean {
  const [on, setOn] = useState(navigator.onLine);
  useEffect(() => {
    const up = () => setOn(true);
    const down = () => setOn(false);
    window.addEventListener('online', up);
    window.addEventListener('offline', down);
    setOn(navigator.onLine); // a change between the first render and this effect
    return () => {
      window.removeEventListener('online', up);
      window.removeEventListener('offline', down);
    };
  }, []);
  return on;
}

export function Root({ session, ownership, sw, updateReady, shellLogin }: {
  session: Session;
  ownership: Ownership;
  sw: SwControl;
  updateReady: { subscribe: (fn: () => void) => () => void; ready: boolean };
  /** What was typed into index.html's login form before the app took over. */
  shellLogin?: ShellLogin | null;
}) {
  const [lang, setLangState] = useState<Lang>(loadLang());
  const t = useMemo(() => (k: Key, ...a: (string | number)[]) => translate(lang, k, ...a), [lang]);
  const setLang = (l: Lang) => {
    saveLang(l);
    document.documentElement.lang = l;
    setLangState(l);
  };
  const [phase, setPhase] = useState<Phase>({ k: ownership.waiting ? 'other-tab' : 'starting' });
  const [persisted, setPersisted] = useState<boolean | null>(null);
  const [update, setUpdate] = useState(updateReady.ready);
  const [needsLogin, setNeedsLogin] = useState(session.needsLogin);
  const [relogin, setRelogin] = useState(false);
  const [logoutAsk, setLogoutAsk] = useState<number | null>(null);
  const online = useOnline();

  // Subscribed after paint: read again once subscribed, for a change in between.
  useEffect(() => {
    const unsub = updateReady.subscribe(() => setUpdate(true));
    if (updateReady.ready) setUpdate(true);
    return unsub;
  }, []);
  useEffect(() => {
    const unsub = session.subscribe(() => setNeedsLogin(session.needsLogin));
    setNeedsLogin(session.needsLogin);
    return unsub;
  }, []);

  const open = async (s: SessionData) => {
    setPhase({ k: 'opening' });
    try {
      const rt = await openRuntime(session, s);
      // Headquarters and departments open on the console unless the
      // address names a page or they also work in the field.
      if (!location.hash && landsOnConsole(s.user.roles ?? [])) location.replace('#/console');
      setPhase({ k: 'ready', rt });
      document.documentElement.dataset.ready = '1';
      if (navigator.storage?.persist) {
        const already = await navigator.storage.persisted();
        setPersisted(already || (await navigator.storage.persist()));
      }
    } catch (e) {
      const kind = e instanceof DbError ? e.kind : undefined;
      const detail = e instanceof Error ? e.message : String(e);
      setPhase({
        k: 'error',
        key: kind === 'opfs_unavailable' ? 'opfsUnavailable' : kind === 'opfs_busy' ? 'opfsBusy' : 'dbFailed',
        detail,
      });
    }
  };

  useEffect(() => {
    ownership.onWaiting(() => setPhase({ k: 'other-tab' }));
    void ownership.acquired.then(() => {
      // While this tab waited, another may have logged out or in.
      session.reload();
      const s = session.current;
      if (s) void open(s);
      else setPhase({ k: 'login' });
    });
  }, []);

  const rt = phase.k === 'ready' ? phase.rt : null;
  useEffect(() => {
    ownership.onHandover(async () => {
      if (rt) await rt.close();
      delete document.documentElement.dataset.ready;
      setPhase({ k: 'moved' });
    });
  }, [rt]);

  const doLogout = async () => {
    if (!rt) return;
    setLogoutAsk(null);
    await rt.close();
    delete document.documentElement.dataset.ready;
    await session.logout();
    setPhase({ k: 'login' });
  };
  const logout = async () => {
    if (!rt) return;
    const n = await rt.store.pendingCount();
    if (n > 0) setLogoutAsk(n);
    else await doLogout();
  };

  const applyUpdate = async () => {
    // Save what is being typed first: blurring saves the field in focus,
    // and waiting on the store lets every write in flight commit.
    (document.activeElement as HTMLElement | null)?.blur?.();
    if (rt) await rt.store.exclusive(async () => undefined);
    sw.applyUpdate();
  };

  const onRelogin = async (s: SessionData) => {
    setRelogin(false);
    if (rt && s.user.id === rt.user.id) {
      void rt.sync.run();
      return;
    }
    // Someone else logged in from the prompt: close this user's data first.
    if (rt) await rt.close();
    void open(s);
  };

  const hash = useHash();

  if (phase.k === 'starting' || phase.k === 'opening') {
    return <main class="center"><p class="muted">{t('loading')}</p></main>;
  }
  if (phase.k === 'other-tab' || phase.k === 'moved') {
    return (
      <main class="center stack">
        <p>{phase.k === 'other-tab' ? t('otherTab') : t('movedTab')}</p>
        <button class="btn btn-primary" onClick={() => (phase.k === 'other-tab' ? ownership.requestHandover() : location.reload())}>
          {t('useHere')}
        </button>
      </main>
    );
  }
  if (phase.k === 'error') {
    return (
      <main class="center stack">
        <div class="banner banner-error" role="alert" id="fatal">{t(phase.key, phase.detail)}</div>
        <p class="muted small">{phase.detail}</p>
        <button class="btn btn-secondary" onClick={() => location.reload()}>{t('reload')}</button>
      </main>
    );
  }
  if (phase.k === 'login') {
    return <Login session={session} t={t} lang={lang} setLang={setLang} onLogin={(s) => void open(s)}
      initialUsername={shellLogin?.username} initialPassword={shellLogin?.password} focus={shellLogin?.focus ?? null} />;
  }
  const ctx: Ctx = {
    lang, t, setLang, session, rt: phase.rt, online, persisted,
    logout: () => void logout(),
    navigate: (h) => {
      location.hash = h;
    },
  };
  const inConsole = hash.startsWith('#/console') && opensConsole(phase.rt.user.roles ?? []);
  return (
    <AppCtx.Provider value={ctx}>
      <div class={inConsole ? 'app app-console' : 'app'}>
        <header class="topbar">
          {!online && <div class="banner banner-warn" id="offline-banner">{t('offline')}</div>}
          {update && (
            <button class="banner banner-info update-btn" id="update-btn" onClick={() => void applyUpdate()}>{t('updateReady')}</button>
          )}
          {needsLogin && (
            <button class="banner banner-error update-btn" id="relogin-btn" onClick={() => setRelogin(true)}>{t('loginAgain')}</button>
          )}
          {persisted === false && hash.startsWith('#/home') && (
            <details class="banner banner-warn small persist-note" id="persist-warning">
              <summary><span>{t('persistShort')}</span> <span class="persist-more">{t('persistMore')}</span></summary>
              <p>{t('persistDenied')}</p>
            </details>
          )}
        </header>
        {inConsole ? <ConsoleHost hash={hash} /> : (
          <>
            {opensConsole(phase.rt.user.roles ?? []) && (
              <nav aria-label={t('openConsole')}><a class="console-link" href="#/console" id="open-console">{t('openConsole')} ›</a></nav>
            )}
            <main class="content">
              <Route hash={hash} />
            </main>
            <Nav hash={hash} />
          </>
        )}
        {relogin && (
          <div class="modal">
            <Login session={session} t={t} lang={lang} setLang={setLang} onLogin={(s) => void onRelogin(s)}
              notice={t('loginAgain')} initialUsername={phase.rt.user.username} />
            <button class="btn btn-ghost" onClick={() => setRelogin(false)}>{t('cancel')}</button>
          </div>
        )}
        {logoutAsk !== null && (
          <div class="modal" role="alertdialog" aria-modal="true" aria-labelledby="logout-warning">
            <div class="card stack">
              <p id="logout-warning">{t('logoutPending', logoutAsk)}</p>
              <button class="btn btn-primary" onClick={() => { setLogoutAsk(null); location.hash = '#/sync'; void phase.rt.sync.run(); }}>{t('syncFirst')}</button>
              <button class="btn btn-danger" id="logout-anyway" onClick={() => void doLogout()}>{t('logoutAnyway')}</button>
              <button class="btn btn-ghost" onClick={() => setLogoutAsk(null)}>{t('cancel')}</button>
            </div>
          </div>
        )}
      </div>
    </AppCtx.Provider>
  );
}

/** Who may open the headquarters console (plan.RegisterRoles). */
function opensConsole(roles: readonly string[]): boolean {
  return roles.some((r) => REGISTER_ROLES.includes(r));
}

/** Who opens on the console: its roles, and no field role of their own. */
function landsOnConsole(roles: readonly string[]): boolean {
  return opensConsole(roles) && !roles.some((r) => r === 'secretary' || r === 'inspector' || r === 'unit_liaison');
}

/**
 * The console, loaded on first use: its code is a chunk of its own that a
 * field user's phone never downloads (nor precaches: scripts/postbuild.mjs).
 */
function ConsoleHost({ hash }: { hash: string }) {
  const { t } = useCtx();
  const [view, setView] = useState<{ C?: ComponentType<{ hash: string }>; failed?: string }>({});
  useEffect(() => {
    import('../console/index').then(
      (m) => setView({ C: m.Console }),
      (e) => setView({ failed: e instanceof Error ? e.message : String(e) }),
    );
  }, []);
  if (view.C) return <view.C hash={hash} />;
  if (view.failed !== undefined) {
    return (
      <main class="center stack">
        <div class="banner banner-error" role="alert" id="console-load-failed">{t('consoleLoadFailed')}</div>
        <p class="muted small">{view.failed}</p>
        {/* A failed module fetch is remembered by the page: only a reload tries again. */}
        <button class="btn btn-secondary" onClick={() => location.reload()}>{t('reload')}</button>
        <a class="btn btn-ghost" href="#/home">{t('home')}</a>
      </main>
    );
  }
  return <main class="center"><p class="muted">{t('loading')}</p></main>;
}

/**
 * "Đổi mật khẩu" from the Sync screen: the form lives with the console's
 * management and is loaded when opened (it needs the network anyway).
 */
function PasswordHost() {
  const { t } = useCtx();
  const [view, setView] = useState<{ C?: ComponentType; failed?: boolean }>({});
  useEffect(() => {
    import('../console/manage-password').then((m) => setView({ C: m.default }), () => setView({ failed: true }));
  }, []);
  if (view.C) return <view.C />;
  return <p class="muted" id="password-loading">{view.failed ? t('passwordNeedsNetwork') : t('loading')}</p>;
}

function Route({ hash }: { hash: string }) {
  const [path, query] = hash.slice(1).split('?');
  const parts = (path ?? '').split('/').filter(Boolean);
  const params = new URLSearchParams(query ?? '');
  switch (parts[0]) {
    case 'checkin':
      return <Checkin />;
    case 'trips':
      return <Trips />;
    case 'trip':
      return <TripEdit key={parts[1]} id={parts[1] ?? 'new'} />;
    case 'notes':
      return <Notes />;
    case 'note':
      if (parts[1] === 'new' || !parts[1]) {
        return <NoteNew unit={params.get('unit') ?? undefined} campaign={params.get('campaign') || undefined} />;
      }
      return <NoteEdit key={parts[1]} id={parts[1]} />;
    case 'campaign':
      return <CampaignView />;
    case 'sync':
      return <Sync />;
    case 'findings':
      return <FindingsRegister category={params.get('category') ?? ''} status={params.get('status') ?? ''} />;
    case 'finding':
      return <FindingView key={parts[1]} id={parts[1] ?? ''} />;
    case 'password':
      return <PasswordHost />;
    case 'briefings':
      return <BriefingList />;
    case 'briefing':
      return <BriefingScreen key={parts[1]} id={parts[1] ?? 'new'} />;
    default:
      return <Home />;
  }
}

function Nav({ hash }: { hash: string }) {
  const ctx = useNavCtx();
  const items: { h: string; k: Key; icon: keyof typeof TAB_ICONS; match: string[] }[] = [
    { h: '#/home', k: 'home', icon: 'home', match: ['home', 'campaign', 'briefings', 'briefing', ''] },
  ];
  // A liaison or a department user checks in and logs trips only if they
  // also hold a field role (the server refuses them otherwise).
  if (ctx.field) {
    items.push({ h: '#/checkin', k: 'checkin', icon: 'checkin', match: ['checkin'] });
    items.push({ h: '#/trips', k: 'trips', icon: 'trips', match: ['trips', 'trip'] });
  }
  items.push({ h: '#/notes', k: 'notes', icon: 'notes', match: ['notes', 'note'] });
  // Headquarters and the departments get the findings register as a sixth
  // tab; the field tabs stay, since a user may also hold a field role.
  if (ctx.register) items.push({ h: '#/findings', k: 'findingsTab', icon: 'findings', match: ['findings', 'finding'] });
  items.push({ h: '#/sync', k: 'sync', icon: 'sync', match: ['sync'] });
  const cur = hash.slice(2).split(/[/?]/)[0] ?? '';
  return (
    <nav class={`tabbar tabbar-${items.length}`}>
      {items.map((it) => (
        <a key={it.h} href={it.h} class={`tab ${it.match.includes(cur) ? 'on' : ''}`} id={`tab-${it.k}`}
          aria-current={it.match.includes(cur) ? 'page' : undefined}>
          <span class="tab-icon" aria-hidden="true">
            <svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" focusable="false">
              {TAB_ICONS[it.icon]}
            </svg>
          </span>
          <span class="tab-label">{ctx.t(it.k)}</span>
          {it.k === 'sync' && ctx.pending > 0 && <span class="tab-count" id="nav-pending">{ctx.pending}</span>}
          {it.k === 'notes' && ctx.revisions > 0 && (
            <span class="tab-count" id="nav-revisions" aria-label={ctx.t('notesRevisionCount', ctx.revisions)}>{ctx.revisions}</span>
          )}
        </a>
      ))}
    </nav>
  );
}

/**
 * The tabs' icons as inline SVG: a font glyph (⌖, ⇄) is an empty box on a
 * phone whose fonts lack it (Debian's Chromium did).
 */
const TAB_ICONS = {
  home: <><path d="M3 11l9-7 9 7" /><path d="M5 10v10h14V10" /><path d="M10 20v-6h4v6" /></>,
  checkin: <><path d="M12 21s-7-6.2-7-11.5a7 7 0 0 1 14 0C19 14.8 12 21 12 21z" /><circle cx="12" cy="9.5" r="2.5" /></>,
  trips: <><circle cx="6" cy="18" r="2" /><circle cx="18" cy="6" r="2" /><path d="M8 18h7a3 3 0 0 0 0-6H9a3 3 0 0 1 0-6h7" /></>,
  notes: <><path d="M6 3h9l4 4v14H6z" /><path d="M14 3v5h5" /><path d="M9 13h7M9 17h5" /></>,
  findings: <><path d="M5 21V4" /><path d="M5 4h12l-2 4 2 4H5" /></>,
  sync: <><path d="M20 12a8 8 0 0 1-14 5.3" /><path d="M4 12a8 8 0 0 1 14-5.3" /><path d="M18 3v4h-4" /><path d="M6 21v-4h4" /></>,
};

function useNavCtx() {
  const { t, rt } = useCtx();
  const pending = useData(() => rt.store.pendingCount(), []) ?? 0;
  const revisions = useData(() => rt.records.revisionNotes().then((n) => n.length), []) ?? 0;
  return { t, pending, revisions, register: hasRegister(rt.user.roles), field: showsFieldTabs(rt.user.roles) };
}
