import { ALL_SEEING_ROLES } from '../store/plan.gen';
import { useCtx } from '../ui/context';
import type { ConsoleRoute, ScreenProps } from './routes';
import { translate } from './text';
import { ComingSoon } from './ui';

function Report(_: ScreenProps) {
  const { lang } = useCtx();
  return <ComingSoon title={translate(lang, 'nav_report')} />;
}

export const route: ConsoleRoute = {
  id: 'report', label: 'nav_report', icon: '⎙', roles: ALL_SEEING_ROLES, nav: false, component: Report,
};
