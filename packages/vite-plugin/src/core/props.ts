import type { Format } from './options.js';
import type { Ratio } from './ratios.js';

/**
 * The props of `<GeneratedImage>` that every host takes alike (the JSX stub,
 * the Astro component); each host adds how it passes other attributes on.
 */
export interface GeneratedImageBaseProps {
  /** What to generate. A literal string: the image is generated once, when it is not in the cache yet. */
  prompt: string;
  /** Aspect ratio, one the gateway serves. Default `"1:1"`. */
  ratio?: Ratio;
  /** Required; `""` for a decorative image. */
  alt: string;
  /** Another take of the same prompt (a new cache key). Default 0. */
  variant?: number;
  /** Widths for `srcset`, capped at the generated image's width. Default: the `widths` option. */
  widths?: number[];
  /** The `sizes` attribute. Default: `(min-width: <width>px) <width>px, 100vw`. */
  sizes?: string;
  /** Formats of the `<source>` elements, best first. Default: the `formats` option. */
  formats?: Format[];
  /** Encoder quality from 1 to 100 for this image. */
  quality?: number;
  /** Default `"lazy"`; `"eager"` for an image above the fold. */
  loading?: 'lazy' | 'eager';
  decoding?: 'async' | 'sync' | 'auto';
  /** Display width; the height follows from the ratio. Default: the largest width. */
  width?: number;
  /** Display height; the width follows from the ratio. */
  height?: number;
  /**
   * Image files sent with the prompt (after the `references` option's): `/`-rooted at the project
   * root, or relative to the source file. One string of space-separated paths, or an array.
   */
  references?: string | string[];
  /**
   * Art direction, in the syntax of `sizes`: `"(max-width: 640px) 9:16, (max-width: 1024px) 4:3"`.
   * Each entry is generated with this image as its reference, or cut from it when it ends in `crop`.
   */
  art?: string;
}
