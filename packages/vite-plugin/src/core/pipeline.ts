import path from 'node:path';
import type { ArtEntry } from './art.js';
import type { CacheEntry } from './cache/manifest.js';
import { CacheStore } from './cache/store.js';
import { GeneratedImagesError } from './errors.js';
import { Gateway, redact } from './generation/gateway.js';
import { adoptOrphan } from './generation/orphans.js';
import { GenerationQueue } from './generation/queue.js';
import { AdaptiveSlots, AUTO_MAX } from './generation/slots.js';
import { cacheKey, normalizePrompt, type ImageSpec } from './key.js';
import type { SourceLocation } from './location.js';
import { frozenMisses, generationFailed, noApiKey, overBudget, type MissRecord } from './misses.js';
import { Optimizer } from './optimize/optimizer.js';
import { planImage, plannedFiles, type ImagePlan, type PlannedVariant } from './optimize/plan.js';
import type { Format, ResolvedOptions } from './options.js';
import type { Ratio } from './ratios.js';
import { ReferenceReader, resolveReference } from './references.js';
import { createProgress, type Reporter } from './report.js';
import type { BuildSummary, FailedImage, SummaryImage } from './summary.js';

/** The props of a usage that decide which image it is and which files it shows. */
export interface ImageRequest {
  prompt: string;
  ratio: Ratio;
  variant: number;
  widths?: number[];
  formats?: Format[];
  quality?: number;
  loc?: SourceLocation;
  /** The usage's own image inputs as written (added after the `references` option's): `/`-rooted, or relative to `referencesBase`. */
  references?: string[];
  /** The folder relative references are resolved from: the source file's; the project root when not given. */
  referencesBase?: string;
  /** Art direction: other ratios below media queries. */
  art?: ArtEntry[];
}

/** A usage ready to render: its plan, and the inline placeholder where there is one. */
export interface ResolvedImage {
  key: string;
  entry: CacheEntry;
  plan: ImagePlan;
  files: PlannedVariant[];
  placeholderUrl?: string;
  /** The art-direction images, in the order of `art`: each with its media query (a crop has the default's key). */
  art: ArtImage[];
}

export interface ArtImage extends ResolvedImage {
  media: string;
}

type Miss = MissRecord & { spec: ImageSpec };

/** What decides a usage's cache key. */
export type KeyRequest = Pick<ImageRequest, 'prompt' | 'ratio' | 'variant' | 'references' | 'referencesBase' | 'loc'>;

/** The files a page links to: everything planned but the inline placeholder. */
const shownFiles = (plan: ImagePlan) => plannedFiles(plan).filter((f) => !f.transform.placeholder);

/**
 * The one pipeline behind the Vite plugin, the Astro integration and the CLI:
 * usages → keys → cache lookup → generation → optimized files. The hosts only
 * decide when to call it and how to write URLs.
 */
export class ImagePipeline {
  readonly cache: CacheStore;
  readonly optimizer: Optimizer;
  readonly queue: GenerationQueue;
  /** What this process generated (with the gateway's cost) and what failed, for the summary. */
  private readonly generated = new Map<string, number>();
  private readonly failed = new Map<string, MissRecord & { reason: string }>();
  private gatewayInstance: Gateway | undefined;
  private loaded: Promise<unknown> | undefined;
  private readonly resolved = new Map<string, Promise<ResolvedImage>>();
  private readonly closing = new AbortController();
  readonly references: ReferenceReader;
  /** Images this process has passed the `maxCost` check for. */
  private budgeted = 0;
  private unpricedWarned = false;

  constructor(
    readonly options: ResolvedOptions,
    readonly reporter: Reporter,
  ) {
    this.cache = new CacheStore(options.cacheDir);
    this.optimizer = new Optimizer(this.cache);
    this.references = new ReferenceReader(options.root);
    this.queue = new GenerationQueue(this.cache, () => this.gateway(), {
      // With 'auto' the gateway's slots hold requests back; the queue only bounds the generations waiting on them.
      concurrency: options.concurrency === 'auto' ? AUTO_MAX : options.concurrency,
      referenceUrls: (spec) => Promise.all((spec.references ?? []).map((ref) => this.references.dataUrl(ref))),
      signal: this.closing.signal,
      onWarning: (message) => reporter.warn(message),
    });
  }

  private gateway(): Gateway {
    if (!this.options.apiKey) throw noApiKey();
    this.gatewayInstance ??= new Gateway({
      apiKey: this.options.apiKey,
      baseURL: this.options.baseURL,
      model: this.options.model,
      retries: this.options.retries,
      timeout: this.options.timeout,
      slots: this.options.concurrency === 'auto' ? new AdaptiveSlots() : undefined,
      onRetry: ({ attempt, delayMs, reason }) => this.reporter.warn(`retrying in ${(delayMs / 1000).toFixed(1)}s (attempt ${attempt + 1}): ${reason}`),
    });
    return this.gatewayInstance;
  }

  load(): Promise<unknown> {
    // What a git merge left in manifest.json is repaired on reading; say so rather than fix it silently.
    this.loaded ??= this.cache.load().then(() => this.cache.notes.forEach((note) => this.reporter.warn(note)));
    return this.loaded;
  }

  /** The files one usage shows, by the same rules for the build, the dev server and the CLI. */
  plan(key: string, entry: CacheEntry, request: Pick<ImageRequest, 'widths' | 'formats' | 'quality'>, art?: { crop?: Ratio }): ImagePlan {
    return planImage(key, entry, {
      formats: request.formats ?? this.options.formats,
      widths: request.widths ?? this.options.widths,
      quality: this.options.quality,
      // The default image's placeholder shows behind every art-direction source.
      placeholder: art ? 'none' : this.options.placeholder,
    }, request.quality, art?.crop);
  }

  /** What identifies a usage's image. Reads its reference files (and throws, naming the usage and the file, when one is not an image). */
  spec(request: KeyRequest): ImageSpec {
    const { root } = this.options;
    const user = { prompt: request.prompt, loc: request.loc };
    const references = [
      ...this.options.references.map((file) => this.references.reference(file)),
      ...(request.references ?? []).map((written) => this.references.reference(resolveReference(written, root, request.referencesBase), user)),
    ];
    return {
      model: this.options.model,
      prompt: normalizePrompt(request.prompt),
      style: this.options.style,
      ratio: request.ratio,
      variant: request.variant,
      imageSize: this.options.imageSize,
      ...(references.length ? { references } : {}),
    };
  }

  key(request: KeyRequest): string {
    return cacheKey(this.spec(request));
  }

  /**
   * An art-direction image: the usage's spec at another ratio, with the
   * default image as its last reference, so that it shows the same scene
   * (and its key changes when the default image does).
   */
  artSpec(spec: ImageSpec, defaultEntry: CacheEntry, ratio: Ratio): ImageSpec {
    const file = path.relative(this.options.root, this.cache.originalPath(defaultEntry)).split(path.sep).join('/');
    return { ...spec, ratio, references: [...(spec.references ?? []), { file, sha256: defaultEntry.sha256 }] };
  }

  /** The generated (not cropped) art-direction images of a usage whose default image is cached, with their keys. */
  private artSpecs(request: ImageRequest, spec: ImageSpec, defaultEntry: CacheEntry): Array<{ key: string; spec: ImageSpec; art: ArtEntry }> {
    return (request.art ?? []).filter((art) => !art.crop).map((art) => {
      const artSpec = this.artSpec(spec, defaultEntry, art.ratio);
      return { key: cacheKey(artSpec), spec: artSpec, art };
    });
  }

  /** Keys with no usable cache entry, with every place that wants them. Changes nothing but adopting crash orphans. */
  async misses(requests: ImageRequest[]): Promise<Map<string, Miss>> {
    await this.load();
    const misses = new Map<string, Miss>();
    const add = (key: string, spec: ImageSpec, request: ImageRequest) => {
      let miss = misses.get(key);
      if (!miss) {
        miss = { prompt: spec.prompt, ratio: spec.ratio, locations: [], spec };
        misses.set(key, miss);
      }
      if (request.loc) miss.locations.push(request.loc);
    };
    for (const request of requests) {
      const spec = this.spec(request);
      const key = cacheKey(spec);
      const entry = this.cache.get(key);
      if (!entry) add(key, spec, request);
      // Art-direction images are known once their default image is: until then they wait (see prepare).
      else for (const art of this.artSpecs(request, spec, entry)) if (!this.cache.get(art.key)) add(art.key, art.spec, request);
    }
    for (const [key, miss] of misses) {
      const adopted = await adoptOrphan(this.cache, key, miss.spec);
      if (!adopted) continue;
      this.reporter.info(`recovered ${adopted} (generated before an interrupted build) without a new request`);
      misses.delete(key);
    }
    return misses;
  }

  /**
   * Before bundling: generate every missing image (or explain why not), then
   * encode every missing variant, so that rendering is only lookups.
   */
  async prepare(requests: ImageRequest[]): Promise<void> {
    const misses = await this.misses(requests);
    const later = this.artAwaitingDefault(requests, misses);
    if (misses.size > 0) await this.generateAll(misses, later);
    // The art-direction images of the defaults just generated.
    if (later > 0) {
      const art = await this.misses(requests);
      if (art.size > 0) await this.generateAll(art);
    }
    await Promise.all(requests.map((request) => this.resolve(request)));
    await this.cache.flush();
  }

  /** Art-direction images to generate whose default image is itself a miss: counted in the estimate before any request. */
  private artAwaitingDefault(requests: ImageRequest[], misses: Map<string, Miss>): number {
    const waiting = new Set<string>();
    for (const request of requests) {
      const key = this.key(request);
      if (!misses.has(key)) continue;
      for (const art of request.art ?? []) if (!art.crop) waiting.add(`${key} ${art.ratio}`);
    }
    return waiting.size;
  }

  /** The estimated cost of generating `count` images: US dollars from the gateway's `/models`, or null when it gives no price. */
  async estimate(count: number): Promise<{ pricePerImage: number; total: number } | null> {
    const price = await this.queue.pricePerImage();
    return price === null ? null : { pricePerImage: price, total: count * price };
  }

  /** `maxCost`: the misses of this run so far and these (with `later` still to come) must fit the budget, checked before any request. */
  private async checkBudget(list: Miss[], later: number): Promise<void> {
    const { maxCost, model, root } = this.options;
    if (maxCost === null) return;
    const count = this.budgeted + list.length + later;
    const estimate = await this.estimate(count);
    if (!estimate) {
      if (!this.unpricedWarned) this.reporter.warn(`the gateway's /models gives no price per image for ${model}, so maxCost ($${maxCost}) cannot be checked; generating anyway`);
      this.unpricedWarned = true;
    } else if (estimate.total > maxCost + 1e-9) throw overBudget(list, later, this.budgeted, estimate, maxCost, root);
    this.budgeted += list.length;
  }

  private async generateAll(misses: Map<string, Miss>, later = 0): Promise<void> {
    const root = this.options.root;
    const list = [...misses.values()];
    if (this.options.frozen) throw frozenMisses(list, this.options);
    if (!this.options.apiKey) throw noApiKey(list, root);
    await this.checkBudget(list, later);
    const progress = createProgress(this.reporter, list.length);
    const failed: Array<MissRecord & { reason: string }> = [];
    await Promise.all(
      [...misses].map(([key, miss]) =>
        this.queue.generate(key, miss.spec).then(
          (generated) => {
            progress.tick(false);
            this.failed.delete(key);
            if (generated.requested) this.generated.set(key, generated.cost ?? 0);
          },
          (error: Error) => {
            progress.tick(true);
            const record = { prompt: miss.prompt, ratio: miss.ratio, locations: miss.locations, reason: redact(error.message, this.options.apiKey) };
            failed.push(record);
            this.failed.set(key, record);
          },
        ),
      ),
    );
    progress.end();
    await this.cache.flush();
    if (failed.length) throw generationFailed(failed, list.length, root);
  }

  /**
   * Stops this pipeline's work for a host that is shutting down (the dev
   * server's close): gateway requests in flight are aborted and what waits
   * for a lock gives up; what was stored is kept and written.
   */
  async close(): Promise<void> {
    this.closing.abort(new GeneratedImagesError('GENERATION_FAILED', 'the server was closed while this image was being generated'));
    await this.cache.flush();
  }

  get closed(): boolean {
    return this.closing.signal.aborted;
  }

  /** Why the last attempt at this key failed, if it did. */
  failureOf(key: string): string | undefined {
    return this.failed.get(key)?.reason;
  }

  /** Everything one usage needs to render, generating and encoding what is missing when allowed. */
  resolve(request: ImageRequest): Promise<ResolvedImage> {
    const key = this.key(request);
    const id = JSON.stringify([key, request.widths ?? null, request.formats ?? null, request.quality ?? null]);
    let promise = this.resolved.get(id);
    if (!promise) {
      promise = this.doResolve(key, request);
      this.resolved.set(id, promise);
      promise.catch(() => this.resolved.delete(id));
    }
    return promise;
  }

  private async doResolve(key: string, request: ImageRequest): Promise<ResolvedImage> {
    await this.load();
    let entry = this.cache.get(key);
    if (!entry) {
      const misses = await this.misses([request]);
      if (misses.size > 0) await this.generateAll(misses);
      entry = this.cache.get(key)!;
    }
    const plan = this.plan(key, entry, request);
    const art = await Promise.all((request.art ?? []).map((a) => this.resolveArt(key, entry!, request, a)));
    if (!this.optimizer.isComplete(plan)) await this.optimizer.ensure(plan);
    let placeholderUrl: string | undefined;
    if (plan.placeholder && 'name' in plan.placeholder) {
      const data = this.cache.readVariant(key, plan.placeholder.name);
      if (data) placeholderUrl = `data:image/webp;base64,${data.toString('base64')}`;
    }
    return { key, entry, plan, files: shownFiles(plan), placeholderUrl, art };
  }

  /** One art-direction image: cut from the default image, or generated (when missing and allowed) with it as reference. */
  private async resolveArt(key: string, entry: CacheEntry, request: ImageRequest, art: ArtEntry): Promise<ArtImage> {
    let artKey = key;
    let artEntry = entry;
    if (!art.crop) {
      const spec = this.artSpec(this.spec(request), entry, art.ratio);
      artKey = cacheKey(spec);
      if (!this.cache.get(artKey)) {
        await this.generateAll(new Map([[artKey, { prompt: spec.prompt, ratio: spec.ratio, locations: request.loc ? [request.loc] : [], spec }]]));
      }
      artEntry = this.cache.get(artKey)!;
    }
    const plan = this.plan(artKey, artEntry, request, { crop: art.crop ? art.ratio : undefined });
    if (!this.optimizer.isComplete(plan)) await this.optimizer.ensure(plan);
    return { media: art.media, key: artKey, entry: artEntry, plan, files: shownFiles(plan), art: [] };
  }

  /**
   * The summary of this run for the images it was asked for (`images`, with
   * their places): what it generated, what failed, what the cache already had.
   * Images generated for a prompt known only at render time, which no scan
   * saw, are listed from their cache entries.
   */
  summarize(images: Iterable<SummaryImage>): BuildSummary {
    const byKey = new Map<string, SummaryImage>();
    for (const image of images) {
      const known = byKey.get(image.key);
      if (known) {
        known.locations.push(...image.locations);
        if (image.pages) known.pages = [...(known.pages ?? []), ...image.pages];
      } else byKey.set(image.key, { ...image, locations: [...image.locations], ...(image.pages ? { pages: [...image.pages] } : {}) });
    }
    const generated: SummaryImage[] = [];
    for (const key of this.generated.keys()) {
      const entry = this.cache.get(key);
      generated.push(byKey.get(key) ?? { key, prompt: entry?.prompt ?? '', ratio: entry?.ratio ?? '', locations: [] });
    }
    const failed: FailedImage[] = [...this.failed].map(([key, miss]) => ({ key, prompt: miss.prompt, ratio: miss.ratio, locations: miss.locations, reason: miss.reason }));
    const reused = [...byKey.keys()].filter((key) => !this.generated.has(key) && !this.failed.has(key) && this.cache.get(key)).length;
    const cost = [...this.generated.values()].reduce((sum, c) => sum + c, 0);
    return { generated, failed, reused, encoded: this.optimizer.encoded, cost };
  }
}
