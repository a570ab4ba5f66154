import type { CacheEntry, CacheStore } from './cache.js';
import { GatewayError, type Gateway } from './gateway.js';
import { fullPrompt, type ImageSpec } from './key.js';
import { createLimit } from './limit.js';

export interface QueueEvents {
  onStart?: (key: string, spec: ImageSpec) => void;
  onDone?: (key: string, entry: CacheEntry, info: { attempts: number; cost: number | null; reused: boolean }) => void;
  onFail?: (key: string, error: Error) => void;
}

/**
 * Generation through the gateway: `concurrency` requests in flight, one
 * request per key however many usages (or processes) want it, and every image
 * stored in the cache the moment it arrives, so a later failure never loses it.
 */
export class GenerationQueue {
  private readonly inFlight = new Map<string, Promise<CacheEntry>>();
  private readonly limit: <T>(task: () => Promise<T>) => Promise<T>;
  private modelChecked: Promise<void> | undefined;

  constructor(
    private readonly cache: CacheStore,
    private readonly gateway: () => Gateway,
    concurrency: number,
    private readonly events: QueueEvents & { onWarning?: (message: string) => void; lockStaleMs: number },
  ) {
    this.limit = createLimit(concurrency);
  }

  generate(key: string, spec: ImageSpec): Promise<CacheEntry> {
    let promise = this.inFlight.get(key);
    if (!promise) {
      promise = this.limit(() => this.run(key, spec));
      this.inFlight.set(key, promise);
      // Forget failures so that a later request (dev server, next build) tries again.
      promise.catch(() => this.inFlight.delete(key));
    }
    return promise;
  }

  private checkModel(): Promise<void> {
    this.modelChecked ??= this.gateway()
      .checkModel()
      .then(({ warning }) => {
        if (warning) this.events.onWarning?.(warning);
      });
    return this.modelChecked;
  }

  private async run(key: string, spec: ImageSpec): Promise<CacheEntry> {
    const existing = this.cache.get(key);
    if (existing) return existing;
    await this.checkModel();
    const release = await this.cache.lockKey(key, this.events.lockStaleMs);
    try {
      // Another process may have generated it while we waited for the lock.
      await this.cache.load();
      const done = this.cache.get(key);
      if (done) {
        this.events.onDone?.(key, done, { attempts: 0, cost: null, reused: true });
        return done;
      }
      this.events.onStart?.(key, spec);
      try {
        const result = await this.gateway().generate({ prompt: fullPrompt(spec), ratio: spec.ratio, imageSize: spec.imageSize });
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
          },
          result.extension,
        );
        this.events.onDone?.(key, entry, { attempts: result.attempts, cost: result.cost, reused: false });
        return entry;
      } catch (error) {
        const failure = error instanceof Error ? error : new GatewayError(String(error));
        this.events.onFail?.(key, failure);
        throw failure;
      }
    } finally {
      await release();
    }
  }
}
