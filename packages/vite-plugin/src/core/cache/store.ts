import { promises as fs } from 'node:fs';
import path from 'node:path';
import { readIfExists, writeFileAtomic, TEMP_SUFFIX } from '../fs/atomic.js';
import { acquireLock } from '../fs/lock.js';
import { sha256 } from '../key.js';
import { apply, type Change } from './changes.js';
import { cacheError, MANIFEST_FILE, MANIFEST_VERSION, parseManifest, VARIANTS_DIR, type CacheEntry, type Manifest, type VariantEntry } from './manifest.js';
import { stableStringify } from './manifest-text.js';
import { reconcile } from './reconcile.js';

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
    if (stat && !stat.isDirectory()) throw cacheError(`cacheDir ${this.dir} exists and is not a folder`);
    const text = await readIfExists(this.manifestPath);
    if (text === undefined) {
      this.notes = [];
      return { version: MANIFEST_VERSION, images: {} };
    }
    const { manifest, repairs, duplicates } = parseManifest(text.toString('utf8'), this.manifestPath);
    const notes = repairs.length ? [`${MANIFEST_FILE} was repaired after a git merge (${repairs.join('; ')}); it is rewritten at the next write`] : [];
    for (const [key, candidates] of duplicates) {
      const { entry, note } = await reconcile(key, candidates, this);
      manifest.images[key] = entry;
      notes.push(note);
    }
    this.notes = notes;
    if (notes.length) this.dirty = true;
    return manifest;
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
    if (!entry) throw cacheError(`no cache entry ${key}`);
    const file = this.originalPath(entry);
    const data = await readIfExists(file);
    if (data === undefined) throw cacheError(`${file} is listed in the manifest (entry ${key}, prompt ${JSON.stringify(entry.prompt.slice(0, 60))}) but missing: restore it from git, or delete the entry with \`generated-images prune\` to generate it again`);
    if (sha256(data) !== entry.sha256) throw cacheError(`${file} does not match its sha256 in the manifest (entry ${key}): restore it from git; nothing was changed`);
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
