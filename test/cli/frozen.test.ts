import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { hashTree, viteBuild } from '../helpers.ts';
import { KEY, addUsage, cli, closedPort, copyFixture, gitOk, tempDir } from './helpers.ts';

let gateway: TestGateway;
let origin: string;
let clones: string;

/** The project as committed: source and the complete cache made by `generated-images generate`. */
beforeAll(async () => {
  gateway = await startTestGateway();
  clones = await tempDir('frozen-clones');
  origin = await copyFixture('site', 'frozen-origin');
  const generate = await cli(origin, ['generate'], { AGNIC_BASE_URL: gateway.url, AGNIC_API_KEY: KEY });
  expect(generate.code, generate.output).toBe(0);
  await fs.writeFile(path.join(origin, '.gitignore'), 'dist/\n');
  await gitOk(origin, ['init', '-q']);
  await gitOk(origin, ['add', '-A']);
  await gitOk(origin, ['commit', '-q', '-m', 'site and its generated images']);
});
afterAll(async () => {
  await gateway.close();
  await fs.rm(origin, { recursive: true, force: true });
  await fs.rm(clones, { recursive: true, force: true });
});

async function clone(name: string): Promise<string> {
  const dir = path.join(clones, name);
  await gitOk(clones, ['clone', '-q', origin, dir]);
  return dir;
}

describe('frozen builds (CI)', () => {
  it('two fresh clones of the same commit build byte-identical output without a single gateway request', async () => {
    gateway.reset();
    const first = await clone('first');
    const second = await clone('second');
    // One with the test gateway listening and counting, one with the gateway address unreachable and no key.
    const counted = await viteBuild(first, { CI: 'true', AGNIC_BASE_URL: gateway.url, AGNIC_API_KEY: KEY });
    expect(counted.code, counted.output).toBe(0);
    expect(gateway.requests).toHaveLength(0);
    const offline = await viteBuild(second, { CI: 'true', AGNIC_BASE_URL: `http://127.0.0.1:${await closedPort()}/v1` });
    expect(offline.code, offline.output).toBe(0);
    for (const build of [counted, offline]) expect(build.output).toContain('images: 0 generated, 3 reused from the cache, 0 variants encoded');

    const [a, b] = [await hashTree(path.join(first, 'dist')), await hashTree(path.join(second, 'dist'))];
    expect(Object.keys(a).filter((f) => f.endsWith('.webp')).length).toBeGreaterThan(0);
    expect(b).toEqual(a);
    // The builds read the committed cache and changed nothing in the work tree.
    for (const dir of [first, second]) expect(await gitOk(dir, ['status', '--porcelain'])).toBe('');
  });

  it('a frozen build with misses fails listing every one with file:line, and never contacts the gateway', async () => {
    const dir = await clone('misses');
    await addUsage(dir, 'index.html', '<GeneratedImage prompt="A windmill in a tulip field" ratio="3:2" alt="" />');
    await addUsage(dir, 'about.html', '<GeneratedImage prompt="An owl on a branch at night" alt="" />');
    await addUsage(dir, 'about.html', '<GeneratedImage prompt="An owl on a branch at night" alt="Again" />');
    gateway.reset();
    const counted = await viteBuild(dir, { CI: 'true', AGNIC_BASE_URL: gateway.url, AGNIC_API_KEY: KEY });
    const offline = await viteBuild(dir, { CI: 'true', AGNIC_BASE_URL: `http://127.0.0.1:${await closedPort()}/v1`, AGNIC_API_KEY: KEY });
    for (const build of [counted, offline]) {
      expect(build.code).not.toBe(0);
      expect(build.output).toContain('2 images are missing from the cache (generated-images) and frozen mode is on (CI is set), so nothing was requested from the gateway');
      expect(build.output).toMatch(/index\.html:10:5 {2}"A windmill in a tulip field" \(3:2\)/);
      expect(build.output).toMatch(/about\.html:10:5, about\.html:11:5 {2}"An owl on a branch at night" \(1:1\)/);
      expect(build.output).not.toContain(KEY);
    }
    expect(gateway.requests).toHaveLength(0);
    // `status` says the same in CI before any build, with exit 1.
    const status = await cli(dir, ['status'], { CI: 'true' });
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/missing +[0-9a-f]{16} {2}"An owl on a branch at night" \(1:1\) {2}about\.html:10:5, about\.html:11:5/);
  });
});
