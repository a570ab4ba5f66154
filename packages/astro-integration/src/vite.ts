import type { Plugin } from 'vite';
import { devPlugin, Sessions, usagesPlugin, type ImagePipeline } from 'vite-plugin-generated-images/core';

/**
 * The global that tells the component and the middleware, bundled into
 * Astro's server code, which registered host renders for this build. A
 * define rather than a virtual module, so that a site without the
 * integration gets our error saying to add it, not an unresolved import.
 */
export const HOST_ID_GLOBAL = '__ASTRO_GENERATED_IMAGES_HOST__';

/** Astro's islands and framework components (JSX, Vue, Svelte): `.astro`, `.md` and `.mdx` render through the component instead. */
const ISLAND_FILES = /\.(jsx|tsx|vue|svelte)(\?.*)?$/;

/**
 * The Vite side of the integration: a session per Vite run on the
 * integration's pipeline (Astro copies the files its output references
 * itself), the usages transform for islands, and the dev server's renderer
 * and file route.
 */
export function astroVitePlugins(options: { hostId: string; pipeline: ImagePipeline; buildUrl: (name: string) => string; onDevBase: (base: string) => void }): Plugin[] {
  const sessions = new Sessions();
  return [
    {
      name: 'astro-generated-images',
      enforce: 'pre',
      config() {
        return { define: { [HOST_ID_GLOBAL]: JSON.stringify(options.hostId) } };
      },
      configResolved(config) {
        sessions.open(config, options.pipeline, undefined, options.buildUrl);
        if (config.command === 'serve') options.onDevBase(config.base);
      },
    },
    usagesPlugin(sessions, { name: 'astro-generated-images:usages', files: ISLAND_FILES }),
    devPlugin(sessions),
  ];
}
