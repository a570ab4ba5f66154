import { promises as fs } from 'node:fs';
import path from 'node:path';
import { CacheStore, type CacheEntry } from './cache.js';
import { GeneratedImagesError, listMisses, type MissRecord } from './errors.js';
import { Gateway, redact } from './gateway.js';
import { cacheKey, normalizePrompt, type ImageSpec } from './key.js';
import type { SourceLocation } from './location.js';
import { Optimizer, planImage, plannedFiles, type ImagePlan, type PlannedVariant } from './optimize.js';
import type { Format, ResolvedOptions } from './options.js';
import { createProgress, type Reporter } from './progress.js';
import { GenerationQueue } from './queue.js';
import type { Ratio } from './ratios.js';
import { checkImage, sniffMime } from './reply.js';

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

export interface BuildSummary {
  generated: string[];
  reused: Set<string>;
  failed: MissRecord[];
  encoded: number;
  cost: number;
}

/**
 * The one pipeline behind the Vite plugin, the Astro integration and the CLI:
 * usages → keys → cache lookup → generation → optimized files. The plugin and
 * the integration only decide when to call it and how to write URLs.
 */
export class ImagePipeline {
  readonly cache: CacheStore;
  readonly optimizer: Optimizer;
  readonly queue: GenerationQueue;
  readonly summary: BuildSummary = { generated: [], reused: new Set(), failed: [], encoded: 0, cost: 0 };
  private gatewayInstance: Gateway | undefined;
  private loaded: Promise<unknown> | undefined;
  private readonly resolved = new Map<string, Promise<ResolvedImage>>();

  constructor(
    readonly options: ResolvedOptions,
    readonly reporter: Reporter,
  ) {
    this.cache = new CacheStore(options.cacheDir);
    this.optimizer = new Optimizer(this.cache);
    this.queue = new GenerationQueue(this.cache, () => this.gateway(), options.concurrency, {
      lockStaleMs: options.timeout * (options.retries + 1) + 60_000,
      onWarning: (message) => reporter.warn(message),
      onDone: (key, _entry, info) => {
        if (info.reused) return;
        this.summary.generated.push(key);
        this.summary.cost += info.cost ?? 0;
      },
    });
  }

  private gateway(): Gateway {
    if (!this.options.apiKey) throw new GeneratedImagesError(missingKeyMessage());
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

  /** Keys with no usable cache entry, with every place that wants them. */
  async misses(requests: ImageRequest[]): Promise<Map<string, MissRecord & { spec: ImageSpec }>> {
    await this.load();
    const misses = new Map<string, MissRecord & { spec: ImageSpec }>();
    for (const request of requests) {
      const key = this.key(request);
      if (this.cache.get(key)) {
        if (!this.summary.generated.includes(key)) this.summary.reused.add(key);
        continue;
      }
      let miss = misses.get(key);
      if (!miss) {
        miss = { prompt: normalizePrompt(request.prompt), ratio: request.ratio, locations: [], spec: this.spec(request) };
        misses.set(key, miss);
      }
      if (request.loc) miss.locations.push(request.loc);
    }
    // An original written just before a crash, whose manifest entry never landed: keep it, don't pay for it again.
    for (const [key, miss] of misses) if (await this.adoptOrphan(key, miss.spec)) misses.delete(key);
    return misses;
  }

  private async adoptOrphan(key: string, spec: ImageSpec): Promise<boolean> {
    for (const extension of ['png', 'jpeg', 'webp']) {
      const file = path.join(this.cache.dir, `${key}.${extension}`);
      const data = await fs.readFile(file).catch(() => undefined);
      if (!data || !sniffMime(data)) continue;
      try {
        const image = await checkImage(data, extension, spec, null, null);
        await this.cache.putOriginal(key, data, {
          ...spec, width: image.width, height: image.height, createdAt: new Date().toISOString(),
          modelText: null, hasAlpha: image.hasAlpha, color: image.color,
        }, image.extension);
        this.reporter.info(`recovered ${key}.${extension} (generated before an interrupted build) without a new request`);
        return true;
      } catch {
        return false;
      }
    }
    return false;
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
    this.summary.encoded = this.optimizer.encoded;
  }

  private async generateAll(misses: Map<string, MissRecord & { spec: ImageSpec }>): Promise<void> {
    const root = this.options.root;
    const list = [...misses.values()];
    if (this.options.frozen) {
      throw new GeneratedImagesError(
        `[generated-images] ${list.length} image${list.length === 1 ? ' is' : 's are'} missing from the cache (${path.relative(root, this.cache.dir) || '.'}) and frozen mode is on${process.env.CI ? ' (CI is set)' : ''}, so nothing was requested from the gateway:\n` +
          `${listMisses(list, root)}\n` +
          'Generate them where a build may call the gateway (npx generated-images generate, or a build with frozen: false) and commit the cache folder.',
        list.flatMap((m) => m.locations),
      );
    }
    if (!this.options.apiKey) {
      throw new GeneratedImagesError(`${missingKeyMessage()} Missing:\n${listMisses(list, root)}`, list.flatMap((m) => m.locations));
    }
    const progress = createProgress(this.reporter, list.length);
    const failed: MissRecord[] = [];
    await Promise.all(
      [...misses].map(([key, miss]) =>
        this.queue.generate(key, miss.spec).then(
          () => progress.tick(false),
          (error: Error) => {
            progress.tick(true);
            failed.push({ ...miss, reason: redact(error.message, this.options.apiKey) });
          },
        ),
      ),
    );
    progress.end();
    await this.cache.flush();
    this.summary.failed.push(...failed);
    if (failed.length) {
      const kept = list.length - failed.length;
      throw new GeneratedImagesError(
        `[generated-images] ${failed.length} of ${list.length} image${list.length === 1 ? '' : 's'} could not be generated${kept ? ` (the other ${kept} are saved in the cache)` : ''}:\n${listMisses(failed, root)}`,
        failed.flatMap((m) => m.locations),
      );
    }
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

  formatSummary(): string {
    const s = this.summary;
    const parts = [`${s.generated.length} generated`, `${s.reused.size} reused from the cache`];
    if (s.failed.length) parts.push(`${s.failed.length} failed`);
    parts.push(`${this.optimizer.encoded} variant${this.optimizer.encoded === 1 ? '' : 's'} encoded`);
    if (s.cost > 0) parts.push(`gateway cost $${s.cost.toFixed(4)}`);
    return `images: ${parts.join(', ')}`;
  }
}

export function missingKeyMessage(): string {
  return '[generated-images] images must be generated but no API key is set: set AGNIC_API_KEY (or the apiKey option) and build again.';
}
