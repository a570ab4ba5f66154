import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { CachedImage } from '../lib/cache.ts';
import type { Context } from '../lib/context.ts';
import { median, type Run } from '../lib/measure.ts';
import { check, megabytes, ratio, seconds, type Figure } from '../lib/report.ts';
import { freshClone, writePlainSite, writeViteSite } from '../lib/sites.ts';
import { checkViteOutput, viteBuild } from '../lib/vite.ts';

/**
 * A CI build from a fresh clone whose cache holds every original and variant,
 * against the same site with plain `<img>` tags and no plugin: real
 * `vite build` processes, alternating, after one untimed build of each.
 */
export async function warmBuild(ctx: Context, images: CachedImage[], warmCache: string): Promise<Figure[]> {
  const ours = path.join(ctx.work, 'sites', 'vite-ours');
  const plain = path.join(ctx.work, 'sites', 'vite-plain');
  await writeViteSite(ours, images, ctx.config.settings);
  await fs.cp(warmCache, path.join(ours, 'generated-images'), { recursive: true, filter: (s) => !path.basename(s).startsWith('.lock') });
  await writePlainSite(plain, images);

  const results: Record<'ours' | 'plain', Run[]> = { ours: [], plain: [] };
  const build = async (side: 'ours' | 'plain', timed: boolean) => {
    const dir = await freshClone(side === 'ours' ? ours : plain, path.join(ctx.work, 'clones', `vite-${side}`));
    const run = await viteBuild(dir);
    await checkViteOutput(dir, images.length, side);
    if (side === 'ours') check(/\b0 variants encoded\b/.test(run.output) && /\b0 generated\b/.test(run.output), `the warm build did image work:\n${run.output}`);
    if (timed) results[side].push(run);
    return run;
  };
  if (!ctx.config.quick) for (const side of ['plain', 'ours'] as const) await build(side, false);
  for (let t = 0; t < ctx.config.trials; t++) {
    for (const side of t % 2 === 0 ? (['plain', 'ours'] as const) : (['ours', 'plain'] as const)) {
      const run = await build(side, true);
      ctx.log(`  ${side === 'ours' ? 'with the plugin ' : 'plain <img>     '}: ${seconds(run.wallMs)} wall, ${seconds(run.cpuMs)} CPU, ${megabytes(run.maxRssKB)} peak RSS`);
    }
  }
  const wall = (side: 'ours' | 'plain') => median(results[side].map((r) => r.wallMs));
  const cpu = (side: 'ours' | 'plain') => median(results[side].map((r) => r.cpuMs));
  const target = 1.1;
  return [
    { name: 'warm build from a fresh clone ÷ plain <img> build, wall', measured: `${ratio(wall('ours') / wall('plain'))} (${seconds(wall('ours'))} vs ${seconds(wall('plain'))})`, target: `≤ ${target}`, met: wall('ours') / wall('plain') <= target },
    { name: 'warm build from a fresh clone ÷ plain <img> build, CPU', measured: `${ratio(cpu('ours') / cpu('plain'))} (${seconds(cpu('ours'))} vs ${seconds(cpu('plain'))})`, target: `≤ ${target}`, met: cpu('ours') / cpu('plain') <= target },
  ];
}
