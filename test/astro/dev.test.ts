// `astro dev` as a site author runs it (the CLI, as a child process) on a copy
// of the fixture, against the test gateway: pages render at once, images that
// are not cached yet show a placeholder, and the cache's files are served.
// Also: a prompt being edited, in a page or in Markdown, is generated only once
// the edits settle.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../browser/harness.ts';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { copyAstroFixture, pictures, startAstroDev, until } from './helpers.ts';

const KEY = 'agnic_tok_TESTKEY_astro_dev_77aa';
let gateway: TestGateway;
const running: Array<() => Promise<void>> = [];

beforeAll(async () => {
  gateway = await startTestGateway();
});
afterEach(async () => {
  while (running.length) await running.pop()!();
});
afterAll(async () => {
  await gateway.close();
});

/** Starts `astro dev` in `dir`, stopped after the test. */
async function startDev(dir: string, env: Record<string, string>) {
  const dev = await startAstroDev(dir, env);
  running.push(dev.stop);
  return dev;
}

const html = async (url: string) => {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return response.text();
};

describe('astro dev', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await copyAstroFixture('site', 'dev');
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it('shows a placeholder with the prompt while an image generates, then the picture, served from the cache', async () => {
    gateway.reset();
    const dev = await startDev(dir, { AGNIC_API_KEY: KEY, AGNIC_BASE_URL: gateway.url, GI_OPTIONS: JSON.stringify({ widths: [64, 128], frozen: false }) });
    const first = pictures(await html(`${dev.url}/posts/alpha/`));
    expect(first.map((p) => p.attributes['data-generated-image'])).toEqual(['pending', 'pending']);
    expect(decodeURIComponent(first[0]!.img.src!)).toContain('A red fox asleep in fresh snow');
    // The placeholder takes the final picture's box, so the page does not move when the image arrives.
    expect(first[0]!.img).toMatchObject({ width: '128', height: '73', alt: 'Alpha' });

    const ready = await until('the images to be generated', async () => {
      const found = pictures(await html(`${dev.url}/posts/alpha/`));
      return found.every((p) => p.attributes['data-generated-image'] === undefined) ? found : undefined;
    });
    expect(ready.map((p) => p.img.alt)).toEqual(['Alpha', 'Boat']);
    for (const picture of ready) {
      const [url, width] = picture.sources[0]!.srcset[1]!;
      expect(url).toMatch(/^\/@generated-images\/[0-9a-f]{16}-128-[0-9a-f]{8}\.avif$/);
      const response = await fetch(`${dev.url}${url}`);
      expect(response.headers.get('content-type')).toBe('image/avif');
      expect((await sharp(Buffer.from(await response.arrayBuffer())).metadata()).width).toBe(width);
    }
    expect(gateway.chatRequests().map((r) => r.body.messages[0].content).sort()).toEqual(['A red fox asleep in fresh snow', 'A small blue rowing boat']);
  });

  it('without a key, renders what is cached and shows placeholders for the rest, with a single warning', async () => {
    gateway.reset();
    const dev = await startDev(dir, { AGNIC_BASE_URL: gateway.url, GI_OPTIONS: JSON.stringify({ widths: [64, 128], frozen: false }) });
    const cached = pictures(await html(`${dev.url}/posts/beta/`));
    expect(cached).toHaveLength(1);
    expect(cached[0]!.attributes['data-generated-image']).toBeUndefined();
    for (let i = 0; i < 2; i++) {
      const [missing] = pictures(await html(`${dev.url}/`));
      expect(missing!.attributes['data-generated-image']).toBe('pending');
      expect(decodeURIComponent(missing!.img.src!)).toContain('Not generated (no API key)');
    }
    expect(dev.output().match(/no API key \(set AGNIC_API_KEY or the apiKey option\)/g)).toHaveLength(1);
    expect(gateway.requests).toEqual([]);
  });
});

describe('a prompt being edited in astro dev', () => {
  let browser: Browser;
  const dirs: string[] = [];
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true })));
  });

  /** The browser shows the picture with `alt` as a loaded image (the image of `key`, when given). */
  const showsImage = (tab: Page, alt: string, key?: string) =>
    tab.waitForFunction(([alt, key]) => {
      const img = [...document.querySelectorAll('picture img')].find((i) => i.getAttribute('alt') === alt) as HTMLImageElement | undefined;
      const picture = img?.closest('picture');
      if (!img || !picture || picture.hasAttribute('data-generated-image') || !img.complete || img.naturalWidth === 0) return false;
      return key === undefined || img.currentSrc.includes(`/@generated-images/${key}-`);
    }, [alt, key] as const, { timeout: 60_000 });

  /**
   * Starts `astro dev` on a fresh copy of the site (with `added` files) with
   * `page` open in Chromium and its images shown, then saves `file` ten times
   * 300 ms apart with ten drafts of `prompt`, and expects one gateway request,
   * for the last draft, and the browser to show its image. Returns the pages
   * the browser was served meanwhile.
   */
  async function editTenTimes(file: string, prompt: string, page: string, alt: string, added: Record<string, string> = {}) {
    const dir = await copyAstroFixture('site', 'settle');
    dirs.push(dir);
    for (const [name, text] of Object.entries(added)) await fs.writeFile(path.join(dir, name), text);
    const dev = await startDev(dir, { AGNIC_API_KEY: KEY, AGNIC_BASE_URL: gateway.url, GI_OPTIONS: JSON.stringify({ widths: [64, 128], frozen: false }) });
    const tab = await browser.newPage();
    running.push(() => tab.close());
    await tab.goto(`${dev.url}${page}`);
    await showsImage(tab, alt);
    gateway.reset();

    const served: Array<Promise<string>> = [];
    tab.on('response', (response) => {
      if (response.request().isNavigationRequest()) served.push(response.text().catch(() => ''));
    });
    const source = await fs.readFile(path.join(dir, file), 'utf8');
    const draft = (n: number) => `${prompt}, draft ${n} of the prompt`;
    for (let n = 1; n <= 10; n++) {
      if (n > 1) await new Promise((resolve) => setTimeout(resolve, 300));
      await fs.writeFile(path.join(dir, file), source.replace(prompt, draft(n)));
    }
    const keyOf = async (text: string) => {
      const manifest = JSON.parse(await fs.readFile(path.join(dir, 'generated-images/manifest.json'), 'utf8'));
      return Object.entries(manifest.images as Record<string, { prompt: string }>).find(([, e]) => e.prompt === text)?.[0];
    };
    // The page is never reloaded by the test: Astro reloads it after each save, and the integration once the edits settle and when the image is ready.
    let key: string | undefined;
    await expect.poll(async () => (key = await keyOf(draft(10))), { timeout: 30_000 }).toBeDefined();
    await showsImage(tab, alt, key);
    // Longer than the settle time again: no draft is generated late either.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(gateway.chatRequests().map((r) => r.promptText)).toEqual([draft(10)]);
    return Promise.all(served);
  }

  it('in an .astro page saved ten times in three seconds, generates only the last text, once, then shows its image', async () => {
    const served = await editTenTimes('src/pages/index.astro', 'A lighthouse on a cliff at dusk', '/', 'Lighthouse');
    // Meanwhile the page showed a placeholder that says why nothing is generating yet.
    const waiting = served.flatMap(pictures).filter((p) => p.attributes['data-generated-image'] === 'pending' && decodeURIComponent(p.img.src!).includes('Waiting for the edit to settle'));
    expect(waiting.length).toBeGreaterThan(0);
  });

  it('in a Markdown page, the same', async () => {
    const prompt = 'A harbour at low tide, gulls over the mud';
    const markdown = `---\ntitle: Harbour\n---\n# Harbour\n\n<GeneratedImage prompt="${prompt}" ratio="3:2" alt="Harbour" />\n`;
    await editTenTimes('src/pages/harbour.md', prompt, '/harbour/', 'Harbour', { 'src/pages/harbour.md': markdown });
  });
});
