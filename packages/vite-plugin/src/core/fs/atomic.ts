import { randomBytes } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { alive } from './process.js';

/** Temp files carry this suffix; the cache's own .gitignore hides them and `prune` removes stale ones. */
export const TEMP_SUFFIX = '.tmp';

/**
 * Writes through a temp file in the same folder and renames it into place,
 * so that a reader (or a build killed half-way) sees the old file or the new
 * one, never a torn one.
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`);
  const handle = await fs.open(temp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(temp, file);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}

export async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await fs.readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * The same, synchronously: for small files a build waits on. Through
 * fs.promises a read is four thread-pool round trips, each delayed by
 * whatever else holds the event loop then (at buildStart, every other
 * plugin's hooks); read in place it costs microseconds.
 */
export function readIfExistsSync(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** A temp file of an atomic write whose writer is gone (`.<name>.<pid>.<random>.tmp`). */
export function isStaleTemp(name: string): boolean {
  if (!name.startsWith('.') || !name.endsWith(TEMP_SUFFIX)) return false;
  const pid = Number(name.slice(0, -TEMP_SUFFIX.length).split('.').at(-2));
  return Number.isInteger(pid) && pid > 0 && !alive(pid);
}
