// Placeholder: campaign coverage: each unit's team, window and state, a bar per campaign.
// The screen replaces this file (and keeps exporting `route`).
import { ALL_SEEING_ROLES } from '../store/plan.gen';
import { useCtx } from '../ui/context';
import type { ConsoleRoute, ScreenProps } from './routes';
import { translate } from './text';
import { ComingSoon } from './ui';

function Coverage(_: ScreenProps) {
  const { lang } = useCtx();
  return <ComingSoon title={translate(lang, 'nav_coverage')} />;
}

export const route: ConsoleRoute = {
  id: 'coverage', label: 'nav_coverage', icon: '▦', roles: ALL_SEEING_ROLES, nav: true, component: Coverage,
};
