import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { CacheEntry } from '../cache.js';
import type { SourceLocation, UsageError } from '../location.js';
import { plannedFiles, type PlannedVariant } from '../optimize.js';
import type { Ratio } from '../ratios.js';
import { scanProject } from '../scan.js';
import type { Usage } from '../usage.js';
import type { CliContext } from './context.js';
import { findRenderTimePrompts } from './dynamic.js';

/** One image the source asks for, and what the cache holds of it. */
export interface UsedImage {
  key: string;
  prompt: string;
  ratio: Ratio;
  variant: number;
  locations: SourceLocation[];
  usages: Usage[];
  entry: CacheEntry | undefined;
  /** Whether the original named by the entry is on disk. */
  originalPresent: boolean;
  /** Every file the build shows for it, over all of its usages (their widths, formats and quality). */
  planned: PlannedVariant[];
  /** Planned files not recorded in the manifest or not on disk: the next build would encode them. */
  missingVariants: string[];
}

export interface UnusedEntry {
  key: string;
  entry: CacheEntry;
  originalPresent: boolean;
}

export interface Inventory {
  usages: Usage[];
  images: UsedImage[];
  unused: UnusedEntry[];
  /** Usages whose prompt is only known at render time (Astro). */
  dynamic: SourceLocation[];
  errors: UsageError[];
  warnings: UsageError[];
}

const exists = (file: string) => fs.stat(file).then((s) => s.isFile(), () => false);

function byLocation(a: SourceLocation, b: SourceLocation): number {
  return a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column;
}

/** Folders inside the root that are never scanned, as the plugin excludes them. */
export function excludedFolders(context: CliContext): string[] {
  return [context.options.cacheDir, context.project.outDir]
    .map((dir) => path.relative(context.project.root, dir))
    .filter((p) => p && !p.startsWith('..') && !path.isAbsolute(p))
    .map((p) => `${p}/**`);
}

/** Scans the project as a build does and sets every usage against the cache. */
export async function takeInventory(context: CliContext): Promise<Inventory> {
  const { project, options, pipeline } = context;
  const exclude = excludedFolders(context);
  const [scan, dynamic] = await Promise.all([
    scanProject({ root: project.root, include: options.include, files: project.htmlInputs, exclude, allowDynamicPrompt: project.allowDynamicPrompt }),
    findRenderTimePrompts({ root: project.root, include: options.include, exclude, anyFile: project.allowDynamicPrompt }),
    pipeline.load(),
  ]);
  const cache = pipeline.cache;

  const byKey = new Map<string, UsedImage>();
  for (const usage of scan.usages) {
    const key = pipeline.key(usage);
    let image = byKey.get(key);
    if (!image) {
      const spec = pipeline.spec(usage);
      const entry = cache.get(key);
      image = {
        key, prompt: spec.prompt, ratio: spec.ratio, variant: spec.variant, locations: [], usages: [], entry,
        originalPresent: entry ? await exists(cache.originalPath(entry)) : false, planned: [], missingVariants: [],
      };
      byKey.set(key, image);
    }
    image.locations.push(usage.loc);
    image.usages.push(usage);
  }

  for (const image of byKey.values()) {
    image.locations.sort(byLocation);
    if (!image.entry) continue;
    const planned = new Map<string, PlannedVariant>();
    for (const usage of image.usages) for (const file of plannedFiles(pipeline.plan(image.key, image.entry, usage))) planned.set(file.name, file);
    image.planned = [...planned.values()].sort((a, b) => a.name.localeCompare(b.name));
    for (const file of image.planned) {
      if (!image.entry.variants[file.name] || !(await exists(cache.variantPath(file.name)))) image.missingVariants.push(file.name);
    }
  }

  const unused: UnusedEntry[] = [];
  for (const key of Object.keys(cache.images).sort()) {
    if (byKey.has(key)) continue;
    const entry = cache.images[key]!;
    unused.push({ key, entry, originalPresent: await exists(cache.originalPath(entry)) });
  }

  return {
    usages: scan.usages,
    images: [...byKey.values()].sort((a, b) => byLocation(a.locations[0]!, b.locations[0]!)),
    unused,
    dynamic,
    errors: scan.errors,
    warnings: scan.warnings,
  };
}
