import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isStaleTemp } from '../core/fs/atomic.js';
import type { CacheEntry } from '../core/cache/manifest.js';
import { RENDERED_FILE } from '../core/cache/rendered.js';
import type { Removal } from '../core/cache/store.js';
import { relativeLocation } from '../core/location.js';
import type { CliContext } from './context.js';
import { describeImage, locations, plural, size } from './format.js';
import { takeInventory } from './inventory.js';

interface Deletion {
  /** An image's entry (with its files), or a single file or record. */
  kind: 'image' | 'file';
  what: string;
  why: string;
  bytes: number;
  /** What it removes: an entry, a variant's record and file, or a file no record names. */
  target: { entry: string } | { key: string; variant: string } | { file: string };
}

const ORIGINAL = /^([0-9a-f]{16})\.(png|jpe?g|webp)$/;

async function fileSize(file: string): Promise<number> {
  return (await fs.stat(file).catch(() => undefined))?.size ?? 0;
}

function removal(deletions: Deletion[]): Removal {
  const result: Removal = { entries: [], variants: [], unrecorded: [] };
  for (const { target } of deletions) {
    if ('entry' in target) result.entries.push(target.entry);
    else if ('variant' in target) result.variants.push({ key: target.key, name: target.variant });
    else result.unrecorded.push(target.file);
  }
  return result;
}

/** "2 images and 3 files": entries with everything of theirs, and single files or records. */
function counted(items: Array<{ kind: 'image' | 'file' }>): string {
  const images = items.filter((i) => i.kind === 'image').length;
  const files = items.length - images;
  return [images && plural(images, 'image'), files && plural(files, 'file')].filter(Boolean).join(' and ');
}

/**
 * `generated-images prune`: deletes what no usage refers to, always through the
 * cache store — under the lock builds write the manifest with, in one write,
 * records first, then files — so that the manifest never names a missing file,
 * a prune killed half-way leaves only orphans for the next one, and a file a
 * running build has written but not recorded yet is never taken for an orphan.
 */
export async function prune(context: CliContext, flags: { 'dry-run'?: boolean; 'include-dynamic'?: boolean }): Promise<number> {
  const { project, pipeline } = context;
  const cache = pipeline.cache;
  const inventory = await takeInventory(context);
  if (inventory.errors.length) {
    process.stderr.write(
      `prune refused: ${plural(inventory.errors.length, 'usage is', 'usages are')} invalid, and the images they mean cannot be told apart from unused ones. Fix ${inventory.errors.length === 1 ? 'it' : 'them'} first:\n` +
        `${inventory.errors.map((e) => `  ${relativeLocation(e.loc, project.root)}: ${e.reason}`).join('\n')}\n`,
    );
    return 1;
  }
  // Render-time prompts (Astro) may use any entry the last build's record does not name, unless that record still
  // describes the sources: then what they use is known. Without one, keep what only they could use.
  const known = inventory.record === 'none' || inventory.record === 'current';
  const guarded = !known && !flags['include-dynamic'];
  const deletions: Deletion[] = [];
  const kept: Array<{ kind: 'image' | 'file'; what: string }> = [];
  const variantBytes = (variants: Record<string, { bytes: number }>) => Object.values(variants).reduce((n, v) => n + v.bytes, 0);

  for (const { key, entry } of inventory.unused) {
    const line = `${key}  ${describeImage(entry)}`;
    if (guarded) kept.push({ kind: 'image', what: line });
    else {
      const files = `${entry.file} and ${plural(Object.keys(entry.variants).length, 'variant')}`;
      const why = inventory.record === 'current' ? 'no usage refers to it and no page showed it at the last build' : inventory.dynamic.length ? 'no static usage refers to it' : 'used nowhere';
      deletions.push({ kind: 'image', what: line, why: `${why} (${files})`, bytes: entry.bytes + variantBytes(entry.variants), target: { entry: key } });
    }
  }
  // The files each used image shows: planned by its literal usages, and referred to by the pages the record names.
  const used = new Map<string, { image: { key: string; prompt: string; ratio: string; variant?: number }; where: string; entry: CacheEntry; originalPresent: boolean; shown: Set<string>; missing: Set<string> }>();
  for (const image of inventory.images) {
    if (image.entry) used.set(image.key, { image, where: locations(image.locations, project.root), entry: image.entry, originalPresent: image.originalPresent, shown: new Set(image.planned.map((f) => f.name)), missing: new Set(image.missingVariants) });
  }
  for (const image of inventory.rendered) {
    if (!image.entry) continue;
    const known = used.get(image.key);
    if (known) for (const name of image.files) known.shown.add(name);
    else used.set(image.key, { image: { ...image, variant: image.entry.variant }, where: `rendered on ${image.pages.join(', ')}`, entry: image.entry, originalPresent: image.originalPresent, shown: new Set(image.files), missing: new Set() });
    for (const name of image.missingVariants) used.get(image.key)!.missing.add(name);
  }
  for (const { image, where, entry, originalPresent, shown, missing } of used.values()) {
    if (!originalPresent) {
      deletions.push({
        kind: 'image',
        what: `${image.key}  ${describeImage(image)}`,
        why: `${entry.file} is missing, so the entry is dropped and the next build or \`generated-images generate\` makes it again (${where})`,
        bytes: variantBytes(entry.variants),
        target: { entry: image.key },
      });
      continue;
    }
    for (const [name, meta] of Object.entries(entry.variants)) {
      const what = context.rel(cache.variantPath(name));
      if (shown.has(name)) {
        if (missing.has(name)) {
          deletions.push({ kind: 'file', what, why: 'recorded but missing: its record is dropped so that the next build encodes it again', bytes: 0, target: { key: image.key, variant: name } });
        }
      } else if (guarded) kept.push({ kind: 'file', what });
      else deletions.push({ kind: 'file', what, why: `no usage shows it any more (of ${image.key})`, bytes: meta.bytes, target: { key: image.key, variant: name } });
    }
  }

  // Files the manifest does not name: variants never recorded, originals of interrupted builds, temp files of dead writers.
  const named = new Set<string>();
  const recordedVariants = new Set<string>();
  for (const entry of Object.values(cache.images)) {
    named.add(entry.file);
    for (const name of Object.keys(entry.variants)) recordedVariants.add(name);
  }
  const usedKeys = new Set([...inventory.images.map((i) => i.key), ...inventory.rendered.map((r) => r.key)]);
  const orphan = async (dir: string, name: string, why: string) => {
    const file = path.join(dir, name);
    deletions.push({ kind: 'file', what: context.rel(file), why, bytes: await fileSize(file), target: { file } });
  };
  for (const name of (await fs.readdir(cache.variantsDir).catch(() => [] as string[])).sort()) {
    if (isStaleTemp(name)) await orphan(cache.variantsDir, name, 'left by an interrupted write');
    else if (!name.startsWith('.') && !recordedVariants.has(name)) await orphan(cache.variantsDir, name, 'not in manifest.json');
  }
  for (const name of (await fs.readdir(cache.dir).catch(() => [] as string[])).sort()) {
    const match = ORIGINAL.exec(name);
    if (isStaleTemp(name)) await orphan(cache.dir, name, 'left by an interrupted write');
    // An original whose entry never landed is adopted by the next build that uses it, at no cost: keep those.
    else if (match && !named.has(name) && !usedKeys.has(match[1]!)) {
      if (guarded) kept.push({ kind: 'file', what: context.rel(path.join(cache.dir, name)) });
      else await orphan(cache.dir, name, 'not in manifest.json and used nowhere');
    }
  }

  const dry = flags['dry-run'];
  const busy = new Set(dry ? [] : await cache.remove(removal(deletions)));
  const out: string[] = [];
  for (const deletion of deletions) {
    if ('file' in deletion.target && busy.has(deletion.target.file)) {
      out.push(`kept  ${deletion.what} — ${deletion.why}, but another process is writing to the cache and may be about to record it: run prune again once it is done`);
    } else out.push(`${dry ? 'would delete' : 'deleted'}  ${deletion.what} — ${deletion.why}`);
  }
  if (kept.length) {
    out.push(
      `kept ${counted(kept)} that no static usage refers to: ${plural(inventory.dynamic.length, 'prompt is', 'prompts are')} computed at render time (${locations(inventory.dynamic, project.root)}) and may use them, and ${inventory.record === 'stale' ? 'the sources changed since the last build recorded what its pages showed' : 'no build has recorded what its pages showed'} (${context.rel(path.join(cache.dir, RENDERED_FILE))})`,
      ...kept.map((k) => `  ${k.what}`),
      `run \`${project.framework} build\` to update the record, then prune again; or pass --include-dynamic to delete them anyway (the images the last build's pages showed are kept; one a render-time prompt uses since is then generated again, at its cost)`,
    );
  }
  const done = deletions.filter((d) => !('file' in d.target && busy.has(d.target.file)));
  const bytes = done.reduce((n, d) => n + d.bytes, 0);
  out.push(done.length ? `${dry ? 'dry run: would delete' : 'pruned'} ${counted(done)}${bytes ? ` (${size(bytes)})` : ''}${dry ? '; nothing was changed' : ''}` : 'nothing to prune');
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}
