import type { Format } from './options.js';
import type { Ratio } from './ratios.js';

/** The props of `<GeneratedImage>`; any other attribute goes to the `<img>`. */
export interface GeneratedImageProps {
  /** What to generate. A literal string: the image is generated at build time. */
  prompt: string;
  /** Aspect ratio. Default `"1:1"`. */
  ratio?: Ratio;
  /** Required; `""` for a decorative image. */
  alt: string;
  /** Another take of the same prompt (a new cache key). Default 0. */
  variant?: number;
  widths?: number[];
  sizes?: string;
  formats?: Format[];
  quality?: number;
  loading?: 'lazy' | 'eager';
  decoding?: 'async' | 'sync' | 'auto';
  width?: number;
  height?: number;
  [attribute: string]: unknown;
}

/**
 * A typed stand-in so that editors and TypeScript accept the tag. The plugin
 * replaces every `<GeneratedImage>` with markup at build time, so this runs
 * only when the plugin is missing.
 */
export function GeneratedImage(props: GeneratedImageProps): never {
  throw new Error(
    `<GeneratedImage prompt=${JSON.stringify(String(props?.prompt ?? '').slice(0, 60))}> was rendered at runtime: the build did not replace it. ` +
      "Add the plugin to your Vite config: import generatedImages from 'vite-plugin-generated-images'; plugins: [generatedImages()] " +
      '(before the JSX plugin is fine: it runs with enforce: "pre"). Props must be literals so the build can read them.',
  );
}
