import { readIfExists } from '../fs/atomic.js';
import { sha256 } from '../key.js';
import { MANIFEST_FILE, type CacheEntry, type VariantEntry } from './manifest.js';

export interface CachePaths {
  originalPath(entry: Pick<CacheEntry, 'file'>): string;
  variantPath(name: string): string;
}

async function matches(file: string, meta: { sha256: string }): Promise<boolean> {
  const data = await readIfExists(file);
  return data !== undefined && sha256(data) === meta.sha256;
}

/**
 * One key given several times, as a union merge leaves it when both branches
 * changed the same image: the record that describes the original on disk
 * wins, and the variants of every record of that original are combined —
 * those whose files are there: a variant one branch pruned is gone from disk
 * although the other branch's record still lists it.
 */
export async function reconcile(key: string, candidates: CacheEntry[], paths: CachePaths): Promise<{ entry: CacheEntry; note: string }> {
  let chosen = candidates[0]!;
  for (const candidate of candidates) {
    if (await matches(paths.originalPath(candidate), candidate)) {
      chosen = candidate;
      break;
    }
  }
  const variants: Record<string, VariantEntry> = {};
  for (const candidate of candidates.filter((c) => c.sha256 === chosen.sha256)) {
    for (const [name, meta] of Object.entries(candidate.variants)) {
      if (variants[name] || !(await matches(paths.variantPath(name), meta))) continue;
      variants[name] = meta;
    }
  }
  const others = candidates.filter((c) => c.sha256 !== chosen.sha256);
  const note =
    `${MANIFEST_FILE} lists ${key} ${candidates.length} times (a git merge): ` +
    (others.length === 0
      ? 'the records were combined'
      : `kept the record of ${chosen.file} (sha256 ${chosen.sha256.slice(0, 12)}…) and dropped ${others.map((o) => `${o.file} (sha256 ${o.sha256.slice(0, 12)}…)`).join(', ')}, a different image for the same prompt`);
  return { entry: { ...chosen, variants }, note };
}
