import type { Plugin } from 'vite';
import type { AstroImageHost } from './host.js';

/**
 * The global that tells the component and the middleware, bundled into
 * Astro's server code, which registered host renders for this build. A
 * define rather than a virtual module, so that a site without the
 * integration gets our error saying to add it, not an unresolved import.
 */
export const HOST_ID_GLOBAL = '__ASTRO_GENERATED_IMAGES_HOST__';

export function hostPlugin(hostId: string, host: AstroImageHost): Plugin {
  return {
    name: 'astro-generated-images',
    config() {
      return { define: { [HOST_ID_GLOBAL]: JSON.stringify(hostId) } };
    },
    configResolved(config) {
      host.devBase = config.base;
    },
  };
}
