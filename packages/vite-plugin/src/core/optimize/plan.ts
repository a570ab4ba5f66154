import type { CacheEntry, Transform } from '../cache/manifest.js';
import { sha256 } from '../key.js';
import type { Format, Placeholder } from '../options.js';
import type { Ratio } from '../ratios.js';

/** Which optimized files one usage shows, and their names: decided from the manifest alone, never by decoding. */

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
/** The MIME type of a variant file, by its extension. */
export const VARIANT_MIME: Record<string, string> = { avif: MIME.avif, webp: MIME.webp, jpg: MIME.jpeg, png: MIME.png };
/** A variant's file name: `<key>-<width>-<transform hash>.<ext>`, content-addressed like Astro's own assets. */
export const VARIANT_NAME = /^[0-9a-f]{16}-\d+-[0-9a-f]{8}\.(?:avif|webp|jpg|png)$/;
/** The same, anywhere in a text (built pages, scripts), capturing the key. */
export const VARIANT_NAME_IN_TEXT = /\b([0-9a-f]{16})-\d+-[0-9a-f]{8}\.(?:avif|webp|jpg|png)\b/g;
export const PLACEHOLDER_WIDTH = 16;

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

/**
 * The largest box of `ratio` inside the image: what art direction's `crop`
 * cuts out (where, sharp's attention strategy decides when encoding).
 */
export function cropBox(width: number, height: number, ratio: Ratio): { width: number; height: number } {
  const [w, h] = ratio.split(':').map(Number) as [number, number];
  return width / height > w / h ? { width: Math.round((height * w) / h), height } : { width, height: Math.round((width * h) / w) };
}

function planVariant(key: string, entry: CacheEntry, size: { width: number; height: number }, width: number, transform: Transform): PlannedVariant {
  // Keyed by the source's bytes and the transform, never by decoding anything.
  const t = sha256(`${entry.sha256}\n${width}\n${transform.format}\n${transform.quality}\n${transform.effort}${transform.placeholder ? '\nplaceholder' : ''}${transform.crop ? `\ncrop ${transform.crop}` : ''}`).slice(0, 8);
  return {
    name: `${key}-${width}-${t}.${EXTENSION[transform.format]}`,
    width,
    height: Math.max(1, Math.round((width * size.height) / size.width)),
    transform,
  };
}

/** The files of one image; with `crop`, of the part of it at that ratio (never wider than that part: nothing is upscaled). */
export function planImage(key: string, entry: CacheEntry, settings: OptimizeSettings, quality?: number, crop?: Ratio): ImagePlan {
  const size = crop ? cropBox(entry.width, entry.height, crop) : { width: entry.width, height: entry.height };
  const widths = capWidths(settings.widths, size.width);
  const transform = (format: Format): Transform => ({
    format,
    quality: quality ?? settings.quality[format] ?? DEFAULT_QUALITY[format],
    effort: DEFAULT_EFFORT[format],
    ...(crop ? { crop } : {}),
  });
  const sources = settings.formats.map((format) => ({
    format,
    variants: widths.map((w) => planVariant(key, entry, size, w, transform(format))),
  }));
  // One fallback for browsers without the modern formats, at the largest width: not one per width.
  const fallbackFormat: Format = entry.hasAlpha ? 'png' : 'jpeg';
  const fallback = planVariant(key, entry, size, widths[widths.length - 1]!, transform(fallbackFormat));
  let placeholder: ImagePlan['placeholder'] = null;
  if (settings.placeholder === 'blur') {
    placeholder = planVariant(key, entry, size, Math.min(PLACEHOLDER_WIDTH, entry.width), { format: 'webp', quality: 40, effort: 4, placeholder: true });
  } else if (settings.placeholder === 'color') {
    placeholder = { color: entry.color ?? '#808080' };
  }
  return { key, width: size.width, height: size.height, sources, fallback, placeholder };
}

export function plannedFiles(plan: ImagePlan): PlannedVariant[] {
  const files = plan.sources.flatMap((s) => s.variants);
  if (!files.some((f) => f.name === plan.fallback.name)) files.push(plan.fallback);
  if (plan.placeholder && 'name' in plan.placeholder) files.push(plan.placeholder);
  return files;
}
