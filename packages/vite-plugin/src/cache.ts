import { promises as fs } from 'node:fs';
import path from 'node:path';
import { acquireLock } from './lock.js';
import { readIfExists, writeFileAtomic, TEMP_SUFFIX } from './fsutil.js';
import { sha256 } from './key.js';
import { readManifestText, stableStringify } from './manifest-format.js';
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

export { stableStringify };

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
    throw new CacheError(`${file} is not valid JSON (${(error as Error).message}). Nothing was changed: restore it from git (git checkout -- ${path.basename(file)}) or fix it by hand.`);
  }
  const version = read.document.version;
  if (typeof version !== 'number' || !read.images) {
    throw new CacheError(`${file} is not a generated-images manifest: expected { "version": 1, "images": { … } }`);
  }
  if (version > MANIFEST_VERSION) {
    throw new CacheError(`${file} has version ${version}, newer than this plugin understands (${MANIFEST_VERSION}): upgrade vite-plugin-generated-images`);
  }
  const manifest: Manifest = { version, images: {} };
  const duplicates = new Map<string, CacheEntry[]>();
  for (const [key, value] of read.images) {
    const entry = value as CacheEntry;
    if (!/^[0-9a-f]{16}$/.test(key)) throw new CacheError(`${file}: "${key}" is not a cache key (16 hex digits)`);
    if (!entry || typeof entry !== 'object' || typeof entry.sha256 !== 'string') throw new CacheError(`${file}: the entry "${key}" is malformed`);
    if (!isPlainFileName(entry.file)) {
      throw new CacheError(`${file}: the entry "${key}" points at ${JSON.stringify(entry.file)}; files must be plain names inside the cache folder`);
    }
    entry.variants ??= {};
    for (const name of Object.keys(entry.variants)) {
      if (!isPlainFileName(name)) throw new CacheError(`${file}: the entry "${key}" has a variant ${JSON.stringify(name)}; variants must be plain file names inside ${VARIANTS_DIR}/`);
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
  /** Set when the file on disk needed repairs (after a git merge): the next flush rewrites it even with nothing pending. */
  private dirty = false;
  /** What the last read of manifest.json repaired or reconciled, for `status`, `verify` and the build's warnings. */
  notes: string[] = [];
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** How long changes gather before a manifest write; grows with what a write costs (see change()). */
  private flushDelay = 100;

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
    if (text === undefined) {
      this.notes = [];
      return { version: MANIFEST_VERSION, images: {} };
    }
    const { manifest, repairs, duplicates } = parseManifest(text.toString('utf8'), this.manifestPath);
    const notes = repairs.length ? [`${MANIFEST_FILE} was repaired after a git merge (${repairs.join('; ')}); it is rewritten at the next write`] : [];
    for (const [key, candidates] of duplicates) {
      const { entry, note } = await this.reconcile(key, candidates);
      manifest.images[key] = entry;
      notes.push(note);
    }
    this.notes = notes;
    if (notes.length) this.dirty = true;
    return manifest;
  }

  private async matches(file: string, meta: { sha256: string }): Promise<boolean> {
    const data = await readIfExists(file);
    return data !== undefined && sha256(data) === meta.sha256;
  }

  /**
   * One key given several times, as a union merge leaves it when both branches
   * changed the same image: the record that describes the original on disk
   * wins, and the variants of every record of that original are combined.
   */
  private async reconcile(key: string, candidates: CacheEntry[]): Promise<{ entry: CacheEntry; note: string }> {
    let chosen = candidates[0]!;
    for (const candidate of candidates) {
      if (await this.matches(this.originalPath(candidate), candidate)) {
        chosen = candidate;
        break;
      }
    }
    const variants: Record<string, VariantEntry> = {};
    for (const candidate of candidates.filter((c) => c.sha256 === chosen.sha256)) {
      for (const [name, meta] of Object.entries(candidate.variants)) {
        const current = variants[name];
        if (!current || (JSON.stringify(current) !== JSON.stringify(meta) && !(await this.matches(this.variantPath(name), current)))) variants[name] = meta;
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
    const attributes = path.join(this.dir, '.gitattributes');
    if ((await readIfExists(attributes)) === undefined) {
      await writeFileAtomic(attributes, `# Two branches that each generate images merge without a conflict: git's built-in union driver keeps\n# both sides' lines, one image per line, and generated-images repairs and reports what the merge left.\n${MANIFEST_FILE} merge=union\n`);
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

  /** Removes one optimized file of an entry: its record first, then the file (for `prune`). */
  async deleteVariant(key: string, name: string): Promise<void> {
    if (!this.get(key)?.variants[name]) return;
    this.change({ key, variant: name, value: null });
    await this.flush();
    await fs.rm(this.variantPath(name), { force: true });
  }

  /** Writes manifest.json in its committed form now, whatever is pending (after a merge, or from the SPEC's pretty layout). */
  async rewrite(): Promise<void> {
    this.dirty = true;
    await this.flush();
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
    // Variants arrive in bursts; one manifest write per burst instead of one per file. A write re-reads,
    // merges and rewrites the whole manifest (tens of milliseconds at a few hundred images), so the wait
    // is twenty times the last write's cost: writes stay a few percent of one core however large the
    // cache, and a killed build loses at most a second or so of encoding, redone by the next one.
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush().catch(() => {});
    }, this.flushDelay);
  }

  /** Writes pending changes: re-read the file under the lock, apply ours on top, write it atomically. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.flushing) await this.flushing;
    if (this.pending.length === 0 && !this.dirty) return;
    const changes = this.pending;
    this.pending = [];
    this.flushing = (async () => {
      await this.ensureDir();
      const release = await acquireLock(path.join(this.dir, '.lock'), { staleMs: 30_000 });
      try {
        const started = performance.now();
        const onDisk = await this.readFromDisk();
        for (const change of changes) apply(onDisk, change);
        await writeFileAtomic(this.manifestPath, stableStringify(onDisk));
        this.flushDelay = Math.min(5_000, Math.max(100, 20 * (performance.now() - started)));
        this.dirty = false;
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
