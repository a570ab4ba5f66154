// The dev server as a site author uses it: `vite dev` (Vite's JS API, in this
// process) on a copy of a fixture, the real plugin, the test gateway, and the
// page in Chromium.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import react from '@vitejs/plugin-react';
import vue from '@vitejs/plugin-vue';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import type { Page } from 'playwright-core';
import type { PluginOption } from 'vite';
import type { GeneratedImagesOptions } from 'vite-plugin-generated-images';
import { describe, expect, it } from 'vitest';
import { devTestbed } from './server.ts';

const KEY = 'agnic_tok_dev_0123456789';

const bed = devTestbed(KEY);
const startDev = (fixture: string, options: GeneratedImagesOptions, extra: PluginOption[] = [], base = '/') => bed.startDev(fixture, options, { extra, base });
const newPage = () => bed.newPage({ width: 1024, height: 1200 });

/** What the n-th image on the page shows: a placeholder (and its text) or the real picture. */
async function imageState(page: Page, index = 0) {
  return page.locator('picture').nth(index).evaluate((picture) => {
    const img = picture.querySelector('img')!;
    const box = img.getBoundingClientRect();
    return {
      pending: picture.getAttribute('data-generated-image') === 'pending',
      src: img.getAttribute('src')!,
      currentSrc: img.currentSrc,
      complete: img.complete,
      naturalWidth: img.naturalWidth,
      width: img.getAttribute('width'),
      height: img.getAttribute('height'),
      box: { width: box.width, height: box.height },
      alt: img.alt,
    };
  });
}

const svgText = (src: string) => decodeURIComponent(src.slice(src.indexOf(',') + 1));

async function manifestKeys(root: string): Promise<string[]> {
  const manifest = JSON.parse(await fs.readFile(path.join(root, 'generated-images/manifest.json'), 'utf8'));
  return Object.keys(manifest.images);
}

describe('vite dev', () => {
  it('starts without generating, shows placeholders of the final size with the prompt, then the images without a manual reload', async () => {
    // Long enough to see the placeholders before either image is ready (each one ready reloads the page).
    bed.gw.setLatency(3000);
    const dev = await startDev('html', { apiKey: KEY, frozen: false });
    expect(bed.gw.chatRequests()).toHaveLength(0);

    const page = await newPage();
    await page.goto(dev.url);
    const first = await imageState(page, 0);
    expect(first.pending).toBe(true);
    expect(first.src).toMatch(/^data:image\/svg\+xml/);
    expect(svgText(first.src)).toContain('A teapot on a windowsill, morning light, gouache');
    expect(svgText(first.src)).toContain('Generating');
    expect(first.alt).toBe('A teapot on a windowsill');
    // widths [64, 128] at 16:9 (1344×768): the final <img> is 128×73, and so is its placeholder.
    expect([first.width, first.height]).toEqual(['128', '73']);

    await page.waitForSelector('picture:nth-of-type(1) source[type="image/avif"]', { state: 'attached', timeout: 60_000 });
    await page.waitForFunction(() => [...document.images].every((img) => img.complete && img.naturalWidth > 0), undefined, { timeout: 60_000 });
    const done = await imageState(page, 0);
    expect(done.pending).toBe(false);
    expect(done.currentSrc).toMatch(/\/@generated-images\/[0-9a-f]{16}-128-[0-9a-f]{8}\.avif$/);
    expect(done.naturalWidth).toBe(128);
    expect(done.box).toEqual(first.box);
    expect((await imageState(page, 1)).pending).toBe(false);
    // One request per image, however often the page was served meanwhile.
    expect(bed.gw.chatRequests()).toHaveLength(2);
    expect(await manifestKeys(dev.root)).toHaveLength(2);
  });

  it('updates a React component in place when its image is ready, and generates a new image when a prompt is edited, keeping the old one', async () => {
    bed.gw.setLatency(800);
    const dev = await startDev('react', { apiKey: KEY, frozen: false }, [react()]);
    const page = await newPage();
    await page.goto(dev.url);
    await page.waitForSelector('picture[data-generated-image="pending"]', { state: 'attached' });
    // State that a full reload would lose: the update must arrive through HMR.
    await page.click('button');
    await page.waitForSelector('text=clicked 1');

    await page.waitForSelector('picture source[type="image/avif"]', { state: 'attached', timeout: 60_000 });
    await page.waitForFunction(() => document.images[0]!.complete && document.images[0]!.naturalWidth > 0);
    expect(await page.textContent('button')).toBe('clicked 1');
    const [oldKey] = await manifestKeys(dev.root);

    const app = path.join(dev.root, 'src/App.jsx');
    await fs.writeFile(app, (await fs.readFile(app, 'utf8')).replace('A red kite over green hills', 'A blue kite over green hills'));
    await page.waitForFunction(() => {
      const img = document.images[0]!;
      return img.src.startsWith('data:image/svg+xml') && decodeURIComponent(img.src).includes('A blue kite');
    }, undefined, { timeout: 30_000 });
    await page.waitForSelector('picture source[type="image/avif"]', { state: 'attached', timeout: 60_000 });
    await page.waitForFunction(() => document.images[0]!.complete && document.images[0]!.naturalWidth > 0);
    expect(await page.textContent('button')).toBe('clicked 1');

    const keys = await manifestKeys(dev.root);
    expect(keys).toHaveLength(2);
    expect(keys).toContain(oldKey);
    expect(bed.gw.chatRequests().map((r) => r.body.messages[0].content)).toEqual([
      expect.stringContaining('A red kite'),
      expect.stringContaining('A blue kite'),
    ]);
  });

  it('updates a module whose image was ready before the page could take the update', async () => {
    const dev = await startDev('react', { apiKey: KEY, frozen: false }, [react()]);
    const page = await newPage();
    // Hold React back: the page has fetched App.jsx (with its placeholder) but cannot run it, so it
    // has not registered for updates when the image is ready, and Vite's client drops that update.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route(/react-dom_client\.js/, async (route) => {
      await held;
      await route.continue();
    });
    const loading = page.goto(dev.url);
    await expect.poll(() => dev.infos.some((line) => /hmr update.*App\.jsx/.test(line)), { timeout: 60_000 }).toBe(true);
    release();
    await loading;
    await page.waitForSelector('picture source[type="image/avif"]', { state: 'attached', timeout: 60_000 });
    await page.waitForFunction(() => document.images[0]!.complete && document.images[0]!.naturalWidth > 0);
    expect(bed.gw.chatRequests()).toHaveLength(1);
  });

  it('serves the images under the configured base, in HTML and in modules', async () => {
    const dev = await startDev('react', { apiKey: KEY, frozen: false }, [react()], '/sub/');
    const html = path.join(dev.root, 'index.html');
    await fs.writeFile(html, (await fs.readFile(html, 'utf8')).replace('<div id="root"></div>', '<GeneratedImage prompt="A teapot on a windowsill" alt="" />\n    <div id="root"></div>'));
    const page = await newPage();
    await page.goto(dev.url);
    await page.waitForFunction(() => {
      const images = [...document.querySelectorAll('picture:not([data-generated-image]) img')] as HTMLImageElement[];
      return images.length === 2 && images.every((img) => img.complete && img.naturalWidth > 0);
    }, undefined, { timeout: 60_000 });
    const sources = await page.$$eval('picture img', (imgs) => (imgs as HTMLImageElement[]).map((img) => new URL(img.currentSrc).pathname));
    for (const src of sources) expect(src).toMatch(/^\/sub\/@generated-images\/[0-9a-f]{16}-128-[0-9a-f]{8}\.avif$/);
  });

  it.each([
    { name: 'Vue', fixture: 'test/syntax/fixtures/vue', plugin: () => vue() },
    { name: 'Svelte', fixture: 'test/syntax/fixtures/svelte', plugin: () => svelte() },
  ])('updates a $name component through HMR when its image is ready', async ({ fixture, plugin }) => {
    bed.gw.setLatency(800);
    const dev = await startDev(fixture, { apiKey: KEY, frozen: false }, [plugin()]);
    const page = await newPage();
    await page.goto(dev.url);
    await page.waitForSelector('picture[data-generated-image="pending"]', { state: 'attached' });
    // A full reload would drop this; a hot update keeps it.
    await page.evaluate(() => ((window as unknown as { kept: boolean }).kept = true));
    await page.waitForSelector('picture source[type="image/avif"]', { state: 'attached', timeout: 60_000 });
    await page.waitForFunction(() => document.images[0]!.complete && document.images[0]!.naturalWidth > 0);
    expect(await page.evaluate(() => (window as unknown as { kept?: boolean }).kept)).toBe(true);
    expect(bed.gw.chatRequests()).toHaveLength(1);
  });

  it.each([
    { why: 'no API key', options: { frozen: false }, text: 'Not generated (no API key)', warning: /AGNIC_API_KEY/ },
    { why: 'frozen', options: { apiKey: KEY, frozen: true }, text: 'Not generated (frozen)', warning: /frozen/ },
  ])('works with $why: placeholders for the misses and one warning', async ({ options, text, warning }) => {
    const saved = process.env.AGNIC_API_KEY;
    delete process.env.AGNIC_API_KEY;
    try {
      const dev = await startDev('html', options);
      const page = await newPage();
      for (let i = 0; i < 3; i++) {
        await page.goto(dev.url);
        for (const index of [0, 1]) {
          const state = await imageState(page, index);
          expect(state.pending).toBe(true);
          expect(svgText(state.src)).toContain(text);
        }
      }
      const ours = dev.warnings.filter((w) => w.includes('[generated-images]'));
      expect(ours).toHaveLength(1);
      expect(ours[0]).toMatch(warning);
      expect(bed.gw.requests).toHaveLength(0);
    } finally {
      if (saved !== undefined) process.env.AGNIC_API_KEY = saved;
    }
  });

  it("shows an invalid usage in Vite's error overlay with its location, in HTML and in a module", async () => {
    const dev = await startDev('react', { apiKey: KEY, frozen: false }, [react()]);
    const app = path.join(dev.root, 'src/App.jsx');
    await fs.writeFile(app, (await fs.readFile(app, 'utf8')).replace('ratio="3:2"', 'ratio="7:5"'));
    const html = path.join(dev.root, 'index.html');
    await fs.writeFile(html, (await fs.readFile(html, 'utf8')).replace('<div id="root"></div>', '<div id="root"></div>\n    <GeneratedImage prompt="" alt="x" />'));

    const page = await newPage();
    await page.goto(dev.url);
    const overlay = page.locator('vite-error-overlay');
    await overlay.waitFor({ timeout: 30_000 });
    expect(await overlay.locator('.message-body').textContent()).toMatch(/index\.html:9:21: prompt must be a non-empty string/);

    await page.close();
    await fs.writeFile(html, (await fs.readFile(html, 'utf8')).replace('\n    <GeneratedImage prompt="" alt="x" />', ''));
    const next = await newPage();
    await next.goto(dev.url);
    const moduleOverlay = next.locator('vite-error-overlay');
    await moduleOverlay.waitFor({ timeout: 30_000 });
    const message = await moduleOverlay.locator('.message-body').textContent();
    expect(message).toMatch(/src\/App\.jsx:9:75: invalid ratio "7:5"; allowed: "1:1", "16:9"/);
    expect(await moduleOverlay.locator('.file').textContent()).toContain('App.jsx:9:');
    expect(bed.gw.requests).toHaveLength(0);
  });

  it('reports a failed generation in the overlay with its location, then shows it in the placeholder without retrying on every page load', async () => {
    bed.gw.setFaultForPrompt('teapot', { status: 402, message: 'Insufficient credit: add funds to continue' });
    const dev = await startDev('html', { apiKey: KEY, frozen: false, retries: 0 });
    // Only the failing image, so that no other image's update reloads the page under the overlay.
    const html = path.join(dev.root, 'index.html');
    await fs.writeFile(html, (await fs.readFile(html, 'utf8')).replace(/\n\s*<GeneratedImage prompt="A slice of lemon cake[^>]*>/, ''));
    const page = await newPage();
    await page.goto(dev.url);
    const overlay = page.locator('vite-error-overlay');
    await overlay.waitFor({ timeout: 30_000 });
    const message = await overlay.locator('.message-body').textContent();
    expect(message).toMatch(/index\.html:9:5:/);
    expect(message).toMatch(/Insufficient credit/);

    await page.goto(dev.url);
    const failed = await imageState(page, 0);
    expect(failed.pending).toBe(true);
    expect(svgText(failed.src)).toMatch(/Failed: .*credit or spending limit is exhausted/);
    expect(bed.gw.chatRequests().filter((r) => JSON.stringify(r.body).includes('teapot'))).toHaveLength(1);
  });
});
