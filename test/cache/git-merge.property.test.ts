// A property of the committed cache (SPEC "The cache"): a real `git merge` of
// two branches that each add, prune, re-encode, restyle or regenerate images,
// merged in either order, is either clean — and then the merged cache loads
// with every image both branches kept and a frozen `vite build` (CI=true)
// makes no gateway request — or stops with a git conflict, and a conflict in
// the cache names the image. Random pairs of branch histories come from
// fast-check; the branches run the real CLI (`generate`, `prune`) from the
// project's own vite.config.js, and git merges with the repository's
// .gitattributes only (no user or system config).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { build } from 'vite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cacheKey } from '../../packages/vite-plugin/src/core/key.ts';
import { CacheStore } from '../../packages/vite-plugin/src/core/cache/store.ts';
import { openContext } from '../../packages/vite-plugin/src/cli/context.ts';
import { generate } from '../../packages/vite-plugin/src/cli/generate.ts';
import { prune } from '../../packages/vite-plugin/src/cli/prune.ts';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { git, gitOk, tempDir } from '../cli/helpers.ts';
import { cacheViolations } from '../reliability/helpers.ts';

const KEY = 'agnic_tok_merge_property_0123';
const PAIRS = Number(process.env.GI_PAIRS ?? 50);
const STYLES = ['', 'watercolour', 'ink sketch'];
const WIDTHS = [[64], [48], [32, 64], [48, 96]];

type Op =
  | { kind: 'add'; count: number }
  | { kind: 'prune'; pick: number }
  | { kind: 'pruneAll' }
  | { kind: 'widths'; to: number; prune: boolean }
  | { kind: 'style'; to: number; prune: boolean }
  | { kind: 'variant'; pick: number; prune: boolean };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), count: fc.integer({ min: 1, max: 2 }) }),
  fc.record({ kind: fc.constant('prune' as const), pick: fc.nat() }),
  fc.constant({ kind: 'pruneAll' as const }),
  fc.record({ kind: fc.constant('widths' as const), to: fc.integer({ min: 0, max: WIDTHS.length - 1 }), prune: fc.boolean() }),
  fc.record({ kind: fc.constant('style' as const), to: fc.integer({ min: 0, max: STYLES.length - 1 }), prune: fc.boolean() }),
  fc.record({ kind: fc.constant('variant' as const), pick: fc.nat(), prune: fc.boolean() }),
);
const history = fc.array(op, { minLength: 1, maxLength: 3 });

const CONFIG = `import { readFileSync } from 'node:fs';
import generatedImages from 'vite-plugin-generated-images';

const read = (name) => readFileSync(new URL(name, import.meta.url), 'utf8').trim();
export default {
  logLevel: 'silent',
  plugins: [generatedImages({ style: read('./style.txt') || undefined, widths: JSON.parse(read('./widths.json')), formats: ['webp'], placeholder: 'none', include: ['usages/*.html'] })],
};
`;

let gateway: TestGateway;
let base: string;
const work: string[] = [];
const outcomes = { clean: 0, cleanNeedsNewImage: 0, cleanWithStaleRecord: 0, conflictNamingImage: 0, conflictOutsideCache: 0 };

/** Runs `generated-images <command>` in-process, as the bin does (its report and progress are not needed here). */
async function cliCommand(root: string, command: 'generate' | 'prune'): Promise<void> {
  const write = process.stdout.write;
  const env = { AGNIC_BASE_URL: process.env.AGNIC_BASE_URL, AGNIC_API_KEY: process.env.AGNIC_API_KEY, CI: process.env.CI };
  Object.assign(process.env, { AGNIC_BASE_URL: gateway.url, AGNIC_API_KEY: KEY, CI: '' });
  const writeErr = process.stderr.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    const context = await openContext({ command, flags: {} } as Parameters<typeof openContext>[0], root, command === 'generate' ? { frozen: false } : {});
    const code = command === 'generate' ? await generate(context, {}) : await prune(context, {});
    if (code !== 0) throw new Error(`generated-images ${command} exited ${code} in ${root}`);
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
    for (const [name, value] of Object.entries(env)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

async function commit(root: string, message: string): Promise<void> {
  await gitOk(root, ['add', '-A']);
  await gitOk(root, ['commit', '-q', '--allow-empty', '-m', message]);
}

async function usageFiles(root: string): Promise<string[]> {
  return (await fs.readdir(path.join(root, 'usages'))).filter((n) => n.endsWith('.html')).sort();
}

/** The cache keys the project's source and config ask for now. */
async function neededKeys(root: string): Promise<Map<string, string>> {
  const style = (await fs.readFile(path.join(root, 'style.txt'), 'utf8')).trim() || null;
  const needed = new Map<string, string>();
  for (const name of await usageFiles(root)) {
    const html = await fs.readFile(path.join(root, 'usages', name), 'utf8');
    const prompt = /prompt="([^"]*)"/.exec(html)![1]!;
    const variant = Number(/variant="(\d+)"/.exec(html)![1]);
    needed.set(cacheKey({ model: 'google/gemini-2.0-flash', prompt, style, ratio: '1:1', variant, imageSize: null }), prompt);
  }
  return needed;
}

async function manifestKeys(root: string): Promise<Set<string>> {
  return new Set(Object.keys((await new CacheStore(path.join(root, 'generated-images')).load()).images));
}

const usage = (prompt: string, variant: number) => `<GeneratedImage prompt="${prompt}" ratio="1:1" variant="${variant}" alt="" />\n`;

async function applyOp(root: string, branch: string, step: number, o: Op): Promise<void> {
  const files = await usageFiles(root);
  switch (o.kind) {
    case 'add':
      for (let i = 0; i < o.count; i++) await fs.writeFile(path.join(root, 'usages', `${branch}-${step}-${i}.html`), usage(`A ${branch} picture, step ${step}, number ${i}`, 0));
      await cliCommand(root, 'generate');
      break;
    case 'prune':
      if (files.length) await fs.rm(path.join(root, 'usages', files[o.pick % files.length]!));
      await cliCommand(root, 'prune');
      break;
    case 'pruneAll':
      // The manifest is then empty: its "images" lines must stay, or a union merge makes two of them.
      for (const file of files) await fs.rm(path.join(root, 'usages', file));
      await cliCommand(root, 'prune');
      break;
    case 'widths':
    case 'style':
      if (o.kind === 'widths') await fs.writeFile(path.join(root, 'widths.json'), `${JSON.stringify(WIDTHS[o.to])}\n`);
      else await fs.writeFile(path.join(root, 'style.txt'), `${STYLES[o.to]}\n`);
      await cliCommand(root, 'generate');
      if (o.prune) await cliCommand(root, 'prune');
      break;
    case 'variant': {
      if (!files.length) return;
      const file = path.join(root, 'usages', files[o.pick % files.length]!);
      const html = await fs.readFile(file, 'utf8');
      await fs.writeFile(file, html.replace(/variant="(\d+)"/, (_m, n: string) => `variant="${Number(n) + 1}"`));
      await cliCommand(root, 'generate');
      if (o.prune) await cliCommand(root, 'prune');
      break;
    }
  }
  await commit(root, `${branch} ${step}: ${JSON.stringify(o)}`);
}

/** A frozen `vite build` of the project's own config, as CI runs it on the merge commit. */
async function frozenBuild(root: string): Promise<Error | undefined> {
  const ci = process.env.CI;
  process.env.CI = 'true';
  try {
    await build({ root, configFile: path.join(root, 'vite.config.js'), logLevel: 'silent', build: { outDir: 'dist', emptyOutDir: true } });
    return undefined;
  } catch (error) {
    return error as Error;
  } finally {
    if (ci === undefined) delete process.env.CI;
    else process.env.CI = ci;
  }
}

/** Merges `theirs` into `ours` and checks the outcome against the property. */
async function checkMerge(root: string, ours: string, theirs: string, kept: { a: Set<string>; b: Set<string>; base: Set<string> }): Promise<void> {
  await gitOk(root, ['checkout', '-q', ours]);
  const merge = await git(root, ['merge', '--no-edit', '-q', theirs]);
  if (merge.code !== 0) {
    const conflicted = (await gitOk(root, ['diff', '--name-only', '--diff-filter=U'])).split('\n').filter(Boolean);
    expect(conflicted.length, merge.output).toBeGreaterThan(0);
    // The union driver never conflicts on the manifest; a conflict in the cache is on an image's own file, named by its key.
    const inCache = conflicted.filter((f) => f.startsWith('generated-images/'));
    for (const file of inCache) expect(file, merge.output).toMatch(/^generated-images\/(variants\/)?[0-9a-f]{16}[.-]/);
    if (inCache.length) outcomes.conflictNamingImage++;
    else outcomes.conflictOutsideCache++;
    await gitOk(root, ['merge', '--abort']);
    return;
  }
  // Every image either branch has that the other did not delete.
  const expected = [...kept.a, ...kept.b].filter((k) => (kept.a.has(k) && kept.b.has(k)) || !kept.base.has(k));
  const merged = await manifestKeys(root);
  for (const key of expected) expect(merged.has(key), `${key} lost merging ${theirs} into ${ours}`).toBe(true);

  gateway.reset();
  const needed = await neededKeys(root);
  const neither = [...needed].filter(([key]) => !kept.a.has(key) && !kept.b.has(key));
  const error = await frozenBuild(root);
  expect(gateway.chatRequests()).toHaveLength(0);
  if (neither.length) {
    // A branch restyled every image while the other added one in the old style: nobody generated it in the new one.
    expect(error?.message).toContain(`${neither.length === 1 ? '1 image is' : `${neither.length} images are`} missing from the cache`);
    for (const [, prompt] of neither) expect(error!.message).toContain(prompt);
    outcomes.cleanNeedsNewImage++;
  } else {
    expect(error, `frozen build after merging ${theirs} into ${ours}`).toBeUndefined();
    outcomes.clean++;
  }
  // Records whose files do not verify are only ever of images one branch pruned and the other changed.
  const violations = await cacheViolations(path.join(root, 'generated-images'));
  const broken = violations.map((v) => v.slice(0, 16));
  for (const key of broken) expect(kept.base.has(key) && !(kept.a.has(key) && kept.b.has(key)), `${key} broken after merging ${theirs} into ${ours}: ${violations.join('; ')}`).toBe(true);
  if (broken.length && !neither.length) outcomes.cleanWithStaleRecord++;
  await gitOk(root, ['reset', '-q', '--hard', ours]);
  await gitOk(root, ['clean', '-qfdx', '-e', 'node_modules']);
}

beforeAll(async () => {
  gateway = await startTestGateway({ apiKey: KEY });
  base = await tempDir('merge-base');
  work.push(base);
  await fs.mkdir(path.join(base, 'usages'));
  // Kept by git when a branch deletes every usage.
  await fs.writeFile(path.join(base, 'usages', '.gitkeep'), '');
  await fs.writeFile(path.join(base, 'index.html'), '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>t</title></head><body><p>images</p></body></html>\n');
  await fs.writeFile(path.join(base, 'vite.config.js'), CONFIG);
  await fs.writeFile(path.join(base, 'style.txt'), '\n');
  await fs.writeFile(path.join(base, 'widths.json'), '[64]\n');
  await fs.writeFile(path.join(base, '.gitignore'), 'dist/\n');
  for (let i = 0; i < 3; i++) await fs.writeFile(path.join(base, 'usages', `base-${i}.html`), usage(`A base picture number ${i}`, 0));
  await gitOk(base, ['init', '-q']);
  await cliCommand(base, 'generate');
  await commit(base, 'base');
});
afterAll(async () => {
  await gateway?.close();
  await Promise.all(work.map((dir) => fs.rm(dir, { recursive: true, force: true })));
  console.log(`git merges of ${PAIRS} random pairs of branch histories, both orders: ${JSON.stringify(outcomes)}`);
});

it(`${PAIRS} random pairs of branch histories merge safely in both orders`, async () => {
  let pair = 0;
  await fc.assert(
    fc.asyncProperty(history, history, async (a, b) => {
      const root = await tempDir(`merge-${pair++}`);
      work.push(root);
      await fs.rm(root, { recursive: true });
      await gitOk(path.dirname(root), ['clone', '-q', base, root]);
      const keys = await manifestKeys(root);
      await gitOk(root, ['checkout', '-q', '-b', 'a']);
      for (const [i, o] of a.entries()) await applyOp(root, 'a', i, o);
      const keysA = await manifestKeys(root);
      await gitOk(root, ['checkout', '-q', '-b', 'b', 'origin/HEAD']);
      for (const [i, o] of b.entries()) await applyOp(root, 'b', i, o);
      const keysB = await manifestKeys(root);
      const kept = { a: keysA, b: keysB, base: keys };
      await checkMerge(root, 'a', 'b', kept);
      await checkMerge(root, 'b', 'a', kept);
      await fs.rm(root, { recursive: true, force: true });
    }),
    { numRuns: PAIRS, endOnFailure: true, ...(process.env.GI_SEED ? { seed: Number(process.env.GI_SEED), path: process.env.GI_PATH } : {}) },
  );
}, 3_600_000);
