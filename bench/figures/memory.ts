import { promises as fs } from 'node:fs';
import path from 'node:path';
import { copyOriginalsOnly, writeCache } from '../lib/cache.ts';
import type { Context } from '../lib/context.ts';
import type { Original } from '../lib/originals.ts';
import { check, megabytes, seconds, type Figure } from '../lib/report.ts';
import { freshClone, writePlainSite, writeViteSite } from '../lib/sites.ts';
import { checkViteOutput, viteBuild } from '../lib/vite.ts';

/**
 * Peak RSS of a cold `vite build` of a large site (originals committed, every
 * variant missing), beside the same site built with plain `<img>` tags.
 */
export async function memory(ctx: Context, pictures: Original[]): Promise<Figure[]> {
  const count = pictures.length;
  const ours = path.join(ctx.work, 'sites', `vite-ours-${count}`);
  const plain = path.join(ctx.work, 'sites', `vite-plain-${count}`);
  await writeViteSite(ours, pictures, ctx.config.settings);
  const originals = path.join(ctx.work, `memory-originals-${count}`, 'generated-images');
  await writeCache(originals, pictures);
  await copyOriginalsOnly(originals, path.join(ours, 'generated-images'));
  await writePlainSite(plain, pictures, 'public');

  const plainDir = await freshClone(plain, path.join(ctx.work, 'clones', `vite-plain-${count}`));
  const plainRun = await viteBuild(plainDir);
  await checkViteOutput(plainDir, count, 'plain');
  ctx.log(`  plain <img>, ${count} images:          ${seconds(plainRun.wallMs)} wall, ${megabytes(plainRun.maxRssKB)} peak RSS`);

  const oursDir = await freshClone(ours, path.join(ctx.work, 'clones', `vite-ours-${count}`));
  const run = await viteBuild(oursDir);
  await checkViteOutput(oursDir, count, 'ours');
  const encoded = /\b(\d+) variants? encoded\b/.exec(run.output)?.[1];
  const perImage = ctx.config.settings.formats.length * ctx.config.settings.widths.length + 2;
  check(Number(encoded) === count * perImage, `the cold build encoded ${encoded} variants, expected ${count * perImage}:\n${run.output.slice(-2000)}`);
  ctx.log(`  with the plugin, cold, ${count} images: ${seconds(run.wallMs)} wall, ${seconds(run.cpuMs)} CPU, ${megabytes(run.maxRssKB)} peak RSS (${encoded} files encoded)`);
  await fs.rm(oursDir, { recursive: true, force: true });
  const target = 600 * 1024;
  return [{ name: `peak RSS, cold build of ${count} images`, measured: `${megabytes(run.maxRssKB)} (plain build: ${megabytes(plainRun.maxRssKB)})`, target: '≤ 600 MB', met: run.maxRssKB <= target }];
}
