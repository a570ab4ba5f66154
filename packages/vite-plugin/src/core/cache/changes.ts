import type { CacheEntry, Manifest, VariantEntry } from './manifest.js';

/** One change to the manifest, kept until it is written so that it can be applied again on top of what another process wrote. */
export type Change = { key: string; entry: CacheEntry | null } | { key: string; variant: string; value: VariantEntry | null } | { key: string; patch: Partial<CacheEntry> };

export function apply(manifest: Manifest, change: Change): void {
  if ('entry' in change) {
    if (change.entry) {
      // A concurrent process may have added variants to the same entry; keep them.
      const existing = manifest.images[change.key];
      manifest.images[change.key] = existing && existing.sha256 === change.entry.sha256
        ? { ...change.entry, variants: { ...existing.variants, ...change.entry.variants } }
        : change.entry;
    } else delete manifest.images[change.key];
    return;
  }
  const entry = manifest.images[change.key];
  if (!entry) return;
  if ('patch' in change) Object.assign(entry, change.patch);
  else if (change.value) entry.variants[change.variant] = change.value;
  else delete entry.variants[change.variant];
}
