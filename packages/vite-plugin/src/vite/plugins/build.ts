import path from 'node:path';
import type { Plugin } from 'vite';
import { invalidUsages, isError } from '../../core/errors.js';
import { formatSummary, type SummaryImage } from '../../core/summary.js';
import { scanProject } from '../../sources/scan.js';
import { excludedFolders, htmlInputs } from '../config.js';
import { overlayError } from '../overlay.js';
import type { Sessions } from '../session.js';

/**
 * Before bundling: find every usage in the project, generate what is missing
 * (or fail saying why), encode every variant, and print the summary, so that
 * the transforms only look files up.
 */
export function scanPlugin(sessions: Sessions): Plugin {
  return {
    name: 'vite-plugin-generated-images:scan',
    apply: 'build',
    async buildStart() {
      const session = sessions.of(this);
      const { config, pipeline } = session;
      const scan = await scanProject({
        root: config.root,
        include: pipeline.options.include,
        files: htmlInputs(config.build),
        exclude: excludedFolders(config.root, [pipeline.options.cacheDir, config.build.outDir]),
      });
      scan.warnings.forEach((w) => session.warnOnce(w));
      if (scan.errors.length) this.error(overlayError(invalidUsages(scan.errors, config.root)));
      let images: SummaryImage[] = [];
      try {
        // Inside the try: a key reads the usage's reference files, and a bad one is a located build error.
        images = scan.usages.map((usage): SummaryImage => ({ key: pipeline.key(usage), prompt: usage.prompt, ratio: usage.ratio, locations: [usage.loc] }));
        await pipeline.prepare(scan.usages);
      } catch (error) {
        const summary = pipeline.summarize(images);
        if (summary.generated.length || summary.failed.length) pipeline.reporter.info(formatSummary(summary, config.root));
        if (isError(error)) this.error(overlayError(error));
        throw error;
      }
      if (scan.usages.length) pipeline.reporter.info(formatSummary(pipeline.summarize(images), config.root));
    },
  };
}

/** Puts every optimized file the bundle references into the output, after checking it against the manifest. */
export function outputPlugin(sessions: Sessions): Plugin {
  return {
    name: 'vite-plugin-generated-images:output',
    apply: 'build',
    async generateBundle() {
      // Checked before anything is written, so that a bad cache fails the build with no output.
      const { output, pipeline } = sessions.of(this);
      for (const file of (await output?.mismatched(this.environment?.name ?? 'client')) ?? []) {
        this.error(`[generated-images] ${file} is missing or does not match the manifest`);
      }
      await pipeline.cache.flush();
    },
    async writeBundle(bundle) {
      const { output, config } = sessions.of(this);
      await output?.copy(this.environment?.name ?? 'client', path.join(bundle.dir ?? path.resolve(config.root, config.build.outDir), config.build.assetsDir));
    },
  };
}
