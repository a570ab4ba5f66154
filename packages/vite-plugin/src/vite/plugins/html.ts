import type { Plugin } from 'vite';
import { isError } from '../../core/errors.js';
import { mayContainUsage } from '../../sources/extract.js';
import { DEV_CLIENT_ID } from '../dev/client.js';
import { DEV_PREFIX } from '../dev/middleware.js';
import { overlayError } from '../overlay.js';
import type { Sessions } from '../session.js';
import type { FileEmitter } from '../output.js';
import { renderUsagesIn } from '../transform.js';

const VITE_IGNORE = 'vite-ignore';
/** What Vite leaves of `<img vite-ignore src=…>` once it has removed the attribute. */
const IGNORED_LEFTOVER = /<(img|source)  (?=[a-z])/g;

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
          const out = await renderUsagesIn(session, html, {
            file: ctx.filename,
            syntax: 'html',
            environment: 'client',
            onReady,
            // Vite's dev HTML pipeline puts the base in front of root-absolute URLs itself.
            devUrl: (name) => `/${DEV_PREFIX}${name}`,
            emitter: this as Partial<FileEmitter> | undefined,
            // In a build the URLs are placeholders of emitted files, which Vite's HTML pipeline would otherwise try, one
            // by one, to open as files (420 failed reads for 60 images, 4% of a warm build). See htmlTidyPlugin.
            fileAttributes: server ? undefined : [VITE_IGNORE],
          });
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

/**
 * Vite removes `vite-ignore` from an element but not the space before it;
 * the markup of our elements is written back as a build without the
 * attribute would have it, before Vite puts the URLs in.
 */
export function htmlTidyPlugin(): Plugin {
  return {
    name: 'vite-plugin-generated-images:html-tidy',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler: (html) => html.replace(IGNORED_LEFTOVER, '<$1 '),
    },
  };
}
