import type { Plugin } from 'vite';
import type { AstroImageHost } from './host.js';

const VIRTUAL = 'virtual:astro-generated-images/host';
const RESOLVED = `\0${VIRTUAL}`;

/** Tells the component and the middleware, bundled into Astro's server code, which registered host renders for this build. */
export function hostPlugin(hostId: string, host: AstroImageHost): Plugin {
  return {
    name: 'astro-generated-images',
    configResolved(config) {
      host.devBase = config.base;
    },
    resolveId(id) {
      return id === VIRTUAL ? RESOLVED : undefined;
    },
    load(id) {
      return id === RESOLVED ? `export const hostId = ${JSON.stringify(hostId)};` : undefined;
    },
  };
}
