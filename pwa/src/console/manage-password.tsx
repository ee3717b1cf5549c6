// "Đổi mật khẩu": every user changes their own password (POST
// /me/password), from the console and from the field app's Sync screen.
// The module is small and loaded on demand, so the field app's bundle
// does not carry the console for it. It needs a connection: the server
// checks the current password.
import { useState } from 'preact/hooks';
import { useCtx } from '../ui/context';
import { apiSend } from './manage-api';
import { MField, OutcomeLine, refusal, useMT, type Faults, type Outcome } from './manage-form';
import './manage-style';

export function PasswordForm() {
  const { session, online, lang } = useCtx();
  const t = useMT();
  const [v, setV] = useState({ current: '', next: '', again: '' });
  const [faults, setFaults] = useState<Faults>({});
  const [outcome, setOutcome] = useState<Outcome>({ kind: 'idle' });
  const save = async () => {
    const f: Faults = {};
    if (!v.current) f.current_password = { field: 'current_password', rule: 'required' };
    const n = [...v.next].length;
    if (n < 10) f.new_password = { field: 'new_password', rule: n === 0 ? 'required' : 'min', param: '10' };
    else if (n > 1024) f.new_password = { field: 'new_password', rule: 'max', param: '1024' };
    else if (v.next === v.current) f.new_password = { field: 'new_password', rule: 'nefield' };
    if (!f.new_password && v.again !== v.next) f.confirm = { field: 'confirm', rule: 'confirm' };
    setFaults(f);
    if (Object.keys(f).length > 0) {
      setOutcome({ kind: 'error', text: t('m_fixFields') });
      return;
    }
    setOutcome({ kind: 'busy' });
    try {
      await apiSend(session, 'POST', '/api/v1/me/password', { current_password: v.current, new_password: v.next });
      setV({ current: '', next: '', again: '' });
      setOutcome({ kind: 'ok', text: t('m_passwordChanged') });
    } catch (e) {
      const r = refusal(t, lang, e);
      const retry = (e as { details?: { retry_after?: number } }).details?.retry_after;
      setFaults(r.faults);
      setOutcome(typeof retry === 'number' ? { kind: 'error', text: t('m_rateLimited', retry) } : r.outcome);
    }
  };
  const input = (k: keyof typeof v, id: string, auto: string) => (
    <input class="input" type="password" id={id} autocomplete={auto} value={v[k]} onInput={(e) => setV({ ...v, [k]: (e.target as HTMLInputElement).value })} />
  );
  return (
    <div class="card pw-card" id="password-form">
      <h2>{t('changePassword')}</h2>
      {!online && <div class="banner banner-warn" id="password-offline">{t('passwordNeedsNetwork')}</div>}
      <div class="cform pw-form">
        <MField label={t('m_currentPassword')} name="current_password" faults={faults} wide>{input('current', 'pw-current', 'current-password')}</MField>
        <MField label={t('m_newPassword')} name="new_password" faults={faults} hint={t('m_passwordHint').split('.')[0] + '.'}>{input('next', 'pw-new', 'new-password')}</MField>
        <MField label={t('m_confirmPassword')} name="confirm" faults={faults}>{input('again', 'pw-again', 'new-password')}</MField>
      </div>
      <div class="cactions">
        <button class="btn btn-primary" id="pw-save" disabled={!online || outcome.kind === 'busy'} onClick={() => void save()}>{t('changePassword')}</button>
      </div>
      <OutcomeLine o={outcome} id="pw-outcome" />
    </div>
  );
}

/** The phone's page for it (#/password), opened from the Sync screen's account card. */
export default function PasswordScreen() {
  const { navigate } = useCtx();
  const t = useMT();
  return (
    <section class="screen">
      <header class="screen-head">
        <button class="icon-btn" aria-label="‹" onClick={() => navigate('#/sync')}>‹</button>
        <h1>{t('changePassword')}</h1>
      </header>
      <PasswordForm />
    </section>
  );
}
