import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AstroConfig, AstroIntegration } from 'astro';
import {
  excludedFolders,
  formatSummary,
  ImagePipeline,
  invalidUsages,
  relativeLocation,
  removeRendered,
  resolveOptions,
  scanProject,
  sourceFingerprint,
  usageFiles,
  writeRendered,
  type GeneratedImagesOptions,
  type RenderedImage,
  type SummaryImage,
} from 'vite-plugin-generated-images/core';
import { forAstro } from './errors.js';
import { AstroImageHost } from './host.js';
import { AstroReporter } from './log.js';
import { addMarkdownPlugin } from './markdown-config.js';
import { onDemandDynamic, prepareForServer } from './on-demand.js';
import { copyReferencedFiles } from './output.js';
import { preparedFiles, type PreparedImages } from './prepared.js';
import { registerHost } from './registry.js';
import { takesToolbarApp } from './toolbar/entry.js';
import { astroVitePlugins } from './vite.js';

export type { GeneratedImagesOptions, Format, Placeholder, Ratio, ImageSize } from 'vite-plugin-generated-images';
export type { GeneratedImageProps } from './props.js';
export { RATIOS } from 'vite-plugin-generated-images/core';

/** The integration, with the options as the user gave them (the `generated-images` CLI reads them from astro.config). */
export type GeneratedImagesIntegration = AstroIntegration & { api: { options: GeneratedImagesOptions } };

/** Where a variant is served from in the build: Astro's assets folder, behind `base` or `build.assetsPrefix`. */
function assetUrl(config: AstroConfig, name: string): string {
  const prefix = config.build.assetsPrefix;
  const extension = name.slice(name.lastIndexOf('.') + 1);
  const origin = typeof prefix === 'string' ? prefix : prefix ? (prefix[extension] ?? prefix.fallback) : config.base;
  return `${origin.replace(/\/+$/, '')}/${config.build.assets}/${name}`;
}

/**
 * Tells the CLI which images prompts from data rendered (see RenderedRecord):
 * without it, `status` cannot predict a frozen build and `prune` cannot tell
 * their images from stale ones. Only a build that succeeded writes it: a
 * failed one leaves the cache as it was, and the record older than the
 * sources, so `status` still fails.
 */
async function recordRendered(cacheDir: string, sources: string | undefined, host: AstroImageHost): Promise<void> {
  if (sources === undefined) return removeRendered(cacheDir);
  const pages: Record<string, string[]> = {};
  const images: Record<string, RenderedImage> = {};
  for (const [page, shown] of host.pages) {
    pages[page] = [...shown.keys()];
    for (const [key, image] of shown) images[key] = { ...image, files: [...(images[key]?.files ?? []), ...image.files] };
  }
  await writeRendered(cacheDir, { version: 1, sources, pages, images });
}

/**
 * `<GeneratedImage prompt="…" ratio="16:9" alt="…" />` in Astro: images are
 * generated once through an OpenAI-compatible gateway, kept in a committed
 * cache, and optimized into Astro's assets folder as responsive `<picture>`s.
 *
 * ```js
 * import generatedImages from 'astro-generated-images';
 * export default defineConfig({ integrations: [generatedImages({ style: 'soft watercolour' })] });
 * ```
 */
export default function generatedImages(options: GeneratedImagesOptions = {}): GeneratedImagesIntegration {
  let config: AstroConfig;
  let pipeline: ImagePipeline;
  let host: AstroImageHost;
  let log: AstroReporter;
  let unregister: (() => void) | undefined;
  /** The images the pre-build scan found, for the summary. */
  let scanned: SummaryImage[] = [];
  /** With an adapter, the scanned images as pages rendered on demand show them (compiled into the server bundle). */
  let prepared: PreparedImages | undefined;
  /** With prompts from expressions: the sources' fingerprint when the build began, recorded with what the pages rendered. */
  let fingerprint: string | undefined;
  /** What failed before any page rendered, thrown where Astro 6+ reports errors its own way (see astro:build:start). */
  let startError: unknown;

  /**
   * Every page has rendered (Astro 6 and later say so in a Vite hook, Astro 5
   * only in astro:build:done): print what waited, keep what the pages
   * encoded, and fail naming the images they could not show.
   */
  const pagesRendered = async () => {
    log.release();
    await pipeline.cache.flush();
    try {
      host.assertNothingMissing();
    } catch (error) {
      throw forAstro(error);
    }
  };

  return {
    name: 'astro-generated-images',
    api: { options },
    hooks: {
      'astro:config:setup'({ config: initial, command, updateConfig, addMiddleware, addDevToolbarApp, logger }) {
        config = initial;
        log = new AstroReporter(logger, command === 'build');
        pipeline = new ImagePipeline(resolveOptions(options, { root: path.resolve(fileURLToPath(initial.root)) }), log);
        host = new AstroImageHost(pipeline, (name) => assetUrl(config, name), command === 'dev');
        // Compiled into the server bundle, so derived from what the build is, never random: two builds of one commit give one dist/.
        const hostId = createHash('sha256').update(JSON.stringify([command, pipeline.options.root])).digest('hex').slice(0, 16);
        unregister?.();
        unregister = registerHost(hostId, host);
        const buildUrl = (name: string) => assetUrl(config, name);
        updateConfig({ vite: { plugins: astroVitePlugins({ hostId, pipeline, buildUrl, onDevBase: (base) => (host.devBase = base), prepared: () => prepared, onRendered: pagesRendered, beforeBuild: () => startError }) } });
        addMarkdownPlugin(initial, updateConfig, pipeline.options.root);
        addMiddleware({ entrypoint: 'astro-generated-images/middleware', order: 'pre' });
        if (command === 'dev') addDevToolbarApp(takesToolbarApp());
      },

      'astro:config:done'({ config: done }) {
        config = done;
      },

      'astro:server:setup'({ server }) {
        host.serve(server);
      },

      async 'astro:build:start'(params) {
        const { logger } = params;
        startError = undefined;
        // Astro 6 and later build through Vite's buildApp (they pass setPrerenderer): an error thrown there is printed as
        // Astro prints its own, where one thrown from this hook comes after "An unhandled error occurred while running
        // the hook". Astro 5 has no such step, so there it is thrown at once.
        const fail = (error: unknown) => {
          if (!('setPrerenderer' in params)) throw forAstro(error);
          startError = forAstro(error);
        };
        const { root, include, cacheDir } = pipeline.options;
        // Prompts from expressions are allowed here: Astro components and MDX render at build time, in this process.
        const exclude = excludedFolders(root, [cacheDir, fileURLToPath(config.outDir), fileURLToPath(config.publicDir)]);
        const scan = await scanProject({ root, include, allowDynamicPrompt: true, exclude });
        for (const warning of scan.warnings) logger.warn(`${relativeLocation(warning.loc, root)}: ${warning.reason}`);
        if (scan.errors.length) return fail(invalidUsages(scan.errors, root));
        scanned = scan.usages.map((usage) => ({ key: pipeline.key(usage), prompt: usage.prompt, ratio: usage.ratio, locations: [usage.loc] }));
        fingerprint = scan.dynamic.length ? await sourceFingerprint({ root, files: usageFiles(scan), dataDirs: [fileURLToPath(config.srcDir)], exclude }) : undefined;
        try {
          await pipeline.prepare(scan.usages);
        } catch (error) {
          const summary = pipeline.summarize(scanned);
          if (summary.generated.length || summary.failed.length) logger.info(formatSummary(summary, root));
          return fail(error);
        }
        log.hold();
        if (!config.adapter) return;
        prepared = await prepareForServer(pipeline, scan.usages, (name) => assetUrl(config, name));
        for (const loc of await onDemandDynamic(scan.dynamic ?? [], fileURLToPath(new URL('pages/', config.srcDir)), config.output === 'server')) {
          logger.warn(`${relativeLocation(loc, root)}: this prompt comes from an expression in a page rendered on demand, so the build cannot prepare its image: a production server shows its placeholder. Write the prompt as a literal, or prerender the page.`);
        }
      },

      async 'astro:build:done'({ dir, logger }) {
        await pagesRendered();
        try {
          await recordRendered(pipeline.options.cacheDir, fingerprint, host);
        } catch (error) {
          throw forAstro(error);
        }
        const served = prepared ? Object.values(prepared.images).flatMap(preparedFiles) : [];
        const copied = await copyReferencedFiles(fileURLToPath(dir), config.build.assets, pipeline.cache, served).catch((error: unknown) => {
          throw forAstro(error);
        });
        await pipeline.cache.flush();
        logger.info(formatSummary(pipeline.summarize([...scanned, ...host.rendered]), pipeline.options.root));
        logger.info(`${copied} file${copied === 1 ? '' : 's'} in ${config.build.assets}/`);
        unregister?.();
      },

      async 'astro:server:done'() {
        await pipeline.cache.flush();
        unregister?.();
      },
    },
  };
}
