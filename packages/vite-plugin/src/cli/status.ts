import { relativeLocation } from '../core/location.js';
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
  missingVariants: string[];
}

/** Each image's state; entries no static usage names are "unreferenced" when render-time prompts might use them. */
function rows(inventory: Inventory, root: string): Row[] {
  const used = inventory.images.map((image): Row => ({
    key: image.key,
    state: !image.entry ? 'missing' : !image.originalPresent ? 'broken' : image.missingVariants.length ? 'incomplete' : 'cached',
    prompt: image.prompt,
    ratio: image.ratio,
    variant: image.variant,
    file: image.entry?.file ?? null,
    locations: image.locations.map((loc) => relativeLocation(loc, root)),
    missingVariants: image.missingVariants,
  }));
  const unused = inventory.unused.map(({ key, entry }): Row => ({
    key,
    state: inventory.dynamic.length ? 'unreferenced' : 'unused',
    prompt: entry.prompt,
    ratio: entry.ratio,
    variant: entry.variant,
    file: entry.file,
    locations: [],
    missingVariants: [],
  }));
  return [...used, ...unused];
}

function detail(row: Row, inventory: Inventory, cacheRel: string): string {
  switch (row.state) {
    case 'incomplete':
      return ` — ${plural(row.missingVariants.length, 'variant')} not encoded yet`;
    case 'broken':
      return ` — ${cacheRel}/${row.file} is listed in manifest.json but missing`;
    case 'unused':
    case 'unreferenced': {
      const fileGone = inventory.unused.find((u) => u.key === row.key)?.originalPresent === false ? ` (${cacheRel}/${row.file} is missing too)` : '';
      return row.state === 'unused'
        ? ` — used nowhere; prune deletes it${fileGone}`
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
  const list = rows(inventory, project.root);
  const count = (state: ImageState) => list.filter((r) => r.state === state).length;
  const summary = Object.fromEntries((['cached', 'incomplete', 'missing', 'broken', 'unused', 'unreferenced'] as const).map((s) => [s, count(s)]));
  const failing = summary.missing! + summary.incomplete! + summary.broken! + inventory.errors.length > 0;
  const cacheRel = context.rel(pipeline.cache.dir);
  const errors = inventory.errors.map((e) => `${relativeLocation(e.loc, project.root)}: ${e.reason}`);

  if (flags.json) {
    const report = {
      root: project.root,
      config: context.rel(project.configFile),
      cacheDir: cacheRel,
      images: list,
      renderTimePrompts: inventory.dynamic.map((loc) => relativeLocation(loc, project.root)),
      manifestNotes: pipeline.cache.notes,
      errors,
      summary,
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return failing ? 1 : 0;
  }

  const out: string[] = [];
  const width = Math.max(...list.map((r) => r.state.length), 6);
  for (const row of list) {
    const where = row.locations.length ? `  ${row.locations.join(', ')}` : '';
    out.push(`${row.state.padEnd(width)}  ${row.key}  ${describeImage(row)}${where}${detail(row, inventory, cacheRel)}`);
  }
  if (list.length === 0) out.push(`no <GeneratedImage> usages found (scanned ${context.options.include.join(', ')}) and nothing in ${cacheRel}/`);
  if (errors.length) out.push('', `${plural(errors.length, 'invalid usage')}:`, ...errors.map((e) => `  ${e}`));
  if (inventory.dynamic.length) {
    out.push(
      '',
      `${plural(inventory.dynamic.length, 'prompt is', 'prompts are')} computed at render time (${locations(inventory.dynamic, project.root)}):`,
      `  their images cannot be known without rendering, so they are not listed above; \`${project.framework} build\` generates them.`,
    );
  }
  for (const note of pipeline.cache.notes) out.push('', `note: ${note}`);
  const parts = Object.entries(summary).filter(([, n]) => n > 0).map(([state, n]) => `${n} ${state}`);
  out.push('', `${plural(inventory.images.length, 'image')} in source, ${plural(Object.keys(pipeline.cache.images).length, 'entry', 'entries')} in ${cacheRel}/${parts.length ? `: ${parts.join(', ')}` : ''}`);
  if (summary.missing || summary.incomplete) {
    out.push(`run \`generated-images generate\` to ${summary.missing ? 'generate what is missing (needs AGNIC_API_KEY)' : 'encode the missing variants'}, then commit ${cacheRel}/`);
  }
  if (summary.broken) out.push(`restore the missing files from git, or run \`generated-images prune\` to drop their entries so that they are generated again`);
  if (summary.unused) out.push('run `generated-images prune` to delete the unused entries');
  process.stdout.write(`${out.join('\n')}\n`);
  return failing ? 1 : 0;
}
