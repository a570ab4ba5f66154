import path from 'node:path';
import type { Plugin, ResolvedConfig, ViteDevServer } from 'vite';
import { GeneratedImagesError } from './errors.js';
import { mayContainUsage } from './extract.js';
import { formatLocation, type UsageError } from './location.js';
import { DevRenderer, variantMiddleware } from './dev.js';
import { renderUsage } from './markup.js';
import { resolveOptions, type GeneratedImagesOptions, type ResolvedOptions } from './options.js';
import { ImagePipeline, type ResolvedImage } from './pipeline.js';
import type { Reporter } from './progress.js';
import type { Syntax } from './render.js';
import { scanProject } from './scan.js';
import { findUsages, type Usage } from './usage.js';

const JSX_FILE = /\.(jsx|tsx|mdx)$/;
const HTML_LIKE_FILE = /\.(vue|svelte)$/;

function syntaxOf(id: string): Syntax | undefined {
  const file = id.split('?', 1)[0]!;
  if (JSX_FILE.test(file)) return 'jsx';
  // `.vue?vue&type=…` sub-requests carry compiled code, not the template.
  if (HTML_LIKE_FILE.test(file) && !id.includes('?')) return 'html';
  return undefined;
}

function viteReporter(config: ResolvedConfig): Reporter {
  return {
    info: (message) => config.logger.info(`[generated-images] ${message}`, { timestamp: true }),
    warn: (message) => config.logger.warn(`[generated-images] ${message}`, { timestamp: true }),
  };
}

function describeErrors(errors: UsageError[], root: string): string {
  const rel = (e: UsageError) => formatLocation({ ...e.loc, file: path.relative(root, e.loc.file) || e.loc.file });
  return `[generated-images] ${errors.length === 1 ? 'invalid <GeneratedImage>' : `${errors.length} invalid <GeneratedImage> usages`}:\n${errors.map((e) => `  ${rel(e)}: ${e.reason}`).join('\n')}`;
}

function htmlInputs(config: ResolvedConfig): string[] {
  const options = config.build as { rollupOptions?: { input?: unknown }; rolldownOptions?: { input?: unknown } };
  const input = options.rolldownOptions?.input ?? options.rollupOptions?.input;
  const list = typeof input === 'string' ? [input] : Array.isArray(input) ? input : input && typeof input === 'object' ? Object.values(input) : [];
  return list.filter((f): f is string => typeof f === 'string' && f.endsWith('.html'));
}

/**
 * `<GeneratedImage prompt="…" ratio="16:9" alt="…" />` in HTML entries and
 * in JSX, MDX, Vue and Svelte modules becomes optimized `<picture>` markup at
 * build time, from the committed cache or generated through the gateway.
 */
export function generatedImages(userOptions: GeneratedImagesOptions = {}): Plugin {
  let config: ResolvedConfig;
  let options: ResolvedOptions;
  let pipeline: ImagePipeline;
  let server: ViteDevServer | undefined;
  /** Variant files each environment's bundle references, emitted in generateBundle. */
  const referenced = new Map<string, Set<string>>();
  let dev: DevRenderer | undefined;

  const refer = (environment: string, image: ResolvedImage) => {
    let set = referenced.get(environment);
    if (!set) referenced.set(environment, (set = new Set()));
    for (const file of image.files) set.add(`${image.key}\0${file.name}`);
  };

  const buildUrl = (name: string) => `${config.base}${config.build.assetsDir ? `${config.build.assetsDir}/` : ''}${name}`;

  async function replaceUsages(code: string, file: string, syntax: Syntax, environment: string, onReady: () => void): Promise<string | undefined> {
    const scan = findUsages(code, file);
    for (const warning of scan.warnings) pipeline.reporter.warn(`${formatLocation(warning.loc)}: ${warning.reason}`);
    if (scan.errors.length) throw new GeneratedImagesError(describeErrors(scan.errors, config.root), scan.errors.map((e) => e.loc));
    if (scan.usages.length === 0) return undefined;
    const rendered = await Promise.all(
      scan.usages.map(async (usage) => {
        if (dev) return dev.render(usage, syntax, onReady);
        const image = await pipeline.resolve(usage);
        refer(environment, image);
        return renderUsage(usage, image, buildUrl, syntax);
      }),
    );
    let out = '';
    let last = 0;
    scan.usages.forEach((usage, i) => {
      out += code.slice(last, usage.start) + rendered[i];
      last = usage.end;
    });
    return out + code.slice(last);
  }

  return {
    name: 'vite-plugin-generated-images',
    enforce: 'pre',
    /** For tools that read the project's config (the CLI, the Astro integration): the options as the user gave them. */
    api: {
      options: userOptions,
      /** The pipeline of this build, once the config is resolved (the Astro component renders through it). */
      get pipeline(): ImagePipeline | undefined {
        return pipeline;
      },
    },

    configResolved(resolved) {
      config = resolved;
      options = resolveOptions(userOptions, { root: resolved.root });
      pipeline = new ImagePipeline(options, viteReporter(resolved));
    },

    configureServer(devServer) {
      server = devServer;
      dev = new DevRenderer(pipeline, devServer, config.base);
      devServer.middlewares.use(variantMiddleware(pipeline, config.base));
    },

    async buildStart() {
      if (config.command !== 'build') return;
      const scan = await scanProject({
        root: config.root,
        include: options.include,
        files: htmlInputs(config),
        exclude: [path.relative(config.root, options.cacheDir), path.relative(config.root, path.resolve(config.root, config.build.outDir))]
          .filter((p) => p && !p.startsWith('..'))
          .map((p) => `${p}/**`),
      });
      for (const warning of scan.warnings) this.warn(`${formatLocation(warning.loc)}: ${warning.reason}`);
      if (scan.errors.length) this.error(describeErrors(scan.errors, config.root));
      try {
        await pipeline.prepare(scan.usages);
      } catch (error) {
        if (error instanceof GeneratedImagesError) this.error(error.message);
        throw error;
      }
      if (scan.usages.length) pipeline.reporter.info(pipeline.formatSummary());
    },

    async transform(code, id) {
      const syntax = syntaxOf(id);
      if (!syntax || !mayContainUsage(code)) return undefined;
      const file = id.split('?', 1)[0]!;
      try {
        const out = await replaceUsages(code, file, syntax, this.environment?.name ?? 'client', () => {
          const mods = server?.moduleGraph.getModulesByFile(file);
          mods?.forEach((mod) => server!.moduleGraph.invalidateModule(mod));
          server?.ws.send({ type: 'full-reload' });
        });
        return out === undefined ? undefined : { code: out, map: null };
      } catch (error) {
        if (error instanceof GeneratedImagesError) {
          const loc = error.locations[0];
          this.error({ message: error.message, id: file, loc: loc ? { file: loc.file, line: loc.line, column: loc.column - 1 } : undefined });
        }
        throw error;
      }
    },

    transformIndexHtml: {
      order: 'pre',
      async handler(html, ctx) {
        if (!mayContainUsage(html)) return html;
        const file = ctx.filename;
        const out = await replaceUsages(html, file, 'html', 'client', () => server?.ws.send({ type: 'full-reload' }));
        return out ?? html;
      },
    },

    async generateBundle() {
      const set = referenced.get(this.environment?.name ?? 'client');
      if (!set) return;
      for (const item of set) {
        const [key, name] = item.split('\0') as [string, string];
        const data = await pipeline.cache.readVariant(key, name);
        if (!data) this.error(`[generated-images] ${pipeline.cache.variantPath(name)} is missing or does not match the manifest`);
        this.emitFile({ type: 'asset', fileName: `${config.build.assetsDir ? `${config.build.assetsDir}/` : ''}${name}`, source: data });
      }
      await pipeline.cache.flush();
    },
  };
}
