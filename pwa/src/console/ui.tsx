// Small pieces every console screen uses: the page heading, a loading or
// failed state, an empty state that says what to do next.
import type { ComponentChildren } from 'preact';
import { useCtx } from '../ui/context';
import { errorText } from './api';
import { translate } from './text';

export function Page({ title, actions, children, id, class: cls }: {
  title: string;
  actions?: ComponentChildren;
  children: ComponentChildren;
  id?: string;
  class?: string;
}) {
  return (
    <section class={cls ? `c-page ${cls}` : 'c-page'} id={id}>
      <header class="c-page-head">
        <h1>{title}</h1>
        {actions && <div class="c-actions">{actions}</div>}
      </header>
      {children}
    </section>
  );
}

/** A failed read, with a way to try again. */
export function Failed({ error, retry, labels }: { error: unknown; retry?: () => void; labels?: Record<string, string> }) {
  const { lang } = useCtx();
  return (
    <div class="banner banner-error c-failed" role="alert">
      <span>{errorText(lang, error, labels)}</span>
      {retry && <button class="c-btn c-btn-ghost" onClick={retry}>{translate(lang, 'retry')}</button>}
    </div>
  );
}

export function Loading() {
  const { lang } = useCtx();
  return <p class="muted c-loading" aria-live="polite">{translate(lang, 'loading')}</p>;
}

/** Nothing to show: says so, and what to do next. */
export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="c-empty">{children}</div>;
}

/** A screen someone else is building: the navigation already leads here. */
export function ComingSoon({ title }: { title: string }) {
  const { lang } = useCtx();
  return (
    <Page title={title}>
      <Empty>{translate(lang, 'comingSoon')}</Empty>
    </Page>
  );
}
