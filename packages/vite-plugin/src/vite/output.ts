import { closeSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import { cacheError } from '../core/cache/manifest.js';
import type { CacheStore } from '../core/cache/store.js';
import type { ResolvedImage } from '../core/pipeline.js';

/** The part of Rollup's and Rolldown's plugin context that puts a file into the bundle. */
export interface FileEmitter {
  emitFile(file: { type: 'asset'; name: string; fileName: string; originalFileName: string; source: Uint8Array }): string;
  /** Set by Rolldown (Vite 8): its version. */
  meta?: { rolldownVersion?: string };
}

/**
 * Reads committed files, each exactly as long as its manifest record says,
 * synchronously: a variant is some tens of kilobytes, and through fs.promises
 * its open, stat, read and close are four thread-pool round trips.
 *
 * Under Rolldown one buffer serves every read. Its emitFile copies the bytes
 * into memory of its own before it returns (its binding converts them with
 * `to_vec()`: the bundle is written from Rust threads, which cannot hold a
 * JavaScript array), and fresh memory for each file cost a page fault every
 * 4 KiB: reading a site's 15 MB of variants took six times as long as the
 * reads themselves. Rollup keeps the array it is given, so under Rollup, or a
 * Rolldown major that might not copy, each file gets a buffer of its own.
 */
class CommittedFiles {
  private scratch: Buffer | undefined;

  /** The bytes of `file` when it is exactly `bytes` long, else undefined (missing, truncated, grown, a Git LFS pointer). */
  read(file: string, bytes: number, emitter: FileEmitter): Uint8Array | undefined {
    const shared = emitter.meta?.rolldownVersion?.startsWith('1.') === true;
    // One byte more than recorded, to tell a longer file from an exact one.
    let buffer: Buffer;
    if (!shared) buffer = Buffer.allocUnsafe(bytes + 1);
    else {
      if (!this.scratch || this.scratch.length < bytes + 1) this.scratch = Buffer.allocUnsafeSlow(Math.max(bytes + 1, 1 << 20));
      buffer = this.scratch;
    }
    let length = 0;
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch {
      return undefined;
    }
    try {
      while (length <= bytes) {
        const n = readSync(fd, buffer, length, bytes + 1 - length, length);
        if (n === 0) break;
        length += n;
      }
    } catch {
      return undefined;
    } finally {
      closeSync(fd);
    }
    return length === bytes ? buffer.subarray(0, bytes) : undefined;
  }
}

/** How Vite's own asset plugin marks an emitted file in code and HTML, to be replaced by its URL once the bundle is written. */
export const ASSET_PLACEHOLDER = (referenceId: string) => `__VITE_ASSET__${referenceId}__`;

/**
 * The optimized files each environment's bundle references, emitted through
 * the bundle as Vite emits its own assets: Vite then writes their URLs (base,
 * relative bases on nested pages, `renderBuiltUrl`), lists them in
 * `build.manifest` under their path in the cache, returns them with
 * `build.write: false`, and drops them from SSR bundles that emit no assets.
 * Each file is read once per environment build, in parallel with the others
 * of its usage, and emitted as committed: never re-encoded.
 */
export class BundleFiles {
  private readonly byEnvironment = new Map<string, { emitter: FileEmitter; files: Map<string, Promise<string>> }>();
  /** Reference ids of every file emitted, to tell our placeholders in a chunk from Vite's own. */
  private readonly referenceIds = new Set<string>();
  private readonly committed = new CommittedFiles();

  constructor(
    private readonly cache: CacheStore,
    private readonly layout: { root: string; assetsDir: string },
  ) {}

  /**
   * An environment's build starts with an empty bundle (watch mode rebuilds
   * too). Its build context emits for hooks that get none (Vite 6 calls
   * `transformIndexHtml` without one).
   */
  start(environment: string, emitter: FileEmitter): void {
    this.byEnvironment.set(environment, { emitter, files: new Map() });
  }

  /** The URLs of an image's files in this environment's bundle, as placeholders Vite replaces. */
  async urls(environment: string, image: ResolvedImage, hookContext?: Partial<FileEmitter>): Promise<(name: string) => string> {
    const own = typeof hookContext?.emitFile === 'function' ? (hookContext as FileEmitter) : undefined;
    let build = this.byEnvironment.get(environment);
    // A framework that drives its builds itself (React Router's SSR build) may transform before our buildStart saw the environment.
    if (!build && own) this.start(environment, own);
    build = this.byEnvironment.get(environment);
    if (!build) throw new Error(`vite-plugin-generated-images: the ${environment} build rendered images before buildStart`);
    const emitter = own ?? build.emitter;
    const emitted = build.files;
    const ids = new Map<string, string>();
    await Promise.all(
      image.files.map(async ({ name }) => {
        let id = emitted.get(name);
        if (!id) {
          id = this.emit(emitter, image, name);
          emitted.set(name, id);
          id.catch(() => emitted.delete(name));
        }
        ids.set(name, ASSET_PLACEHOLDER(await id));
      }),
    );
    return (name) => ids.get(name)!;
  }

  private async emit(emitter: FileEmitter, image: ResolvedImage, name: string): Promise<string> {
    const file = this.cache.variantPath(name);
    // The size against the manifest catches a missing or truncated file (or a Git LFS pointer) without hashing;
    // `generated-images verify` checks every hash. The manifest as it is now: variants encoded by this build were
    // recorded after the image was resolved.
    const bytes = this.cache.get(image.key)?.variants[name]?.bytes;
    const source = bytes === undefined ? undefined : this.committed.read(file, bytes, emitter);
    if (!source) {
      throw cacheError(`${file} is missing or does not match the manifest: restore it from git (generated-images verify lists every mismatch)`);
    }
    const id = emitter.emitFile({
      type: 'asset',
      // The name too: Vite's manifest lists only assets that have one. The file name is already content-hashed.
      name,
      fileName: path.posix.join(this.layout.assetsDir, name),
      originalFileName: path.relative(this.layout.root, file).split(path.sep).join('/'),
      source,
    });
    this.referenceIds.add(id);
    return id;
  }

  /** Whether a chunk holds the placeholder of a file emitted here. */
  isReferencedIn(code: string): boolean {
    for (const match of code.matchAll(/__VITE_ASSET__([\w$]+)__/g)) if (this.referenceIds.has(match[1]!)) return true;
    return false;
  }
}
