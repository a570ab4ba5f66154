// `astro build` as a site author runs it (the CLI, as a child process) on
// copies of a fixture with pages, a content collection in Markdown and MDX,
// and prompts from frontmatter, against the test gateway, with real sharp.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { hashTree } from '../helpers.ts';
import { astro, copyAstroFixture, pictures, type Picture } from './helpers.ts';

const KEY = 'agnic_tok_TESTKEY_astro_5e4d3c2b1a09';
let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway();
});
afterAll(async () => {
  await gateway.close();
});

const options = (extra: Record<string, unknown> = {}) => JSON.stringify({ widths: [64, 128], ...extra });
/** A build allowed to generate: the key, the test gateway, and frozen: false set explicitly (CI may be set around us). */
const generating = () => ({ AGNIC_API_KEY: KEY, AGNIC_BASE_URL: gateway.url, GI_OPTIONS: options({ frozen: false }) });
/** What CI does with a committed cache: CI set, no key. */
const offline = () => ({ CI: 'true', AGNIC_BASE_URL: gateway.url, GI_OPTIONS: options() });
const prompts = () => gateway.chatRequests().map((r) => r.body.messages[0].content as string);

const page = (dir: string, route: string) => fs.readFile(path.join(dir, 'dist', route, 'index.html'), 'utf8');
const widths = (picture: Picture) => picture.sources.map((s) => [s.type, s.srcset.map(([, w]) => w)]);

describe('astro build of a site with pages, a content collection, Markdown and MDX', () => {
  let dir: string;
  let cold: Awaited<ReturnType<typeof astro>>;
  let coldDist: Record<string, string>;

  beforeAll(async () => {
    dir = await copyAstroFixture('site');
    gateway.reset();
    cold = await astro(['build'], dir, generating());
    coldDist = await hashTree(path.join(dir, 'dist'));
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it('generates each image once: literal prompts before the build, prompts from the collection while pages render', () => {
    expect(cold.code, cold.output).toBe(0);
    expect(prompts().sort()).toEqual([
      'A green hill under a tall sky',
      'A heron standing in reeds at sunrise',
      'A lighthouse on a cliff at dusk',
      // alpha and beta share this hero: one request.
      'A red fox asleep in fresh snow',
      'A small blue rowing boat',
    ]);
    expect(gateway.chatRequests().find((r) => r.body.messages[0].content.startsWith('A heron'))!.body.image_config).toEqual({ aspect_ratio: '3:2' });
    expect(cold.output).toMatch(/\[astro-generated-images\] images: 5 generated, 0 reused from the cache, \d+ variants encoded/);
  });

  it('leaves public/ alone: a usage written there is copied as it is, never generated', async () => {
    const sample = await fs.readFile(path.join(dir, 'public/how-to.html'), 'utf8');
    expect(sample).toContain('<GeneratedImage prompt="A blue whale from public/"');
    expect(await fs.readFile(path.join(dir, 'dist/how-to.html'), 'utf8')).toBe(sample);
  });

  it("prints a few progress lines before the build and none inside Astro's page lines", () => {
    // Not a terminal: the start and the end of the literal prompts' generation; those from data say nothing while pages render.
    expect(cold.output.match(/^.*\[astro-generated-images\] generat.*$/gm)?.map((line) => line.replace(/^[\d:]+ /, '').replace(/\(\d+\.\ds\)/, '(…)'))).toEqual([
      '[astro-generated-images] generating 0/3 (…)',
      '[astro-generated-images] generated 3/3 (…)',
    ]);
    // Astro prints a page's path, renders it, then its time on the same line.
    const pages = cold.output.match(/^.*\/index\.html.*$/gm) ?? [];
    expect(pages.length).toBeGreaterThanOrEqual(5);
    for (const line of pages) expect(line).toMatch(/^[\d:]+ +[├└]─ \/\S*index\.html \(\+[\d.]+m?s\)\s*$/);
  });

  it('renders <picture> markup with avif and webp sources at the requested widths, attributes where Astro users expect them', async () => {
    const [hero, ...rest] = pictures(await page(dir, ''));
    expect(rest).toEqual([]);
    expect(hero!.attributes).toEqual({ class: 'frame' });
    expect(widths(hero!)).toEqual([['image/avif', [64, 128]], ['image/webp', [64, 128]]]);
    expect(hero!.img).toMatchObject({ width: '128', height: '73', alt: 'Lighthouse', class: 'hero', loading: 'eager', decoding: 'async' });
    expect(hero!.img.src).toMatch(/^\/_astro\/[0-9a-f]{16}-128-[0-9a-f]{8}\.jpg$/);
    expect(hero!.img.style).toContain('background-image:URL("data:image/webp;base64,');

    const alpha = await page(dir, 'posts/alpha');
    expect(alpha).not.toContain('GeneratedImage');
    const [alphaHero, boat] = pictures(alpha);
    expect(alphaHero!.img).toMatchObject({ alt: 'Alpha', width: '128', height: '73', loading: 'lazy' });
    // From the Markdown's text: a literal tag rendered through the same component.
    expect(boat!.img).toMatchObject({ alt: 'Boat', width: '128', height: '128' });
    expect(widths(boat!)).toEqual([['image/avif', [64, 128]], ['image/webp', [64, 128]]]);

    const [betaHero] = pictures(await page(dir, 'posts/beta'));
    expect(betaHero).toEqual({ ...alphaHero, img: { ...alphaHero!.img, alt: 'Beta' } });

    const [gammaHero, hill] = pictures(await page(dir, 'posts/gamma'));
    expect(gammaHero!.img).toMatchObject({ alt: 'Gamma', width: '128', height: '85' });
    expect(widths(hill!)).toEqual([['image/avif', [64]], ['image/webp', [64]]]);
    expect(hill!.img).toMatchObject({ alt: 'Hill', width: '64', height: '112' });
  });

  it('puts exactly the referenced files into dist/_astro, each decoding at the size its markup says', async () => {
    const referenced = new Set<string>();
    for (const route of ['', 'posts/alpha', 'posts/beta', 'posts/gamma']) {
      for (const picture of pictures(await page(dir, route))) {
        const ratio = Number(picture.img.height) / Number(picture.img.width);
        for (const source of picture.sources) {
          for (const [url, width] of source.srcset) {
            const meta = await sharp(path.join(dir, 'dist', url)).metadata();
            expect([meta.format, meta.width]).toEqual([source.type === 'image/avif' ? 'heif' : 'webp', width]);
            expect(Math.abs(meta.height! / meta.width! - ratio)).toBeLessThan(0.02);
            referenced.add(url);
          }
        }
        const fallback = await sharp(path.join(dir, 'dist', picture.img.src!)).metadata();
        expect([fallback.format, fallback.width, fallback.height]).toEqual(['jpeg', Number(picture.img.width), Number(picture.img.height)]);
        referenced.add(picture.img.src!);
      }
    }
    const images = (await fs.readdir(path.join(dir, 'dist/_astro'))).filter((f) => /\.(avif|webp|jpg|png)$/.test(f));
    expect(images.map((f) => `/_astro/${f}`).sort()).toEqual([...referenced].sort());
    expect(cold.output).toContain(`${referenced.size} files in _astro/`);
  });

  it('builds again from the cache, with CI set and no key, making no request and the same HTML and assets', async () => {
    gateway.reset();
    const warm = await astro(['build'], dir, offline());
    expect(warm.code, warm.output).toBe(0);
    expect(gateway.requests).toEqual([]);
    expect(warm.output).toMatch(/images: 0 generated, 5 reused from the cache, 0 variants encoded/);
    expect(await hashTree(path.join(dir, 'dist'))).toEqual(coldDist);
  });

  it('serves the files from build.assets behind base, where Astro puts its own assets', async () => {
    const result = await astro(['build'], dir, { ...offline(), ASTRO_BASE: '/docs', ASTRO_ASSETS: 'static' });
    expect(result.code, result.output).toBe(0);
    const [hero] = pictures(await page(dir, ''));
    const urls = [hero!.img.src!, ...hero!.sources.flatMap((s) => s.srcset.map(([url]) => url))];
    for (const url of urls) {
      expect(url).toMatch(/^\/docs\/static\/[0-9a-f]{16}-\d+-[0-9a-f]{8}\.(avif|webp|jpg)$/);
      await expect(fs.stat(path.join(dir, 'dist', url.slice('/docs'.length)))).resolves.toBeTruthy();
    }
  });

  it.each([
    { form: 'a string', prefix: 'https://cdn.example.com/', origin: () => 'https://cdn.example.com' },
    { form: 'one origin per file type', prefix: { avif: 'https://avif.example.com', fallback: 'https://cdn.example.com' }, origin: (ext: string) => (ext === 'avif' ? 'https://avif.example.com' : 'https://cdn.example.com') },
  ])('serves the files from build.assetsPrefix given as $form, as Astro serves its own assets', async ({ prefix, origin }) => {
    const result = await astro(['build'], dir, { ...offline(), ASTRO_ASSETS_PREFIX: JSON.stringify(prefix) });
    expect(result.code, result.output).toBe(0);
    const [hero] = pictures(await page(dir, ''));
    const urls = [hero!.img.src!, ...hero!.sources.flatMap((s) => s.srcset.map(([url]) => url))];
    expect(new Set(urls.map((url) => url.slice(url.lastIndexOf('.') + 1)))).toEqual(new Set(['avif', 'webp', 'jpg']));
    for (const url of urls) {
      const name = url.slice(url.lastIndexOf('/') + 1);
      expect(url).toBe(`${origin(name.slice(name.lastIndexOf('.') + 1))}/_astro/${name}`);
      await expect(fs.stat(path.join(dir, 'dist/_astro', name))).resolves.toBeTruthy();
    }
  });

  it('under frozen, fails naming each page whose prompt from the collection is not cached, and asks for nothing', async () => {
    const cache = await hashTree(path.join(dir, 'generated-images'));
    const edit = async (file: string, from: string, to: string) => {
      const full = path.join(dir, 'src/content/posts', file);
      await fs.writeFile(full, (await fs.readFile(full, 'utf8')).replace(from, to));
    };
    await edit('alpha.md', 'A red fox asleep in fresh snow', 'A grey wolf howling at the moon');
    await edit('gamma.mdx', 'A heron standing in reeds at sunrise', 'A kingfisher diving into a pond');
    gateway.reset();
    const frozen = await astro(['build'], dir, offline());
    expect(frozen.code).not.toBe(0);
    expect(frozen.output).toContain('2 images with prompts from data are missing from the cache (generated-images) and frozen mode is on (CI is set)');
    expect(frozen.output).toMatch(/\/posts\/alpha\/ +"A grey wolf howling at the moon" \(16:9\)/);
    expect(frozen.output).toMatch(/\/posts\/gamma\/ +"A kingfisher diving into a pond" \(3:2\)/);
    // Reported once every page has rendered, as Astro reports its own errors: the message, then the hint; no hook wrapper, no stack.
    expect(frozen.output).toContain('[GeneratedImagesError] 2 images with prompts from data are missing');
    expect(frozen.output).toMatch(/\n {2}Hint:\n {4}Build once where the build may call the gateway \(frozen: false and AGNIC_API_KEY set\) and commit the cache folder\./);
    expect(frozen.output.split('Build once where').length).toBe(2);
    expect(frozen.output).not.toMatch(/unhandled error|Stack trace|^\s+at /m);
    expect(gateway.requests).toEqual([]);
    expect(await hashTree(path.join(dir, 'generated-images'))).toEqual(cache);
  });

  it('fails on a bad ratio from data while rendering, naming the page and the value', async () => {
    const post = path.join(dir, 'src/content/posts/gamma.mdx');
    await fs.writeFile(post, (await fs.readFile(post, 'utf8')).replace("heroRatio: '3:2'", "heroRatio: '5:3'"));
    gateway.reset();
    const result = await astro(['build'], dir, offline());
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('<GeneratedImage> on /posts/gamma/: invalid ratio "5:3" for prompt "A kingfisher diving into a pond"; allowed: "1:1"');
    expect(gateway.requests).toEqual([]);
  });
});

describe('astro build errors before any page renders', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await copyAstroFixture('site', 'errors');
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it('under frozen, lists every literal usage missing from the cache with its file:line:column', async () => {
    gateway.reset();
    const result = await astro(['build'], dir, { ...offline(), AGNIC_API_KEY: KEY });
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('3 images are missing from the cache (generated-images) and frozen mode is on (CI is set), so nothing was requested from the gateway');
    expect(result.output).toMatch(/src\/pages\/index\.astro:6:5 +"A lighthouse on a cliff at dusk" \(16:9\)/);
    expect(result.output).toMatch(/src\/content\/posts\/alpha\.md:7:1 +"A small blue rowing boat" \(1:1\)/);
    expect(result.output).toMatch(/src\/content\/posts\/gamma\.mdx:10:1 +"A green hill under a tall sky" \(9:16\)/);
    expect(gateway.requests).toEqual([]);
    // Printed as Astro prints its own errors: once, with the hint, no hook wrapper and no stack, and before any page.
    expect(result.output).toContain('Hint:');
    expect(result.output.match(/3 images are missing from the cache/g)).toHaveLength(1);
    expect(result.output).not.toMatch(/unhandled error|Stack trace|^\s+at /im);
    expect(result.output).not.toContain('generating static routes');
  });

  it('without an API key, says to set AGNIC_API_KEY and lists the misses before any request', async () => {
    gateway.reset();
    const result = await astro(['build'], dir, { AGNIC_BASE_URL: gateway.url, GI_OPTIONS: options({ frozen: false }) });
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('set AGNIC_API_KEY (or the apiKey option)');
    expect(result.output).toMatch(/src\/pages\/index\.astro:6:5 +"A lighthouse on a cliff at dusk"/);
    expect(gateway.requests).toEqual([]);
  });

  it('fails on a bad ratio in an .astro file with its file:line:column and the allowed ratios', async () => {
    await fs.writeFile(
      path.join(dir, 'src/pages/bad.astro'),
      ['---', "import { GeneratedImage } from 'astro-generated-images/components';", '---', '<p>Intro</p>', '  <GeneratedImage prompt="A cat" ratio="7:5" alt="" />', ''].join('\n'),
    );
    gateway.reset();
    const result = await astro(['build'], dir, generating());
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('src/pages/bad.astro:5:34: invalid ratio "7:5"; allowed: "1:1", "16:9", "9:16", "4:3", "3:2"');
    expect(gateway.requests).toEqual([]);
    await fs.rm(path.join(dir, 'src/pages/bad.astro'));
  });
});
