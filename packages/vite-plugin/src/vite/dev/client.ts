import { TAKES_LINK_ATTRIBUTE } from '../../render/pending.js';
import { TAKES_PATH } from './middleware.js';

/** The page script of the dev server, as a virtual module every page loads. */
export const DEV_CLIENT_ID = 'virtual:generated-images/client';
export const RESOLVED_DEV_CLIENT_ID = `\0${DEV_CLIENT_ID}`;

/** The custom HMR event a page sends with the keys of the placeholders it shows. */
export const PENDING_EVENT = 'generated-images:pending';

/**
 * Runs in pages served by the dev server. An update sent before the module
 * that shows a placeholder had registered for updates is dropped by Vite's
 * client, so the page reports each placeholder it shows, once it shows it,
 * and the server answers for those that are ready (or failed) meanwhile.
 * A placeholder's "Takes" link opens the takes page in a new tab that keeps
 * this page as its opener, so that the takes page can list this page's images.
 */
export const devClient = (base: string) => `if (import.meta.hot) {
  const reported = new Set();
  let timer;
  const report = () => {
    timer = undefined;
    const keys = [...document.querySelectorAll('picture[data-generated-image-key]')]
      .map((picture) => picture.getAttribute('data-generated-image-key'))
      .filter((key) => !reported.has(key));
    keys.forEach((key) => reported.add(key));
    if (keys.length) import.meta.hot.send(${JSON.stringify(PENDING_EVENT)}, { keys });
  };
  const schedule = () => (timer ??= setTimeout(report, 50));
  new MutationObserver(schedule).observe(document.documentElement, { childList: true, subtree: true });
  schedule();
  const openTakes = (event) => {
    if (!event.target.closest?.('[${TAKES_LINK_ATTRIBUTE}]') || (event.type === 'keydown' && event.key !== 'Enter')) return;
    // The image may sit inside a link of the page's own: this one opens, that one does not.
    event.preventDefault();
    event.stopPropagation();
    window.open(${JSON.stringify(`${base}${TAKES_PATH}`)}, '_blank');
  };
  document.addEventListener('click', openTakes, true);
  document.addEventListener('keydown', openTakes, true);
}
`;
