import { ALL_SEEING_ROLES } from '../store/plan.gen';
import { useCtx } from '../ui/context';
import type { ConsoleRoute, ScreenProps } from './routes';
import { translate } from './text';
import { ComingSoon } from './ui';

function History(_: ScreenProps) {
  const { lang } = useCtx();
  return <ComingSoon title={translate(lang, 'nav_history')} />;
}

export const route: ConsoleRoute = {
  id: 'history', label: 'nav_history', icon: '⟲', roles: ALL_SEEING_ROLES, nav: false, component: History,
};
