// `npm run bench [-- --quick] [-- --only …]`: what it measures and how is in bench/README.md.
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { writeCache } from './lib/cache.ts';
import { FULL, QUICK, type Context } from './lib/context.ts';
import { originals } from './lib/originals.ts';
import { BENCH_TMP, REPO } from './lib/paths.ts';
import { CheckError, table, type Figure } from './lib/report.ts';
import { coldOptimization, fillCache } from './figures/optimize.ts';
import { warmBuild } from './figures/warm.ts';
import { scan } from './figures/scan.ts';
import { generation, generationAtLimit } from './figures/generate.ts';
import { memory } from './figures/memory.ts';
import { effort } from './figures/effort.ts';
import { parallelism } from './figures/parallelism.ts';
import { astro } from './figures/astro.ts';

const SECTIONS = ['optimize', 'warm', 'astro', 'scan', 'generate', 'limit', 'memory', 'effort', 'parallelism'] as const;
type Section = (typeof SECTIONS)[number];
const usage = `usage: npm run bench [-- [--quick] [--only ${SECTIONS.join(',')}]]`;
let parsed;
try {
  parsed = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
} catch (error) {
  console.error(`${(error as Error).message}\n${usage}`);
  process.exit(2);
}
if (parsed.values.help) {
  console.log(usage);
  process.exit(0);
}
const only = parsed.values.only?.split(',').map((s) => s.trim()) ?? [...SECTIONS];
const unknownSections = only.filter((s) => !SECTIONS.includes(s as Section));
if (unknownSections.length) {
  console.error(`unknown section ${unknownSections.join(', ')}\n${usage}`);
  process.exit(2);
}
const selected = (name: Section) => only.includes(name);
for (const file of ['packages/vite-plugin/dist/core.js', 'packages/vite-plugin/dist/index.js']) {
  if (!existsSync(path.join(REPO, file))) {
    console.error(`${file} is missing: run \`npm run build\` first (the benchmark measures the built packages, as a site uses them)`);
    process.exit(2);
  }
}
const config = parsed.values.quick ? QUICK : FULL;
const work = path.join(BENCH_TMP, config.quick ? 'quick' : 'full');
const lines: string[] = [];
const log = (line = '') => {
  lines.push(line);
  console.log(line);
};
const ctx: Context = { config, work, log };

// Read from node_modules directly: not every package exports its package.json.
const version = (name: string) => (JSON.parse(readFileSync(path.join(REPO, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
const started = Date.now();
log(`# generated-images benchmark${config.quick ? ' (quick: small sizes, one trial; figures are not meaningful)' : ''}`);
log();
log(`${new Date().toISOString()} · ${os.availableParallelism()} cores (${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}) · ${Math.round(os.totalmem() / 2 ** 30)} GB · load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
log(`node ${process.versions.node} · sharp ${version('sharp')} (libvips ${sharp.versions.vips}, ${sharp.concurrency()} libvips thread${sharp.concurrency() === 1 ? '' : 's'} per image) · vite ${version('vite')} · astro ${version('astro')} · openai ${version('openai')}`);
log();

const figures: Figure[] = [];
let failed = false;
const section = async (title: string, body: () => Promise<Figure[] | void>) => {
  log(`## ${title}`);
  const start = Date.now();
  try {
    const result = await body();
    if (result) figures.push(...result);
  } catch (error) {
    failed = true;
    log(`  FAILED: ${error instanceof CheckError ? 'output check: ' : ''}${(error as Error).stack ?? error}`);
  }
  log(`  (${((Date.now() - start) / 1000).toFixed(0)} s)`);
  log();
};

await fs.rm(work, { recursive: true, force: true });
await fs.mkdir(work, { recursive: true });

// The generation and scan sections need no pictures of the site's own: rendering them is minutes of CPU.
const needsPictures = only.some((name) => !['scan', 'generate', 'limit'].includes(name));
const count = !needsPictures ? 0 : selected('memory') ? Math.max(config.images, config.memoryImages) : config.images;
const pictures = await originals(count, (done) => {
  if (process.stdout.isTTY) process.stdout.write(`\rrendering benchmark pictures: ${done}/${count}${done === count ? '\n' : ''}`);
});
const originalsCache = path.join(work, 'originals-cache', 'generated-images');
const images = await writeCache(originalsCache, pictures.slice(0, config.images));
let warmCache: string | undefined;

if (selected('optimize')) {
  await section(`Cold optimization: ${config.images} images, ${config.settings.formats.join('+')} at ${config.settings.widths.join('/')}`, async () => {
    const result = await coldOptimization(ctx, images, originalsCache);
    warmCache = result.warmCache;
    return result.figures;
  });
} else if (selected('warm') || selected('astro')) {
  log('(filling the cache the warm builds need, untimed)');
  warmCache = await fillCache(ctx, images, originalsCache);
  log();
}

if (selected('warm')) {
  await section(`Warm build from a fresh clone: ${config.images} images`, async () => {
    if (!warmCache) throw new Error('no warm cache: the cold optimization failed');
    return warmBuild(ctx, images, warmCache);
  });
}

if (selected('astro')) {
  await section(`Astro: ${config.images} images, astro-generated-images against astro:assets <Picture>`, () => astro(ctx, images, originalsCache, warmCache));
}

if (selected('scan')) await section(`Scan: ${config.scan.files} source files, ${config.scan.usages} usages`, () => scan(ctx));

if (selected('generate')) await section(`Generation through the test gateway: ${config.generation.images} misses`, () => generation(ctx));

if (selected('limit')) {
  const { images, maxInFlight } = config.limit;
  await section(`Generation at the gateway's limit: ${images} misses, concurrency 'auto', at most ${maxInFlight} in flight`, () => generationAtLimit(ctx));
}

if (selected('memory')) await section(`Peak memory: cold build of ${config.memoryImages} images`, () => memory(ctx, pictures.slice(0, config.memoryImages)));

if (selected('effort')) await section('Encoder effort', () => effort(ctx, pictures.slice(0, config.effort.images)));

if (selected('parallelism')) {
  await section('Parallelism: libvips threads against images in flight', () => parallelism(ctx, images.slice(0, config.parallelism.images), originalsCache));
}

log('## Summary');
log();
if (config.quick) {
  // Small sizes and one trial: the figures show that everything runs, not how fast.
  log(table(['figure', 'measured', 'target'], figures.map((f) => [f.name, f.measured, f.target])));
  log();
  log('quick mode: outputs checked, figures not judged against their targets');
} else {
  log(table(['figure', 'measured', 'target', 'met'], figures.map((f) => [f.name, f.measured, f.target, f.met === null ? '–' : f.met ? 'yes' : 'NO'])));
}
log();
log(`total ${((Date.now() - started) / 1000).toFixed(0)} s`);
const report = path.join(BENCH_TMP, `report-${config.quick ? 'quick' : 'full'}.md`);
await fs.writeFile(report, `${lines.join('\n')}\n`);
console.log(`(this report is also in ${path.relative(process.cwd(), report)})`);
if (failed) {
  console.error(`benchmark failed: see FAILED above (its sites are kept in ${path.relative(process.cwd(), work)})`);
  process.exit(1);
}
// Gigabytes of sites and clones; the rendered pictures stay for the next run.
await fs.rm(work, { recursive: true, force: true });
