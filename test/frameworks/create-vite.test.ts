import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, serveStatic } from '../browser/harness.ts';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { brokenImages, expectOk, inProject, KEY, referencedInOutput, removeProjects } from './helpers.ts';
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
    const server = await serveStatic(path.join(dir, 'dist'));
    const page = await browser.newPage();
    try {
      await page.goto(server.url);
      await page.waitForSelector('picture img[alt="Paper boat"]');
      const { checked, broken } = await brokenImages(page);
      expect(broken).toEqual([]);
      expect(checked).toBe(5);
    } finally {
      await page.close();
      await server.close();
    }
  });

  it('type-checks and builds with the template’s own npm run build, frozen, with no request', async () => {
    gateway.reset();
    const frozen = await inProject(dir, 'npm', ['run', 'build'], { CI: 'true' });
    expectOk(frozen, 'npm run build (frozen)');
    expect(gateway.requests).toHaveLength(0);
    expect(frozen.output).toContain('0 generated, 1 reused from the cache, 0 variants encoded');
  });

  it('agrees with the CLI: status finds the image cached, prune would delete nothing', async () => {
    const status = await inProject(dir, 'generated-images', ['status']);
    expect(status.code, status.output).toBe(0);
    expect(status.stdout).toContain('1 image in source, 1 entry in generated-images/: 1 cached');
    const prune = await inProject(dir, 'generated-images', ['prune', '--dry-run']);
    expect(prune.code, prune.output).toBe(0);
    expect(prune.stdout).toContain('nothing to prune');
  });
});
