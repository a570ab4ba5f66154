import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CachedImage } from '../lib/cache.ts';
import type { Context } from '../lib/context.ts';
import { task } from '../lib/measure.ts';
import { megabytes, seconds, table, type Figure } from '../lib/report.ts';
import { rawJobs } from './optimize.ts';

/**
 * How to spend the cores: libvips threads per image against images in
 * flight, for the same encodes (plain sharp), with the peak memory each costs.
 */
export async function parallelism(ctx: Context, images: CachedImage[], originalsCache: string): Promise<Figure[]> {
  const cores = os.availableParallelism();
  const out = path.join(ctx.work, 'parallelism');
  const jobs = await rawJobs(originalsCache, images, ctx.config.settings, out);
  const layouts: Array<[number, number]> = [[1, 1], [1, cores], [1, cores * 2], [cores, 1], [cores, cores]];
  const rows: string[][] = [];
  for (const [vipsThreads, inFlight] of layouts) {
    await fs.rm(out, { recursive: true, force: true });
    await fs.mkdir(out, { recursive: true });
    const r = await task<{ wallMs: number; cpuMs: number; maxRssKB: number }>('raw-sharp', { jobs, inFlight, vipsThreads });
    rows.push([String(vipsThreads), String(inFlight), seconds(r.wallMs), seconds(r.cpuMs), (r.cpuMs / r.wallMs).toFixed(2), megabytes(r.maxRssKB)]);
  }
  ctx.log(`  ${jobs.length} encodes (${images.length} images) with plain sharp:`);
  ctx.log();
  ctx.log(table(['libvips threads', 'encodes in flight', 'wall', 'CPU', 'cores busy', 'peak RSS'], rows));
  ctx.log();
  return [];
}
