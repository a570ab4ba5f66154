// `<GeneratedImage>` written in Markdown, rendered by `astro build` through each of
// Astro 7's Markdown processors (Sätteri, the default, and `unified()` from
// @astrojs/markdown-remark, which lowercases raw HTML tags), against the test gateway.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { decodeHTML } from 'entities';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { astro, copyAstroFixture, pictures } from './helpers.ts';

const KEY = 'agnic_tok_TESTKEY_markdown_77aa41c2';
let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway();
});
afterAll(async () => {
  await gateway.close();
});

const GI_OPTIONS = JSON.stringify({ widths: [64], formats: ['webp'] });
const page = (dir: string, route: string) => fs.readFile(path.join(dir, 'dist', route, 'index.html'), 'utf8');
/** A page's text as a reader sees it: tags dropped, character references decoded. */
const text = (html: string) => decodeHTML(html.replace(/<[^>]+>/g, ''));

describe.each(['satteri', 'unified'])('Markdown on Astro 7 with the %s processor', (processor) => {
  let dir: string;
  let cold: Awaited<ReturnType<typeof astro>>;
  const env = (extra: Record<string, string> = {}) => ({ MD_PROCESSOR: processor, AGNIC_BASE_URL: gateway.url, GI_OPTIONS, ...extra });

  beforeAll(async () => {
    dir = await copyAstroFixture('markdown', processor);
    gateway.reset();
    cold = await astro(['build'], dir, env({ AGNIC_API_KEY: KEY, GI_OPTIONS: JSON.stringify({ widths: [64], formats: ['webp'], frozen: false }) }));
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it('generates the usages and none of the samples in code, inline code or comments', () => {
    expect(cold.code, cold.output).toBe(0);
    expect(gateway.chatRequests().map((r) => r.body.messages[0].content as string).sort()).toEqual([
      'A brass compass',
      'A folded paper map',
      'A paper crane on a windowsill',
      'An open book on a wooden desk',
    ]);
  });

  it('renders each usage as a <picture> where it stands, keeping the text around it and the samples as written', async () => {
    const html = await page(dir, 'guide');
    expect(pictures(html).map((p) => p.img.alt)).toEqual(['Book', 'Compass', 'Map']);
    expect(pictures(html)[0]!.img.class).toBe('wide');
    // The paragraph after the tag is a paragraph of the page, not swallowed by an unclosed element.
    expect(html).toMatch(/<\/picture>\s*<p>The paragraph after the image\.<\/p>/);
    expect(html).toMatch(/<div class="pair">\s*<picture\b[\s\S]*?<\/picture>\s*<picture\b[\s\S]*?<\/picture>\s*<\/div>/);
    const shown = text(html);
    expect(shown).toContain('<GeneratedImage prompt="An inline sample" ratio="3:2" alt="" />');
    expect(shown).toContain('<GeneratedImage prompt="A fenced sample" ratio="16:9" alt="Sample" />');
    expect(shown).toContain('<GeneratedImage prompt="An indented sample" alt="" />');
    expect(html).toContain('<!-- <GeneratedImage prompt="A commented-out sample" alt="" /> -->');
    expect(html.replace(/<!--[\s\S]*?-->/g, '')).not.toMatch(/<generatedimage/i);
    expect(html).not.toContain('<astro-generated-image');
  });

  it('serves every image URL of every page from dist', async () => {
    for (const route of ['guide', 'notes/one']) {
      const shown = pictures(await page(dir, route));
      expect(shown.length).toBeGreaterThan(0);
      for (const picture of shown) {
        for (const url of [picture.img.src!, ...picture.sources.flatMap((s) => s.srcset.map(([u]) => u))]) {
          await expect(fs.stat(path.join(dir, 'dist', url)), `${route}: ${url}`).resolves.toBeTruthy();
        }
      }
    }
  });

  it('rebuilds frozen with another base from Astro’s cached Markdown: no request, URLs under the new base', async () => {
    gateway.reset();
    const warm = await astro(['build'], dir, env({ CI: 'true', ASTRO_BASE: '/docs' }));
    expect(warm.code, warm.output).toBe(0);
    expect(gateway.requests).toEqual([]);
    const [crane] = pictures(await page(dir, 'notes/one'));
    expect(crane!.img.alt).toBe('Crane');
    expect(crane!.img.src).toMatch(/^\/docs\/_astro\/[0-9a-f]{16}-64-[0-9a-f]{8}\.jpg$/);
    await expect(fs.stat(path.join(dir, 'dist', crane!.img.src!.slice('/docs'.length)))).resolves.toBeTruthy();
  });

  it('fails frozen on a new prompt with our hint, even one that mentions a window (Astro has a hint of its own for those)', async () => {
    const note = path.join(dir, 'src/content/notes/one.md');
    await fs.writeFile(note, (await fs.readFile(note, 'utf8')).replace('A paper crane on a windowsill', 'A cat asleep on a windowsill'));
    gateway.reset();
    const frozen = await astro(['build'], dir, env({ CI: 'true' }));
    expect(frozen.code).not.toBe(0);
    expect(gateway.requests).toEqual([]);
    expect(frozen.output).toMatch(/src\/content\/notes\/one\.md:6:1 +"A cat asleep on a windowsill" \(3:2\)/);
    expect(frozen.output).toContain('Generate them where a build may call the gateway');
    expect(frozen.output).not.toContain('Browser APIs are not available on the server');
    expect(frozen.output).not.toMatch(/unhandled error/i);
  });
});
