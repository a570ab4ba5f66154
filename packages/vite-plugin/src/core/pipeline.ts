import type { CacheEntry } from './cache/manifest.js';
import { CacheStore } from './cache/store.js';
import { GeneratedImagesError } from './errors.js';
import { Gateway, redact } from './generation/gateway.js';
import { adoptOrphan } from './generation/orphans.js';
import { GenerationQueue } from './generation/queue.js';
import { cacheKey, normalizePrompt, type ImageSpec } from './key.js';
import type { SourceLocation } from './location.js';
import { frozenMisses, generationFailed, noApiKey, type MissRecord } from './misses.js';
import { Optimizer } from './optimize/optimizer.js';
import { planImage, plannedFiles, type ImagePlan, type PlannedVariant } from './optimize/plan.js';
import type { Format, ResolvedOptions } from './options.js';
import type { Ratio } from './ratios.js';
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
}

/** A usage ready to render: its plan, and the inline placeholder where there is one. */
export interface ResolvedImage {
  key: string;
  entry: CacheEntry;
  plan: ImagePlan;
  files: PlannedVariant[];
  placeholderUrl?: string;
}

type Miss = MissRecord & { spec: ImageSpec };

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

  constructor(
    readonly options: ResolvedOptions,
    readonly reporter: Reporter,
  ) {
    this.cache = new CacheStore(options.cacheDir);
    this.optimizer = new Optimizer(this.cache);
    this.queue = new GenerationQueue(this.cache, () => this.gateway(), {
      concurrency: options.concurrency,
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
  plan(key: string, entry: CacheEntry, request: Pick<ImageRequest, 'widths' | 'formats' | 'quality'>): ImagePlan {
    return planImage(key, entry, {
      formats: request.formats ?? this.options.formats,
      widths: request.widths ?? this.options.widths,
      quality: this.options.quality,
      placeholder: this.options.placeholder,
    }, request.quality);
  }

  spec(request: Pick<ImageRequest, 'prompt' | 'ratio' | 'variant'>): ImageSpec {
    return {
      model: this.options.model,
      prompt: normalizePrompt(request.prompt),
      style: this.options.style,
      ratio: request.ratio,
      variant: request.variant,
      imageSize: this.options.imageSize,
    };
  }

  key(request: Pick<ImageRequest, 'prompt' | 'ratio' | 'variant'>): string {
    return cacheKey(this.spec(request));
  }

  /** Keys with no usable cache entry, with every place that wants them. Changes nothing but adopting crash orphans. */
  async misses(requests: ImageRequest[]): Promise<Map<string, Miss>> {
    await this.load();
    const misses = new Map<string, Miss>();
    for (const request of requests) {
      const key = this.key(request);
      if (this.cache.get(key)) continue;
      let miss = misses.get(key);
      if (!miss) {
        miss = { prompt: normalizePrompt(request.prompt), ratio: request.ratio, locations: [], spec: this.spec(request) };
        misses.set(key, miss);
      }
      if (request.loc) miss.locations.push(request.loc);
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
    if (misses.size > 0) await this.generateAll(misses);
    await Promise.all(requests.map((request) => this.resolve(request)));
    await this.cache.flush();
  }

  private async generateAll(misses: Map<string, Miss>): Promise<void> {
    const root = this.options.root;
    const list = [...misses.values()];
    if (this.options.frozen) throw frozenMisses(list, this.options);
    if (!this.options.apiKey) throw noApiKey(list, root);
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
    if (!this.optimizer.isComplete(plan)) await this.optimizer.ensure(plan);
    let placeholderUrl: string | undefined;
    if (plan.placeholder && 'name' in plan.placeholder) {
      const data = await this.cache.readVariant(key, plan.placeholder.name);
      if (data) placeholderUrl = `data:image/webp;base64,${data.toString('base64')}`;
    }
    return { key, entry, plan, files: plannedFiles(plan).filter((f) => !f.transform.placeholder), placeholderUrl };
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
      if (known) known.locations.push(...image.locations);
      else byKey.set(image.key, { ...image, locations: [...image.locations] });
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
