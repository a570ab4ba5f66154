import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Plugin, ResolvedConfig, ViteDevServer } from 'vite';
import { GeneratedImagesError } from './errors.js';
import { mayContainUsage } from './extract.js';
import { formatLocation, type UsageError } from './location.js';
import { renderPending, renderUsage } from './markup.js';
import { resolveOptions, type GeneratedImagesOptions, type ResolvedOptions } from './options.js';
import { ImagePipeline, type ResolvedImage } from './pipeline.js';
import type { Reporter } from './progress.js';
import type { Syntax } from './render.js';
import { scanProject } from './scan.js';
import { findUsages, type Usage } from './usage.js';

const DEV_PREFIX = '/@generated-images/';
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
  let devNotice = false;

  const refer = (environment: string, image: ResolvedImage) => {
    let set = referenced.get(environment);
    if (!set) referenced.set(environment, (set = new Set()));
    for (const file of image.files) set.add(`${image.key}\0${file.name}`);
  };

  const buildUrl = (name: string) => `${config.base}${config.build.assetsDir ? `${config.build.assetsDir}/` : ''}${name}`;
  const devUrl = (name: string) => `${config.base}${DEV_PREFIX.slice(1)}${name}`;

  /** Dev: render what is ready; start what is not and reload the page when it lands. */
  async function renderDev(usage: Usage, syntax: Syntax, onReady: () => void): Promise<string> {
    const key = pipeline.key(usage);
    await pipeline.load();
    const entry = pipeline.cache.get(key);
    if (entry) {
      const image = await pipeline.resolve(usage);
      return renderUsage(usage, image, devUrl, syntax);
    }
    if (options.frozen || !options.apiKey) {
      if (!devNotice) {
        devNotice = true;
        pipeline.reporter.warn(
          options.frozen
            ? 'frozen mode is on: images missing from the cache show as placeholders and are not generated'
            : 'no API key (AGNIC_API_KEY or apiKey): images missing from the cache show as placeholders and are not generated',
        );
      }
      return renderPending(usage, options.frozen ? 'Not generated (frozen)' : 'Not generated (no API key)', syntax);
    }
    pipeline.resolve(usage).then(onReady, (error: Error) => {
      pipeline.reporter.warn(`${formatLocation(usage.loc)}: ${error.message}`);
      server?.ws.send({ type: 'error', err: { message: error.message, stack: '', id: usage.loc.file, loc: { file: usage.loc.file, line: usage.loc.line, column: usage.loc.column } } });
    });
    return renderPending(usage, 'Generating…', syntax);
  }

  async function replaceUsages(code: string, file: string, syntax: Syntax, environment: string, onReady: () => void): Promise<string | undefined> {
    const scan = findUsages(code, file);
    for (const warning of scan.warnings) pipeline.reporter.warn(`${formatLocation(warning.loc)}: ${warning.reason}`);
    if (scan.errors.length) throw new GeneratedImagesError(describeErrors(scan.errors, config.root), scan.errors.map((e) => e.loc));
    if (scan.usages.length === 0) return undefined;
    const rendered = await Promise.all(
      scan.usages.map(async (usage) => {
        if (server) return renderDev(usage, syntax, onReady);
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
    api: { options: userOptions },

    configResolved(resolved) {
      config = resolved;
      options = resolveOptions(userOptions, { root: resolved.root });
      pipeline = new ImagePipeline(options, viteReporter(resolved));
    },

    configureServer(devServer) {
      server = devServer;
      devServer.middlewares.use(async (req, res, next) => {
        const url = req.url?.split('?', 1)[0] ?? '';
        const prefix = `${config.base}${DEV_PREFIX.slice(1)}`;
        if (!url.startsWith(prefix)) return next();
        const name = decodeURIComponent(url.slice(prefix.length));
        if (!/^[0-9a-f]{16}-\d+-[0-9a-f]{8}\.(avif|webp|jpg|png)$/.test(name)) return next();
        try {
          const data = await fs.readFile(pipeline.cache.variantPath(name));
          const type = { avif: 'image/avif', webp: 'image/webp', jpg: 'image/jpeg', png: 'image/png' }[name.split('.').pop()!]!;
          res.setHeader('Content-Type', type);
          res.setHeader('Cache-Control', 'no-cache');
          res.end(data);
        } catch {
          next();
        }
      });
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
