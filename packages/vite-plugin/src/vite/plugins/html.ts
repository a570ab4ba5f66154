import type { Plugin } from 'vite';
import { isError } from '../../core/errors.js';
import { mayContainUsage } from '../../sources/extract.js';
import { DEV_CLIENT_ID } from '../dev/client.js';
import { DEV_PREFIX } from '../dev/middleware.js';
import { overlayError } from '../overlay.js';
import type { Sessions } from '../session.js';
import { renderUsagesIn } from '../transform.js';

/** Replaces `<GeneratedImage>` in HTML entries; in dev, every page also loads the script that reports its placeholders. */
export function htmlPlugin(sessions: Sessions): Plugin {
  return {
    name: 'vite-plugin-generated-images:html',
    enforce: 'pre',
    transformIndexHtml: {
      order: 'pre',
      async handler(html, ctx) {
        const session = ctx.server ? sessions.ofConfig(ctx.server.config) ?? sessions.of(this) : sessions.of(this);
        const server = session.server;
        const tags = server ? [{ tag: 'script', attrs: { type: 'module', src: `/@id/__x00__${DEV_CLIENT_ID}` }, injectTo: 'head' as const }] : [];
        if (!mayContainUsage(html)) return { html, tags };
        try {
          const onReady = () => server?.environments.client.hot.send({ type: 'full-reload', path: ctx.path });
          // Vite's dev HTML pipeline puts the base in front of root-absolute URLs itself.
          const out = await renderUsagesIn(session, html, { file: ctx.filename, syntax: 'html', environment: 'client', onReady, devUrl: (name) => `/${DEV_PREFIX}${name}` });
          return { html: out?.code ?? html, tags };
        } catch (error) {
          // In dev, Vite shows a thrown error with `loc` and `frame` in its overlay; in a build, it fails with the message.
          if (isError(error)) throw overlayError(error, html);
          throw error;
        }
      },
    },
  };
}
