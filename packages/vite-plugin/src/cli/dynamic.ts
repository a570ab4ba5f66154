import { promises as fs } from 'node:fs';
import fg from 'fast-glob';
import { extractTags, mayContainUsage } from '../extract.js';
import type { SourceLocation } from '../location.js';

/**
 * Usages whose prompt is an expression (Astro: content collection data, say):
 * the build generates them while rendering, so no scan can know their keys.
 * The CLI needs their places to say so, instead of calling their images unused.
 */
export async function findRenderTimePrompts(options: { root: string; include: string[]; exclude: string[]; anyFile: boolean }): Promise<SourceLocation[]> {
  const files = await fg(options.include, { cwd: options.root, absolute: true, onlyFiles: true, ignore: ['**/node_modules/**', '**/.git/**', ...options.exclude] });
  const found: SourceLocation[] = [];
  for (const file of files.sort()) {
    // Outside Astro projects only .astro files render at build time; elsewhere such a prompt is a build error.
    if (!options.anyFile && !file.endsWith('.astro')) continue;
    const code = await fs.readFile(file, 'utf8').catch(() => '');
    if (!mayContainUsage(code)) continue;
    for (const tag of extractTags(code, file).tags) {
      if (tag.attributes.some((a) => a.name === 'prompt' && a.value.kind === 'expression')) found.push(tag.loc);
    }
  }
  return found;
}
