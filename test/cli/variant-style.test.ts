import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { KEY, cli, copyFixture, readManifest } from './helpers.ts';

let gateway: TestGateway;
let dir: string;
const env = () => ({ AGNIC_BASE_URL: gateway.url, AGNIC_API_KEY: KEY });

/** The fixture with its cache complete, as after `generated-images generate`. */
beforeAll(async () => {
  gateway = await startTestGateway();
  dir = await copyFixture('site', 'variant-style');
  const generate = await cli(dir, ['generate'], env());
  expect(generate.code, generate.output).toBe(0);
});
afterAll(async () => {
  await gateway.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('variant and style', () => {
  it('another variant of a prompt is a new image; the old take stays until prune', async () => {
    gateway.reset();
    const index = path.join(dir, 'index.html');
    await fs.writeFile(index, (await fs.readFile(index, 'utf8')).replace('alt="Teapot"', 'alt="Teapot" variant="1"'));
    const status = await cli(dir, ['status']);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/missing +[0-9a-f]{16} {2}"A blue teapot on a wooden table" \(1:1, variant 1\) {2}index\.html:9:5/);
    expect(status.stdout).toMatch(/unused +[0-9a-f]{16} {2}"A blue teapot on a wooden table" \(1:1\) — used nowhere/);

    expect((await cli(dir, ['generate'], env())).code).toBe(0);
    expect(gateway.chatRequests()).toHaveLength(1);
    const entries = Object.values((await readManifest(dir)).images).filter((e) => e.prompt === 'A blue teapot on a wooden table');
    expect(entries.map((e) => (e as unknown as { variant: number }).variant).sort()).toEqual([0, 1]);

    const pruned = await cli(dir, ['prune']);
    expect(pruned.stdout).toContain('pruned 1 image');
    const left = Object.values((await readManifest(dir)).images).filter((e) => e.prompt === 'A blue teapot on a wooden table');
    expect(left.map((e) => (e as unknown as { variant: number }).variant)).toEqual([1]);
  });

  it('a new site-wide style makes new images with the style in the prompt; the old ones stay until prune', async () => {
    gateway.reset();
    const config = path.join(dir, 'vite.config.js');
    await fs.writeFile(config, (await fs.readFile(config, 'utf8')).replace("formats: ['webp']", "formats: ['webp'], style: 'watercolour, soft light'"));
    const before = Object.keys((await readManifest(dir)).images);

    const status = JSON.parse((await cli(dir, ['status', '--json'])).stdout);
    expect(status.summary).toMatchObject({ missing: 3, unused: 3 });

    expect((await cli(dir, ['generate'], env())).code).toBe(0);
    expect(gateway.chatRequests()).toHaveLength(3);
    for (const request of gateway.chatRequests()) expect(JSON.stringify(request.body.messages)).toContain('watercolour, soft light');
    const manifest = await readManifest(dir);
    expect(Object.keys(manifest.images)).toHaveLength(6);
    expect(Object.values(manifest.images).filter((e) => (e as unknown as { style: string | null }).style === 'watercolour, soft light')).toHaveLength(3);

    const pruned = await cli(dir, ['prune']);
    expect(pruned.stdout).toContain('pruned 3 images');
    const after = Object.keys((await readManifest(dir)).images);
    expect(after).toHaveLength(3);
    expect(after.some((k) => before.includes(k))).toBe(false);
  });
});
