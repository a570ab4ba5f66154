import { promises as fs } from 'node:fs';
import path from 'node:path';
import { acquireLock } from './lock.js';
import { readIfExists, writeFileAtomic, TEMP_SUFFIX } from './fsutil.js';
import { sha256 } from './key.js';
import type { Format } from './options.js';
import type { ImageSize, Ratio } from './ratios.js';

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

export class CacheError extends Error {
  constructor(message: string) {
    super(`[generated-images] ${message}`);
    this.name = 'CacheError';
  }
}

/** A file name that stays inside its folder: no separators, no `..`, nothing hidden. */
export function isPlainFileName(name: unknown): name is string {
  return typeof name === 'string' && name !== '' && !/[\\/\0]/.test(name) && name !== '.' && name !== '..' && !name.startsWith('.');
}

/** JSON with keys sorted at every level and 2-space indent, so a diff shows only what changed. */
export function stableStringify(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return `${JSON.stringify(sort(value), null, 2)}\n`;
}

function parseManifest(text: string, file: string): Manifest {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new CacheError(`${file} is not valid JSON (${(error as Error).message}). Nothing was changed: restore it from git (git checkout -- ${path.basename(file)}) or fix it by hand.`);
  }
  const manifest = data as Manifest;
  if (!manifest || typeof manifest !== 'object' || typeof manifest.version !== 'number' || typeof manifest.images !== 'object' || manifest.images === null) {
    throw new CacheError(`${file} is not a generated-images manifest: expected { "version": 1, "images": { … } }`);
  }
  if (manifest.version > MANIFEST_VERSION) {
    throw new CacheError(`${file} has version ${manifest.version}, newer than this plugin understands (${MANIFEST_VERSION}): upgrade vite-plugin-generated-images`);
  }
  for (const [key, entry] of Object.entries(manifest.images)) {
    if (!/^[0-9a-f]{16}$/.test(key)) throw new CacheError(`${file}: "${key}" is not a cache key (16 hex digits)`);
    if (!entry || typeof entry !== 'object' || typeof entry.sha256 !== 'string') throw new CacheError(`${file}: the entry "${key}" is malformed`);
    if (!isPlainFileName(entry.file)) {
      throw new CacheError(`${file}: the entry "${key}" points at ${JSON.stringify(entry.file)}; files must be plain names inside the cache folder`);
    }
    entry.variants ??= {};
    for (const name of Object.keys(entry.variants)) {
      if (!isPlainFileName(name)) throw new CacheError(`${file}: the entry "${key}" has a variant ${JSON.stringify(name)}; variants must be plain file names inside ${VARIANTS_DIR}/`);
    }
  }
  return manifest;
}

type Change = { key: string; entry: CacheEntry | null } | { key: string; variant: string; value: VariantEntry | null } | { key: string; patch: Partial<CacheEntry> };

/**
 * The committed cache folder: `manifest.json`, the originals, and `variants/`.
 * Files are written before the manifest names them, each atomically; manifest
 * changes are merged into the file on disk under a lock, so that several
 * processes sharing the folder never drop each other's entries.
 */
export class CacheStore {
  readonly dir: string;
  readonly variantsDir: string;
  readonly manifestPath: string;
  private manifest: Manifest = { version: MANIFEST_VERSION, images: {} };
  private pending: Change[] = [];
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(dir: string) {
    this.dir = dir;
    this.variantsDir = path.join(dir, VARIANTS_DIR);
    this.manifestPath = path.join(dir, MANIFEST_FILE);
  }

  /** Reads the manifest from disk; a missing one is an empty cache, a broken one an error that touches nothing. */
  async load(): Promise<this> {
    while (this.flushing) await this.flushing.catch(() => {});
    this.manifest = await this.readFromDisk();
    for (const change of this.pending) apply(this.manifest, change);
    return this;
  }

  private async readFromDisk(): Promise<Manifest> {
    const stat = await fs.stat(this.dir).catch(() => undefined);
    if (stat && !stat.isDirectory()) throw new CacheError(`cacheDir ${this.dir} exists and is not a folder`);
    const text = await readIfExists(this.manifestPath);
    if (text === undefined) return { version: MANIFEST_VERSION, images: {} };
    return parseManifest(text.toString('utf8'), this.manifestPath);
  }

  get images(): Readonly<Record<string, CacheEntry>> {
    return this.manifest.images;
  }

  get(key: string): CacheEntry | undefined {
    return Object.hasOwn(this.manifest.images, key) ? this.manifest.images[key] : undefined;
  }

  originalPath(entry: Pick<CacheEntry, 'file'>): string {
    return path.join(this.dir, entry.file);
  }

  variantPath(name: string): string {
    return path.join(this.variantsDir, name);
  }

  async ensureDir(): Promise<void> {
    await fs.mkdir(this.variantsDir, { recursive: true });
    const ignore = path.join(this.dir, '.gitignore');
    if ((await readIfExists(ignore)) === undefined) {
      await writeFileAtomic(ignore, `# Locks and temp files of generated-images; everything else here is committed.\n.lock\n.locks/\n*${TEMP_SUFFIX}\n`);
    }
  }

  /** Reads an original and checks it against its sha256, so a tampered or truncated file is never optimized into the site. */
  async readOriginal(key: string): Promise<Buffer> {
    const entry = this.get(key);
    if (!entry) throw new CacheError(`no cache entry ${key}`);
    const file = this.originalPath(entry);
    const data = await readIfExists(file);
    if (data === undefined) throw new CacheError(`${file} is listed in the manifest (entry ${key}, prompt ${JSON.stringify(entry.prompt.slice(0, 60))}) but missing: restore it from git, or delete the entry with \`generated-images prune\` to generate it again`);
    if (sha256(data) !== entry.sha256) throw new CacheError(`${file} does not match its sha256 in the manifest (entry ${key}): restore it from git; nothing was changed`);
    return data;
  }

  async readVariant(key: string, name: string): Promise<Buffer | undefined> {
    const meta = this.get(key)?.variants[name];
    if (!meta) return undefined;
    const data = await readIfExists(this.variantPath(name));
    if (data === undefined || data.length !== meta.bytes || sha256(data) !== meta.sha256) return undefined;
    return data;
  }

  /** Stores a newly generated original: the file first (atomically), then its manifest entry. */
  async putOriginal(key: string, data: Buffer, entry: Omit<CacheEntry, 'file' | 'bytes' | 'sha256' | 'variants'>, extension: string): Promise<CacheEntry> {
    await this.ensureDir();
    const file = `${key}.${extension}`;
    await writeFileAtomic(path.join(this.dir, file), data);
    const full: CacheEntry = { ...entry, file, bytes: data.length, sha256: sha256(data), variants: {} };
    this.change({ key, entry: full });
    await this.flush();
    return full;
  }

  async putVariant(key: string, name: string, data: Buffer, meta: Omit<VariantEntry, 'sha256' | 'bytes'>): Promise<VariantEntry> {
    await this.ensureDir();
    await writeFileAtomic(this.variantPath(name), data);
    const value: VariantEntry = { ...meta, sha256: sha256(data), bytes: data.length };
    this.change({ key, variant: name, value });
    return value;
  }

  patch(key: string, patch: Partial<CacheEntry>): void {
    this.change({ key, patch });
  }

  /** Removes an entry and its files (for `prune`). */
  async delete(key: string): Promise<void> {
    const entry = this.get(key);
    if (!entry) return;
    this.change({ key, entry: null });
    await this.flush();
    await fs.rm(this.originalPath(entry), { force: true });
    await Promise.all(Object.keys(entry.variants).map((name) => fs.rm(this.variantPath(name), { force: true })));
  }

  private change(change: Change): void {
    apply(this.manifest, change);
    this.pending.push(change);
    // Variants arrive in bursts; one manifest write per burst instead of one per file.
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush().catch(() => {});
    }, 100);
  }

  /** Writes pending changes: re-read the file under the lock, apply ours on top, write it atomically. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.flushing) await this.flushing;
    if (this.pending.length === 0) return;
    const changes = this.pending;
    this.pending = [];
    this.flushing = (async () => {
      await this.ensureDir();
      const release = await acquireLock(path.join(this.dir, '.lock'), { staleMs: 30_000 });
      try {
        const onDisk = await this.readFromDisk();
        for (const change of changes) apply(onDisk, change);
        await writeFileAtomic(this.manifestPath, stableStringify(onDisk));
        for (const change of this.pending) apply(onDisk, change);
        this.manifest = onDisk;
      } catch (error) {
        this.pending.unshift(...changes);
        throw error;
      } finally {
        await release();
      }
    })();
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
  }

  /** Serializes work on one key across processes (generation), so an image is never requested twice. */
  lockKey(key: string, staleMs: number): Promise<() => Promise<void>> {
    return acquireLock(path.join(this.dir, '.locks', `${key}.lock`), { staleMs });
  }
}

function apply(manifest: Manifest, change: Change): void {
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
