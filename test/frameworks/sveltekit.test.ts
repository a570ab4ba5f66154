import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, serveStatic } from '../browser/harness.ts';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { addPlugin, brokenImages, edit, expectFrozenRebuildAgrees, expectOk, inProject, installPlugin, KEY, npx, removeProjects, tempFolder } from './helpers.ts';

/**
 * SvelteKit as `sv create` makes it, switched to adapter-static with every
 * page prerendered and `paths.base: '/sub'`, a usage on the home page and one
 * in a nested route reached by client-side navigation.
 */
let gateway: TestGateway;
let browser: Browser;
let dir: string;
let site: string;

beforeAll(async () => {
  gateway = await startTestGateway();
  browser = await launchChromium();
  const parent = await tempFolder('sveltekit');
  expectOk(await npx(['sv@0.17', 'create', 'site', '--template', 'minimal', '--types', 'ts', '--no-add-ons', '--no-install'], parent), 'sv create');
  dir = path.join(parent, 'site');
  const config = path.join(dir, 'vite.config.ts');
  await edit(config, (text) => text.replace("'@sveltejs/adapter-auto'", "'@sveltejs/adapter-static'").replace(/adapter: adapter\(\)/, "adapter: adapter(), paths: { base: '/sub' }"));
  await addPlugin(config, { widths: [64, 128] });
  await fs.writeFile(path.join(dir, 'src/routes/+layout.ts'), 'export const prerender = true;\n');
  await edit(path.join(dir, 'src/routes/+page.svelte'), (text) =>
    `<script lang="ts">\n\timport { resolve } from '$app/paths';\n</script>\n\n${text}\n<GeneratedImage prompt="A lighthouse on a cliff at dusk" ratio="16:9" alt="Lighthouse" />\n<a href={resolve('/blog/post')}>Read the post</a>\n`,
  );
  await fs.mkdir(path.join(dir, 'src/routes/blog/post'), { recursive: true });
  await fs.writeFile(path.join(dir, 'src/routes/blog/post/+page.svelte'), '<h1>A post</h1>\n<GeneratedImage prompt="A teapot on a wooden table" ratio="4:3" alt="Teapot" />\n');
  await installPlugin(dir, ['@sveltejs/adapter-static@3']);
  gateway.reset();
  expectOk(await inProject(dir, 'vite', ['build'], { AGNIC_API_KEY: KEY, AGNIC_BASE_URL: gateway.url }), 'vite build');
  // adapter-static writes build/; a static host serves it under the base path.
  site = path.join(parent, 'served');
  await fs.cp(path.join(dir, 'build'), path.join(site, 'sub'), { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
  await removeProjects();
});

describe('SvelteKit (adapter-static, paths.base, prerendered)', () => {
  it('generates each image once', () => {
    expect(gateway.chatRequests()).toHaveLength(2);
  });

  it('resolves every image URL on a prerendered page, on a nested one, and after client-side navigation', async () => {
    const server = await serveStatic(site);
    const page = await browser.newPage();
    const failed: string[] = [];
    page.on('response', (response) => {
      if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
    });
    try {
      await page.goto(new URL('sub/blog/post', server.url).href);
      await page.waitForSelector('picture img[alt="Teapot"]');
      expect(await brokenImages(page)).toEqual({ checked: 5, broken: [] });

      // Loaded and hydrated, so that the link navigates in the client.
      await page.goto(new URL('sub/', server.url).href, { waitUntil: 'networkidle' });
      await page.waitForSelector('picture img[alt="Lighthouse"]');
      expect(await brokenImages(page)).toEqual({ checked: 5, broken: [] });
      // Navigate in the client: the nested page's markup now comes from its JS chunk, with URLs it computes at run time.
      const documents: string[] = [];
      page.on('request', (request) => request.resourceType() === 'document' && documents.push(request.url()));
      await page.click('a[href$="/blog/post"]');
      await page.waitForSelector('picture img[alt="Teapot"]');
      await page.locator('picture img[alt="Teapot"]').scrollIntoViewIfNeeded();
      expect(await brokenImages(page)).toEqual({ checked: 5, broken: [] });
      await page.waitForFunction(() => (document.querySelector('picture img[alt="Teapot"]') as HTMLImageElement).complete);
      expect(await page.evaluate(() => (document.querySelector('picture img[alt="Teapot"]') as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
      expect(documents).toEqual([]);
      expect(failed).toEqual([]);
    } finally {
      await page.close();
      await server.close();
    }
  });

  it('rebuilds frozen with no request; status and prune agree with the build', async () => {
    await expectFrozenRebuildAgrees(dir, gateway, ['vite', 'build'], 2);
  });
});
