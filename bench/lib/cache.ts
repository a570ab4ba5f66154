import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { CacheStore, cacheKey, type CacheEntry } from 'vite-plugin-generated-images/core';
import { HEIGHT, WIDTH, type Original } from './originals.ts';

export const MODEL = 'google/gemini-2.0-flash';
export const RATIO = '16:9';

export interface CachedImage extends Original {
  key: string;
}

export function keyFor(prompt: string): string {
  return cacheKey({ model: MODEL, prompt, style: null, ratio: RATIO, variant: 0, imageSize: null });
}

/**
 * A committed cache (`generated-images/`) holding the originals and no
 * variants, exactly as a build finds it right after generation: written
 * through the project's own CacheStore so that the manifest is the real thing.
 */
export async function writeCache(cacheDir: string, images: Original[]): Promise<CachedImage[]> {
  await fs.rm(cacheDir, { recursive: true, force: true });
  const store = new CacheStore(cacheDir);
  await store.load();
  const out: CachedImage[] = [];
  for (const image of images) {
    const data = await fs.readFile(image.file);
    const key = keyFor(image.prompt);
    const { dominant } = await sharp(data).stats();
    const color = `#${[dominant.r, dominant.g, dominant.b].map((c) => c.toString(16).padStart(2, '0')).join('')}`;
    const entry: Omit<CacheEntry, 'file' | 'bytes' | 'sha256' | 'variants'> = {
      prompt: image.prompt, style: null, ratio: RATIO, variant: 0, imageSize: null, model: MODEL,
      width: WIDTH, height: HEIGHT, createdAt: '2026-01-01T00:00:00.000Z', modelText: null, hasAlpha: false, color,
    };
    await store.putOriginal(key, data, entry, 'png');
    out.push({ ...image, key });
  }
  await store.flush();
  return out;
}

/** Copies a cache folder without its variants: the state of a cold build. */
export async function copyOriginalsOnly(from: string, to: string): Promise<void> {
  await fs.rm(to, { recursive: true, force: true });
  await fs.mkdir(to, { recursive: true });
  for (const name of await fs.readdir(from)) {
    if (name === 'variants' || name.startsWith('.lock')) continue;
    await fs.cp(path.join(from, name), path.join(to, name), { recursive: true });
  }
  const manifestPath = path.join(to, 'manifest.json');
  const manifest = JSON.parse(await fs.readFile(manifestPath, 'utf8'));
  for (const entry of Object.values(manifest.images) as CacheEntry[]) entry.variants = {};
  await fs.writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
}
