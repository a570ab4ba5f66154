// What generating will cost, before it costs it: `status` prices the misses
// from the gateway's /models, `maxCost` stops a build or `generate` before any
// image request, and what the gateway reports as `usage.cost` is recorded.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { cli, KEY, tempDir } from '../cli/helpers.ts';
import { viteBuild } from '../helpers.ts';

let gw: TestGateway;
const dirs: string[] = [];
beforeAll(async () => {
  // The default models are priced at $0.039 per image, and replies report that as usage.cost.
  gw = await startTestGateway({ apiKey: KEY });
});
afterAll(async () => {
  await gw.close();
  await Promise.all(dirs.map((dir) => fs.rm(dir, { recursive: true, force: true })));
});
beforeEach(() => gw.reset());

const env = (extra: Record<string, string> = {}) => ({ AGNIC_API_KEY: KEY, AGNIC_BASE_URL: gw.url, ...extra });

/** A Vite project with `count` images (and `extra` markup), its plugin options in vite.config.js. */
async function project(count: number, options: object, extra = ''): Promise<string> {
  const root = await tempDir('cost');
  dirs.push(root);
  const tags = Array.from({ length: count }, (_, i) => `<GeneratedImage prompt="A kite over the dunes, take ${i}" ratio="1:1" alt="" />`);
  await fs.writeFile(path.join(root, 'index.html'), `<!doctype html><html><head><title>t</title></head><body>\n${tags.join('\n')}\n${extra}</body></html>\n`);
  await fs.writeFile(
    path.join(root, 'vite.config.js'),
    `import generatedImages from 'vite-plugin-generated-images';\nexport default { plugins: [generatedImages(${JSON.stringify({ widths: [64], formats: ['webp'], placeholder: 'none', frozen: false, ...options })})] };\n`,
  );
  return root;
}

describe('cost', () => {
  it('status prices 10 misses at $0.039 an image as $0.39, in text and in --json, without an image request', async () => {
    const root = await project(10, {});
    const text = await cli(root, ['status'], env());
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('estimated cost of the 10 missing images: $0.39 ($0.039 per image)');
    const json = await cli(root, ['status', '--json'], env());
    expect(JSON.parse(json.stdout).estimatedCost).toEqual({ images: 10, pricePerImage: 0.039, total: expect.closeTo(0.39, 6) });
    expect(gw.chatRequests()).toHaveLength(0);
  });

  it('status says "unknown" where the gateway gives no price', async () => {
    const unpriced = await startTestGateway({ apiKey: KEY, models: [{ id: 'google/gemini-2.0-flash', output_modalities: ['image', 'text'] }] });
    try {
      const root = await project(3, {});
      const result = await cli(root, ['status'], { AGNIC_API_KEY: KEY, AGNIC_BASE_URL: unpriced.url });
      expect(result.stdout).toContain('estimated cost of the 3 missing images: unknown');
      expect(JSON.parse((await cli(root, ['status', '--json'], { AGNIC_API_KEY: KEY, AGNIC_BASE_URL: unpriced.url })).stdout).estimatedCost).toEqual({ images: 3, pricePerImage: null, total: null });
    } finally {
      await unpriced.close();
    }
  });

  it('maxCost: 0.2 fails a build and `generate` of 10 misses before any image request, listing them and the estimate', async () => {
    const root = await project(10, { maxCost: 0.2 });
    const built = await viteBuild(root, env());
    expect(built.code).not.toBe(0);
    expect(built.output).toContain('generating 10 images would cost about $0.39 ($0.039 per image), more than maxCost $0.20');
    expect(built.output).toMatch(/index\.html:\d+:\d+ +"A kite over the dunes, take 7"/);
    const generated = await cli(root, ['generate'], env());
    expect(generated.code).toBe(1);
    expect(generated.stderr).toContain('more than maxCost $0.20');
    expect(gw.chatRequests()).toHaveLength(0);
    await expect(fs.stat(path.join(root, 'generated-images', 'manifest.json'))).rejects.toThrow();
  });

  it('within maxCost the build generates, its summary sums usage.cost and each entry records its cost', async () => {
    const root = await project(3, { maxCost: 0.2 });
    const built = await viteBuild(root, env());
    expect(built.code).toBe(0);
    expect(built.output).toContain('gateway cost $0.1170');
    const manifest = JSON.parse(await fs.readFile(path.join(root, 'generated-images', 'manifest.json'), 'utf8'));
    expect(Object.values(manifest.images).map((e) => (e as { cost: number }).cost)).toEqual([0.039, 0.039, 0.039]);
  });

  it('status says which reference changed when an image is missing because of it', async () => {
    const root = await project(0, {}, '<GeneratedImage prompt="A kite in our colours" alt="" references="/brand.png" />');
    await sharp({ create: { width: 32, height: 32, channels: 3, background: '#c33' } }).png().toFile(path.join(root, 'brand.png'));
    expect((await viteBuild(root, env())).code).toBe(0);
    await sharp({ create: { width: 32, height: 32, channels: 3, background: '#3c3' } }).png().toFile(path.join(root, 'brand.png'));
    const status = await cli(root, ['status'], env());
    expect(status.stdout).toMatch(/missing .*"A kite in our colours".* — brand\.png changed since it was generated/);
    expect(JSON.parse((await cli(root, ['status', '--json'], env())).stdout).images.find((i: { state: string }) => i.state === 'missing').changedReferences).toEqual(['brand.png']);
  });

  it('status prices art-direction images still to come, and prune keeps the art images a usage shows', async () => {
    const root = await project(0, {}, '<GeneratedImage prompt="A kite at sunset" ratio="16:9" alt="" art="(max-width: 640px) 9:16, (max-width: 900px) 4:3 crop" />');
    const before = await cli(root, ['status'], env());
    // The default and its 9:16 entry; the crop costs nothing.
    expect(before.stdout).toContain('estimated cost of the 2 missing images: $0.078');
    expect((await viteBuild(root, env())).code).toBe(0);
    expect(gw.chatRequests()).toHaveLength(2);

    const status = await cli(root, ['status', '--json'], env());
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).summary).toMatchObject({ cached: 2, missing: 0, incomplete: 0, unused: 0 });
    expect((await cli(root, ['prune'], env())).code).toBe(0);
    gw.reset();
    const frozen = await viteBuild(root, { CI: 'true', AGNIC_BASE_URL: gw.url });
    expect(frozen.code, frozen.output).toBe(0);
    expect(gw.requests).toHaveLength(0);
  });
});
