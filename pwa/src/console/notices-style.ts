// The stylesheet of the schedule, notice and briefing screens, added to the
// page once when the first of them loads (inlined, like manage-style.ts).
import css from './notices.css?inline';

if (typeof document !== 'undefined' && !document.getElementById('console-notices-style')) {
  const el = document.createElement('style');
  el.id = 'console-notices-style';
  el.textContent = css;
  document.head.append(el);
}
