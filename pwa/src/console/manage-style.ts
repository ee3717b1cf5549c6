// The stylesheets of coverage, field days, findings and management, added
// to the page once when the first of these modules loads. They are inlined
// like the console shell's (console/index.tsx): the field bundle has no
// preload helper to fetch a lazy chunk's CSS file.
import chart from './chart.css?inline';
import coverage from './coverage.css?inline';
import fielddays from './fielddays.css?inline';
import findings from './findings.css?inline';
import manage from './manage.css?inline';

if (typeof document !== 'undefined' && !document.getElementById('console-screens-style')) {
  const el = document.createElement('style');
  el.id = 'console-screens-style';
  el.textContent = [manage, chart, coverage, fielddays, findings].join('\n');
  document.head.append(el);
}
