import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CacheStore, type Transform } from 'vite-plugin-generated-images/core';
import { planImage, plannedFiles } from '../../packages/vite-plugin/dist/core/optimize/plan.js';
import { copyOriginalsOnly, type CachedImage } from '../lib/cache.ts';
import type { Context } from '../lib/context.ts';
import { median, task } from '../lib/measure.ts';
import { check, ratio, seconds, megabytes, type Figure } from '../lib/report.ts';
import type { RawJob } from '../tasks/raw-sharp.ts';

interface Timing {
  wallMs: number;
  cpuMs: number;
  maxRssKB: number;
}

/** The same files our optimizer makes, as a list of plain sharp jobs. */
export async function rawJobs(cacheDir: string, images: CachedImage[], settings: Context['config']['settings'], outDir: string): Promise<RawJob[]> {
  const store = await new CacheStore(cacheDir).load();
  return images.flatMap((image) => {
    const entry = store.get(image.key)!;
    const plan = planImage(image.key, entry, { ...settings, quality: {}, placeholder: 'blur' });
    return plannedFiles(plan).map((file) => ({
      input: store.originalPath(entry),
      output: path.join(outDir, file.name),
      width: file.width,
      format: file.transform.format,
      options: encoderOptions(file.transform),
    }));
  });
}

/** The sharp options a developer would pass for the same transform. */
function encoderOptions({ format, quality, effort }: Transform): RawJob['options'] {
  if (format === 'jpeg') return { quality, mozjpeg: false };
  if (format === 'png') return { compressionLevel: effort, quality, palette: quality < 100 };
  return { quality, effort };
}

const hash = async (file: string) => createHash('sha256').update(await fs.readFile(file)).digest('hex');

/**
 * Cold optimization (every variant missing) through the build's pipeline,
 * against plain sharp making the same files with the same number of encodes
 * in flight; both in fresh child processes, alternating, medians reported.
 * Returns the figure and the folder of the cache it filled (for warm builds).
 */
export async function coldOptimization(ctx: Context, images: CachedImage[], originalsCache: string): Promise<{ figures: Figure[]; warmCache: string }> {
  const { settings, trials } = ctx.config;
  const root = path.join(ctx.work, 'optimize-ours');
  const cacheDir = path.join(root, 'generated-images');
  const rawOut = path.join(ctx.work, 'optimize-raw');
  const jobs = await rawJobs(originalsCache, images, settings, rawOut);
  const inFlight = os.availableParallelism();
  const ours: Timing[] = [];
  const raw: Timing[] = [];
  const prompts = images.map((i) => i.prompt);
  // Cold runs are long: two per side at most, alternating so that a change in machine load hits both.
  const runs = Math.min(trials, 2);
  for (let t = 0; t < runs; t++) {
    for (const side of t % 2 === 0 ? ['raw', 'ours'] : ['ours', 'raw']) {
      if (side === 'ours') {
        await copyOriginalsOnly(originalsCache, cacheDir);
        const r = await task<Timing & { encoded: number }>('optimize', { root, formats: settings.formats, widths: settings.widths, prompts });
        check(r.encoded === jobs.length, `cold optimization encoded ${r.encoded} files, expected ${jobs.length}`);
        ours.push(r);
        ctx.log(`  ours (ImagePipeline.prepare): ${seconds(r.wallMs)} wall, ${seconds(r.cpuMs)} CPU, ${megabytes(r.maxRssKB)} peak RSS`);
      } else {
        await fs.rm(rawOut, { recursive: true, force: true });
        await fs.mkdir(rawOut, { recursive: true });
        const r = await task<Timing>('raw-sharp', { jobs, inFlight });
        raw.push(r);
        ctx.log(`  raw sharp, ${inFlight} in flight:        ${seconds(r.wallMs)} wall, ${seconds(r.cpuMs)} CPU, ${megabytes(r.maxRssKB)} peak RSS`);
      }
    }
  }

  // Both sides did exactly the same work: every file ours recorded is byte-identical to plain sharp's.
  const store = await new CacheStore(cacheDir).load();
  let identical = 0;
  for (const image of images) {
    const entry = store.get(image.key);
    check(entry, `the cache lost ${image.key}`);
    for (const [name, variant] of Object.entries(entry.variants)) {
      const file = store.variantPath(name);
      check((await hash(file)) === variant.sha256, `${name} does not match its manifest entry`);
      if ((await hash(path.join(rawOut, name))) === variant.sha256) identical++;
    }
  }
  check(identical === jobs.length, `only ${identical} of ${jobs.length} variants are byte-identical to plain sharp's output`);
  ctx.log(`  ${jobs.length} files (${images.length} images × ${settings.formats.join('+')} × ${settings.widths.join('/')} + one fallback + a placeholder each), all byte-identical to plain sharp's`);

  const wall = median(ours.map((r) => r.wallMs)) / median(raw.map((r) => r.wallMs));
  const cpu = median(ours.map((r) => r.cpuMs)) / median(raw.map((r) => r.cpuMs));
  const target = 1.05;
  return {
    warmCache: cacheDir,
    figures: [
      { name: 'cold optimization ÷ raw sharp, CPU time', measured: `${ratio(cpu)} (${seconds(median(ours.map((r) => r.cpuMs)))} vs ${seconds(median(raw.map((r) => r.cpuMs)))})`, target: `≤ ${target}`, met: cpu <= target },
      { name: 'cold optimization ÷ raw sharp, wall time', measured: `${ratio(wall)} (${seconds(median(ours.map((r) => r.wallMs)))} vs ${seconds(median(raw.map((r) => r.wallMs)))})`, target: `≤ ${target}`, met: wall <= target },
    ],
  };
}

/** The variants of every image, made by the pipeline without timing it: for warm builds when the cold figure is not run. */
export async function fillCache(ctx: Context, images: CachedImage[], originalsCache: string): Promise<string> {
  const root = path.join(ctx.work, 'optimize-ours');
  const cacheDir = path.join(root, 'generated-images');
  await copyOriginalsOnly(originalsCache, cacheDir);
  await task('optimize', { root, formats: ctx.config.settings.formats, widths: ctx.config.settings.widths, prompts: images.map((i) => i.prompt) });
  return cacheDir;
}
