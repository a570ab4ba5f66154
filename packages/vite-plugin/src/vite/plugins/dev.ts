import type { Plugin } from 'vite';
import { errorText, GeneratedImagesError } from '../../core/errors.js';
import { relativeLocation } from '../../core/location.js';
import type { Usage } from '../../sources/usage.js';
import { devClient, DEV_CLIENT_ID, PENDING_EVENT, RESOLVED_DEV_CLIENT_ID } from '../dev/client.js';
import { DEV_PREFIX, variantMiddleware } from '../dev/middleware.js';
import { DevRenderer } from '../dev/renderer.js';
import { Takes } from '../dev/takes.js';
import { takesRoutes } from '../dev/takes-routes.js';
import { excludedFolders } from '../config.js';
import { overlayError } from '../overlay.js';
import type { Session, Sessions } from '../session.js';

/** A failed generation as Vite's overlay shows it, pointing at the usage. */
function failurePayload(session: Session, usage: Usage, reason: string) {
  const located = new GeneratedImagesError('GENERATION_FAILED', `${relativeLocation(usage.loc, session.config.root)}: ${JSON.stringify(usage.prompt)} could not be generated: ${reason}`, { locations: [usage.loc] });
  const { message, id, loc, plugin } = overlayError(located);
  return { located, payload: { type: 'error' as const, err: { message, stack: '', id, loc, plugin } } };
}

/** The names this server answers to besides IP addresses and localhost (`allowedHosts` is new in Vite 6.0.9). */
function ownHosts(server: { host?: string | boolean; allowedHosts?: string[] | true }): readonly string[] | true {
  if (server.allowedHosts === true) return true;
  return [...(server.allowedHosts ?? []), ...(typeof server.host === 'string' ? [server.host] : [])];
}

/**
 * The dev server's side: a renderer that shows placeholders for images being
 * generated, the middleware that serves the cache's files, the page script
 * that reports the placeholders it shows, the error overlay for failures,
 * and the takes page with its endpoints. `takesLink`: the host's pages load
 * the page script (the HTML plugin adds it), so placeholders can link there.
 */
export function devPlugin(sessions: Sessions, options: { takesLink?: boolean } = {}): Plugin {
  return {
    name: 'vite-plugin-generated-images:dev',
    apply: 'serve',

    configureServer(server) {
      const session = sessions.ofConfig(server.config);
      if (!session) return;
      session.server = server;
      const { pipeline } = session;
      session.dev = new DevRenderer(pipeline, (name) => `${server.config.base}${DEV_PREFIX}${name}`, {
        takesLink: options.takesLink ?? false,
        onError(usage, reason) {
          const { located, payload } = failurePayload(session, usage, reason);
          pipeline.reporter.warn(errorText(located));
          server.environments.client.hot.send(payload);
        },
      });
      server.environments.client.hot.on(PENDING_EVENT, (data: { keys?: unknown } | undefined, client) => {
        // A page that shows a failed image shows its error too, until the file that uses it changes.
        const failed = session.dev?.recheck(data?.keys).at(-1);
        if (failed) client.send(failurePayload(session, failed.usage, failed.reason).payload);
      });
      const { root, base, build } = server.config;
      const takes = new Takes(pipeline, session.dev, excludedFolders(root, [pipeline.options.cacheDir, build.outDir]), (name) => `${base}${DEV_PREFIX}${name}`);
      // The takes page first: the image route below answers everything else under its prefix itself.
      server.middlewares.use(takesRoutes(takes, base, () => ownHosts(server.config.server)));
      server.middlewares.use(variantMiddleware(pipeline, server.config.base));
    },

    // Called when the server closes: the generations it still has in flight are aborted, not left to run for minutes.
    async closeBundle() {
      const session = sessions.of(this);
      if (session.server) await session.pipeline.close();
    },

    watchChange(id) {
      sessions.of(this).dev?.fileChanged(id);
    },

    resolveId(id) {
      return id === DEV_CLIENT_ID ? RESOLVED_DEV_CLIENT_ID : undefined;
    },

    load(id) {
      return id === RESOLVED_DEV_CLIENT_ID ? devClient(sessions.of(this).config.base) : undefined;
    },
  };
}
