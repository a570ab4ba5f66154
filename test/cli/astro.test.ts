import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { BIN, hashTree, run } from '../helpers.ts';
import { KEY, cli, copyFixture, readManifest, userEnv } from './helpers.ts';

let gateway: TestGateway;
let dir: string;
const env = () => ({ AGNIC_BASE_URL: gateway.url, AGNIC_API_KEY: KEY });

beforeAll(async () => {
  gateway = await startTestGateway();
  dir = await copyFixture('astro-site', 'astro');
});
afterAll(async () => {
  await gateway.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('generated-images in an Astro project with prompts computed at render time', () => {
  it('reads astro.config and says which prompts only the build can know, instead of guessing', async () => {
    const status = await cli(dir, ['status']);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/missing +[0-9a-f]{16} {2}"A lighthouse on a cliff at dusk" \(16:9\) {2}src\/pages\/index\.astro:6:5/);
    expect(status.stdout).toContain('1 prompt is computed at render time (src/pages/animals.astro:9:30)');
    expect(status.stdout).toContain('`astro build` generates them');

    const generate = await cli(dir, ['generate'], env());
    expect(generate.code, generate.output).toBe(0);
    expect(gateway.chatRequests()).toHaveLength(1);
    expect(generate.stdout).toContain('note: 1 prompt is computed at render time (src/pages/animals.astro:9:30); `astro build` generates their images');
  });

  it('after the build generated them, lists those images as unreferenced (not unused) and prune keeps them unless --include-dynamic', async () => {
    const build = await run(path.join(BIN, 'astro'), ['build'], { cwd: dir, env: userEnv(env()) });
    expect(build.code, build.output).toBe(0);
    expect(Object.keys((await readManifest(dir)).images)).toHaveLength(3);

    const status = await cli(dir, ['status']);
    expect(status.code, status.output).toBe(0);
    expect(status.stdout).toMatch(/unreferenced +[0-9a-f]{16} {2}"A heron standing in the reeds" \(1:1\) — no static usage; a prompt computed at render time may use it/);
    expect(status.stdout).toContain('1 image in source, 3 entries in generated-images/: 1 cached, 2 unreferenced');
    const report = JSON.parse((await cli(dir, ['status', '--json'])).stdout);
    expect(report.renderTimePrompts).toEqual(['src/pages/animals.astro:9:30']);
    expect(report.summary).toMatchObject({ cached: 1, unreferenced: 2, unused: 0 });

    const before = await hashTree(path.join(dir, 'generated-images'));
    const kept = await cli(dir, ['prune']);
    expect(kept.code, kept.output).toBe(0);
    expect(kept.stdout).toContain('kept 2 images that no static usage refers to: 1 prompt is computed at render time (src/pages/animals.astro:9:30) and may use them');
    expect(kept.stdout).toContain('nothing to prune');
    expect(await hashTree(path.join(dir, 'generated-images'))).toEqual(before);

    const pruned = await cli(dir, ['prune', '--include-dynamic']);
    expect(pruned.stdout).toContain('pruned 2 images');
    expect(Object.values((await readManifest(dir)).images).map((e) => e.prompt)).toEqual(['A lighthouse on a cliff at dusk']);
  });
});
