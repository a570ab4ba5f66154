import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { BIN, hashTree, run } from '../helpers.ts';
import { KEY, cli, copyFixture, readManifest, userEnv } from './helpers.ts';

let gateway: TestGateway;
let dir: string;
const env = () => ({ AGNIC_BASE_URL: gateway.url, AGNIC_API_KEY: KEY });
const cache = () => path.join(dir, 'generated-images');
const astroBuild = (extra: Record<string, string | undefined> = {}) => run(path.join(BIN, 'astro'), ['build'], { cwd: dir, env: userEnv({ ...env(), ...extra }) });
const prompts = async () => Object.values((await readManifest(dir)).images).map((e) => e.prompt).sort();
/** Edits the page's data, as a site changes a post or a list: the prompts it computes change with it. */
async function setAnimals(animals: string[]): Promise<void> {
  const page = path.join(dir, 'src/pages/animals.astro');
  const source = await fs.readFile(page, 'utf8');
  await fs.writeFile(page, source.replace(/const animals = \[.*\];/, `const animals = ${JSON.stringify(animals)};`));
}

beforeAll(async () => {
  gateway = await startTestGateway();
  dir = await copyFixture('astro-site', 'astro');
});
afterAll(async () => {
  await gateway.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('generated-images in an Astro project with prompts computed at render time', () => {
  it('before any build, says which prompts only the build can know and fails status instead of guessing', async () => {
    const status = await cli(dir, ['status']);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/missing +[0-9a-f]{16} {2}"A lighthouse on a cliff at dusk" \(16:9\) {2}src\/pages\/index\.astro:6:5/);
    expect(status.stdout).toContain('1 prompt is computed at render time (src/pages/animals.astro:9:30):');
    expect(status.stdout).toContain('no build has recorded what its pages showed (generated-images/rendered.json): run `astro build`');

    const generate = await cli(dir, ['generate'], env());
    expect(generate.code, generate.output).toBe(0);
    expect(gateway.chatRequests()).toHaveLength(1);
    expect(generate.stdout).toContain('note: 1 prompt is computed at render time (src/pages/animals.astro:9:30); `astro build` generates their images');
    // Still unknown: the literal image is there now, but what the page renders from data is not.
    expect((await cli(dir, ['status'])).code).toBe(1);
  });

  it('after a build, knows the images the pages rendered from data: status passes and prune keeps them', async () => {
    const build = await astroBuild();
    expect(build.code, build.output).toBe(0);
    expect(await prompts()).toEqual(['A hare in a summer meadow', 'A heron standing in the reeds', 'A lighthouse on a cliff at dusk']);
    // The summary says where an image from data is used: the page that rendered it.
    expect(build.output).toMatch(/generated +page \/animals\/ +1:1 +A heron standing in the reeds/);

    const status = await cli(dir, ['status']);
    expect(status.code, status.output).toBe(0);
    expect(status.stdout).toMatch(/cached +[0-9a-f]{16} {2}"A heron standing in the reeds" \(1:1\) {2}rendered on \/animals\/?\n/);
    expect(status.stdout).toContain('1 image in source, 2 more rendered from data, 3 entries in generated-images/: 3 cached');
    const report = JSON.parse((await cli(dir, ['status', '--json'])).stdout);
    expect(report.renderTimePrompts).toEqual(['src/pages/animals.astro:9:30']);
    expect(report.renderedRecord).toBe('current');
    expect(report.summary).toMatchObject({ cached: 3, unreferenced: 0, unused: 0, missing: 0 });

    const before = await hashTree(cache());
    const pruned = await cli(dir, ['prune']);
    expect(pruned.code, pruned.output).toBe(0);
    expect(pruned.stdout).toContain('nothing to prune');
    expect(await hashTree(cache())).toEqual(before);

    // A frozen CI build of the same commit: no request, and the cache (the record included) as committed.
    const requests = gateway.chatRequests().length;
    const frozen = await astroBuild({ CI: 'true', AGNIC_API_KEY: undefined });
    expect(frozen.code, frozen.output).toBe(0);
    expect(gateway.chatRequests()).toHaveLength(requests);
    expect(await hashTree(cache())).toEqual(before);
  });

  it('once the data changed, status fails until a build records it, and prune deletes nothing the pages might still show', async () => {
    await setAnimals(['A heron standing in the reeds', 'A fox at the edge of a wood']);
    const status = await cli(dir, ['status']);
    expect(status.code).toBe(1);
    expect(status.stdout).toContain('the sources changed since the last build recorded what its pages showed (generated-images/rendered.json)');

    const before = await hashTree(cache());
    for (const args of [['prune'], ['prune', '--include-dynamic']]) {
      const pruned = await cli(dir, args);
      expect(pruned.code, pruned.output).toBe(0);
      expect(pruned.stdout).toContain('nothing to prune');
    }
    expect(await hashTree(cache())).toEqual(before);
  });

  it('after the next build, prune deletes exactly the image no page shows any more', async () => {
    const requests = gateway.chatRequests().length;
    const build = await astroBuild();
    expect(build.code, build.output).toBe(0);
    expect(gateway.chatRequests().map((r) => r.promptText).slice(requests)).toEqual([expect.stringContaining('A fox at the edge of a wood')]);

    // A Markdown file without a usage (the project's README) is no source of prompts: the record stays current.
    await fs.writeFile(path.join(dir, 'README.md'), '# The animals site\n\nEdited after the build.\n');
    const status = await cli(dir, ['status']);
    expect(status.code, status.output).toBe(0);
    expect(status.stdout).toMatch(/unused +[0-9a-f]{16} {2}"A hare in a summer meadow" \(1:1\) — no usage names it and no page showed it at the last build; prune deletes it/);

    const pruned = await cli(dir, ['prune']);
    expect(pruned.code, pruned.output).toBe(0);
    expect(pruned.stdout).toContain('pruned 1 image');
    expect(await prompts()).toEqual(['A fox at the edge of a wood', 'A heron standing in the reeds', 'A lighthouse on a cliff at dusk']);
    expect((await cli(dir, ['verify'])).code).toBe(0);
  });

  it('fails status wherever a frozen build fails for a prompt from data, and a failed build leaves the cache as it was', async () => {
    await setAnimals(['A heron standing in the reeds', 'An owl on a fence post at night']);
    expect((await cli(dir, ['status'])).code).toBe(1);
    const before = await hashTree(cache());
    const frozen = await astroBuild({ CI: 'true', AGNIC_API_KEY: undefined });
    expect(frozen.code).not.toBe(0);
    expect(frozen.output).toContain('An owl on a fence post at night');
    expect(await hashTree(cache())).toEqual(before);
    expect((await cli(dir, ['status'])).code).toBe(1);
  });

  it('names a recorded image that is missing from the cache, as after a merge that lost it', async () => {
    await setAnimals(['A heron standing in the reeds', 'A fox at the edge of a wood']);
    expect((await cli(dir, ['status'])).code, 'the sources are as the last build recorded them').toBe(0);
    const { images } = await readManifest(dir);
    const fox = Object.keys(images).find((key) => images[key]!.prompt === 'A fox at the edge of a wood')!;
    const manifest = path.join(cache(), 'manifest.json');
    await fs.writeFile(manifest, (await fs.readFile(manifest, 'utf8')).split('\n').filter((line) => !line.includes(`"${fox}"`)).join('\n').replace(/,(\n\s*\})/, '$1'));

    const status = await cli(dir, ['status']);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/missing +[0-9a-f]{16} {2}"A fox at the edge of a wood" \(1:1\) {2}rendered on \/animals/);
    expect(status.stdout).toContain('run `astro build` where it may generate');
  });
});
