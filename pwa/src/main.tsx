// Entry: register the service worker, claim the device database for this
// tab (Web Lock), then render. Nothing here touches the network: the app
// opens offline from the service worker's cache.
import { render } from 'preact';
import { registerServiceWorker } from './swreg';
import { Session } from './sync/session';
import { claimOwnership } from './tabs';
import { takeShellLogin } from './shell';
import { loadLang } from './ui/i18n';
import { Root } from './ui/root';
// The stylesheet comes with the script rather than as a <link> in
// index.html: a stylesheet there would hold back the painting of the login
// form the first response carries until it arrived (a round trip on a weak
// signal). index.html inlines what that form needs.
import css from './ui/style.css?inline';

const style = document.createElement('style');
style.textContent = css;
document.head.append(style);
document.documentElement.lang = loadLang();

const updateListeners = new Set<() => void>();
const updateReady = {
  ready: false,
  subscribe: (fn: () => void) => {
    updateListeners.add(fn);
    return () => {
      updateListeners.delete(fn);
    };
  },
};
const sw = registerServiceWorker(() => {
  updateReady.ready = true;
  for (const fn of updateListeners) fn();
});
// Tests and the curious can see when the app shell works offline.
void sw.ready.then(() => {
  document.documentElement.dataset.offlineReady = '1';
}, () => undefined);

const ownership = claimOwnership();
const root = document.getElementById('app')!;
const shellLogin = takeShellLogin();
root.textContent = ''; // the login form or the "loading" text shown before the script ran
render(
  <Root session={new Session()} ownership={ownership} sw={sw} updateReady={updateReady} shellLogin={shellLogin} />,
  root,
);
