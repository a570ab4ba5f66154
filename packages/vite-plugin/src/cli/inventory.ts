import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { CacheEntry } from '../core/cache/manifest.js';
import { readRendered } from '../core/cache/rendered.js';
import type { Diagnostic } from '../core/errors.js';
import { cacheKey, type ImageSpec } from '../core/key.js';
import { byLocation, type SourceLocation } from '../core/location.js';
import { plannedFiles, type PlannedVariant } from '../core/optimize/plan.js';
import type { Ratio } from '../core/ratios.js';
import { sourceFingerprint, usageFiles } from '../sources/fingerprint.js';
import { scanProject } from '../sources/scan.js';
import type { Usage } from '../sources/usage.js';
import { excludedFolders } from '../vite/config.js';
import type { CliContext } from './context.js';

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
  /** An art-direction image: the key of the default image it was generated from. */
  artOf?: string;
}

/**
 * What the last build recorded of the images its pages rendered, when prompts
 * are computed at render time: `none` when every prompt is literal, `absent`
 * when there is no readable record, `stale` when the sources changed since
 * it was written (prompts may have changed with them), `current` otherwise.
 */
export type RecordState = 'none' | 'absent' | 'stale' | 'current';

/** An image a page rendered at the last build, by key (whether or not a literal usage names it too). */
export interface RenderedUse {
  key: string;
  prompt: string;
  ratio: string;
  /** The pages that showed it. */
  pages: string[];
  /** Whether a literal usage in the source names it as well (then it is among `images` too). */
  literal: boolean;
  entry: CacheEntry | undefined;
  originalPresent: boolean;
  /** The files the pages referred to. */
  files: string[];
  /** Of those, the ones not recorded in the manifest or not on disk. */
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
  /** The last build's record of what render-time prompts showed, and whether it still holds. */
  record: RecordState;
  /** Images the record names (empty unless the record is current or stale). */
  rendered: RenderedUse[];
  errors: Diagnostic[];
  warnings: Diagnostic[];
  /** Art-direction images to generate whose default image is itself missing (their keys follow from its bytes). */
  pendingArt: number;
}

const exists = (file: string) => fs.stat(file).then((s) => s.isFile(), () => false);

/** Scans the project as a build does and sets every usage against the cache. */
export async function takeInventory(context: CliContext): Promise<Inventory> {
  const { project, options, pipeline } = context;
  const exclude = excludedFolders(project.root, [options.cacheDir, ...project.unscanned]);
  const [scan] = await Promise.all([
    scanProject({ root: project.root, include: options.include, files: project.htmlInputs, exclude, allowDynamicPrompt: project.allowDynamicPrompt }),
    pipeline.load(),
  ]);
  const cache = pipeline.cache;

  const byKey = new Map<string, UsedImage>();
  const add = async (key: string, spec: ImageSpec, usage: Usage, artOf?: string) => {
    let image = byKey.get(key);
    if (!image) {
      const entry = cache.get(key);
      image = {
        key, prompt: spec.prompt, ratio: spec.ratio, variant: spec.variant, locations: [], usages: [], entry,
        originalPresent: entry ? await exists(cache.originalPath(entry)) : false, planned: [], missingVariants: [],
        ...(artOf ? { artOf } : {}),
      };
      byKey.set(key, image);
    }
    image.locations.push(usage.loc);
    image.usages.push(usage);
  };
  let pendingArt = 0;
  for (const usage of scan.usages) {
    const spec = pipeline.spec(usage);
    const key = cacheKey(spec);
    await add(key, spec, usage);
    // Art direction's generated images are images of their own (so prune keeps them), keyed by the default's bytes.
    const generatedArt = (usage.art ?? []).filter((art) => !art.crop);
    const entry = cache.get(key);
    if (!entry) pendingArt += generatedArt.length;
    else for (const art of generatedArt) {
      const artSpec = pipeline.artSpec(spec, entry, art.ratio);
      await add(cacheKey(artSpec), artSpec, usage, key);
    }
  }

  for (const image of byKey.values()) {
    image.locations.sort(byLocation);
    if (!image.entry) continue;
    const planned = new Map<string, PlannedVariant>();
    const plans = image.usages.flatMap((usage) =>
      image.artOf
        ? [pipeline.plan(image.key, image.entry!, usage, {})]
        : [pipeline.plan(image.key, image.entry!, usage), ...(usage.art ?? []).filter((art) => art.crop).map((art) => pipeline.plan(image.key, image.entry!, usage, { crop: art.ratio }))],
    );
    for (const plan of plans) for (const file of plannedFiles(plan)) planned.set(file.name, file);
    image.planned = [...planned.values()].sort((a, b) => a.name.localeCompare(b.name));
    for (const file of image.planned) {
      if (!image.entry.variants[file.name] || !(await exists(cache.variantPath(file.name)))) image.missingVariants.push(file.name);
    }
  }

  const { record, rendered } = await renderedUses(context, scan.dynamic.length ? usageFiles(scan) : undefined, byKey);
  const renderedKeys = new Set(rendered.map((r) => r.key));
  const unused: UnusedEntry[] = [];
  for (const key of Object.keys(cache.images).sort()) {
    if (byKey.has(key) || renderedKeys.has(key)) continue;
    const entry = cache.images[key]!;
    unused.push({ key, entry, originalPresent: await exists(cache.originalPath(entry)) });
  }

  return {
    usages: scan.usages,
    images: [...byKey.values()].sort((a, b) => byLocation(a.locations[0]!, b.locations[0]!)),
    unused,
    dynamic: scan.dynamic,
    record,
    rendered,
    errors: scan.errors,
    warnings: scan.warnings,
    pendingArt,
  };
}

/** Reads the build's record of rendered images, and checks it against the sources as they are now. */
async function renderedUses(context: CliContext, files: string[] | undefined, literal: ReadonlyMap<string, UsedImage>): Promise<{ record: RecordState; rendered: RenderedUse[] }> {
  if (!files) return { record: 'none', rendered: [] };
  const { project, options, pipeline } = context;
  const saved = await readRendered(options.cacheDir);
  if (!saved) return { record: 'absent', rendered: [] };
  const exclude = excludedFolders(project.root, [options.cacheDir, ...project.unscanned]);
  const now = await sourceFingerprint({ root: project.root, files, dataDirs: project.dataDirs, exclude });
  const pages = new Map<string, string[]>();
  for (const [page, keys] of Object.entries(saved.pages)) for (const key of keys) pages.set(key, [...(pages.get(key) ?? []), page]);
  const rendered: RenderedUse[] = [];
  for (const [key, image] of Object.entries(saved.images).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const entry = pipeline.cache.get(key);
    const originalPresent = entry ? await exists(pipeline.cache.originalPath(entry)) : false;
    const missingVariants: string[] = [];
    if (entry) for (const name of image.files) if (!entry.variants[name] || !(await exists(pipeline.cache.variantPath(name)))) missingVariants.push(name);
    rendered.push({ key, prompt: image.prompt, ratio: image.ratio, pages: (pages.get(key) ?? []).sort(), literal: literal.has(key), entry, originalPresent, files: image.files, missingVariants });
  }
  return { record: saved.sources === now ? 'current' : 'stale', rendered };
}
