import { promises as fs } from 'node:fs';
import path from 'node:path';
import { astroBuild, checkAstroOutput, writeAstroAssetsSite, writeAstroSite } from '../lib/astro.ts';
import { copyOriginalsOnly, type CachedImage } from '../lib/cache.ts';
import type { Context } from '../lib/context.ts';
import { median, type Run } from '../lib/measure.ts';
import { REPO } from '../lib/paths.ts';
import { kilobytes, megabytes, ratio, seconds, type Figure } from '../lib/report.ts';
import { freshClone } from '../lib/sites.ts';

const FRESH = 'Astro: our build from a fresh clone ÷ astro:assets <Picture> from a fresh clone';
const COLD = 'Astro: our build cold ÷ astro:assets cold';

/** Why the Astro figures cannot be measured, or undefined when they can. */
async function unavailable(): Promise<string | undefined> {
  for (const file of ['packages/astro-integration/dist/index.js', 'packages/astro-integration/components/index.js']) {
    if (!(await fs.stat(path.join(REPO, file)).then(() => true, () => false))) return `${file} does not exist (run \`npm run build\`)`;
  }
  return undefined;
}

/**
 * The Astro integration against astro:assets' `<Picture>` with the same
 * pictures, formats and widths: real `astro build` processes from fresh
 * clones (astro:assets' cache lives in node_modules/.astro, which a clone
 * lacks), and both cold.
 */
export async function astro(ctx: Context, images: CachedImage[], originalsCache: string, warmCache: string | undefined): Promise<Figure[]> {
  const reason = (await unavailable()) ?? (warmCache ? undefined : 'no committed variants: the cold optimization failed');
  if (reason) {
    ctx.log(`  unavailable: ${reason}`);
    return [FRESH, COLD].map((name) => ({ name, measured: 'unavailable', target: name === FRESH ? '≤ 0.10' : '≤ 1.0', met: null, note: reason }));
  }
  const { settings } = ctx.config;
  const sites = path.join(ctx.work, 'sites');
  const ours = path.join(sites, 'astro-ours');
  const oursCold = path.join(sites, 'astro-ours-cold');
  const assets = path.join(sites, 'astro-assets');
  await writeAstroSite(ours, images, settings);
  await fs.cp(warmCache!, path.join(ours, 'generated-images'), { recursive: true, filter: (s) => !path.basename(s).startsWith('.lock') });
  await writeAstroSite(oursCold, images, settings);
  await copyOriginalsOnly(originalsCache, path.join(oursCold, 'generated-images'));
  await writeAstroAssetsSite(assets, images, settings);

  const build = async (label: string, template: string, clone: string | undefined) => {
    const dir = clone ? await freshClone(template, path.join(ctx.work, 'clones', clone)) : template;
    const run = await astroBuild(dir);
    const output = await checkAstroOutput(dir, images.length);
    ctx.log(`  ${label.padEnd(38)} ${seconds(run.wallMs).padStart(7)} wall, ${seconds(run.cpuMs).padStart(7)} CPU, ${megabytes(run.maxRssKB)} peak RSS; ${output.files} image files, ${kilobytes(output.bytes)}`);
    return { run, dir };
  };

  // astro:assets from a fresh clone is its cold build: there is only one of it to time.
  const assetsCold = await build('astro:assets, fresh clone (cold)', assets, 'astro-assets');
  const oursColdRun = await build('ours, cold (variants missing)', oursCold, 'astro-ours-cold');
  const oursFresh: Run[] = [];
  for (let t = 0; t < Math.min(ctx.config.trials, 3); t++) oursFresh.push((await build('ours, fresh clone (variants committed)', ours, 'astro-ours')).run);
  // For reference: astro:assets again in the same folder, with its node_modules/.astro cache, as on a developer's machine.
  if (!ctx.config.quick) await build('astro:assets, warm (its cache present)', assetsCold.dir, undefined);

  const fresh = median(oursFresh.map((r) => r.wallMs)) / assetsCold.run.wallMs;
  const cold = oursColdRun.run.wallMs / assetsCold.run.wallMs;
  return [
    { name: FRESH, measured: `${ratio(fresh)} (${seconds(median(oursFresh.map((r) => r.wallMs)))} vs ${seconds(assetsCold.run.wallMs)})`, target: '≤ 0.10', met: fresh <= 0.1 },
    { name: COLD, measured: `${ratio(cold)} (${seconds(oursColdRun.run.wallMs)} vs ${seconds(assetsCold.run.wallMs)})`, target: '≤ 1.0', met: cold <= 1 },
  ];
}
