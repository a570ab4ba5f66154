import type { GeneratedImageBaseProps } from './core/props.js';

/** The props of `<GeneratedImage>`; any other attribute goes to the `<img>`. */
export interface GeneratedImageProps extends GeneratedImageBaseProps {
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
