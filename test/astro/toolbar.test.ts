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

/** Opens the toolbar app and returns its frame once the takes page in it has drawn its list. */
async function openTakes(page: Page): Promise<Frame> {
  await page.getByRole('button', { name: 'Generated images' }).click();
  const frame = await until('the takes frame', async () => page.frames().find((f) => f.url().includes('/@generated-images/takes')));
  await frame.waitForSelector('h2');
  return frame;
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
    await takes.waitForSelector('.banner.ok');
    expect(await takes.locator('.banner.ok').textContent()).toBe('Kept variant 1: src/pages/index.astro:6:5 now says so.');
    expect(await fs.readFile(source, 'utf8')).toBe(original.replace(`prompt="${LIGHTHOUSE}" ratio="16:9"`, `prompt="${LIGHTHOUSE}" ratio="16:9" variant={1}`));

    // Astro reloads the page for the edited file; it shows the kept take, and so does the toolbar app.
    await page.waitForFunction((key) => (document.querySelector('picture img') as HTMLImageElement | null)?.currentSrc.includes(`/@generated-images/${key}-`), keptKey, { timeout: 30_000 });
    await loaded(page);
    takes = await openTakes(page);
    await takeLoaded(takes, LIGHTHOUSE, 1);
    expect(await card().locator('figure[data-take="1"]').getAttribute('data-current')).toBe('');
    expect(await card().locator('.meta').textContent()).toBe('16:9 · src/pages/index.astro:6:5 · variant 1');
    expect(gateway.chatRequests()).toHaveLength(2);
  });
});
