import { GeneratedImagesError } from 'vite-plugin-generated-images/errors';
import { forAstro } from './errors.js';

/**
 * Where the component and the middleware find the pipeline of the running
 * build or dev server. They are bundled into Astro's server code while the
 * integration is loaded by Node itself, so two copies of this module may
 * exist in one process: the map lives on globalThis under a registered symbol.
 */
export interface ImageHost {
  /** Markup for one `<GeneratedImage>`'s props, on the page being rendered. */
  render(props: Record<string, unknown>, page: string): Promise<string>;
}

const HOSTS = Symbol.for('astro-generated-images.hosts');

function hosts(): Map<string, ImageHost> {
  const global = globalThis as typeof globalThis & { [HOSTS]?: Map<string, ImageHost> };
  global[HOSTS] ??= new Map();
  return global[HOSTS];
}

export function registerHost(id: string, host: ImageHost): () => void {
  hosts().set(id, host);
  return () => void hosts().delete(id);
}

export function registeredHost(id: string): ImageHost | undefined {
  return hosts().get(id);
}

/** The component rendered in a site whose astro.config does not use the integration. */
export function noIntegration(): unknown {
  return forAstro(new GeneratedImagesError('NO_HOST', '<GeneratedImage> needs the integration', { hint: "Add generatedImages() from 'astro-generated-images' to `integrations` in astro.config." }));
}
