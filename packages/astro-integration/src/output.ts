import { promises as fs } from 'node:fs';
import path from 'node:path';
import { GeneratedImagesError, VARIANT_NAME_IN_TEXT, type CacheStore } from 'vite-plugin-generated-images/core';

/** Output files that can reference an image: pages, and the scripts and styles of islands. */
const REFERRING_FILE = /\.(?:html|js|mjs|css|json|xml)$/;

/**
 * Copies into `<outDir>/<assets>/` every variant the built site references
 * (and `served`, the files of the images prepared for on-demand pages).
 * Reading the output, rather than recording renders, also covers pages whose
 * Markdown Astro reused from its content store without rendering it again,
 * and islands compiled by the Vite plugin in any environment.
 */
export async function copyReferencedFiles(outDir: string, assets: string, cache: CacheStore, served: string[] = []): Promise<number> {
  const referenced = new Map<string, string>();
  // Files that pages rendered on demand show: the server bundle references them, outside this folder.
  for (const name of served) referenced.set(name, 'a page rendered on demand');
  const files = (await fs.readdir(outDir, { recursive: true, withFileTypes: true })).filter((f) => f.isFile() && REFERRING_FILE.test(f.name));
  for (const file of files) {
    const full = path.join(file.parentPath, file.name);
    const text = await fs.readFile(full, 'utf8');
    for (const match of text.matchAll(VARIANT_NAME_IN_TEXT)) {
      const [name, key] = match as unknown as [string, string];
      if (!referenced.has(name) && cache.get(key)?.variants[name]) referenced.set(name, path.relative(outDir, full));
    }
  }
  const target = path.join(outDir, assets);
  await fs.mkdir(target, { recursive: true });
  for (const [name, page] of referenced) {
    const data = await cache.readVariant(name.slice(0, 16), name);
    if (!data) {
      throw new GeneratedImagesError('CACHE', `${page} shows ${name}, but ${cache.variantPath(name)} is missing or does not match the manifest`, { hint: 'Run `npx generated-images verify`, restore what it names from git, and build again.' });
    }
    await fs.writeFile(path.join(target, name), data);
  }
  return referenced.size;
}
