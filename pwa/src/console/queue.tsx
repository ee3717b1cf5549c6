import { ALL_SEEING_ROLES } from '../store/plan.gen';
import { useCtx } from '../ui/context';
import type { ConsoleRoute, ScreenProps } from './routes';
import { translate } from './text';
import { ComingSoon } from './ui';

function Queue(_: ScreenProps) {
  const { lang } = useCtx();
  return <ComingSoon title={translate(lang, 'nav_queue')} />;
}

export const route: ConsoleRoute = {
  id: 'queue', label: 'nav_queue', icon: '☰', roles: ALL_SEEING_ROLES, nav: true, component: Queue,
};
