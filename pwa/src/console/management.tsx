// Placeholder: users, clusters, teams, campaigns, plans, special periods, units; everyone's own password.
// The screen replaces this file (and keeps exporting `route`).
import { REGISTER_ROLES } from '../store/plan.gen';
import { useCtx } from '../ui/context';
import type { ConsoleRoute, ScreenProps } from './routes';
import { translate } from './text';
import { ComingSoon } from './ui';

function Management(_: ScreenProps) {
  const { lang } = useCtx();
  return <ComingSoon title={translate(lang, 'nav_management')} />;
}

export const route: ConsoleRoute = {
  id: 'management', label: 'nav_management', icon: '⚙', roles: REGISTER_ROLES, nav: true, component: Management,
};
