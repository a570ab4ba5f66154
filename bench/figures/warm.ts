import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { CachedImage } from '../lib/cache.ts';
import type { Context } from '../lib/context.ts';
import { median, type Run } from '../lib/measure.ts';
import { check, megabytes, ratio, seconds, type Figure } from '../lib/report.ts';
import { freshClone, writePlainSite, writeViteSite } from '../lib/sites.ts';
import { checkViteOutput, viteBuild } from '../lib/vite.ts';

type Side = 'ours' | 'assets' | 'public';
const LABEL: Record<Side, string> = {
  ours: 'with the plugin, variants committed',
  assets: 'plain <img>, pictures in src/ (Vite assets)',
  public: 'plain <img>, pictures in public/',
};

/**
 * A CI build from a fresh clone whose cache holds every original and variant,
 * against the same site with plain `<img>` tags and no plugin: real
 * `vite build` processes, in turn, after one untimed build of each.
 */
export async function warmBuild(ctx: Context, images: CachedImage[], warmCache: string): Promise<Figure[]> {
  const templates: Record<Side, string> = {
    ours: path.join(ctx.work, 'sites', 'vite-ours'),
    assets: path.join(ctx.work, 'sites', 'vite-plain-assets'),
    public: path.join(ctx.work, 'sites', 'vite-plain-public'),
  };
  await writeViteSite(templates.ours, images, ctx.config.settings);
  await fs.cp(warmCache, path.join(templates.ours, 'generated-images'), { recursive: true, filter: (s) => !path.basename(s).startsWith('.lock') });
  await writePlainSite(templates.assets, images, 'assets');
  await writePlainSite(templates.public, images, 'public');

  const sides: Side[] = ['assets', 'ours', 'public'];
  const results: Record<Side, Run[]> = { ours: [], assets: [], public: [] };
  const build = async (side: Side) => {
    const dir = await freshClone(templates[side], path.join(ctx.work, 'clones', `vite-${side}`));
    const run = await viteBuild(dir);
    await checkViteOutput(dir, images.length, side === 'ours' ? 'ours' : 'plain');
    if (side === 'ours') check(/\b0 variants encoded\b/.test(run.output) && /\b0 generated\b/.test(run.output), `the warm build did image work:\n${run.output}`);
    return run;
  };
  if (!ctx.config.quick) for (const side of sides) await build(side);
  for (let t = 0; t < ctx.config.trials; t++) {
    // A different order each round, so that drifting machine load does not always favour one side.
    for (const side of t % 2 === 0 ? sides : [...sides].reverse()) {
      const run = await build(side);
      results[side].push(run);
      ctx.log(`  ${LABEL[side].padEnd(44)} ${seconds(run.wallMs).padStart(7)} wall, ${seconds(run.cpuMs).padStart(7)} CPU, ${megabytes(run.maxRssKB)} peak RSS`);
    }
  }
  const wall = (side: Side) => median(results[side].map((r) => r.wallMs));
  const cpu = (side: Side) => median(results[side].map((r) => r.cpuMs));
  const versus = (base: Side, measure: (side: Side) => number) => `${ratio(measure('ours') / measure(base))} (${seconds(measure('ours'))} vs ${seconds(measure(base))})`;
  ctx.log(`  medians: the plugin adds ${Math.round(wall('ours') - wall('assets'))} ms of wall time and ${Math.round(cpu('ours') - cpu('assets'))} ms of CPU time to a build of ${images.length} pictures in ${Math.ceil(images.length / 10)} page${images.length > 10 ? 's' : ''}`);
  // Issue #12: a warm build with the plugin must cost less than the same site's plain <img> build, and what it costs
  // over copying public/ must not grow past the last figure before emitting through the bundle (1.64, 2026-11-25).
  const target = 0.8;
  const publicTarget = 1.64;
  return [
    { name: 'warm build from a fresh clone ÷ plain <img> build, wall', measured: versus('assets', wall), target: `≤ ${target}`, met: wall('ours') / wall('assets') <= target },
    { name: 'warm build from a fresh clone ÷ plain <img> build, CPU', measured: versus('assets', cpu), target: `≤ ${target}`, met: cpu('ours') / cpu('assets') <= target },
    { name: '  (the same, against pictures in public/, wall)', measured: versus('public', wall), target: `≤ ${publicTarget}`, met: wall('ours') / wall('public') <= publicTarget },
  ];
}
