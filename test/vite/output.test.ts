import { promises as fs } from 'node:fs';
import path from 'node:path';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { build, parseSync, type InlineConfig, type Rolldown } from 'vite';
import generatedImages from 'vite-plugin-generated-images';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { REPO } from '../helpers.ts';

/**
 * The build output as Vite reports it (`vite.build()` with `write: false`):
 * every file a page references is in it, `build.manifest` lists it, and its
 * URL is the one Vite computes for its own assets under each base.
 */
let gateway: TestGateway;
let dir: string;

const PAGE = (title: string) => `<!doctype html>
<html><head><title>${title}</title></head>
<body>
  <GeneratedImage prompt="A lighthouse on a cliff at dusk" ratio="16:9" alt="Lighthouse" />
  <div id="app"></div>
  <script type="module" src="/src/main.js"></script>
</body></html>
`;

beforeAll(async () => {
  gateway = await startTestGateway();
  await fs.mkdir(path.join(REPO, 'test', '.tmp'), { recursive: true });
  dir = await fs.mkdtemp(path.join(REPO, 'test', '.tmp', 'output-'));
  await fs.mkdir(path.join(dir, 'blog/post'), { recursive: true });
  await fs.mkdir(path.join(dir, 'src'), { recursive: true });
  await fs.writeFile(path.join(dir, 'index.html'), PAGE('Home'));
  await fs.writeFile(path.join(dir, 'blog/post/index.html'), PAGE('Post'));
  await fs.writeFile(path.join(dir, 'src/main.js'), `import { mount } from 'svelte';\nimport Card from './Card.svelte';\nmount(Card, { target: document.getElementById('app') });\n`);
  // Svelte compiles static markup into template literals: the placeholders sit in those, not in double-quoted strings.
  await fs.writeFile(path.join(dir, 'src/Card.svelte'), `<p>Card</p>\n<GeneratedImage prompt="A teapot" alt="A teapot" />\n`);
});

afterAll(async () => {
  await gateway.close();
  await fs.rm(dir, { recursive: true, force: true });
});

async function buildSite(extra: InlineConfig = {}): Promise<Rolldown.RolldownOutput> {
  const result = await build({
    root: dir,
    configFile: false,
    logLevel: 'silent',
    ...extra,
    plugins: [generatedImages({ apiKey: 'agnic_tok_TESTKEY_output', baseURL: gateway.url, frozen: false, widths: [64, 128] }), svelte()],
    build: { write: false, manifest: true, rollupOptions: { input: { home: path.join(dir, 'index.html'), post: path.join(dir, 'blog/post/index.html') } }, ...extra.build },
  });
  return (Array.isArray(result) ? result[0] : result) as Rolldown.RolldownOutput;
}

const text = (output: Rolldown.RolldownOutput, fileName: string) => {
  const item = output.output.find((o) => o.fileName === fileName);
  if (!item) throw new Error(`${fileName} is not in the output: ${output.output.map((o) => o.fileName).join(', ')}`);
  return item.type === 'chunk' ? item.code : String(item.source);
};
/** Every URL in src and srcset attributes, and in JS string literals, that names an optimized file. */
const imageUrls = (code: string) => [...code.matchAll(/[^\s"'`(,=]*[0-9a-f]{16}-\d+-[0-9a-f]{8}\.(?:avif|webp|jpg|png)/g)].map((m) => m[0]);
const chunks = (output: Rolldown.RolldownOutput) => output.output.filter((o): o is Rolldown.OutputChunk => o.type === 'chunk');

describe('the build output as vite.build() returns it', () => {
  let output: Rolldown.RolldownOutput;
  let variants: string[];

  beforeAll(async () => {
    output = await buildSite();
    variants = (await fs.readdir(path.join(dir, 'generated-images/variants'))).filter((f) => !f.includes('-16-'));
  });

  it('holds every referenced file, byte for byte as committed, with nothing written to disk', async () => {
    const html = text(output, 'index.html');
    const js = chunks(output).map((c) => c.code).join('\n');
    const referenced = new Set([...imageUrls(html), ...imageUrls(js)].map((url) => path.posix.basename(url)));
    // Two images, each: avif and webp at 64 and 128, and one fallback.
    expect(referenced.size).toBe(10);
    for (const name of referenced) {
      const asset = output.output.find((o) => o.fileName === `assets/${name}`);
      expect(asset, name).toBeDefined();
      expect(Buffer.from((asset as Rolldown.OutputAsset).source)).toEqual(await fs.readFile(path.join(dir, 'generated-images/variants', name)));
    }
    expect(variants.filter((name) => referenced.has(name))).toHaveLength(10);
    await expect(fs.stat(path.join(dir, 'dist'))).rejects.toThrow();
  });

  it('lists every file in build.manifest under its path in the cache', () => {
    const manifest = JSON.parse(text(output, '.vite/manifest.json')) as Record<string, { file: string }>;
    const html = text(output, 'index.html');
    for (const url of imageUrls(html)) {
      const name = path.posix.basename(url);
      expect(manifest[`generated-images/variants/${name}`], name).toMatchObject({ file: `assets/${name}` });
    }
  });

  it('writes root-absolute URLs under the default base, in pages and in JS', () => {
    for (const page of ['index.html', 'blog/post/index.html']) {
      const urls = imageUrls(text(output, page));
      expect(urls.length).toBeGreaterThan(0);
      for (const url of urls) expect(url).toMatch(/^\/assets\//);
    }
    const js = chunks(output).map((c) => c.code).join('\n');
    expect(imageUrls(js).length).toBe(5);
    expect(js).not.toContain('__VITE_ASSET__');
  });
});

describe('URLs under other bases', () => {
  it("with base './' a nested page gets ../../assets/… and JS resolves its URLs against the chunk", async () => {
    const output = await buildSite({ base: './' });
    for (const url of imageUrls(text(output, 'index.html'))) expect(url).toMatch(/^\.\/assets\//);
    const nested = imageUrls(text(output, 'blog/post/index.html'));
    expect(nested.length).toBe(5);
    for (const url of nested) expect(url).toMatch(/^\.\.\/\.\.\/assets\//);
    const chunk = chunks(output).find((c) => c.code.includes('A teapot'))!;
    expect(chunk.code.includes('__VITE_ASSET__')).toBe(false);
    // The chunk lives in assets/, so its files are found beside it, at run time, wherever the site is served from.
    expect(/new URL\(["'`][0-9a-f]{16}-64-[0-9a-f]{8}\.avif["'`], *import\.meta\.url\)/.test(chunk.code)).toBe(true);
    expect(parseSync(chunk.fileName, chunk.code).errors).toEqual([]);
  });

  it('honours build.assetsDir and a base path', async () => {
    const output = await buildSite({ base: '/sub/', build: { assetsDir: 'static/img' } });
    const urls = imageUrls(text(output, 'blog/post/index.html'));
    expect(urls.length).toBe(5);
    for (const url of urls) {
      expect(url).toMatch(/^\/sub\/static\/img\//);
      expect(output.output.some((o) => `/sub/${o.fileName}` === url)).toBe(true);
    }
  });

  it('honours experimental.renderBuiltUrl, in HTML and as a runtime expression in JS', async () => {
    const output = await buildSite({
      experimental: {
        renderBuiltUrl: (file, { hostType }) => (hostType === 'js' ? { runtime: `window.cdn(${JSON.stringify(file)})` } : `https://cdn.example/${file}`),
      },
    });
    for (const url of imageUrls(text(output, 'blog/post/index.html'))) expect(url).toMatch(/^https:\/\/cdn\.example\/assets\//);
    const chunk = chunks(output).find((c) => c.code.includes('A teapot'))!;
    expect(/window\.cdn\(["'`]assets\/[0-9a-f]{16}-64-[0-9a-f]{8}\.avif["'`]\)/.test(chunk.code)).toBe(true);
    expect(parseSync(chunk.fileName, chunk.code).errors).toEqual([]);
  });
});

describe('server-side bundles', () => {
  it('carry the same URLs as the client and emit no copies of its files', async () => {
    await fs.writeFile(path.join(dir, 'src/server.js'), `import { render } from 'svelte/server';\nimport Card from './Card.svelte';\nexport default () => render(Card).body;\n`);
    const client = await buildSite();
    const server = await buildSite({ build: { ssr: path.join(dir, 'src/server.js'), rollupOptions: { input: path.join(dir, 'src/server.js') } } });
    expect(server.output.filter((o) => o.type === 'asset' && /\.(avif|webp|jpg)$/.test(o.fileName))).toEqual([]);
    const serverUrls = imageUrls(chunks(server).map((c) => c.code).join('\n'));
    const clientUrls = imageUrls(chunks(client).map((c) => c.code).join('\n'));
    expect(serverUrls.length).toBe(5);
    expect(new Set(serverUrls)).toEqual(new Set(clientUrls));
  });
});
