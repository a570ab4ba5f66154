import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../browser/harness.ts';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { brokenImages, expectFrozenRebuildAgrees, expectOk, inProject, KEY, referencedInOutput, removeProjects, withServedPage } from './helpers.ts';
import { scaffoldTemplate, TEMPLATES } from './templates.ts';

/**
 * Each create-vite template as a new user has it: scaffolded by create-vite,
 * one `<GeneratedImage>` added where the template's own markup starts, the
 * plugin installed from its tarball, built, then rebuilt frozen with the
 * template's own `npm run build` (type-check included).
 */

let gateway: TestGateway;
let browser: Browser;

beforeAll(async () => {
  gateway = await startTestGateway();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await gateway?.close();
  await removeProjects();
});

describe.each(TEMPLATES)('create-vite --template $name', (template) => {
  let dir: string;
  let cold: Awaited<ReturnType<typeof inProject>>;

  beforeAll(async () => {
    dir = await scaffoldTemplate(template);
    gateway.reset();
    cold = await inProject(dir, 'vite', ['build'], { AGNIC_API_KEY: KEY, AGNIC_BASE_URL: gateway.url });
  });

  it('builds, generating the image once, with every referenced file in the output', async () => {
    expectOk(cold, 'vite build');
    expect(gateway.chatRequests()).toHaveLength(1);
    expect(cold.output).toContain('1 generated, 0 reused from the cache');
    const names = await referencedInOutput(path.join(dir, 'dist'));
    // avif and webp at 64 and 128, and one fallback.
    expect(names.size).toBe(5);
    for (const name of names) expect(existsSync(path.join(dir, 'dist/assets', name)), name).toBe(true);
  });

  it('shows the picture with every URL resolving, in Chromium', async () => {
    await withServedPage(browser, path.join(dir, 'dist'), async (page, url) => {
      await page.goto(url);
      await page.waitForSelector('picture img[alt="Paper boat"]');
      expect(await brokenImages(page)).toEqual({ checked: 5, broken: [] });
    });
  });

  it('type-checks and builds with the template’s own npm run build, frozen, with no request; the CLI agrees', async () => {
    await expectFrozenRebuildAgrees(dir, gateway, ['npm', 'run', 'build'], 1);
  });
});
