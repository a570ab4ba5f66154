import os from 'node:os';
import type { Sharp } from 'sharp';
import type { CacheEntry, CacheStore, Transform } from './cache.js';
import { sha256 } from './key.js';
import { createLimit } from './limit.js';
import type { Format, Placeholder } from './options.js';

/** sharp's own defaults, written down so that a variant's name records exactly what made it. */
export const DEFAULT_QUALITY: Record<Format, number> = { avif: 50, webp: 80, jpeg: 80, png: 100 };
/**
 * Encoder effort per format (for png: zlib compression level), chosen from the effort table in
 * bench/README.md: AVIF 3 encodes in a quarter of the time of sharp's default 4 for 3% more bytes
 * (effort 2 would save little more time for 16% more bytes); WebP 4 costs no more than 3.
 */
export const DEFAULT_EFFORT: Record<Format, number> = { avif: 3, webp: 4, jpeg: 0, png: 6 };
export const MIME: Record<Format, string> = { avif: 'image/avif', webp: 'image/webp', jpeg: 'image/jpeg', png: 'image/png' };
const EXTENSION: Record<Format, string> = { avif: 'avif', webp: 'webp', jpeg: 'jpg', png: 'png' };
export const PLACEHOLDER_WIDTH = 16;

/** sharp takes ~80 ms to load: a build whose variants are all committed never encodes, so it loads on first use. */
let sharpModule: Promise<typeof import('sharp')> | undefined;
const loadSharp = () => (sharpModule ??= import('sharp')).then((module) => module.default);

/** One optimized file to have in `variants/`. */
export interface PlannedVariant {
  name: string;
  width: number;
  height: number;
  transform: Transform;
}

/** Everything one usage shows: a srcset per format, one fallback file, and the placeholder. */
export interface ImagePlan {
  key: string;
  width: number;
  height: number;
  sources: Array<{ format: Format; variants: PlannedVariant[] }>;
  fallback: PlannedVariant;
  placeholder: PlannedVariant | { color: string } | null;
}

export interface OptimizeSettings {
  formats: Format[];
  widths: number[];
  quality: Partial<Record<Format, number>>;
  placeholder: Placeholder;
}

/** Widths at or below the source's; a larger request becomes the source width itself, so nothing is upscaled. */
export function capWidths(widths: number[], sourceWidth: number): number[] {
  const capped = widths.map((w) => Math.min(w, sourceWidth));
  return [...new Set(capped)].sort((a, b) => a - b);
}

function planVariant(key: string, entry: CacheEntry, width: number, transform: Transform): PlannedVariant {
  // Keyed by the source's bytes and the transform, never by decoding anything.
  const t = sha256(`${entry.sha256}\n${width}\n${transform.format}\n${transform.quality}\n${transform.effort}${transform.placeholder ? '\nplaceholder' : ''}`).slice(0, 8);
  return {
    name: `${key}-${width}-${t}.${EXTENSION[transform.format]}`,
    width,
    height: Math.max(1, Math.round((width * entry.height) / entry.width)),
    transform,
  };
}

export function planImage(key: string, entry: CacheEntry, settings: OptimizeSettings, quality?: number): ImagePlan {
  const widths = capWidths(settings.widths, entry.width);
  const transform = (format: Format): Transform => ({
    format,
    quality: quality ?? settings.quality[format] ?? DEFAULT_QUALITY[format],
    effort: DEFAULT_EFFORT[format],
  });
  const sources = settings.formats.map((format) => ({
    format,
    variants: widths.map((w) => planVariant(key, entry, w, transform(format))),
  }));
  // One fallback for browsers without the modern formats, at the largest width: not one per width.
  const fallbackFormat: Format = entry.hasAlpha ? 'png' : 'jpeg';
  const fallback = planVariant(key, entry, widths[widths.length - 1]!, transform(fallbackFormat));
  let placeholder: ImagePlan['placeholder'] = null;
  if (settings.placeholder === 'blur') {
    placeholder = planVariant(key, entry, Math.min(PLACEHOLDER_WIDTH, entry.width), { format: 'webp', quality: 40, effort: 4, placeholder: true });
  } else if (settings.placeholder === 'color') {
    placeholder = { color: entry.color ?? '#808080' };
  }
  return { key, width: entry.width, height: entry.height, sources, fallback, placeholder };
}

export function plannedFiles(plan: ImagePlan): PlannedVariant[] {
  const files = plan.sources.flatMap((s) => s.variants);
  if (!files.some((f) => f.name === plan.fallback.name)) files.push(plan.fallback);
  if (plan.placeholder && 'name' in plan.placeholder) files.push(plan.placeholder);
  return files;
}

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
    if (!entry) throw new Error(`no cache entry ${plan.key}`);
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
        const output = await this.work(() => encode(sharp(data, { raw }).resize({ width: variant.width, withoutEnlargement: true }), variant.transform).toBuffer({ resolveWithObject: true }));
        // Written outside the pool: a core never waits on the disk.
        await this.cache.putVariant(key, variant.name, output.data, { width: output.info.width, height: output.info.height, transform: variant.transform });
        this.encoded++;
      }),
    );
  }
}
