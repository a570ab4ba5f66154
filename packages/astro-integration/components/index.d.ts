import type { GeneratedImageProps } from '../dist/props.js';

export type { GeneratedImageProps };

/**
 * An AI-generated image, cached in the project's committed cache and
 * optimized into Astro's assets folder as a responsive `<picture>`.
 *
 * ```astro
 * <GeneratedImage prompt="A lighthouse at dawn, watercolour" ratio="16:9" alt="Lighthouse" />
 * ```
 */
export declare function GeneratedImage(props: GeneratedImageProps): any;
