// Placeholder: the findings and recommendations register; a department lands here on its own findings.
// The screen replaces this file (and keeps exporting `route`).
import { REGISTER_ROLES } from '../store/plan.gen';
import { useCtx } from '../ui/context';
import type { ConsoleRoute, ScreenProps } from './routes';
import { translate } from './text';
import { ComingSoon } from './ui';

function Findings(_: ScreenProps) {
  const { lang } = useCtx();
  return <ComingSoon title={translate(lang, 'nav_findings')} />;
}

export const route: ConsoleRoute = {
  id: 'findings', label: 'nav_findings', icon: '⚑', roles: REGISTER_ROLES, nav: true, component: Findings,
};
