import type { Plugin } from 'vite';
import { invalidUsages, isError } from '../../core/errors.js';
import { formatSummary, type SummaryImage } from '../../core/summary.js';
import { scanProject } from '../../sources/scan.js';
import { htmlInputs, scanExclusions } from '../config.js';
import { placeholdersInDoubleQuotes } from '../chunk-strings.js';
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
        exclude: scanExclusions(config, pipeline.options.cacheDir),
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

/**
 * Starts each environment's bundle of optimized files (the transforms emit
 * them) and keeps their placeholders valid in every chunk. What the build
 * recorded reaches the manifest at buildEnd (hostPlugin), after the last
 * transform: a generateBundle hook of ours would cost every build a copy of
 * the bundle's hundreds of files as objects (Rolldown makes one per hook).
 */
export function outputPlugin(sessions: Sessions): Plugin {
  return {
    name: 'vite-plugin-generated-images:output',
    apply: 'build',
    buildStart() {
      sessions.of(this).output?.start(this.environment?.name ?? 'client', this);
    },
    renderChunk: {
      order: 'pre',
      filter: { code: '__VITE_ASSET__' },
      handler(code) {
        const { output } = sessions.of(this);
        if (!output?.isReferencedIn(code)) return null;
        const fixed = placeholdersInDoubleQuotes(code, this.parse(code));
        return fixed === undefined ? null : { code: fixed, map: null };
      },
    },
  };
}
