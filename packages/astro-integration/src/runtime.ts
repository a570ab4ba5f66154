import type { PreparedImages } from './prepared.js';
import { noIntegration, registeredHost, type ImageHost } from './registry.js';
import { ServerImageHost } from './server.js';

declare const __ASTRO_GENERATED_IMAGES_HOST__: string | undefined;
declare const __ASTRO_GENERATED_IMAGES_PREPARED__: PreparedImages | undefined;

/** Set by the integration's Vite plugin (see vite.ts); absent when the integration is not in astro.config. */
export function hostId(): string | undefined {
  return typeof __ASTRO_GENERATED_IMAGES_HOST__ === 'string' ? __ASTRO_GENERATED_IMAGES_HOST__ : undefined;
}

let server: ServerImageHost | undefined;

/**
 * The pipeline of the `astro build` or `astro dev` running in this process,
 * or, in a production server (which has none), the images the build
 * compiled into the server bundle.
 */
export function currentHost(): ImageHost {
  const id = hostId();
  if (id === undefined) throw noIntegration();
  const host = registeredHost(id);
  if (host) return host;
  const prepared = typeof __ASTRO_GENERATED_IMAGES_PREPARED__ === 'object' ? __ASTRO_GENERATED_IMAGES_PREPARED__ : { settings: { imageSize: null }, images: {} };
  server ??= new ServerImageHost(prepared);
  return server;
}

/** The `<GeneratedImage>` component's work: its props become `<picture>` markup. */
export function renderGeneratedImage(props: Record<string, unknown>, page: string): Promise<string> {
  return currentHost().render(props, page);
}
