import { findHost } from './registry.js';

declare const __ASTRO_GENERATED_IMAGES_HOST__: string | undefined;

/** Set by the integration's Vite plugin (see vite.ts); absent when the integration is not in astro.config. */
export function hostId(): string | undefined {
  return typeof __ASTRO_GENERATED_IMAGES_HOST__ === 'string' ? __ASTRO_GENERATED_IMAGES_HOST__ : undefined;
}

/** The `<GeneratedImage>` component's work: its props become `<picture>` markup through the build's pipeline. */
export function renderGeneratedImage(props: Record<string, unknown>, page: string): Promise<string> {
  return findHost(hostId()).render(props, page);
}
