import type { Plugin } from 'vite';
import { GeneratedImagesError } from '../../core/errors.js';
import { resolveOptions, type GeneratedImagesOptions } from '../../core/options.js';
import { ImagePipeline } from '../../core/pipeline.js';
import { OutputFiles } from '../output.js';
import { overlayError, PLUGIN_NAME, viteReporter } from '../overlay.js';
import type { Sessions } from '../session.js';

/**
 * Opens a session for each resolved config (options resolved once, one
 * pipeline) and exposes the options as the user gave them, for tools that
 * read the project's config (the CLI).
 */
export function hostPlugin(sessions: Sessions, userOptions: GeneratedImagesOptions): Plugin {
  return {
    name: PLUGIN_NAME,
    enforce: 'pre',
    api: { options: userOptions },

    configResolved(config) {
      // MDX compiles its files in a 'pre' plugin too: placed first, it would leave us compiled JavaScript instead of <GeneratedImage> tags.
      const names = config.plugins.map((p) => p.name);
      if (names.includes('@mdx-js/rollup') && names.indexOf('@mdx-js/rollup') < names.indexOf(PLUGIN_NAME)) {
        throw overlayError(new GeneratedImagesError('PLUGIN_ORDER', 'put generatedImages() before mdx() in the plugins array, so that it reads <GeneratedImage> in MDX source before MDX compiles it'));
      }
      const pipeline = new ImagePipeline(resolveOptions(userOptions, { root: config.root }), viteReporter(config));
      sessions.open(config, pipeline, new OutputFiles(pipeline.cache));
    },

    async buildEnd() {
      // A build or a dev server ends here: variants recorded since the last write reach the manifest.
      await sessions.of(this).pipeline.cache.flush();
    },
  };
}
