// Placeholder: every secretary's field days against the plan's pace.
// The screen replaces this file (and keeps exporting `route`).
import { ALL_SEEING_ROLES } from '../store/plan.gen';
import { useCtx } from '../ui/context';
import type { ConsoleRoute, ScreenProps } from './routes';
import { translate } from './text';
import { ComingSoon } from './ui';

function FieldDays(_: ScreenProps) {
  const { lang } = useCtx();
  return <ComingSoon title={translate(lang, 'nav_fielddays')} />;
}

export const route: ConsoleRoute = {
  id: 'fielddays', label: 'nav_fielddays', icon: '◷', roles: ALL_SEEING_ROLES, nav: true, component: FieldDays,
};
