// Art direction through a real `vite build` and Chromium: a generated entry is
// requested with the default image as its reference, a `crop` entry costs no
// request, the `<source media>`s come first with their own box, and at each
// viewport the browser shows the right picture without any layout shift.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, loadPage, serveStatic } from '../browser/harness.ts';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { makeProject, readManifest, removeProject, sha256, viteBuild } from '../reliability/helpers.ts';

const KEY = 'agnic_tok_art_0123456789';
const ART = '(max-width: 640px) 9:16, (max-width: 1024px) 4:3 crop';

let gw: TestGateway;
let browser: Browser;
let root: string;
let html: string;
beforeAll(async () => {
  [gw, browser] = await Promise.all([startTestGateway({ apiKey: KEY }), launchChromium()]);
  root = await makeProject('art', `<GeneratedImage prompt="A harbour at dawn, fishing boats" ratio="16:9" alt="Harbour" loading="eager" art="${ART}" />`);
  const built = await viteBuild(root, { apiKey: KEY, baseURL: gw.url, frozen: false, formats: ['webp', 'jpeg'], widths: [320, 640, 1024], placeholder: 'none' });
  if (built.error) throw built.error;
  html = built.html!;
}, 120_000);
afterAll(async () => {
  await Promise.all([gw?.close(), browser?.close()]);
  if (root) await removeProject(root);
});

const sourceTags = () => [...html.matchAll(/<source\b[^>]*>/g)].map(([tag]) => Object.fromEntries([...tag.matchAll(/([\w-]+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!])));

describe('art direction', () => {
  it('generates an entry with the default image as its reference, and crops without a request', async () => {
    const requests = gw.chatRequests();
    expect(requests.map((r) => r.body.image_config.aspect_ratio)).toEqual(['16:9', '9:16']);
    expect(requests[0]!.imageParts).toEqual([]);
    const manifest = await readManifest(path.join(root, 'generated-images'));
    const defaultEntry = Object.values(manifest.images).find((e) => (e as unknown as { ratio: string }).ratio === '16:9')!;
    expect(requests[1]!.imageParts.map((p) => [p.sha256, p.beforeText, p.decodes])).toEqual([[defaultEntry.sha256, true, true]]);
    expect(requests[1]!.promptText).toBe('A harbour at dawn, fishing boats');
    expect(Object.keys(manifest.images)).toHaveLength(2);
  });

  it('writes a <source media> per format of each entry before the default’s sources, each with its own box', () => {
    const sources = sourceTags();
    expect(sources.map((s) => [s.media, s.type])).toEqual([
      ['(max-width: 640px)', 'image/webp'],
      ['(max-width: 640px)', 'image/jpeg'],
      ['(max-width: 1024px)', 'image/webp'],
      ['(max-width: 1024px)', 'image/jpeg'],
      [undefined, 'image/webp'],
      [undefined, 'image/jpeg'],
    ]);
    // 9:16 generated at 768×1344, shown at most 768 wide; the 4:3 crop of 1344×768 is 1024×768.
    expect(sources.slice(0, 4).map((s) => [Number(s.width), Number(s.height)])).toEqual([[768, 1344], [768, 1344], [1024, 768], [1024, 768]]);
    // Never wider than the crop itself.
    const cropWidths = sources[2]!.srcset!.split(', ').map((c) => Number(c.split(' ')[1]!.slice(0, -1)));
    expect(cropWidths).toEqual([320, 640, 1024]);
  });

  it('shows the right picture at each viewport width, in its box before any byte arrives, with no layout shift', async () => {
    const site = await serveStatic(path.join(root, 'dist'));
    try {
      for (const [width, ratio] of [[480, 9 / 16], [900, 4 / 3], [1280, 16 / 9]] as const) {
        const report = await loadPage(browser, site.url, { width });
        const [image] = report.images;
        expect(image!.naturalWidth / image!.naturalHeight).toBeCloseTo(ratio, 1);
        expect(image!.before.width / image!.before.height).toBeCloseTo(ratio, 1);
        expect(image!.after.width / image!.after.height).toBeCloseTo(ratio, 1);
        expect(report.layoutShift).toBe(0);
      }
    } finally {
      await site.close();
    }
  });

  it('the crop is a committed variant of the default image, at the crop’s own size', async () => {
    const crop = sourceTags()[2]!.srcset!.split(', ').at(-1)!.split(' ')[0]!;
    const file = await fs.readFile(path.join(root, 'dist', crop));
    const meta = await sharp(file).metadata();
    expect([meta.width, meta.height]).toEqual([1024, 768]);
    const manifest = await readManifest(path.join(root, 'generated-images'));
    const variant = Object.values(manifest.images).flatMap((e) => Object.entries(e.variants ?? {})).find(([name]) => name === path.basename(crop));
    expect(variant?.[1].sha256).toBe(sha256(file));
  });
});

describe('art direction in JSX', () => {
  it('writes the same <source media> elements, with their boxes, as JSX', async () => {
    const jsxRoot = await makeProject('art-jsx', '<div id="root"></div><script type="module" src="/main.jsx"></script>');
    try {
      await fs.writeFile(
        path.join(jsxRoot, 'main.jsx'),
        [
          "import { GeneratedImage } from 'vite-plugin-generated-images/jsx';",
          'export const Hero = () => <GeneratedImage prompt="A lighthouse in a storm" ratio="16:9" alt="Lighthouse" art="(max-width: 640px) 9:16 crop" />;',
          'document.getElementById("root").dataset.hero = String(Hero);',
        ].join('\n'),
      );
      gw.reset();
      const built = await viteBuild(jsxRoot, { apiKey: KEY, baseURL: gw.url, frozen: false, formats: ['webp'], widths: [320, 640], placeholder: 'none' });
      expect(built.error).toBeUndefined();
      // A crop: one request, for the default image only.
      expect(gw.chatRequests()).toHaveLength(1);
      const assets = path.join(jsxRoot, 'dist/assets');
      const script = (await Promise.all((await fs.readdir(assets)).filter((f) => f.endsWith('.js')).map((f) => fs.readFile(path.join(assets, f), 'utf8')))).join('\n');
      // 9:16 cut from 1344×768 is 432×768: widths capped at 432, its box 432×768.
      const q = '[`"]';
      expect(script).toMatch(new RegExp(`media:\\s*${q}\\(max-width: 640px\\)${q},\\s*type:\\s*${q}image/webp${q},\\s*srcSet:\\s*${q}[^\`"]*-320-[0-9a-f]{8}\\.webp 320w, [^\`"]*-432-[0-9a-f]{8}\\.webp 432w${q}[^}]*width:\\s*432,\\s*height:\\s*768`));
    } finally {
      await removeProject(jsxRoot);
    }
  });
});

