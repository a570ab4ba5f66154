import type { ViteDevServer } from 'vite';
import { errorText, GeneratedImagesError } from '../../core/errors.js';
import { relativeLocation } from '../../core/location.js';
import type { Usage } from '../../sources/usage.js';
import { scanExclusions } from '../config.js';
import { overlayError } from '../overlay.js';
import type { Session } from '../session.js';
import { PENDING_EVENT } from './client.js';
import { DEV_PREFIX, variantMiddleware } from './middleware.js';
import { DevRenderer } from './renderer.js';
import { Takes } from './takes.js';
import { takesRoutes } from './takes-routes.js';

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
 * Starts the dev server's side of a session: a renderer that shows
 * placeholders for images being generated, the middleware that serves the
 * cache's files, the overlay for failures, and the takes page with its
 * endpoints. `takesLink`: the host's pages load the page script, so
 * placeholders can link to the takes page.
 */
export function startDevServer(session: Session, server: ViteDevServer, options: { takesLink?: boolean }): void {
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
  const { base } = server.config;
  const takes = new Takes(pipeline, session.dev, scanExclusions(server.config, pipeline.options.cacheDir), (name) => `${base}${DEV_PREFIX}${name}`);
  // The takes page first: the image route below answers everything else under its prefix itself.
  server.middlewares.use(takesRoutes(takes, base, () => ownHosts(server.config.server)));
  server.middlewares.use(variantMiddleware(pipeline, base));
}
