import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { CacheStore } from '../cache/store.js';
import type { ImageSpec } from '../key.js';
import { checkImage, sniffMime } from './reply.js';

/**
 * An original written just before a crash, whose manifest entry never
 * landed: checked like a reply and recorded, so it is never paid for again.
 * Returns the file's name when one was adopted.
 */
export async function adoptOrphan(cache: CacheStore, key: string, spec: ImageSpec): Promise<string | undefined> {
  for (const extension of ['png', 'jpeg', 'webp']) {
    const file = path.join(cache.dir, `${key}.${extension}`);
    const data = await fs.readFile(file).catch(() => undefined);
    if (!data || !sniffMime(data)) continue;
    try {
      const image = await checkImage(data, extension, spec, null, null);
      await cache.putOriginal(key, data, {
        ...spec, width: image.width, height: image.height, createdAt: new Date().toISOString(),
        modelText: null, hasAlpha: image.hasAlpha, color: image.color,
      }, image.extension);
      return `${key}.${extension}`;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
