import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, NetworkError, type Session, type SessionData } from '../../sync/session';
import type { Key, Lang } from '../i18n';

export function Login({ session, t, lang, setLang, onLogin, notice, initialUsername, initialPassword, focus }: {
  session: Session;
  t: (k: Key, ...a: (string | number)[]) => string;
  lang: Lang;
  setLang: (l: Lang) => void;
  onLogin: (s: SessionData) => void;
  notice?: string;
  initialUsername?: string;
  initialPassword?: string;
  /** The field to focus at once, caret at the end (typing goes on there). */
  focus?: 'username' | 'password' | null;
}) {
  const [username, setUsername] = useState(initialUsername ?? '');
  const [password, setPassword] = useState(initialPassword ?? '');
  const userRef = useRef<HTMLInputElement>(null);
  const passRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    const el = focus === 'username' ? userRef.current : focus === 'password' ? passRef.current : null;
    if (!el) return;
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
  }, []);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      onLogin(await session.login(username.trim(), password));
    } catch (err) {
      if (err instanceof NetworkError) setError(t('loginOffline'));
      else if (err instanceof ApiError && err.code === 'invalid_credentials') setError(t('loginFailed'));
      else setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <div class="login-top">
        <button class="link-btn" onClick={() => setLang(lang === 'vi' ? 'en' : 'vi')}>{t('language')}</button>
      </div>
      <img src="/icons/icon-192.png" width={72} height={72} alt="" class="login-logo" />
      <h1>{t('appName')}</h1>
      {notice && <div class="banner banner-warn" role="status">{notice}</div>}
      <form onSubmit={submit} class="stack">
        <label class="field">
          <span class="field-label">{t('username')}</span>
          <input ref={userRef} class="input" name="username" autocomplete="username" autocapitalize="none" required value={username}
            onInput={(e) => setUsername((e.target as HTMLInputElement).value)} />
        </label>
        <label class="field">
          <span class="field-label">{t('password')}</span>
          <input ref={passRef} class="input" name="password" type="password" autocomplete="current-password" required value={password}
            onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        </label>
        {error && <div class="banner banner-error" role="alert">{error}</div>}
        <button class="btn btn-primary" type="submit" disabled={busy} id="login-submit">{t('login')}</button>
      </form>
    </main>
  );
}
