import path from 'node:path';
import type { HookParameters } from 'astro';
import {
  describeImage,
  EditSettle,
  GeneratedImagesError,
  isError,
  pictureModel,
  plannedFiles,
  renderPending,
  renderPicture,
  type ImagePipeline,
  type ImageRequest,
  type RenderedImage,
  type RenderProps,
  type ResolvedImage,
  type SummaryImage,
} from 'vite-plugin-generated-images/core';
import { forAstro } from './errors.js';
import { readAstroProps } from './props.js';
import type { ImageHost } from './registry.js';

type DevServer = HookParameters<'astro:server:setup'>['server'];

/** Where the dev server serves the cache's files (the Vite plugin's route). */
const DEV_PREFIX = '@generated-images/';

/** What the dev server's watcher reports when a file is saved, created or deleted. */
const EDITS = new Set(['add', 'change', 'unlink']);

function inside(dir: string, file: string): boolean {
  const relative = path.relative(dir, file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}

const inDotFolder = (root: string, file: string) => path.relative(root, file).split(path.sep).slice(0, -1).some((part) => part.startsWith('.'));

/** A pipeline error while a page renders, saying which page (its prompt may come from data, with no source location). */
function withPage(error: unknown, page: string): unknown {
  if (!isError(error)) return error;
  return new GeneratedImagesError(error.code, `rendering ${page}: ${error.message}`, { hint: error.hint, locations: error.locations });
}

/** A resolved image as the record keeps it: every file its plan names, the inline placeholder's source included. */
const imageFiles = (image: ResolvedImage): RenderedImage => ({
  prompt: image.entry.prompt,
  ratio: image.entry.ratio,
  files: plannedFiles(image.plan).map((f) => f.name),
});

/**
 * Renders `<GeneratedImage>` through the one pipeline of an `astro build` or
 * `astro dev`: in a build every image is resolved (generated when missing and
 * allowed, else the build fails naming the page); in dev what is cached shows
 * at once and the rest shows a placeholder until it is ready.
 *
 * In dev, a miss rendered less than a second after an edit anywhere in the
 * project generates nothing: the component does not know which file holds
 * its prompt (the page, a layout, a collection entry), and a page rendered
 * meanwhile may show a draft, or content the edit has not reached yet. Once
 * the project has been left unchanged for a second the pages are reloaded,
 * and what they ask for then is generated (the Vite plugin's settle, with
 * the project as its one file).
 */
export class AstroImageHost implements ImageHost {
  /** The dev server, which reloads the page when an image it waited for is ready. */
  server: DevServer | undefined;
  /** Vite's base in dev, where the plugin's middleware serves the cache's files. */
  devBase = '/';
  private warned = false;
  private readonly generating = new Set<string>();
  private readonly settle = new EditSettle();
  /** Render-time misses a build may not generate (frozen, or no key): listed together when the build ends. */
  private readonly missing: Array<{ page: string; prompt: string; ratio: string }> = [];
  /** Every image a page rendered, for the build's summary. */
  readonly rendered: SummaryImage[] = [];
  /** Per page, the images it showed, by key: what the build records for the CLI (see RenderedRecord). */
  readonly pages = new Map<string, Map<string, RenderedImage>>();

  constructor(
    readonly pipeline: ImagePipeline,
    /** The URL of a variant file in the build output. */
    private readonly buildUrl: (name: string) => string,
    /** `astro dev`: what is not cached shows a placeholder instead of holding up the page. */
    private readonly dev: boolean,
  ) {}

  /** `astro dev`'s server: it reloads the pages when an image is ready, and its watcher tells when the project is being edited. */
  serve(server: DevServer): void {
    this.server = server;
    const { root, cacheDir } = this.pipeline.options;
    server.watcher.on('all', (event: string, file: string) => {
      // The cache changes when an image is generated, and dot folders (Astro's .astro/ types, written as the server
      // starts) when a tool writes them: neither is an edit.
      if (EDITS.has(event) && inside(root, file) && !inside(cacheDir, file) && !inDotFolder(root, file)) this.edited();
    });
  }

  async render(props: Record<string, unknown>, page: string): Promise<string> {
    const { request, render } = readAstroProps(props, page);
    if (this.dev) return this.renderDev(request, render, page);
    try {
      this.rendered.push({ key: this.pipeline.key(request), prompt: request.prompt, ratio: request.ratio, locations: [], pages: [page] });
      const misses = await this.pipeline.misses([request]);
      const { frozen, apiKey } = this.pipeline.options;
      if (misses.size > 0 && (frozen || !apiKey)) {
        this.missing.push({ page, prompt: request.prompt, ratio: request.ratio });
        this.shown(page, this.pipeline.key(request), { prompt: request.prompt, ratio: request.ratio, files: [] });
        return this.pending(request, render, frozen ? 'Not generated (frozen)' : 'Not generated (no API key)');
      }
      const image = await this.pipeline.resolve(request);
      for (const shown of [image, ...image.art]) this.shown(page, shown.key, imageFiles(shown));
      return renderPicture(pictureModel(image.plan, render, this.buildUrl, image.placeholderUrl, image.art), 'html');
    } catch (error) {
      throw forAstro(withPage(error, page));
    }
  }

  private shown(page: string, key: string, image: RenderedImage): void {
    let images = this.pages.get(page);
    if (!images) this.pages.set(page, (images = new Map()));
    const known = images.get(key);
    images.set(key, known ? { ...known, files: [...known.files, ...image.files] } : image);
  }

  /** Fails the build when pages showed images it was not allowed to generate, naming each page and prompt. */
  assertNothingMissing(): void {
    if (this.missing.length === 0) return;
    const { frozen, cacheDir, root } = this.pipeline.options;
    const count = new Set(this.missing.map((m) => `${m.ratio}\0${m.prompt}`)).size;
    const list = this.missing.map((m) => `  ${m.page}  ${describeImage(m)}`).join('\n');
    const why = frozen
      ? `frozen mode is on${process.env.CI ? ' (CI is set)' : ''}, so nothing was requested from the gateway`
      : 'no API key is set: set AGNIC_API_KEY (or the apiKey option)';
    throw new GeneratedImagesError(
      'MISSING_IMAGES',
      `${count} image${count === 1 ? '' : 's'} with prompts from data ${count === 1 ? 'is' : 'are'} missing from the cache (${path.relative(root, cacheDir) || '.'}) and ${why}:\n${list}`,
      { hint: 'Build once where the build may call the gateway (frozen: false and AGNIC_API_KEY set) and commit the cache folder.' },
    );
  }

  private async renderDev(request: ImageRequest, render: RenderProps, page: string): Promise<string> {
    const { pipeline } = this;
    const devUrl = (name: string) => `${this.devBase}${DEV_PREFIX}${name}`;
    await pipeline.load();
    const key = pipeline.key(request);
    if (pipeline.cache.get(key)) {
      const image = await pipeline.resolve(request);
      return renderPicture(pictureModel(image.plan, render, devUrl, image.placeholderUrl, image.art), 'html');
    }
    const { frozen, apiKey } = pipeline.options;
    if (frozen || !apiKey) {
      if (!this.warned) {
        this.warned = true;
        pipeline.reporter.warn(
          frozen
            ? 'frozen mode is on: images missing from the cache show as placeholders and are not generated'
            : 'no API key (set AGNIC_API_KEY or the apiKey option): images missing from the cache show as placeholders and are not generated',
        );
      }
      return this.pending(request, render, frozen ? 'Not generated (frozen)' : 'Not generated (no API key)');
    }
    if (!this.generating.has(key)) {
      if (this.reloadWhenSettled()) return this.pending(request, render, 'Waiting for the edit to settle…');
      this.generating.add(key);
      pipeline.resolve(request).then(
        () => this.reload(),
        (error: Error) => pipeline.reporter.warn(`rendering ${page}: ${error.message}`),
      ).finally(() => this.generating.delete(key));
    }
    return this.pending(request, render, 'Generating…');
  }

  /** A file of the project changed: placeholders shown waiting for the edits wait a second more before their pages are reloaded. */
  private edited(): void {
    if (this.settle.changed(this.pipeline.options.root)) this.reloadWhenSettled();
  }

  /** Reloads the pages once the project has been left unchanged for a second; false when it has been already. */
  private reloadWhenSettled(): boolean {
    return this.settle.defer(this.pipeline.options.root, 'reload', () => this.reload());
  }

  private reload(): void {
    this.server?.environments.client.hot.send({ type: 'full-reload' });
  }

  /** The final `<picture>`'s box and attributes with an SVG of the prompt as its image, so nothing moves when the image arrives. */
  private pending(request: ImageRequest, render: RenderProps, status: string): string {
    const { widths, imageSize } = this.pipeline.options;
    return renderPending(request, render, status, 'html', { widths, imageSize });
  }
}
