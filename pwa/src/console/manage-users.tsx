// Users: the list, a form to create one or change one (roles with the
// department or unit a role needs), disabling, and an administrator's
// password reset (POST /users/{id}/password). Written straight to the
// server: accounts are the administrator's online work.
import { useState } from 'preact/hooks';
import { useCtx } from '../ui/context';
import { apiList, apiSend, useRemote } from './manage-api';
import { checkText, MChecks, MField, OutcomeLine, refusal, useMT, type Faults, type MT, type Outcome } from './manage-form';
import { tr } from './text-common';

export const ROLES = ['admin', 'inspection_committee', 'office', 'department', 'secretary', 'inspector', 'unit_liaison'] as const;

/** The roles in the plan's words (the same as the console shell's). */
const ROLE_WORDS: Record<string, readonly [string, string]> = {
  admin: ['Quản trị hệ thống', 'Administrator'],
  inspection_committee: ['Ban Kiểm tra', 'Inspection Committee'],
  office: ['Văn phòng', 'Office'],
  department: ['Ban khối phong trào', 'Department'],
  secretary: ['Bí thư', 'Secretary'],
  inspector: ['Thành viên đoàn kiểm tra', 'Inspector'],
  unit_liaison: ['Cán bộ đầu mối đơn vị', 'Unit liaison'],
};

export function roleName(lang: 'vi' | 'en', r: string): string {
  return ROLE_WORDS[r] ? tr(ROLE_WORDS, lang, r) : r;
}

export interface ApiUser {
  id: string;
  username: string;
  full_name: string;
  title: string;
  roles: string[];
  department_id: string | null;
  unit_id: string | null;
  disabled: boolean;
}

interface Named {
  id: string;
  name: string;
  kind?: string;
}

const USERNAME = /^[a-z0-9._-]{3,64}$/;

/** The server's checks of a user (api/users.go, auth/users.go), plus the department or unit a role needs. */
export function checkUser(u: { username?: string; password?: string; full_name: string; title: string; roles: string[]; department_id: string; unit_id: string }, creating: boolean): Faults {
  const f: Faults = {};
  if (creating) {
    if (!USERNAME.test((u.username ?? '').trim())) f.username = { field: 'username', rule: (u.username ?? '').trim() ? 'username' : 'required' };
    const n = [...(u.password ?? '')].length;
    if (n < 10) f.password = { field: 'password', rule: n === 0 ? 'required' : 'min', param: '10' };
    else if (n > 1024) f.password = { field: 'password', rule: 'max', param: '1024' };
  }
  checkText(f, 'full_name', u.full_name, { required: true, max: 300 });
  checkText(f, 'title', u.title, { max: 300 });
  if (u.roles.length === 0) f.roles = { field: 'roles', rule: 'required' };
  if (u.roles.includes('department') && !u.department_id) f.department_id = { field: 'department_id', rule: 'needs_department' };
  if (u.roles.includes('unit_liaison') && !u.unit_id) f.unit_id = { field: 'unit_id', rule: 'needs_unit' };
  return f;
}

export function UsersSection({ canWrite }: { canWrite: boolean }) {
  const { session, lang, online } = useCtx();
  const t = useMT();
  const users = useRemote(() => apiList<ApiUser>(session, '/api/v1/users'), [online]);
  const departments = useRemote(() => apiList<Named>(session, '/api/v1/departments'), [online]);
  const units = useRemote(() => apiList<Named>(session, '/api/v1/units'), [online]);
  const [editing, setEditing] = useState<ApiUser | 'new' | null>(null);
  // What the last write said, kept for the form that opens on its result.
  const [flash, setFlash] = useState('');
  const [q, setQ] = useState('');
  const deptName = new Map((departments.data ?? []).map((d) => [d.id, d.name]));
  const unitName = new Map((units.data ?? []).map((d) => [d.id, d.name]));
  const list = (users.data ?? []).filter((u) => !q || `${u.username} ${u.full_name}`.toLowerCase().includes(q.toLowerCase()));
  return (
    <div class="cpanes">
      <div class="card cpane ctable-wrap">
        <div class="row">
          <input class="input m-search" type="search" placeholder={t('m_search')} value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
          {canWrite && <button class="btn btn-primary cbtn" id="user-new" onClick={() => { setFlash(''); setEditing('new'); }}>{t('m_new')}</button>}
        </div>
        <table class="ctable" id="user-table">
          <thead><tr><th>{t('m_fullName')}</th><th>{t('username')}</th><th>{t('m_roles')}</th><th>{t('m_department')} / {t('unit')}</th></tr></thead>
          <tbody>
            {list.map((u) => (
              <tr key={u.id} class={`clickable ${editing !== 'new' && editing?.id === u.id ? 'on' : ''}`} data-username={u.username}
                onClick={() => { setFlash(''); setEditing(u); }}>
                <td><strong>{u.full_name}</strong>{u.title && <div class="muted small">{u.title}</div>}</td>
                <td>{u.username}{u.disabled && <span class="tag tag-off">{t('m_disabled')}</span>}</td>
                <td>{u.roles.map((r) => <span key={r} class="tag">{roleName(lang, r)}</span>)}</td>
                <td class="small">{[u.department_id && deptName.get(u.department_id), u.unit_id && unitName.get(u.unit_id)].filter(Boolean).join(' · ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div class="cpane cpane-sticky">
        {editing && (
          <UserForm key={editing === 'new' ? 'new' : editing.id} user={editing === 'new' ? null : editing} canWrite={canWrite} t={t}
            departments={departments.data ?? []} units={(units.data ?? []).filter((u) => u.kind !== 'grassroots')}
            flash={flash} done={(u, text) => { users.reload(); setFlash(text); setEditing(u); }} close={() => setEditing(null)} />
        )}
      </div>
    </div>
  );
}

function UserForm({ user, canWrite, t, departments, units, flash, done, close }: {
  user: ApiUser | null;
  canWrite: boolean;
  t: MT;
  departments: Named[];
  units: Named[];
  flash: string;
  done: (u: ApiUser, text: string) => void;
  close: () => void;
}) {
  const { session, lang } = useCtx();
  const creating = user === null;
  const [v, setV] = useState({
    username: user?.username ?? '', password: '', full_name: user?.full_name ?? '', title: user?.title ?? '',
    roles: user?.roles ?? [], department_id: user?.department_id ?? '', unit_id: user?.unit_id ?? '',
  });
  const [faults, setFaults] = useState<Faults>({});
  const [outcome, setOutcome] = useState<Outcome>(flash ? { kind: 'ok', text: flash } : { kind: 'idle' });
  const set = (k: keyof typeof v, x: string | string[]) => setV({ ...v, [k]: x });
  const save = async () => {
    const f = checkUser(v, creating);
    setFaults(f);
    if (Object.keys(f).length > 0) {
      setOutcome({ kind: 'error', text: t('m_fixFields') });
      return;
    }
    setOutcome({ kind: 'busy' });
    try {
      const body = {
        full_name: v.full_name.trim(), title: v.title.trim(), roles: v.roles,
        department_id: v.department_id || null, unit_id: v.unit_id || null,
      };
      const u = creating
        ? await apiSend<ApiUser>(session, 'POST', '/api/v1/users', { ...body, username: v.username.trim(), password: v.password })
        : await apiSend<ApiUser>(session, 'PATCH', `/api/v1/users/${user!.id}`, body);
      const text = creating ? t('m_created', u!.full_name) : t('m_saved');
      setOutcome({ kind: 'ok', text });
      done(u!, text);
    } catch (e) {
      const r = refusal(t, lang, e);
      setFaults(r.faults);
      setOutcome(r.outcome);
    }
  };
  const toggleDisabled = async () => {
    setOutcome({ kind: 'busy' });
    try {
      const u = await apiSend<ApiUser>(session, 'PATCH', `/api/v1/users/${user!.id}`, { disabled: !user!.disabled });
      setOutcome({ kind: 'ok', text: t('m_saved') });
      done(u!, t('m_saved'));
    } catch (e) {
      const r = refusal(t, lang, e);
      setFaults(r.faults);
      setOutcome(r.outcome);
    }
  };
  return (
    <div class="stack">
      <div class="card" id="user-form">
        <div class="row"><h2>{creating ? t('m_newUser') : user!.full_name}</h2><button class="link-btn" onClick={close}>{t('cancel')}</button></div>
        <fieldset class="cform" disabled={!canWrite}>
          {creating && (
            <MField label={t('username')} name="username" faults={faults}>
              <input class="input" id="user-username" autocomplete="off" value={v.username} onInput={(e) => set('username', (e.target as HTMLInputElement).value)} />
            </MField>
          )}
          {creating && (
            <MField label={t('password')} name="password" faults={faults} hint={t('m_passwordHint')}>
              <input class="input" id="user-password" type="password" autocomplete="new-password" value={v.password} onInput={(e) => set('password', (e.target as HTMLInputElement).value)} />
            </MField>
          )}
          <MField label={t('m_fullName')} name="full_name" faults={faults}>
            <input class="input" id="user-fullname" value={v.full_name} onInput={(e) => set('full_name', (e.target as HTMLInputElement).value)} />
          </MField>
          <MField label={t('m_jobTitle')} name="title" faults={faults}>
            <input class="input" id="user-title" value={v.title} onInput={(e) => set('title', (e.target as HTMLInputElement).value)} />
          </MField>
          <MChecks label={t('m_roles')} name="roles" faults={faults} value={v.roles} onChange={(x) => set('roles', x)}
            options={ROLES.map((r) => ({ id: r, label: roleName(lang, r) }))} />
          <MField label={t('m_department')} name="department_id" faults={faults}>
            <select class="input" id="user-department" value={v.department_id} onChange={(e) => set('department_id', (e.target as HTMLSelectElement).value)}>
              <option value="">{t('m_none')}</option>
              {departments.map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}
            </select>
          </MField>
          <MField label={t('unit')} name="unit_id" faults={faults}>
            <select class="input" id="user-unit" value={v.unit_id} onChange={(e) => set('unit_id', (e.target as HTMLSelectElement).value)}>
              <option value="">{t('m_none')}</option>
              {units.map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}
            </select>
          </MField>
        </fieldset>
        {canWrite && (
          <div class="cactions">
            <button class="btn btn-primary" id="user-save" disabled={outcome.kind === 'busy'} onClick={() => void save()}>{creating ? t('m_create') : t('save')}</button>
            {!creating && (
              <button class="btn btn-danger" id="user-disable" onClick={() => void toggleDisabled()}>{user!.disabled ? t('m_enable') : t('m_disable')}</button>
            )}
          </div>
        )}
        <OutcomeLine o={outcome} id="user-outcome" />
      </div>
      {!creating && canWrite && <ResetPassword user={user!} t={t} />}
    </div>
  );
}

function ResetPassword({ user, t }: { user: ApiUser; t: MT }) {
  const { session, lang } = useCtx();
  const [pw, setPw] = useState('');
  const [faults, setFaults] = useState<Faults>({});
  const [outcome, setOutcome] = useState<Outcome>({ kind: 'idle' });
  const reset = async () => {
    const n = [...pw].length;
    if (n < 10) {
      setFaults({ new_password: { field: 'new_password', rule: n === 0 ? 'required' : 'min', param: '10' } });
      return;
    }
    setFaults({});
    setOutcome({ kind: 'busy' });
    try {
      await apiSend(session, 'POST', `/api/v1/users/${user.id}/password`, { new_password: pw });
      setPw('');
      setOutcome({ kind: 'ok', text: t('m_resetDone') });
    } catch (e) {
      const r = refusal(t, lang, e);
      setFaults(r.faults);
      setOutcome(r.outcome);
    }
  };
  return (
    <div class="card" id="user-reset">
      <h2>{t('m_resetPassword')}</h2>
      <div class="cform">
        <MField label={t('m_newPassword')} name="new_password" faults={faults} hint={t('m_passwordHint')}>
          <input class="input" type="password" id="user-reset-password" autocomplete="new-password" value={pw} onInput={(e) => setPw((e.target as HTMLInputElement).value)} />
        </MField>
      </div>
      <div class="cactions"><button class="btn btn-secondary" id="user-reset-save" onClick={() => void reset()}>{t('m_resetPassword')}</button></div>
      <OutcomeLine o={outcome} id="user-reset-outcome" />
    </div>
  );
}
