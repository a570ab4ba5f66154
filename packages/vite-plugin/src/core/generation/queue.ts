import type { CacheEntry } from '../cache/manifest.js';
import type { CacheStore } from '../cache/store.js';
import { fullPrompt, type ImageSpec } from '../key.js';
import { createLimit } from '../limit.js';
import type { Gateway, ModelCheck } from './gateway.js';

/** What one generation came to: the stored entry, and whether this process paid for it. */
export interface Generated {
  entry: CacheEntry;
  /** False when another process had stored it while this one waited for its lock. */
  requested: boolean;
  /** US dollars, as the gateway reported it. */
  cost: number | null;
}

export interface QueueSettings {
  /** Generations at once; with `'auto'` the gateway's request slots decide, up to their maximum. */
  concurrency: number;
  /** The `data:` URLs of a spec's references, as they are sent. */
  referenceUrls(spec: ImageSpec): Promise<string[]>;
  /** How old a key's lock must be before a live-looking holder is presumed gone. */
  lockStaleMs: number;
  onWarning(message: string): void;
}

/**
 * Generation through the gateway: `concurrency` requests in flight, one
 * request per key however many usages (or processes) want it, and every image
 * stored in the cache the moment it arrives, so a later failure never loses it.
 */
export class GenerationQueue {
  private readonly inFlight = new Map<string, Promise<Generated>>();
  private readonly limit: <T>(task: () => Promise<T>) => Promise<T>;
  private modelChecked: Promise<ModelCheck> | undefined;

  constructor(
    private readonly cache: CacheStore,
    private readonly gateway: () => Gateway,
    private readonly settings: QueueSettings,
  ) {
    this.limit = createLimit(settings.concurrency);
  }

  generate(key: string, spec: ImageSpec): Promise<Generated> {
    let promise = this.inFlight.get(key);
    if (!promise) {
      promise = this.limit(() => this.run(key, spec));
      this.inFlight.set(key, promise);
      // Forget failures so that a later request (dev server, next build) tries again.
      promise.catch(() => this.inFlight.delete(key));
    }
    return promise;
  }

  /** The model check, once per queue: `/models` also says what an image costs. */
  private checkModel(): Promise<ModelCheck> {
    if (!this.modelChecked) {
      this.modelChecked = this.gateway()
        .checkModel()
        .then((check) => {
          if (check.warning) this.settings.onWarning(check.warning);
          return check;
        });
    }
    return this.modelChecked;
  }

  /** US dollars per image from the gateway's `/models`, or null when it gives no price. */
  async pricePerImage(): Promise<number | null> {
    return (await this.checkModel()).pricePerImage;
  }

  private async run(key: string, spec: ImageSpec): Promise<Generated> {
    const existing = this.cache.get(key);
    if (existing) return { entry: existing, requested: false, cost: null };
    await this.checkModel();
    const release = await this.cache.lockKey(key, this.settings.lockStaleMs);
    try {
      // Another process may have generated it while we waited for the lock.
      await this.cache.load();
      const done = this.cache.get(key);
      if (done) return { entry: done, requested: false, cost: null };
      const references = await this.settings.referenceUrls(spec);
      const result = await this.gateway().generate({ prompt: fullPrompt(spec), ratio: spec.ratio, imageSize: spec.imageSize, references });
      const entry = await this.cache.putOriginal(
        key,
        result.data,
        {
          prompt: spec.prompt,
          style: spec.style,
          ratio: spec.ratio,
          variant: spec.variant,
          imageSize: spec.imageSize,
          model: spec.model,
          width: result.width,
          height: result.height,
          createdAt: new Date().toISOString(),
          modelText: result.modelText,
          hasAlpha: result.hasAlpha,
          color: result.color,
          ...(result.cost !== null ? { cost: result.cost } : {}),
          ...(spec.references?.length ? { references: spec.references } : {}),
        },
        result.extension,
      );
      return { entry, requested: true, cost: result.cost };
    } finally {
      await release();
    }
  }
}
