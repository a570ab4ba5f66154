import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../browser/harness.ts';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { closedPort, BIN } from '../helpers.ts';
import { brokenImages, edit, expectFrozenRebuildAgrees, expectOk, inProject, installPlugin, KEY, npm, removeProjects, tempFolder, withServedPage } from './helpers.ts';

/**
 * VitePress 2 as `vitepress init` makes it: init's wizard is interactive, so
 * the test calls what it runs once answered, VitePress's own exported
 * `scaffold()` (docs/ with `.vitepress/config.ts`, its example pages and the
 * `docs:*` scripts). Then, as a user would: the plugin in the config, a usage
 * in the template's Markdown examples page, and one on a nested page of their
 * own beside a code sample that shows the tag and must stay as written.
 */
// The newest VitePress 2 on the registry, 2.0.0-alpha.21, does not install: it needs @docsearch/sidepanel-js@^4.7.1,
// which the registry does not have (ETARGET).
const VITEPRESS = 'vitepress@2.0.0-alpha.20';
const SCAFFOLD = "import('vitepress').then(({ scaffold }) => scaffold({ root: './docs', title: 'Docs', useTs: true }))";
let gateway: TestGateway;
let browser: Browser;
let dir: string;

beforeAll(async () => {
  gateway = await startTestGateway();
  browser = await launchChromium();
  dir = await tempFolder('vitepress');
  await fs.writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'docs', private: true, type: 'module' }, null, 2));
  expectOk(await npm(['install', '--no-audit', '--no-fund', '--prefer-offline', '--save-dev', VITEPRESS], dir), `npm install ${VITEPRESS}`);
  expectOk(await inProject(dir, 'node', ['-e', SCAFFOLD]), 'vitepress scaffold');
  await edit(path.join(dir, 'docs/.vitepress/config.ts'), (text) =>
    `import generatedImages from 'vite-plugin-generated-images'\n${text.replace('export default defineConfig({', 'export default defineConfig({\n  vite: { plugins: [generatedImages({ widths: [64, 128] })] },')}`,
  );
  await edit(path.join(dir, 'docs/markdown-examples.md'), (text) => text.replace(/\n## /, '\n<GeneratedImage prompt="A lighthouse drawn in ink" ratio="16:9" alt="Lighthouse" />\n\n## '));
  await edit(path.join(dir, 'docs/index.md'), (text) => `${text}\n[The guide](./guide/images)\n`);
  await fs.mkdir(path.join(dir, 'docs/guide'), { recursive: true });
  await fs.writeFile(
    path.join(dir, 'docs/guide/images.md'),
    '# Images\n\n<GeneratedImage prompt="A fox in the snow, woodcut" ratio="3:2" alt="Fox" />\n\nWrite it like this:\n\n```html\n<GeneratedImage prompt="A sample nobody generates" alt="" />\n```\n',
  );
  await installPlugin(dir);
});

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
  await removeProjects();
});

describe('VitePress 2, scaffolded by its own init', () => {
  it('builds, with every image URL on the nested page resolving and the code sample kept as written', async () => {
    gateway.reset();
    expectOk(await inProject(dir, 'vitepress', ['build', 'docs'], { AGNIC_API_KEY: KEY, AGNIC_BASE_URL: gateway.url }), 'vitepress build');
    expect(gateway.chatRequests()).toHaveLength(2);
    const html = await fs.readFile(path.join(dir, 'docs/.vitepress/dist/guide/images.html'), 'utf8');
    expect(html).toContain('A sample nobody generates');
    await withServedPage(browser, path.join(dir, 'docs/.vitepress/dist'), async (page, url) => {
      await page.goto(new URL('guide/images.html', url).href, { waitUntil: 'networkidle' });
      expect(await brokenImages(page)).toEqual({ checked: 5, broken: [] });
      // From the home page through the client-side router.
      await page.goto(url, { waitUntil: 'networkidle' });
      await page.click('a[href*="guide/images"]');
      await page.waitForSelector('picture img[alt="Fox"]');
      expect(await brokenImages(page)).toEqual({ checked: 5, broken: [] });
      await page.goto(new URL('markdown-examples.html', url).href, { waitUntil: 'networkidle' });
      expect(await brokenImages(page)).toEqual({ checked: 5, broken: [] });
    });
  });

  it('rebuilds frozen with no request; status and prune (run in the project root) agree with the build', async () => {
    await expectFrozenRebuildAgrees(dir, gateway, ['vitepress', 'build', 'docs'], 2);
  });

  it('serves the Markdown page in dev with the cached image', async () => {
    const port = await closedPort();
    const child = spawn(path.join(dir, 'node_modules/.bin/vitepress'), ['dev', 'docs', '--host', '127.0.0.1', '--port', String(port), '--strictPort'], {
      cwd: dir,
      env: { ...process.env, PATH: `${BIN}${path.delimiter}${process.env.PATH}`, CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const page = await browser.newPage();
    try {
      const url = `http://127.0.0.1:${port}/guide/images.html`;
      for (let i = 0; i < 100 && !output.includes(String(port)); i++) await new Promise((r) => setTimeout(r, 200));
      const response = await page.goto(url, { waitUntil: 'networkidle' });
      expect(response?.status(), output).toBe(200);
      await page.waitForSelector('picture img[alt="Fox"]');
      expect((await brokenImages(page)).broken).toEqual([]);
    } finally {
      await page.close();
      child.kill();
    }
  });
});
