// The console's screens: one entry each, in the order of the left
// navigation. A screen module exports its entry (`route`) beside its
// component, so whoever builds a screen edits only their own files; this
// table only lists them. Routes are hash routes under #/console/<id>/…,
// like the field app's.
import type { ComponentType } from 'preact';
import { ALL_SEEING_ROLES, REGISTER_ROLES } from '../store/plan.gen';
import { route as briefings } from './briefings';
import { route as coverage } from './coverage';
import { route as fielddays } from './fielddays';
import { route as findings } from './findings';
import { route as history } from './history';
import { route as management } from './management';
import { route as notices } from './notices';
import { route as queue } from './queue';
import { route as report } from './report';

/** What a screen receives: the path after #/console/<id>/ and the query. */
export interface ScreenProps {
  path: string[];
  params: URLSearchParams;
}

export interface ConsoleRoute {
  /** The path segment: #/console/<id>. */
  id: string;
  /** Text key of its name in the navigation and the page title. */
  label: string;
  /** A glyph beside the name in the navigation. */
  icon: string;
  /** Who may open it (and sees it in the navigation). */
  roles: readonly string[];
  /** Listed in the left navigation; false for pages opened from another (history, report). */
  nav: boolean;
  /** false: the page stands alone, without the console's navigation (a print view). */
  chrome?: boolean;
  component: ComponentType<ScreenProps>;
}

/** Who opens the console at all: headquarters and the departments (plan.RegisterRoles). */
export const CONSOLE_ROLES: readonly string[] = REGISTER_ROLES;
/** Headquarters: who read and review every note (plan.AllSeeingRoles). */
export const HQ_ROLES: readonly string[] = ALL_SEEING_ROLES;

export const ROUTES: readonly ConsoleRoute[] = [queue, coverage, notices, briefings, fielddays, findings, management, history, report];

export function allowed(r: ConsoleRoute, roles: readonly string[]): boolean {
  return roles.some((x) => r.roles.includes(x));
}

/** Where a user lands in the console: headquarters on the review queue, a department on its findings. */
export function landing(roles: readonly string[]): string {
  return roles.some((x) => HQ_ROLES.includes(x)) ? queue.id : findings.id;
}
