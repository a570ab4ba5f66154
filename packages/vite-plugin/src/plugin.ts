import { constants as fsConstants, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Plugin, ResolvedConfig, ViteDevServer } from 'vite';
import { GeneratedImagesError, relativeLocation } from './errors.js';
import { mayContainUsage } from './extract.js';
import { formatLocation, type UsageError } from './location.js';
import { codeFrame, DEV_CLIENT, DevRenderer, DEV_PREFIX, PENDING_EVENT, variantMiddleware } from './dev.js';
import { renderUsage } from './markup.js';
import { resolveOptions, type GeneratedImagesOptions, type ResolvedOptions } from './options.js';
import { ImagePipeline, type ResolvedImage } from './pipeline.js';
import { formatSummaryTable, withStatusLine, type Reporter, type SummaryImage } from './progress.js';
import type { Syntax } from './render.js';
import { scanProject } from './scan.js';
import { findUsages, replaceUsages as spliceUsages, type Usage } from './usage.js';

const JSX_FILE = /\.(jsx|tsx|mdx)$/;
/** Markdown keeps raw HTML; every Markdown pipeline that renders pages (VitePress, markdown-it, marked, Astro) passes it through. */
const HTML_FILE = /\.(svelte|md)$/;

function syntaxOf(id: string): Syntax | undefined {
  const file = id.split('?', 1)[0]!;
  if (JSX_FILE.test(file)) return 'jsx';
  // `.vue?vue&type=…` and `.svelte?svelte&type=style` sub-requests carry compiled code, not the template.
  if (id.includes('?')) return undefined;
  if (file.endsWith('.vue')) return 'vue';
  if (HTML_FILE.test(file)) return 'html';
  return undefined;
}

function viteReporter(config: ResolvedConfig): Reporter {
  const reporter: Reporter = {
    // Timestamped in dev, like Vite's own lines; in a build they are not, and the first one costs 30 ms of ICU setup.
    info: (message) => config.logger.info(`[generated-images] ${message}`, { timestamp: config.command === 'serve' }),
    warn: (message) => config.logger.warn(`[generated-images] ${message}`, { timestamp: config.command === 'serve' }),
  };
  // A quieter log level silences the progress line too.
  return config.logLevel === 'info' ? withStatusLine(reporter) : reporter;
}

/** An error Vite's overlay shows with its location and source frame (as a rollup error: 1-based line, 0-based column). */
function overlayError(error: GeneratedImagesError, code?: string): Error & { id?: string; loc?: { file: string; line: number; column: number }; frame?: string; plugin: string } {
  const loc = error.locations[0];
  return Object.assign(new Error(error.message), {
    plugin: PLUGIN_NAME,
    id: loc?.file,
    loc: loc && { file: loc.file, line: loc.line, column: loc.column - 1 },
    frame: loc && code !== undefined ? codeFrame(code, loc.line, loc.column) : undefined,
  });
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
const PLUGIN_NAME = 'vite-plugin-generated-images';
const DEV_CLIENT_ID = 'virtual:generated-images/client';
const RESOLVED_DEV_CLIENT_ID = `\0${DEV_CLIENT_ID}`;

/**
 * An integration that hosts the plugin (the Astro integration): its components
 * render through this pipeline; it scans before the build, renders Markdown and
 * MDX through its own component, and copies the files its output references
 * into its assets folder (Astro deletes its prerender output, so files emitted
 * there would be lost).
 */
export interface PluginHost {
  pipeline: ImagePipeline;
}

export function generatedImages(userOptions: GeneratedImagesOptions = {}, host?: PluginHost): Plugin {
  let config: ResolvedConfig;
  let options: ResolvedOptions;
  let pipeline: ImagePipeline;
  let server: ViteDevServer | undefined;
  /** Variant files each environment's bundle references, copied into its output in writeBundle. */
  const referenced = new Map<string, Set<string>>();
  let dev: DevRenderer | undefined;

  const refer = (environment: string, image: ResolvedImage) => {
    if (host) return;
    let set = referenced.get(environment);
    if (!set) referenced.set(environment, (set = new Set()));
    for (const file of image.files) set.add(`${image.key}\0${file.name}`);
  };

  // The pre-build scan and the transform read the same files: say each warning once.
  const warned = new Set<string>();
  const warnOnce = (warning: UsageError) => {
    const message = `${relativeLocation(warning.loc, config.root)}: ${warning.reason}`;
    if (warned.has(message)) return;
    warned.add(message);
    pipeline.reporter.warn(message);
  };

  const buildUrl = (name: string) => `${config.base}${config.build.assetsDir ? `${config.build.assetsDir}/` : ''}${name}`;

  async function replaceUsages(code: string, file: string, syntax: Syntax, environment: string, onReady: () => void, devUrl?: (name: string) => string): Promise<string | undefined> {
    const scan = findUsages(code, file);
    scan.warnings.forEach(warnOnce);
    if (scan.errors.length) throw new GeneratedImagesError(describeErrors(scan.errors, config.root), scan.errors.map((e) => e.loc));
    if (scan.usages.length === 0) return undefined;
    const rendered = await Promise.all(
      scan.usages.map(async (usage) => {
        if (dev) return dev.render(usage, syntax, onReady, file, devUrl);
        const image = await pipeline.resolve(usage);
        refer(environment, image);
        return renderUsage(usage, image, buildUrl, syntax);
      }),
    );
    return spliceUsages(code, scan.usages, rendered);
  }

  /** A finished image shows in a module: hot-update it where it can be (React, Vue, Svelte), else reload the page. */
  const updateModule = (file: string) => {
    if (!server) return;
    let reload = false;
    for (const environment of Object.values(server.environments)) {
      for (const mod of environment.moduleGraph.getModulesByFile(file) ?? []) {
        if (environment.name === 'client') void environment.reloadModule(mod);
        else {
          environment.moduleGraph.invalidateModule(mod);
          reload = true;
        }
      }
    }
    if (reload) server.environments.client.hot.send({ type: 'full-reload' });
  };

  return {
    name: PLUGIN_NAME,
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
      pipeline = host?.pipeline ?? new ImagePipeline(options, viteReporter(resolved));
      // MDX compiles its files in a 'pre' plugin too: placed first, it would leave us compiled JavaScript instead of <GeneratedImage> tags.
      const names = resolved.plugins.map((p) => p.name);
      if (!host && names.indexOf('@mdx-js/rollup') >= 0 && names.indexOf('@mdx-js/rollup') < names.indexOf(PLUGIN_NAME)) {
        throw new Error('[generated-images] put generatedImages() before mdx() in the plugins array, so that it reads <GeneratedImage> in MDX source before MDX compiles it');
      }
    },

    configureServer(devServer) {
      server = devServer;
      const failure = (usage: Usage, reason: string) => {
        const where = formatLocation({ ...usage.loc, file: path.relative(config.root, usage.loc.file) });
        const located = new GeneratedImagesError(`[generated-images] ${where}: ${JSON.stringify(usage.prompt)} could not be generated: ${reason}`, [usage.loc]);
        const { id, loc, plugin } = overlayError(located);
        return { type: 'error' as const, err: { message: located.message, stack: '', id, loc, plugin } };
      };
      dev = new DevRenderer(pipeline, (name) => `${config.base}${DEV_PREFIX}${name}`, {
        onError(usage, reason) {
          const payload = failure(usage, reason);
          pipeline.reporter.warn(payload.err.message.replace(/^\[generated-images\] /, ''));
          devServer.environments.client.hot.send(payload);
        },
      });
      devServer.environments.client.hot.on(PENDING_EVENT, (data: { keys?: unknown } | undefined, client) => {
        // A page that shows a failed image shows its error too, until the file that uses it changes.
        const failed = dev?.recheck(data?.keys).at(-1);
        if (failed) client.send(failure(failed.usage, failed.reason));
      });
      devServer.middlewares.use(variantMiddleware(pipeline, config.base));
    },

    watchChange(id) {
      dev?.fileChanged(id);
    },

    resolveId(id) {
      return id === DEV_CLIENT_ID ? RESOLVED_DEV_CLIENT_ID : undefined;
    },

    load(id) {
      return id === RESOLVED_DEV_CLIENT_ID ? DEV_CLIENT : undefined;
    },

    async buildStart() {
      if (config.command !== 'build' || host) return;
      const scan = await scanProject({
        root: config.root,
        include: options.include,
        files: htmlInputs(config),
        exclude: [path.relative(config.root, options.cacheDir), path.relative(config.root, path.resolve(config.root, config.build.outDir))]
          .filter((p) => p && !p.startsWith('..'))
          .map((p) => `${p}/**`),
      });
      scan.warnings.forEach(warnOnce);
      if (scan.errors.length) this.error(describeErrors(scan.errors, config.root));
      const images = new Map<string, SummaryImage>();
      for (const usage of scan.usages) {
        const key = pipeline.key(usage);
        const image = images.get(key) ?? { prompt: usage.prompt, ratio: usage.ratio, locations: [] };
        image.locations.push(usage.loc);
        images.set(key, image);
      }
      try {
        await pipeline.prepare(scan.usages);
      } catch (error) {
        if (pipeline.summary.generated.length || pipeline.summary.failed.length) pipeline.reporter.info(formatSummaryTable(pipeline.summary, images, config.root, pipeline.optimizer.encoded));
        if (error instanceof GeneratedImagesError) this.error(error.message);
        throw error;
      }
      if (scan.usages.length) pipeline.reporter.info(formatSummaryTable(pipeline.summary, images, config.root));
    },

    async transform(code, id) {
      const syntax = syntaxOf(id);
      if (!syntax || !mayContainUsage(code)) return undefined;
      const file = id.split('?', 1)[0]!;
      if (host && /\.mdx?$/.test(file)) return undefined;
      try {
        const out = await replaceUsages(code, file, syntax, this.environment?.name ?? 'client', () => updateModule(file));
        return out === undefined ? undefined : { code: out, map: null };
      } catch (error) {
        if (error instanceof GeneratedImagesError) {
          const { message, loc } = overlayError(error);
          this.error({ message, id: file, loc });
        }
        throw error;
      }
    },

    transformIndexHtml: {
      order: 'pre',
      async handler(html, ctx) {
        // In dev every page reports the placeholders it shows, whichever module rendered them.
        const tags = server ? [{ tag: 'script', attrs: { type: 'module', src: `/@id/__x00__${DEV_CLIENT_ID}` }, injectTo: 'head' as const }] : [];
        if (!mayContainUsage(html)) return { html, tags };
        const file = ctx.filename;
        try {
          const onReady = () => server?.environments.client.hot.send({ type: 'full-reload', path: ctx.path });
          // Vite's dev HTML pipeline puts the base in front of root-absolute URLs itself.
          const out = await replaceUsages(html, file, 'html', 'client', onReady, (name) => `/${DEV_PREFIX}${name}`);
          return { html: out ?? html, tags };
        } catch (error) {
          // In dev, Vite shows a thrown error with `loc` and `frame` in its overlay; in a build, it fails with the message.
          if (error instanceof GeneratedImagesError) throw overlayError(error, html);
          throw error;
        }
      },
    },

    async generateBundle() {
      // Checked before anything is written, so that a bad cache fails the build with no output. The size
      // against the manifest catches a missing or truncated file (or a Git LFS pointer) without reading
      // it; `generated-images verify` checks every hash.
      const files = [...(referenced.get(this.environment?.name ?? 'client') ?? [])].map((item) => item.split('\0') as [string, string]);
      const sizes = await Promise.all(files.map(([, name]) => fs.stat(pipeline.cache.variantPath(name)).then((stat) => stat.size, () => undefined)));
      files.forEach(([key, name], i) => {
        if (sizes[i] === undefined || sizes[i] !== pipeline.cache.get(key)?.variants[name]?.bytes) {
          this.error(`[generated-images] ${pipeline.cache.variantPath(name)} is missing or does not match the manifest`);
        }
      });
      await pipeline.cache.flush();
    },

    async writeBundle(output) {
      const set = referenced.get(this.environment?.name ?? 'client');
      if (!set) return;
      // Copied beside the bundle, as Vite copies public/, not emitted through it: the files are final, and
      // handing hundreds of them to the bundler as buffers cost a warm build more than all the rest of the plugin.
      const target = path.join(output.dir ?? path.resolve(config.root, config.build.outDir), config.build.assetsDir);
      await fs.mkdir(target, { recursive: true });
      await Promise.all([...set].map((item) => {
        const name = item.split('\0')[1]!;
        return fs.copyFile(pipeline.cache.variantPath(name), path.join(target, name), fsConstants.COPYFILE_FICLONE);
      }));
    },

    async buildEnd() {
      // The dev server ends here too: variants recorded since the last write reach the manifest.
      await pipeline?.cache.flush();
    },
  };
}
