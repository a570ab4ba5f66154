import type { Plugin } from 'vite';
import { GeneratedImagesError } from '../../core/errors.js';
import { resolveOptions, type GeneratedImagesOptions } from '../../core/options.js';
import { ImagePipeline } from '../../core/pipeline.js';
import { BundleFiles } from '../output.js';
import { overlayError, PLUGIN_NAME, viteReporter } from '../overlay.js';
import type { Sessions } from '../session.js';

/** The Vite majors this plugin runs on, as the package's peer range says. */
const SUPPORTED_VITE = '6, 7 or 8';

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
      // Vite 5 (VitePress 1 brings it) has no environments: without this check the dev server fails far from the cause.
      if (!('environments' in config)) {
        const version = (this as { meta?: { viteVersion?: string } } | undefined)?.meta?.viteVersion ?? '5 or older';
        throw overlayError(new GeneratedImagesError('CONFIG', `Vite ${version} is not supported: ${PLUGIN_NAME} needs Vite ${SUPPORTED_VITE} (upgrade vite; VitePress 1 brings Vite 5, VitePress 2 a supported one)`));
      }
      // MDX compiles its files in a 'pre' plugin too: placed first, it would leave us compiled JavaScript instead of <GeneratedImage> tags.
      const names = config.plugins.map((p) => p.name);
      if (names.includes('@mdx-js/rollup') && names.indexOf('@mdx-js/rollup') < names.indexOf(PLUGIN_NAME)) {
        throw overlayError(new GeneratedImagesError('PLUGIN_ORDER', 'put generatedImages() before mdx() in the plugins array, so that it reads <GeneratedImage> in MDX source before MDX compiles it'));
      }
      const pipeline = new ImagePipeline(resolveOptions(userOptions, { root: config.root }), viteReporter(config));
      sessions.open(config, pipeline, new BundleFiles(pipeline.cache, { root: config.root, assetsDir: config.build.assetsDir }));
    },

    async buildEnd() {
      // A build or a dev server ends here: variants recorded since the last write reach the manifest.
      await sessions.of(this).pipeline.cache.flush();
    },
  };
}
