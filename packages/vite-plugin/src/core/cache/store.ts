import { randomBytes } from 'node:crypto';
import { promises as fs, statSync } from 'node:fs';
import path from 'node:path';
import { readIfExists, readIfExistsSync, writeFileAtomic, TEMP_SUFFIX } from '../fs/atomic.js';
import { acquireLock, isHeld } from '../fs/lock.js';
import { sha256 } from '../key.js';
import { apply, type Change } from './changes.js';
import { cacheError, MANIFEST_FILE, MANIFEST_VERSION, parseManifest, VARIANTS_DIR, type CacheEntry, type Manifest, type VariantEntry } from './manifest.js';
import { inCommittedLayout, stableStringify } from './manifest-text.js';
import { reconcile } from './reconcile.js';

/** What `prune` deletes: entries with all their files, single variants, and files no record names (absolute paths). */
export interface Removal {
  entries: string[];
  variants: Array<{ key: string; name: string }>;
  unrecorded: string[];
}

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
  /** Files being written that are not yet among the pending changes. */
  private writes = 0;
  /**
   * A lock file of this store's own, held from its first file write until the
   * manifest records every file it wrote: while one is held, `prune` leaves
   * files the manifest does not name, as that process may be about to record them.
   */
  private writing: Promise<() => Promise<void>> | undefined;
  private readonly lockPath: string;

  constructor(dir: string) {
    this.dir = dir;
    this.variantsDir = path.join(dir, VARIANTS_DIR);
    this.manifestPath = path.join(dir, MANIFEST_FILE);
    this.lockPath = path.join(dir, '.lock');
  }

  /** Reads the manifest from disk; a missing one is an empty cache, a broken one an error that touches nothing. */
  async load(): Promise<this> {
    while (this.flushing) await this.flushing.catch(() => {});
    this.manifest = await this.readFromDisk();
    for (const change of this.pending) apply(this.manifest, change);
    return this;
  }

  private async readFromDisk(): Promise<Manifest> {
    // Read synchronously (see readIfExistsSync): the build waits on the manifest before it bundles anything.
    const stat = statSync(this.dir, { throwIfNoEntry: false });
    if (stat && !stat.isDirectory()) throw cacheError(`cacheDir ${this.dir} exists and is not a folder`);
    const text = readIfExistsSync(this.manifestPath);
    if (text === undefined) {
      this.notes = [];
      return { version: MANIFEST_VERSION, images: {} };
    }
    const source = text.toString('utf8');
    const { manifest, repairs, duplicates } = parseManifest(source, this.manifestPath);
    const notes = repairs.length ? [`${MANIFEST_FILE} was repaired after a git merge (${repairs.join('; ')}); it is rewritten at the next write`] : [];
    for (const [key, candidates] of duplicates) {
      const { entry, note } = await reconcile(key, candidates, this);
      manifest.images[key] = entry;
      notes.push(note);
    }
    if (!notes.length && !inCommittedLayout(source, Object.keys(manifest.images).length)) {
      notes.push(`${MANIFEST_FILE} is not in its merge-safe layout (one image per line, written by an earlier version or by hand); it is rewritten in that layout at the next write`);
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

  /** A small variant (a placeholder of some tens of bytes) checked against its record; undefined when missing or different. */
  readVariant(key: string, name: string): Buffer | undefined {
    const meta = this.get(key)?.variants[name];
    if (!meta) return undefined;
    const data = readIfExistsSync(this.variantPath(name));
    if (data === undefined || data.length !== meta.bytes || sha256(data) !== meta.sha256) return undefined;
    return data;
  }

  /** Stores a newly generated original: the file first (atomically), then its manifest entry. */
  async putOriginal(key: string, data: Buffer, entry: Omit<CacheEntry, 'file' | 'bytes' | 'sha256' | 'variants'>, extension: string): Promise<CacheEntry> {
    await this.ensureDir();
    const file = `${key}.${extension}`;
    const full: CacheEntry = { ...entry, file, bytes: data.length, sha256: sha256(data), variants: {} };
    await this.writeUnrecorded(path.join(this.dir, file), data, { key, entry: full });
    await this.flush();
    return full;
  }

  async putVariant(key: string, name: string, data: Buffer, meta: Omit<VariantEntry, 'sha256' | 'bytes'>): Promise<VariantEntry> {
    await this.ensureDir();
    const value: VariantEntry = { ...meta, sha256: sha256(data), bytes: data.length };
    await this.writeUnrecorded(this.variantPath(name), data, { key, variant: name, value });
    return value;
  }

  /** Writes a file the manifest does not name yet, under this store's writing lock, and queues the change that names it. */
  private async writeUnrecorded(file: string, data: Buffer, change: Change): Promise<void> {
    this.writes++;
    try {
      this.writing ??= acquireLock(path.join(this.dir, '.locks', `writing-${randomBytes(6).toString('hex')}.lock`));
      await this.writing;
      await writeFileAtomic(file, data);
      this.change(change);
    } finally {
      this.writes--;
    }
  }

  /** Whether a process other than this one has written files that its manifest changes do not record yet. */
  private async othersWriting(): Promise<boolean> {
    const locks = path.join(this.dir, '.locks');
    const names = (await fs.readdir(locks).catch(() => [] as string[])).filter((n) => n.startsWith('writing-'));
    const mine = this.writing ? 1 : 0;
    const held = await Promise.all(names.map((n) => isHeld(path.join(locks, n))));
    return held.filter(Boolean).length > mine;
  }

  patch(key: string, patch: Partial<CacheEntry>): void {
    this.change({ key, patch });
  }


  /** Writes manifest.json in its committed form now, whatever is pending (after a merge, or from the SPEC's pretty layout). */
  async rewrite(): Promise<void> {
    this.dirty = true;
    await this.flush();
  }

  /**
   * What `prune` deletes, under the manifest lock that every build's writes
   * take, in one manifest write: the records first, then their files, then the
   * files no record names — those only while no other process is writing, as
   * it may be about to record them (they are returned, kept).
   */
  async remove(removal: Removal): Promise<string[]> {
    await this.flush();
    const release = await acquireLock(this.lockPath);
    try {
      const onDisk = await this.readFromDisk();
      const files: string[] = [];
      for (const key of removal.entries) {
        const entry = onDisk.images[key];
        if (!entry) continue;
        files.push(this.originalPath(entry), ...Object.keys(entry.variants).map((name) => this.variantPath(name)));
        delete onDisk.images[key];
      }
      for (const { key, name } of removal.variants) {
        if (!onDisk.images[key]?.variants[name]) continue;
        delete onDisk.images[key]!.variants[name];
        files.push(this.variantPath(name));
      }
      await writeFileAtomic(this.manifestPath, stableStringify(onDisk));
      this.manifest = onDisk;
      this.dirty = false;
      await Promise.all(files.map((file) => fs.rm(file, { force: true })));

      const named = new Set<string>();
      for (const entry of Object.values(onDisk.images)) {
        named.add(this.originalPath(entry));
        for (const name of Object.keys(entry.variants)) named.add(this.variantPath(name));
      }
      const unrecorded = removal.unrecorded.filter((file) => !named.has(file));
      if (unrecorded.length && (await this.othersWriting())) return unrecorded;
      await Promise.all(unrecorded.map((file) => fs.rm(file, { force: true })));
      return [];
    } finally {
      await release();
    }
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
    // Never what keeps a finished process alive: builds and the CLI flush before they end.
    this.timer.unref();
  }

  /** Writes pending changes: re-read the file under the lock, apply ours on top, write it atomically. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.flushing) await this.flushing;
    if (this.pending.length === 0 && !this.dirty) return this.doneWriting();
    const changes = this.pending;
    this.pending = [];
    this.flushing = (async () => {
      await this.ensureDir();
      const release = await acquireLock(this.lockPath);
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
    await this.doneWriting();
  }

  /** Lets go of the writing lock once the manifest records every file this store wrote. */
  private async doneWriting(): Promise<void> {
    if (!this.writing || this.writes > 0 || this.pending.length > 0 || this.flushing) return;
    const writing = this.writing;
    this.writing = undefined;
    await (await writing)();
  }

  /** Serializes work on one key across processes (generation), so an image is never requested twice. */
  lockKey(key: string, signal?: AbortSignal): Promise<() => Promise<void>> {
    return acquireLock(path.join(this.dir, '.locks', `${key}.lock`), { signal });
  }
}
