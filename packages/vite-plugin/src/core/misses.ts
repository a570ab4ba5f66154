import path from 'node:path';
import { GeneratedImagesError } from './errors.js';
import { relativeLocation, type SourceLocation } from './location.js';
import { describeImage, formatUsd, plural } from './text.js';

/** An image no cache entry holds, with every place that wants it (and, once tried, why it failed). */
export interface MissRecord {
  prompt: string;
  ratio: string;
  locations: SourceLocation[];
  reason?: string;
}

export function listMisses(misses: MissRecord[], root: string): string {
  return misses
    .map((m) => {
      const where = m.locations.map((l) => relativeLocation(l, root)).join(', ');
      return `  ${where}  ${describeImage(m)}${m.reason ? `\n    ${m.reason}` : ''}`;
    })
    .join('\n');
}

const NO_KEY = 'images must be generated but no API key is set: set AGNIC_API_KEY (or the apiKey option) and build again.';

export function noApiKey(misses: MissRecord[] = [], root = ''): GeneratedImagesError {
  return new GeneratedImagesError('NO_API_KEY', misses.length ? `${NO_KEY} Missing:\n${listMisses(misses, root)}` : NO_KEY, {
    locations: misses.flatMap((m) => m.locations),
  });
}

export function frozenMisses(misses: MissRecord[], options: { root: string; cacheDir: string }): GeneratedImagesError {
  const n = misses.length;
  return new GeneratedImagesError(
    'MISSING_IMAGES',
    `${n} image${n === 1 ? ' is' : 's are'} missing from the cache (${path.relative(options.root, options.cacheDir) || '.'}) and frozen mode is on${process.env.CI ? ' (CI is set)' : ''}, so nothing was requested from the gateway:\n${listMisses(misses, options.root)}`,
    {
      hint: 'Generate them where a build may call the gateway (npx generated-images generate, or a build with frozen: false) and commit the cache folder.',
      locations: misses.flatMap((m) => m.locations),
    },
  );
}

export function generationFailed(failed: MissRecord[], total: number, root: string): GeneratedImagesError {
  const kept = total - failed.length;
  return new GeneratedImagesError(
    'GENERATION_FAILED',
    `${failed.length} of ${total} image${total === 1 ? '' : 's'} could not be generated${kept ? ` (the other ${kept} are saved in the cache)` : ''}:\n${listMisses(failed, root)}`,
    { locations: failed.flatMap((m) => m.locations) },
  );
}

/** `maxCost`: what this run would generate costs more than the budget; nothing was requested. */
export function overBudget(
  misses: MissRecord[],
  later: number,
  earlier: number,
  estimate: { pricePerImage: number; total: number },
  maxCost: number,
  root: string,
): GeneratedImagesError {
  const count = misses.length + later + earlier;
  const parts = [
    later ? `${plural(later, 'art-direction image')} of these once they exist` : '',
    earlier ? `${plural(earlier, 'image')} generated earlier in this run` : '',
  ].filter(Boolean);
  return new GeneratedImagesError(
    'OVER_BUDGET',
    `generating ${plural(count, 'image')} would cost about ${formatUsd(estimate.total)} (${formatUsd(estimate.pricePerImage)} per image), more than maxCost ${formatUsd(maxCost)}, so nothing was requested from the gateway. Missing${parts.length ? ` (and ${parts.join(', and ')})` : ''}:\n${listMisses(misses, root)}`,
    { hint: 'Raise maxCost, or generate fewer images at a time.', locations: misses.flatMap((m) => m.locations) },
  );
}
