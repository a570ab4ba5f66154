import { hostId } from 'virtual:astro-generated-images/host';
import { findHost } from './registry.js';

/** The `<GeneratedImage>` component's work: its props become `<picture>` markup through the build's pipeline. */
export function renderGeneratedImage(props: Record<string, unknown>, page: string): Promise<string> {
  return findHost(hostId).render(props, page);
}
