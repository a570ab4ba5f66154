import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { allBytes, copyFixture, hashTree, viteBuild } from '../helpers.ts';

const KEY = 'agnic_tok_TESTKEY_vite_9f8e7d6c5b4a';
let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway();
});
afterAll(async () => {
  await gateway.close();
});

const options = (extra: Record<string, unknown> = {}) => JSON.stringify({ widths: [64, 128], frozen: false, ...extra });
const env = (extra: Record<string, string | undefined> = {}) => ({ AGNIC_API_KEY: KEY, AGNIC_BASE_URL: gateway.url, GI_OPTIONS: options(), ...extra });

function srcset(html: string, type: string): Array<[string, number]> {
  const match = new RegExp(`<source type="${type.replace('/', '\\/')}" srcset="([^"]+)"`).exec(html);
  if (!match) return [];
  return match[1]!.split(', ').map((item) => {
    const [url, w] = item.split(' ');
    return [url!, Number(w!.slice(0, -1))];
  });
}

describe('vite build of an HTML site', () => {
  let dir: string;
  let cold: Awaited<ReturnType<typeof viteBuild>>;
  let coldDist: Record<string, string>;

  beforeAll(async () => {
    dir = await copyFixture('vite-html');
    gateway.reset();
    cold = await viteBuild(dir, env());
    coldDist = await hashTree(path.join(dir, 'dist'));
  });

  it('generates each image once through the gateway, as the seed’s request shape', () => {
    expect(cold.code, cold.output).toBe(0);
    const chats = gateway.chatRequests();
    expect(chats).toHaveLength(2);
    const body = chats.find((r) => r.body.messages[0].content.includes('lighthouse'))!.body;
    expect(body).toMatchObject({
      model: 'google/gemini-2.0-flash',
      messages: [{ role: 'user', content: 'A lighthouse on a cliff at dusk' }],
      modalities: ['image', 'text'],
      image_config: { aspect_ratio: '16:9' },
    });
    expect(body.max_tokens).toBeGreaterThan(0);
    expect(chats[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(gateway.requests.filter((r) => r.path.startsWith('/v1/models'))).toHaveLength(1);
    expect(cold.output).toMatch(/2 generated, 0 reused from the cache, \d+ variants encoded/);
  });

  it('writes <picture> markup with avif and webp srcsets and a sized fallback <img>', async () => {
    const html = await fs.readFile(path.join(dir, 'dist/index.html'), 'utf8');
    expect(html).not.toContain('GeneratedImage');
    // The markup tells Vite not to read its URLs as files; nothing of that reaches the page.
    expect(html).not.toMatch(/vite-ignore|<(img|source)  /);
    expect(html.match(/<picture>/g)).toHaveLength(2);
    const avif = srcset(html, 'image/avif');
    const webp = srcset(html, 'image/webp');
    expect(avif.map(([, w]) => w)).toEqual([64, 128]);
    expect(webp.map(([, w]) => w)).toEqual([64, 128]);
    const img = /<img src="([^"]+)" width="(\d+)" height="(\d+)" alt="Lighthouse" loading="lazy" decoding="async" style="[^"]*" class="hero">/.exec(html);
    expect(img, html).not.toBeNull();
    expect([Number(img![2]), Number(img![3])]).toEqual([128, 73]);
    expect(img![1]).toMatch(/^\/assets\/[0-9a-f]{16}-128-[0-9a-f]{8}\.jpg$/);
    expect(html).toContain('alt="A teapot"');
  });

  it('emits every referenced file, decoding at the size its srcset says', async () => {
    const html = await fs.readFile(path.join(dir, 'dist/index.html'), 'utf8');
    for (const [type, format] of [['image/avif', 'heif'], ['image/webp', 'webp']] as const) {
      for (const [url, width] of srcset(html, type)) {
        const meta = await sharp(path.join(dir, 'dist', url)).metadata();
        expect(meta.format).toBe(format);
        expect(meta.width).toBe(width);
        expect(meta.height).toBe(Math.round((width * 768) / 1344));
      }
    }
    // One fallback file per image, not one per width.
    const files = Object.keys(coldDist).filter((f) => f.endsWith('.jpg'));
    expect(files).toHaveLength(2);
  });

  it('records the originals and variants in the committed cache', async () => {
    const manifest = JSON.parse(await fs.readFile(path.join(dir, 'generated-images/manifest.json'), 'utf8'));
    const entries = Object.values(manifest.images) as Array<{ file: string; ratio: string; width: number; height: number; variants: Record<string, unknown> }>;
    expect(entries.map((e) => [e.ratio, e.width, e.height]).sort()).toEqual([['16:9', 1344, 768], ['1:1', 1024, 1024]]);
    for (const entry of entries) {
      await expect(fs.stat(path.join(dir, 'generated-images', entry.file))).resolves.toBeTruthy();
      for (const name of Object.keys(entry.variants)) await expect(fs.stat(path.join(dir, 'generated-images/variants', name))).resolves.toBeTruthy();
    }
  });

  it('builds again with zero gateway requests, zero encodes and a byte-identical dist/', async () => {
    gateway.reset();
    const cacheBefore = await hashTree(path.join(dir, 'generated-images'));
    const warm = await viteBuild(dir, env());
    expect(warm.code, warm.output).toBe(0);
    expect(gateway.requests).toHaveLength(0);
    expect(warm.output).toContain('0 generated, 2 reused from the cache, 0 variants encoded');
    expect(await hashTree(path.join(dir, 'dist'))).toEqual(coldDist);
    expect(await hashTree(path.join(dir, 'generated-images'))).toEqual(cacheBefore);
  });

  it('builds from the committed cache with no key and no gateway at all', async () => {
    const offline = await viteBuild(dir, { GI_OPTIONS: options(), AGNIC_BASE_URL: 'http://127.0.0.1:9/v1', CI: 'true' });
    expect(offline.code, offline.output).toBe(0);
    expect(await hashTree(path.join(dir, 'dist'))).toEqual(coldDist);
  });

  it('never writes the API key into dist/, the cache or the build output', async () => {
    expect(cold.output).not.toContain(KEY);
    expect(await allBytes(path.join(dir, 'dist'))).not.toContain(KEY);
    expect(await allBytes(path.join(dir, 'generated-images'))).not.toContain(KEY);
  });

  it('in frozen mode fails on a miss, naming its file:line, without calling the gateway', async () => {
    const html = await fs.readFile(path.join(dir, 'index.html'), 'utf8');
    await fs.writeFile(path.join(dir, 'index.html'), html.replace('<p>Text between images.</p>', '<p>Text between images.</p>\n    <GeneratedImage prompt="A new image nobody generated" alt="" />'));
    gateway.reset();
    const frozen = await viteBuild(dir, env({ CI: 'true', GI_OPTIONS: JSON.stringify({ widths: [64, 128] }) }));
    expect(frozen.code).not.toBe(0);
    expect(frozen.output).toContain('1 image is missing from the cache (generated-images) and frozen mode is on (CI is set)');
    expect(frozen.output).toMatch(/index\.html:10:5 {2}"A new image nobody generated" \(1:1\)/);
    expect(gateway.requests).toHaveLength(0);
  });

  it('without an API key fails before any request, saying how to set one and listing the misses', async () => {
    gateway.reset();
    const noKey = await viteBuild(dir, { AGNIC_BASE_URL: gateway.url, GI_OPTIONS: options() });
    expect(noKey.code).not.toBe(0);
    expect(noKey.output).toContain('no API key is set: set AGNIC_API_KEY (or the apiKey option)');
    expect(noKey.output).toMatch(/index\.html:10:5 {2}"A new image nobody generated"/);
    expect(gateway.requests).toHaveLength(0);
  });
});

describe('vite build errors in source', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['an invalid ratio', '<GeneratedImage prompt="A fox" ratio="16:10" alt="" />', /index\.html:8:36: invalid ratio "16:10"; allowed: "1:1", "16:9", "9:16", "4:3", "3:2", "2:3", "3:4", "4:5", "5:4", "21:9"/],
    ['an empty prompt', '<GeneratedImage prompt="   " alt="" />', /index\.html:8:21: prompt must be a non-empty string: it is empty or only whitespace/],
  ];
  it.each(cases)('fails on %s with its location and what is allowed', async (_, tag, expected) => {
    const dir = await copyFixture('vite-html', 'bad-html');
    const html = await fs.readFile(path.join(dir, 'index.html'), 'utf8');
    await fs.writeFile(path.join(dir, 'index.html'), html.replace('<GeneratedImage prompt="A lighthouse on a cliff at dusk" ratio="16:9" alt="Lighthouse" class="hero" />', tag));
    gateway.reset();
    const result = await viteBuild(dir, env());
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(expected);
    expect(gateway.chatRequests()).toHaveLength(0);
  });

  it('fails on a non-literal prompt in JSX with its location', async () => {
    const dir = await copyFixture('vite-jsx', 'bad-jsx');
    const file = path.join(dir, 'src/main.jsx');
    await fs.writeFile(file, (await fs.readFile(file, 'utf8')).replace('prompt="A paper boat on a puddle"', 'prompt={props.prompt}'));
    const result = await viteBuild(dir, env());
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/src\/main\.jsx:7:23: prompt must be a literal \(a quoted string\) so that the image can be generated at build time; got the expression \{props\.prompt\}/);
  });
});

describe('a failed vite build as it is printed', () => {
  /** What Vite 8 prints under a failed build's message unless told otherwise: Rolldown's stack, or a plugin's own. */
  const expectNoStack = (stderr: string) => {
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(stderr).not.toContain('aggregateBindingErrorsIntoJsError');
  };
  const HINT = 'Generate them where a build may call the gateway (npx generated-images generate, or a build with frozen: false) and commit the cache folder.';

  it('shows an invalid usage the scan found as its message and location, once, with no stack lines', async () => {
    const dir = await copyFixture('vite-html', 'printed-html');
    const html = await fs.readFile(path.join(dir, 'index.html'), 'utf8');
    await fs.writeFile(path.join(dir, 'index.html'), html.replace('ratio="16:9"', 'ratio="16:10"'));
    const result = await viteBuild(dir, env());
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/index\.html:8:\d+\b/);
    expect(result.stderr).toMatch(/\[generated-images\] invalid <GeneratedImage>:\n {2}index\.html:8:\d+: invalid ratio "16:10"; allowed: "1:1"/);
    expect(result.stderr.split('invalid ratio "16:10"')).toHaveLength(2);
    expectNoStack(result.stderr);
  });

  it('shows a frozen miss in a module only the transform reads with its location and hint, and no stack lines', async () => {
    const dir = await copyFixture('vite-jsx', 'printed-jsx');
    gateway.reset();
    const result = await viteBuild(dir, env({ CI: 'true', GI_OPTIONS: JSON.stringify({ widths: [64], include: ['nothing/**'] }) }));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/src\/main\.jsx:7:\d+\b/);
    expect(result.stderr).toContain('[generated-images] 1 image is missing from the cache (generated-images) and frozen mode is on (CI is set)');
    expect(result.stderr).toContain('  src/main.jsx:7:7  "A paper boat on a puddle" (3:2)');
    expect(result.stderr).toContain(HINT);
    expect(result.stderr.split(HINT)).toHaveLength(2);
    expectNoStack(result.stderr);
    expect(gateway.requests).toHaveLength(0);
  });
});

describe('vite build of a React site', () => {
  it('replaces <GeneratedImage> in JSX with picture markup before React compiles it', async () => {
    const dir = await copyFixture('vite-jsx');
    gateway.reset();
    const result = await viteBuild(dir, env({ GI_OPTIONS: options({ formats: ['webp'] }) }));
    expect(result.code, result.output).toBe(0);
    expect(gateway.chatRequests()).toHaveLength(1);
    const dist = path.join(dir, 'dist/assets');
    const js = (await fs.readdir(dist)).find((f) => f.endsWith('.js'))!;
    const code = await fs.readFile(path.join(dist, js), 'utf8');
    expect(code).toMatch(/srcSet:`\/assets\/[0-9a-f]{16}-64-[0-9a-f]{8}\.webp 64w, \/assets\/[0-9a-f]{16}-128-[0-9a-f]{8}\.webp 128w`/);
    expect(code).toMatch(/className:`boat`/);
    expect(code).toContain('borderRadius:8');
    expect(code).not.toContain('was rendered at runtime');
    const srcs = [...code.matchAll(/\/assets\/([0-9a-f]{16}-\d+-[0-9a-f]{8}\.(?:webp|jpg))/g)].map((m) => m[1]!);
    expect(srcs.length).toBeGreaterThanOrEqual(3);
    for (const name of srcs) await expect(fs.stat(path.join(dist, name))).resolves.toBeTruthy();
  });
});
