import path from 'node:path';
import { GeneratedImagesError } from '../errors.js';
import type { ReferenceFile } from '../key.js';
import type { Format } from '../options.js';
import type { ImageSize, Ratio } from '../ratios.js';
import { readManifestText } from './manifest-text.js';

/** The data of the committed cache, as `manifest.json` records it, and how the file is read. */

export const MANIFEST_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';
export const VARIANTS_DIR = 'variants';

/** How an optimized file was made from its source; part of its name's hash. */
export interface Transform {
  format: Format;
  quality: number;
  effort: number;
  /** Present on the tiny inline placeholder, which is not offered in `srcset`. */
  placeholder?: true;
  /** Art direction's `crop`: cut to this ratio (sharp's attention crop) before scaling. */
  crop?: Ratio;
}

export interface VariantEntry {
  sha256: string;
  bytes: number;
  width: number;
  height: number;
  transform: Transform;
}

/** One generated image in the committed cache, as recorded in `manifest.json`. */
export interface CacheEntry {
  prompt: string;
  style: string | null;
  ratio: Ratio;
  variant: number;
  imageSize: ImageSize | null;
  model: string;
  file: string;
  width: number;
  height: number;
  bytes: number;
  sha256: string;
  createdAt: string;
  modelText: string | null;
  /** US dollars the gateway reported for it (`usage.cost`), when it did. */
  cost?: number;
  /** The image inputs it was generated with, in order; absent when none. */
  references?: ReferenceFile[];
  /** Whether the original has an alpha channel: the fallback is then PNG, not JPEG. */
  hasAlpha?: boolean;
  /** Dominant colour, for `placeholder: 'color'`. */
  color?: string;
  variants: Record<string, VariantEntry>;
}

export interface Manifest {
  version: number;
  images: Record<string, CacheEntry>;
}

/** A file name that stays inside its folder: no separators, no `..`, nothing hidden. */
export function isPlainFileName(name: unknown): name is string {
  return typeof name === 'string' && name !== '' && !/[\\/\0]/.test(name) && name !== '.' && name !== '..' && !name.startsWith('.');
}

/** A manifest as read: entries, with what had to be repaired and the keys given more than once (after a git merge). */
export interface ParsedManifest {
  manifest: Manifest;
  repairs: string[];
  duplicates: Map<string, CacheEntry[]>;
}

export function parseManifest(text: string, file: string): ParsedManifest {
  let read: ReturnType<typeof readManifestText>;
  try {
    read = readManifestText(text);
  } catch (error) {
    throw cacheError(`${file} is not valid JSON (${(error as Error).message}). Nothing was changed: restore it from git (git checkout -- ${path.basename(file)}) or fix it by hand.`);
  }
  const version = read.document.version;
  if (typeof version !== 'number' || !read.images) {
    throw cacheError(`${file} is not a generated-images manifest: expected { "version": 1, "images": { … } }`);
  }
  if (version > MANIFEST_VERSION) {
    throw cacheError(`${file} has version ${version}, newer than this plugin understands (${MANIFEST_VERSION}): upgrade vite-plugin-generated-images`);
  }
  const manifest: Manifest = { version, images: {} };
  const duplicates = new Map<string, CacheEntry[]>();
  for (const [key, value] of read.images) {
    const entry = value as CacheEntry;
    if (!/^[0-9a-f]{16}$/.test(key)) throw cacheError(`${file}: "${key}" is not a cache key (16 hex digits)`);
    if (!entry || typeof entry !== 'object' || typeof entry.sha256 !== 'string') throw cacheError(`${file}: the entry "${key}" is malformed`);
    if (!isPlainFileName(entry.file)) {
      throw cacheError(`${file}: the entry "${key}" points at ${JSON.stringify(entry.file)}; files must be plain names inside the cache folder`);
    }
    entry.variants ??= {};
    for (const name of Object.keys(entry.variants)) {
      if (!isPlainFileName(name)) throw cacheError(`${file}: the entry "${key}" has a variant ${JSON.stringify(name)}; variants must be plain file names inside ${VARIANTS_DIR}/`);
    }
    if (Object.hasOwn(manifest.images, key)) {
      const list = duplicates.get(key) ?? [manifest.images[key]!];
      list.push(entry);
      duplicates.set(key, list);
    } else manifest.images[key] = entry;
  }
  const keys = read.images.map(([key]) => key);
  const repairs = [...read.repairs];
  if (keys.some((key, i) => i > 0 && keys[i - 1]! > key)) repairs.push('images out of key order');
  return { manifest, repairs, duplicates };
}

export function cacheError(message: string, hint?: string): GeneratedImagesError {
  return new GeneratedImagesError('CACHE', message, { hint });
}
