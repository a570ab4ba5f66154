// Takes in `astro dev`, through Astro's dev toolbar as a site author uses it:
// `astro dev` (the CLI) on a copy of the fixture, the test gateway, and the
// page in Chromium. The toolbar app shows the dev server's takes page for the
// page being viewed; keeping a take writes `variant={n}` into the .astro file.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Browser, Frame, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../browser/harness.ts';
import { sideBySide, takeLoaded } from '../dev/takes-page.ts';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { copyAstroFixture, startAstroDev, until } from './helpers.ts';

const KEY = 'agnic_tok_TESTKEY_astro_toolbar_31bc';
const LIGHTHOUSE = 'A lighthouse on a cliff at dusk';
let gateway: TestGateway;
let browser: Browser;
let dir: string;
const running: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  gateway = await startTestGateway();
  browser = await launchChromium();
  dir = await copyAstroFixture('site', 'toolbar');
});
afterEach(async () => {
  while (running.length) await running.pop()!();
});
afterAll(async () => {
  await browser?.close();
  await gateway.close();
  await fs.rm(dir, { recursive: true, force: true });
});

/** The page's picture is the real image, loaded. */
const loaded = (page: Page) =>
  page.waitForFunction(() => {
    const picture = document.querySelector('picture');
    const img = picture?.querySelector('img');
    return !!img && !picture!.hasAttribute('data-generated-image') && img.complete && img.naturalWidth > 0;
  }, undefined, { timeout: 60_000 });

/**
 * Opens the toolbar app and returns its frame once the takes page in it has drawn its list. Astro may reload the
 * page once more after an edit (its watcher and Vite's each react), which closes the app: then it is opened again.
 */
async function openTakes(page: Page): Promise<Frame> {
  for (let attempt = 1; ; attempt++) {
    await page.waitForLoadState('load');
    await page.getByRole('button', { name: 'Generated images' }).click();
    try {
      const frame = await until('the takes frame', async () => page.frames().find((f) => f.url().includes('/@generated-images/takes')));
      await frame.waitForSelector('h2');
      return frame;
    } catch (error) {
      if (attempt === 3 || !/detached/i.test(String(error))) throw error;
    }
  }
}

describe('takes in astro dev', () => {
  it("offers the page's images in a toolbar app: another take side by side, and keeping it writes variant={1} into the .astro file", async () => {
    const dev = await startAstroDev(dir, { AGNIC_API_KEY: KEY, AGNIC_BASE_URL: gateway.url, GI_OPTIONS: JSON.stringify({ widths: [64, 128], frozen: false }) });
    running.push(dev.stop);
    const source = path.join(dir, 'src/pages/index.astro');
    const original = await fs.readFile(source, 'utf8');

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    running.push(() => page.close());
    await page.goto(`${dev.url}/`);
    // The image generates on the first visit; the page reloads when it is ready.
    await until('the image', async () => ((await page.$('picture:not([data-generated-image]) img')) ? true : undefined));
    await loaded(page);

    let takes = await openTakes(page);
    expect(await takes.locator('h2').first().textContent()).toBe('On this page (/)');
    await takeLoaded(takes, LIGHTHOUSE, 0);
    const card = () => takes.locator('section.usage', { has: takes.locator('.prompt', { hasText: LIGHTHOUSE }) });
    expect(await takes.locator('section.usage').first().locator('.prompt').textContent()).toBe(LIGHTHOUSE);
    expect(await card().locator('.meta').textContent()).toBe('16:9 · src/pages/index.astro:6:5 · variant 0');

    await card().locator('button.another').click();
    await takeLoaded(takes, LIGHTHOUSE, 1);
    expect(await sideBySide(takes, LIGHTHOUSE, [0, 1])).toBe(true);
    const keptKey = await card().locator('figure[data-take="1"]').getAttribute('data-key');
    expect(gateway.chatRequests().map((r) => r.promptText)).toEqual([LIGHTHOUSE, LIGHTHOUSE]);

    await card().locator('figure[data-take="1"] button.keep').click();
    // Astro reloads the page for the edited file at once, closing the app (and its message) with it.
    const kept = original.replace(`prompt="${LIGHTHOUSE}" ratio="16:9"`, `prompt="${LIGHTHOUSE}" ratio="16:9" variant={1}`);
    await expect.poll(() => fs.readFile(source, 'utf8'), { timeout: 30_000 }).toBe(kept);

    // The reloaded page shows the kept take, and so does the toolbar app.
    await page.waitForFunction((key) => (document.querySelector('picture img') as HTMLImageElement | null)?.currentSrc.includes(`/@generated-images/${key}-`), keptKey, { timeout: 30_000 });
    await loaded(page);
    takes = await openTakes(page);
    await takeLoaded(takes, LIGHTHOUSE, 1);
    expect(await card().locator('figure[data-take="1"]').getAttribute('data-current')).toBe('');
    expect(await card().locator('.meta').textContent()).toBe('16:9 · src/pages/index.astro:6:5 · variant 1');
    expect(gateway.chatRequests()).toHaveLength(2);
  });

  it('lists an image whose prompt comes from data with the page, as one to change where its data is', async () => {
    gateway.reset();
    const dev = await startAstroDev(dir, { AGNIC_API_KEY: KEY, AGNIC_BASE_URL: gateway.url, GI_OPTIONS: JSON.stringify({ widths: [64, 128], frozen: false }) });
    running.push(dev.stop);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    running.push(() => page.close());
    await page.goto(`${dev.url}/posts/alpha/`);
    await page.waitForFunction(() => {
      const images = [...document.querySelectorAll('picture')].map((p) => (p.hasAttribute('data-generated-image') ? null : p.querySelector('img')));
      return images.length === 2 && images.every((img) => img && img.complete && img.naturalWidth > 0);
    }, undefined, { timeout: 90_000 });

    const takes = await openTakes(page);
    expect(await takes.locator('h2').first().textContent()).toBe('On this page (/posts/alpha/)');
    // The cards under "On this page", up to the next heading.
    const onPage = await takes.evaluate(() => {
      const prompts: Array<string | null | undefined> = [];
      for (let card = document.querySelector('h2')!.nextElementSibling; card && card.tagName !== 'H2'; card = card.nextElementSibling) prompts.push(card.querySelector('.prompt')?.textContent);
      return prompts;
    });
    expect(onPage).toEqual(['A small blue rowing boat', 'A red fox asleep in fresh snow']);
    const boat = takes.locator('section.usage', { has: takes.locator('.prompt', { hasText: 'A small blue rowing boat' }) });
    expect(await boat.locator('.meta').textContent()).toBe('1:1 · src/content/posts/alpha.md:7:1 · variant 0');
    const fox = takes.locator('section.usage', { has: takes.locator('.prompt', { hasText: 'A red fox asleep in fresh snow' }) });
    expect(await fox.locator('.meta').textContent()).toMatch(/^16:9 · prompt from data, not a literal in source: set its variant where the prompt comes from · variant 0$/);
    // Nothing to keep or retake from here: its variant is not in a source the page can write.
    expect(await fox.locator('button').count()).toBe(0);
  });
});
