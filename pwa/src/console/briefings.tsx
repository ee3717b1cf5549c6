// Cluster briefings (Giao ban cụm), plan II.1 and III.1: the briefings
// this console holds beside the editor the phones use (ui/screens/
// briefings.tsx), so a briefing is recorded the same way here and offline
// on a phone; its recommendations go into the Office's register (findings
// naming the briefing), where they are assigned and answered. The minutes
// as Word are the server's (GET /api/v1/reports/briefings/{id}/minutes.docx).
import { useMemo, useState } from 'preact/hooks';
import { Notices } from '../store/notices';
import { ALL_SEEING_ROLES } from '../store/plan.gen';
import { useCtx, useData } from '../ui/context';
import { formatDate } from '../ui/i18n';
import { BriefingEditor } from '../ui/screens/briefings';
import { download } from './api';
import './manage-style';
import './notices-style';
import { useNoticeText } from './notices';
import { href } from './paths';
import type { ConsoleRoute, ScreenProps } from './routes';
import { Failed } from './ui';

function Briefings({ path }: ScreenProps) {
  const { rt, session, navigate } = useCtx();
  const t = useNoticeText();
  const notices = useMemo(() => new Notices(rt.store), [rt]);
  const list = useData(() => notices.briefings(), []);
  const id = path[0] ?? '';
  const current = list?.find((b) => b.id === id);
  const [failed, setFailed] = useState<unknown>(undefined);
  const word = async () => {
    setFailed(undefined);
    try {
      await download(session, `/api/v1/reports/briefings/${id}/minutes.docx`, 'bien-ban-giao-ban.docx');
    } catch (e) {
      setFailed(e);
    }
  };
  return (
    <section class="c-page cbriefings" id="cbriefings">
      <header class="c-page-head">
        <h1>{t('b_pageTitle')}</h1>
        <div class="c-actions">
          <button class="c-btn c-btn-primary" id="cb-new" onClick={() => navigate(href('briefings', 'new'))}>{t('b_new')}</button>
          <a class="c-btn c-btn-ghost" href={`${href('findings')}?category=recommendation`} id="cb-register">{t('b_inRegister')}</a>
        </div>
      </header>
      <div class="b-grid">
        <div class="card">
          <h2>{t('b_list')}</h2>
          {list && list.length === 0 && <p class="muted">{t('b_none')}</p>}
          {(list ?? []).map((b) => (
            <button key={b.id} class={`b-item ${b.id === id ? 'on' : ''}`} data-briefing={b.cluster_name}
              onClick={() => navigate(href('briefings', b.id))}>
              <strong>{b.cluster_name}</strong>
              <div class="small">{formatDate(b.held_on)}{b.place ? ` · ${b.place}` : ''}</div>
            </button>
          ))}
        </div>
        <div class="stack">
          {id === '' && <div class="c-empty">{t('b_pick')}</div>}
          {id !== '' && (
            <>
              {current && (
                <div class="row-wrap">
                  <button class="c-btn c-btn-secondary" id="cb-word" disabled={current.pending} onClick={() => void word()}>{t('b_word')}</button>
                  {current.pending && <span class="small muted">{t('n_wordNeedsSync')}</span>}
                </div>
              )}
              {failed !== undefined && <Failed error={failed} />}
              <BriefingEditor key={id} id={id} onCreated={(nid) => navigate(href('briefings', nid))} />
            </>
          )}
        </div>
      </div>
    </section>
  );
}

export const route: ConsoleRoute = {
  id: 'briefings', label: 'nav_briefings', icon: '◎', roles: [...ALL_SEEING_ROLES, 'department'], nav: true, component: Briefings,
};
