import { fileURLToPath } from 'node:url';
import type { DevToolbarAppEntry } from 'astro';

/** A picture frame with a spark: the toolbar's button for the takes of the page's images. */
const ICON = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"><rect x="3" y="5" width="18" height="14" rx="2"/><path d="m3 16 5-5 4 4 3-3 6 6"/><path d="M16 2.5v3M14.5 4h3"/></svg>';

/** The dev toolbar app that shows the dev server's takes page for the page being viewed (see app.ts). */
export function takesToolbarApp(): DevToolbarAppEntry {
  return { id: 'astro-generated-images', name: 'Generated images', icon: ICON, entrypoint: fileURLToPath(new URL('./app.js', import.meta.url)) };
}
