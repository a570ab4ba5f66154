import type { CacheEntry } from '../core/cache/manifest.js';
import { RENDERED_FILE } from '../core/cache/rendered.js';
import type { ImageSpec } from '../core/key.js';
import { relativeLocation } from '../core/location.js';
import { formatUsd } from '../core/text.js';
import type { CliContext } from './context.js';
import { describeImage, locations, plural } from './format.js';
import { takeInventory, type Inventory } from './inventory.js';

export type ImageState = 'cached' | 'incomplete' | 'missing' | 'broken' | 'unused' | 'unreferenced';

interface Row {
  key: string;
  state: ImageState;
  prompt: string;
  ratio: string;
  variant: number;
  file: string | null;
  locations: string[];
  /** For an image only a prompt computed at render time showed: the pages that showed it at the last build. */
  pages?: string[];
  missingVariants: string[];
  /** For a missing image: the references whose bytes changed since an entry of the same prompt was generated. */
  changedReferences?: string[];
}

/** The estimate `status` prints for the missing images: null prices where the gateway gives none (or cannot be asked). */
interface CostEstimate {
  images: number;
  pricePerImage: number | null;
  total: number | null;
}

/**
 * Why a missing image is missing when the cache holds the same prompt: the
 * references (same files, in the same places) whose bytes are not those it
 * was generated with. Empty when nothing of the kind is found.
 */
function changedReferences(spec: ImageSpec, images: Readonly<Record<string, CacheEntry>>): string[] {
  const refs = spec.references ?? [];
  for (const entry of Object.values(images)) {
    const before = entry.references ?? [];
    const same = entry.prompt === spec.prompt && entry.style === spec.style && entry.ratio === spec.ratio && entry.variant === spec.variant &&
      entry.imageSize === spec.imageSize && entry.model === spec.model && before.length === refs.length && before.every((r, i) => r.file === refs[i]!.file);
    if (!same) continue;
    const changed = refs.filter((r, i) => r.sha256 !== before[i]!.sha256).map((r) => r.file);
    if (changed.length) return changed;
  }
  return [];
}

/** Each image's state; entries no static usage names are "unreferenced" when render-time prompts might use them. */
function rows(context: CliContext, inventory: Inventory, root: string): Row[] {
  const { pipeline } = context;
  const used = inventory.images.map((image): Row => ({
    ...(image.entry || image.artOf ? {} : changedRow(changedReferences(pipeline.spec(image.usages[0]!), pipeline.cache.images))),
    key: image.key,
    state: !image.entry ? 'missing' : !image.originalPresent ? 'broken' : image.missingVariants.length ? 'incomplete' : 'cached',
    prompt: image.prompt,
    ratio: image.ratio,
    variant: image.variant,
    file: image.entry?.file ?? null,
    locations: image.locations.map((loc) => relativeLocation(loc, root)),
    missingVariants: image.missingVariants,
  }));
  const renderedOnly = inventory.rendered.filter((r) => !r.literal).map((image): Row => ({
    key: image.key,
    state: !image.entry ? 'missing' : !image.originalPresent ? 'broken' : image.missingVariants.length ? 'incomplete' : 'cached',
    prompt: image.prompt,
    ratio: image.ratio,
    variant: image.entry?.variant ?? 0,
    file: image.entry?.file ?? null,
    locations: [],
    pages: image.pages,
    missingVariants: image.missingVariants,
  }));
  const known = inventory.record === 'none' || inventory.record === 'current';
  const unused = inventory.unused.map(({ key, entry }): Row => ({
    key,
    state: known ? 'unused' : 'unreferenced',
    prompt: entry.prompt,
    ratio: entry.ratio,
    variant: entry.variant,
    file: entry.file,
    locations: [],
    missingVariants: [],
  }));
  return [...used, ...renderedOnly, ...unused];
}

const changedRow = (files: string[]) => (files.length ? { changedReferences: files } : {});

function detail(row: Row, inventory: Inventory, cacheRel: string): string {
  switch (row.state) {
    case 'missing':
      return row.changedReferences ? ` — ${row.changedReferences.join(', ')} changed since it was generated` : '';
    case 'incomplete':
      return ` — ${plural(row.missingVariants.length, 'variant')} not encoded yet`;
    case 'broken':
      return ` — ${cacheRel}/${row.file} is listed in manifest.json but missing`;
    case 'unused':
    case 'unreferenced': {
      const fileGone = inventory.unused.find((u) => u.key === row.key)?.originalPresent === false ? ` (${cacheRel}/${row.file} is missing too)` : '';
      return row.state === 'unused'
        ? ` — ${inventory.record === 'current' ? 'no usage names it and no page showed it at the last build' : 'used nowhere'}; prune deletes it${fileGone}`
        : ` — no static usage; a prompt computed at render time may use it${fileGone}`;
    }
    default:
      return '';
  }
}

/** `generated-images status`: what the source asks for against what the cache holds. Exit 1 when a build would have work to do. */
export async function status(context: CliContext, flags: { json?: boolean }): Promise<number> {
  const { project, pipeline } = context;
  const inventory = await takeInventory(context);
  const list = rows(context, inventory, project.root);
  const count = (state: ImageState) => list.filter((r) => r.state === state).length;
  const summary = Object.fromEntries((['cached', 'incomplete', 'missing', 'broken', 'unused', 'unreferenced'] as const).map((s) => [s, count(s)]));
  // Without a record that matches the sources, a frozen build may still miss images that status cannot see.
  const unknown = inventory.record === 'absent' || inventory.record === 'stale';
  const failing = unknown || summary.missing! + summary.incomplete! + summary.broken! + inventory.errors.length > 0;
  const cacheRel = context.rel(pipeline.cache.dir);
  const errors = inventory.errors.map((e) => `${relativeLocation(e.loc, project.root)}: ${e.reason}`);
  const toGenerate = summary.missing! + inventory.pendingArt;
  const cost = toGenerate ? await estimateCost(context, toGenerate) : undefined;

  if (flags.json) {
    const report = {
      root: project.root,
      config: context.rel(project.configFile),
      cacheDir: cacheRel,
      images: list,
      renderTimePrompts: inventory.dynamic.map((loc) => relativeLocation(loc, project.root)),
      renderedRecord: inventory.record,
      manifestNotes: pipeline.cache.notes,
      errors,
      summary,
      ...(cost ? { estimatedCost: cost } : {}),
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return failing ? 1 : 0;
  }

  const out: string[] = [];
  const width = Math.max(...list.map((r) => r.state.length), 6);
  for (const row of list) {
    const where = row.locations.length ? `  ${row.locations.join(', ')}` : row.pages ? `  rendered on ${row.pages.join(', ') || 'no page'}` : '';
    out.push(`${row.state.padEnd(width)}  ${row.key}  ${describeImage(row)}${where}${detail(row, inventory, cacheRel)}`);
  }
  if (list.length === 0) out.push(`no <GeneratedImage> usages found (scanned ${context.options.include.join(', ')}) and nothing in ${cacheRel}/`);
  if (errors.length) out.push('', `${plural(errors.length, 'invalid usage')}:`, ...errors.map((e) => `  ${e}`));
  if (inventory.dynamic.length) out.push('', ...renderTimeLines(inventory, context));
  for (const note of pipeline.cache.notes) out.push('', `note: ${note}`);
  const parts = Object.entries(summary).filter(([, n]) => n > 0).map(([state, n]) => `${n} ${state}`);
  const fromData = inventory.rendered.filter((r) => !r.literal).length;
  out.push('', `${plural(inventory.images.length, 'image')} in source, ${fromData ? `${fromData} more rendered from data, ` : ''}${plural(Object.keys(pipeline.cache.images).length, 'entry', 'entries')} in ${cacheRel}/${parts.length ? `: ${parts.join(', ')}` : ''}`);
  if (cost) {
    out.push(
      cost.total === null
        ? `estimated cost of the ${plural(cost.images, 'missing image')}: unknown (the gateway gives no price per image for ${context.options.model})`
        : `estimated cost of the ${plural(cost.images, 'missing image')}: ${formatUsd(cost.total)} (${formatUsd(cost.pricePerImage!)} per image)`,
    );
  }
  // The record keeps a rendered image's key and files, not every prop it was rendered with: only a build can make it.
  const renderedMissing = list.some((r) => r.pages && r.state === 'missing');
  if (renderedMissing) out.push(`run \`${project.framework} build\` where it may generate (frozen: false and AGNIC_API_KEY set) to make the images pages rendered from data, then commit ${cacheRel}/`);
  if (summary.missing! > list.filter((r) => r.pages && r.state === 'missing').length || summary.incomplete) {
    out.push(`run \`generated-images generate\` to ${summary.missing ? 'generate what is missing (needs AGNIC_API_KEY)' : 'encode the missing variants'}, then commit ${cacheRel}/`);
  }
  if (summary.broken) out.push(`restore the missing files from git, or run \`generated-images prune\` to drop their entries so that they are generated again`);
  if (summary.unused) out.push('run `generated-images prune` to delete the unused entries');
  process.stdout.write(`${out.join('\n')}\n`);
  return failing ? 1 : 0;
}

/** What status knows of the images of prompts computed at render time: what the last build's pages showed, if that still holds. */
function renderTimeLines(inventory: Inventory, context: CliContext): string[] {
  const { project, pipeline } = context;
  const record = `${context.rel(pipeline.cache.dir)}/${RENDERED_FILE}`;
  const build = `\`${project.framework} build\``;
  const head = `${plural(inventory.dynamic.length, 'prompt is', 'prompts are')} computed at render time (${locations(inventory.dynamic, project.root)}):`;
  switch (inventory.record) {
    case 'current':
      return [head, `  the images "rendered on" a page above are those the last build's pages showed (${record}), and the sources have not changed since.`];
    case 'stale':
      return [head, `  the sources changed since the last build recorded what its pages showed (${record}), so images of prompts changed or added since are not known: run ${build} where it may generate (it also updates the record), then commit ${context.rel(pipeline.cache.dir)}/.`];
    default:
      return [head, `  their images cannot be known without rendering, and no build has recorded what its pages showed (${record}): run ${build} where it may generate (it writes the record), then commit ${context.rel(pipeline.cache.dir)}/.`];
  }
}

/** Misses × the gateway's price per image (from `/models`, which needs the API key); unknown without a price. */
async function estimateCost(context: CliContext, images: number): Promise<CostEstimate> {
  if (!context.options.apiKey) return { images, pricePerImage: null, total: null };
  try {
    const estimate = await context.pipeline.estimate(images);
    return { images, pricePerImage: estimate?.pricePerImage ?? null, total: estimate?.total ?? null };
  } catch (error) {
    process.stderr.write(`warning: could not ask the gateway for its price: ${(error as Error).message}\n`);
    return { images, pricePerImage: null, total: null };
  }
}
