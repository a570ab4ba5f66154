/// <reference lib="dom" />
/**
 * The dev toolbar app of `astro dev`: the dev server's takes page (the Vite
 * plugin's, on the same endpoints) in a toolbar window. The page, framed on
 * this origin, reads the images this page shows from its parent and lists
 * them first. It is reloaded each time the app opens, so it always shows the
 * page as it is now.
 */
import { defineToolbarApp } from 'astro/toolbar';

/** Where the dev server serves the takes page (the Vite plugin's TAKES_PATH), under Vite's base. */
const TAKES_PATH = '@generated-images/takes';

export default defineToolbarApp({
  init(canvas, app) {
    const base = ((import.meta as ImportMeta & { env?: { BASE_URL?: string } }).env?.BASE_URL ?? '/').replace(/\/?$/, '/');
    const style = document.createElement('style');
    style.textContent = `
      astro-dev-toolbar-window { width: min(1000px, calc(100vw - 32px)); height: min(640px, calc(100vh - 120px)); padding: 0; overflow: hidden; }
      iframe { display: block; width: 100%; height: 100%; border: 0; border-radius: inherit; background: Canvas; }
    `;
    const panel = document.createElement('astro-dev-toolbar-window');
    const frame = document.createElement('iframe');
    frame.title = 'Generated images: takes';
    panel.append(frame);
    canvas.append(style, panel);
    app.onToggled(({ state }) => {
      frame.src = state ? `${base}${TAKES_PATH}` : 'about:blank';
    });
  },
});
