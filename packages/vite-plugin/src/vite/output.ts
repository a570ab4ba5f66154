import { constants as fsConstants, promises as fs } from 'node:fs';
import path from 'node:path';
import type { ResolvedImage } from '../core/pipeline.js';
import type { CacheStore } from '../core/cache/store.js';

/**
 * The optimized files each environment's bundle references. They are checked
 * against the manifest before anything is written, then copied beside the
 * bundle as Vite copies `public/`: the files are final, and handing hundreds
 * of them to the bundler as buffers cost a warm build more than all the rest
 * of the plugin.
 */
export class OutputFiles {
  private readonly byEnvironment = new Map<string, Map<string, string>>();

  constructor(private readonly cache: CacheStore) {}

  refer(environment: string, image: ResolvedImage): void {
    let files = this.byEnvironment.get(environment);
    if (!files) this.byEnvironment.set(environment, (files = new Map()));
    for (const file of image.files) files.set(file.name, image.key);
  }

  /**
   * The referenced files that are missing or differ from the manifest. The size
   * against the manifest catches a missing or truncated file (or a Git LFS
   * pointer) without reading it; `generated-images verify` checks every hash.
   */
  async mismatched(environment: string): Promise<string[]> {
    const files = [...(this.byEnvironment.get(environment) ?? [])];
    const sizes = await Promise.all(files.map(([name]) => fs.stat(this.cache.variantPath(name)).then((stat) => stat.size, () => undefined)));
    return files.filter(([name, key], i) => sizes[i] === undefined || sizes[i] !== this.cache.get(key)?.variants[name]?.bytes).map(([name]) => this.cache.variantPath(name));
  }

  async copy(environment: string, target: string): Promise<void> {
    const files = this.byEnvironment.get(environment);
    if (!files) return;
    await fs.mkdir(target, { recursive: true });
    await Promise.all([...files.keys()].map((name) => fs.copyFile(this.cache.variantPath(name), path.join(target, name), fsConstants.COPYFILE_FICLONE)));
  }
}
