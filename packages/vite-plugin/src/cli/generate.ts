import { promises as fs } from 'node:fs';
import { errorText, isError, PREFIX, type GeneratedImagesError } from '../core/errors.js';
import { relativeLocation } from '../core/location.js';
import { formatSummary } from '../core/summary.js';
import type { CliContext } from './context.js';
import { describeImage, locations, plural } from './format.js';
import { takeInventory, type Inventory } from './inventory.js';

function renderTimeNote(inventory: Inventory, context: CliContext): string[] {
  if (!inventory.dynamic.length) return [];
  return [`note: ${plural(inventory.dynamic.length, 'prompt is', 'prompts are')} computed at render time (${locations(inventory.dynamic, context.project.root)}); \`${context.project.framework} build\` generates their images`];
}

/**
 * `generated-images generate`: everything a build would do to the cache —
 * generate the missing originals, encode every variant of every usage — and
 * nothing else, so that the next build anywhere only reads the cache.
 */
export async function generate(context: CliContext, flags: { 'dry-run'?: boolean }): Promise<number> {
  const { project, pipeline } = context;
  const cache = pipeline.cache;
  const inventory = await takeInventory(context);
  if (inventory.errors.length) {
    process.stderr.write(
      `${plural(inventory.errors.length, 'invalid usage')}; nothing was generated:\n${inventory.errors.map((e) => `  ${relativeLocation(e.loc, project.root)}: ${e.reason}`).join('\n')}\n`,
    );
    return 1;
  }
  for (const warning of inventory.warnings) process.stderr.write(`warning: ${relativeLocation(warning.loc, project.root)}: ${warning.reason}\n`);

  const missing = inventory.images.filter((i) => !i.entry);
  const broken = inventory.images.filter((i) => i.entry && !i.originalPresent);
  const incomplete = inventory.images.filter((i) => i.entry && i.originalPresent && i.missingVariants.length);
  const brokenLines = broken.map((i) => `cannot encode  ${i.key}  ${describeImage(i)}  ${locations(i.locations, project.root)} — ${context.rel(cache.originalPath(i.entry!))} is missing: restore it from git, or run \`generated-images prune\` and generate again`);

  if (flags['dry-run']) {
    const out = [
      ...missing.map((i) => `would generate  ${i.key}  ${describeImage(i)}  ${locations(i.locations, project.root)}`),
      ...incomplete.map((i) => `would encode    ${plural(i.missingVariants.length, 'variant')} of ${i.key}  ${describeImage(i)}`),
      ...brokenLines,
      ...renderTimeNote(inventory, context),
    ];
    const encodes = incomplete.reduce((n, i) => n + i.missingVariants.length, 0);
    out.push(
      missing.length || encodes
        ? `dry run: would generate ${plural(missing.length, 'image')}${missing.length ? ` (and encode ${missing.length === 1 ? 'its' : 'their'} variants)` : ''} and encode ${plural(encodes, 'variant')} of cached images; nothing was changed`
        : `dry run: nothing to do, the cache holds every image and variant of ${plural(inventory.images.length, 'image')}`,
    );
    process.stdout.write(`${out.join('\n')}\n`);
    return broken.length ? 1 : 0;
  }

  const brokenKeys = new Set(broken.map((i) => i.key));
  const requests = inventory.usages.filter((u) => !brokenKeys.has(pipeline.key(u)));
  let failure: GeneratedImagesError | undefined;
  try {
    await pipeline.prepare(requests);
  } catch (error) {
    if (!isError(error)) throw error;
    failure = error;
    // The images that did arrive still get every variant: the cache is as complete as it can be.
    await Promise.allSettled(requests.filter((r) => cache.get(pipeline.key(r))).map((r) => pipeline.resolve(r)));
    await cache.flush();
  }
  // The committed form, whatever the file was before: the SPEC's pretty layout, or what a merge left.
  if (await fs.stat(cache.manifestPath).then(() => true, () => false)) await cache.rewrite();

  const summary = pipeline.summarize(inventory.images.map((i) => ({ key: i.key, prompt: i.prompt, ratio: i.ratio, locations: i.locations })));
  const out = summary.generated.map((image) => `generated  ${image.key}  ${describeImage({ ...image, variant: inventory.images.find((i) => i.key === image.key)?.variant })}  ${locations(image.locations, project.root)}`);
  out.push(...brokenLines, ...renderTimeNote(inventory, context));
  const worked = summary.generated.length > 0 || summary.encoded > 0;
  if (worked) out.push(formatSummary(summary, project.root));
  else if (!failure) out.push(`nothing to do: the cache holds every image and variant of ${plural(inventory.images.length, 'image')}`);
  if (out.length) process.stdout.write(`${out.join('\n')}\n`);
  if (failure) process.stderr.write(`${PREFIX} ${errorText(failure)}\n`);
  return failure || broken.length ? 1 : 0;
}
