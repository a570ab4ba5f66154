import os from 'node:os';
import type { Sharp } from 'sharp';
import { cacheError, type Transform } from '../cache/manifest.js';
import type { CacheStore } from '../cache/store.js';
import { createLimit } from '../limit.js';
import { plannedFiles, type ImagePlan, type PlannedVariant } from './plan.js';

/** sharp takes ~80 ms to load: a build whose variants are all committed never encodes, so it loads on first use. */
let sharpModule: Promise<typeof import('sharp')> | undefined;
const loadSharp = () => (sharpModule ??= import('sharp')).then((module) => module.default);

function encode(image: Sharp, transform: Transform): Sharp {
  const { format, quality, effort } = transform;
  switch (format) {
    case 'avif':
      return image.avif({ quality, effort });
    case 'webp':
      return image.webp({ quality, effort });
    case 'jpeg':
      return image.jpeg({ quality, mozjpeg: false });
    case 'png':
      return image.png({ compressionLevel: effort, quality, palette: quality < 100 });
  }
}

/**
 * Encodes the variants an image still lacks into the cache, across every core.
 * Each image is read and decoded once (a PNG decode costs as much as a small
 * WebP encode, and an image has eight files to make), then its files are
 * encoded from the pixels, one encode per core: with sharp's one libvips
 * thread per image (its default on glibc Linux) the fastest layout measured,
 * and with more threads still every core busy (see bench/README.md). Only a
 * few more images than cores are decoded at a time, so a site of hundreds of
 * images never holds them all in memory.
 */
export class Optimizer {
  private readonly cores = Math.max(1, os.availableParallelism());
  /** Decodes and encodes: the CPU work, one per core. */
  private readonly work = createLimit(this.cores);
  /** Images decoded and held at once: one more than cores, so a core that frees up always finds a decoded image's encode waiting. */
  private readonly images = createLimit(this.cores + 1);
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Files encoded by this process, for the build summary (a warm build encodes none). */
  encoded = 0;

  constructor(private readonly cache: CacheStore) {}

  /** True when every file of the plan is recorded in the manifest. */
  isComplete(plan: ImagePlan): boolean {
    const entry = this.cache.get(plan.key);
    return !!entry && plannedFiles(plan).every((f) => entry.variants[f.name]);
  }

  async ensure(plan: ImagePlan): Promise<void> {
    const entry = this.cache.get(plan.key);
    if (!entry) throw cacheError(`no cache entry ${plan.key}`);
    const jobs: Array<Promise<void>> = [];
    const missing: PlannedVariant[] = [];
    for (const variant of plannedFiles(plan)) {
      if (entry.variants[variant.name]) continue;
      const job = this.inFlight.get(variant.name);
      if (job) jobs.push(job);
      else missing.push(variant);
    }
    if (missing.length > 0) {
      const job = this.images(() => this.encodeImage(plan.key, missing));
      for (const variant of missing) {
        const settled = job.finally(() => this.inFlight.delete(variant.name));
        this.inFlight.set(variant.name, settled);
        jobs.push(settled);
      }
    }
    await Promise.all(jobs);
  }

  private async encodeImage(key: string, variants: PlannedVariant[]): Promise<void> {
    const [sharp, source] = await Promise.all([loadSharp(), this.cache.readOriginal(key)]);
    const { data, info } = await this.work(() => sharp(source).rotate().raw().toBuffer({ resolveWithObject: true }));
    const raw = { width: info.width, height: info.height, channels: info.channels };
    await Promise.all(
      variants.map(async (variant) => {
        // Art direction's crop: sharp's attention strategy picks the part of the picture that holds the eye.
        const resize = variant.transform.crop
          ? { width: variant.width, height: variant.height, fit: 'cover' as const, position: sharp.strategy.attention, withoutEnlargement: true }
          : { width: variant.width, withoutEnlargement: true };
        const output = await this.work(() => encode(sharp(data, { raw }).resize(resize), variant.transform).toBuffer({ resolveWithObject: true }));
        // Written outside the pool: a core never waits on the disk.
        await this.cache.putVariant(key, variant.name, output.data, { width: output.info.width, height: output.info.height, transform: variant.transform });
        this.encoded++;
      }),
    );
  }
}
