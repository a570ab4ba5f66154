import type { Plugin } from 'vite';
import { devClient, DEV_CLIENT_ID, RESOLVED_DEV_CLIENT_ID } from '../dev/client.js';
import type { Sessions } from '../session.js';

/**
 * The dev server's side: the page script that reports the placeholders it
 * shows, served here, and the rest (renderer, middleware, overlay, takes
 * page) started by startDevServer. `takesLink`: the host's pages load the
 * page script (the HTML plugin adds it), so placeholders can link there.
 */
export function devPlugin(sessions: Sessions, options: { takesLink?: boolean } = {}): Plugin {
  return {
    name: 'vite-plugin-generated-images:dev',
    apply: 'serve',

    async configureServer(server) {
      const session = sessions.ofConfig(server.config);
      if (!session) return;
      // Loaded here: a build never needs the renderer, the takes page or their routes.
      const { startDevServer } = await import('../dev/server.js');
      startDevServer(session, server, options);
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
