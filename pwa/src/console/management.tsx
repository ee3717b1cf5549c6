// Management (Quản trị): users, activity clusters, inspection teams,
// campaigns, plans, special periods, units, and one's own password. These
// are online operations of headquarters (REST writes, checked by the
// server's role policy), so the screen says plainly when there is no
// network instead of queueing them; each section is editable by the roles
// the server lets write it (server/api/policy.go) and read-only otherwise.
import { useCtx } from '../ui/context';
import { PasswordForm } from './manage-password';
import { PlacesSection } from './manage-places';
import { ReferenceSection } from './manage-reference';
import { UsersSection } from './manage-users';
import { useMT, type MKey } from './manage-form';
import './manage-style';
import { href } from './paths';
import type { ConsoleRoute, ScreenProps } from './routes';
import { REGISTER_ROLES } from '../store/plan.gen';

const ADMIN = ['admin'];
const PLANNERS = ['admin', 'inspection_committee'];
const HQ = ['admin', 'inspection_committee', 'office'];

/** The sections: who sees each and who may write it (the server's policy). */
export const SECTIONS: { id: string; label: MKey; see: string[]; write: string[] }[] = [
  { id: 'users', label: 'm_sec_users', see: HQ, write: ADMIN },
  { id: 'clusters', label: 'm_sec_clusters', see: HQ, write: ADMIN },
  { id: 'teams', label: 'm_sec_teams', see: HQ, write: PLANNERS },
  { id: 'campaigns', label: 'm_sec_campaigns', see: HQ, write: PLANNERS },
  { id: 'plans', label: 'm_sec_plans', see: HQ, write: PLANNERS },
  { id: 'periods', label: 'm_sec_periods', see: HQ, write: HQ },
  { id: 'units', label: 'units', see: HQ, write: ADMIN },
  // Places proposed from the field: headquarters decide (the server's units spec).
  { id: 'places', label: 'm_sec_places', see: HQ, write: HQ },
  { id: 'password', label: 'changePassword', see: [], write: [] },
];

const TABLE_OF: Record<string, string> = { periods: 'special_periods' };

export function Management({ path }: ScreenProps) {
  const { rt, online, navigate } = useCtx();
  const t = useMT();
  const roles = rt.user.roles ?? [];
  const holds = (rs: string[]) => rs.length === 0 || roles.some((r) => rs.includes(r));
  const visible = SECTIONS.filter((s) => holds(s.see));
  const current = visible.find((s) => s.id === path[0]) ?? visible[0]!;
  const canWrite = holds(current.write) && current.write.length > 0;
  return (
    <section class="cscreen management" id="management" data-section={current.id}>
      <header class="cscreen-head"><h1>{t('m_title')}</h1></header>
      <nav class="m-tabs" aria-label={t('m_title')}>
        {visible.map((s) => (
          <a key={s.id} href={href('management', s.id)} id={`m-tab-${s.id}`} class={`m-tab ${s.id === current.id ? 'on' : ''}`}
            aria-current={s.id === current.id ? 'page' : undefined}
            onClick={(e) => { e.preventDefault(); navigate(href('management', s.id)); }}>{t(s.label)}</a>
        ))}
      </nav>
      {current.id !== 'password' && !online && <div class="banner banner-warn" id="m-offline">{t('m_needsNetwork')}</div>}
      {current.id !== 'password' && online && !canWrite && <p class="muted small" id="m-readonly">{t('m_forbidden')}</p>}
      {current.id === 'password' ? <PasswordForm />
        : !online ? null
          : current.id === 'users' ? <UsersSection canWrite={canWrite} />
            : current.id === 'places' ? <PlacesSection canWrite={canWrite} />
            : <ReferenceSection key={current.id} tableKey={TABLE_OF[current.id] ?? current.id} canWrite={canWrite} title={t(current.label)} />}
    </section>
  );
}

export const route: ConsoleRoute = {
  id: 'management', label: 'nav_management', icon: '⚙', roles: REGISTER_ROLES, nav: true, component: Management,
};
