import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, serveStatic } from '../browser/harness.ts';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { addPlugin, brokenImages, edit, expectOk, inProject, installPlugin, KEY, npx, referencedInOutput, removeProjects, tempFolder } from './helpers.ts';

/**
 * Each create-vite template as a new user has it: scaffolded by create-vite,
 * one `<GeneratedImage>` added where the template's own markup starts, the
 * plugin installed from its tarball, built with the template's own
 * `npm run build` (type-check included).
 */
const USAGE = (syntax: 'html' | 'jsx') => `<GeneratedImage prompt="A paper boat on a puddle, watercolour" ratio="3:2" alt="Paper boat"${syntax === 'jsx' ? ' className' : ' class'}="boat" />`;
const JSX_IMPORT = `import { GeneratedImage } from 'vite-plugin-generated-images/jsx'\n`;

interface Template {
  name: string;
  /** The file the usage goes into, and where. */
  file: string;
  anchor: RegExp;
  syntax: 'html' | 'jsx';
}

const TEMPLATES: Template[] = [
  { name: 'react-ts', file: 'src/App.tsx', anchor: /<section id="center">/, syntax: 'jsx' },
  { name: 'preact-ts', file: 'src/app.tsx', anchor: /<section id="center">/, syntax: 'jsx' },
  { name: 'solid-ts', file: 'src/App.tsx', anchor: /<section id="center">/, syntax: 'jsx' },
  { name: 'vue-ts', file: 'src/App.vue', anchor: /<template>/, syntax: 'html' },
  { name: 'svelte-ts', file: 'src/App.svelte', anchor: /<section id="center">/, syntax: 'html' },
  { name: 'vanilla', file: 'index.html', anchor: /<div id="app"><\/div>/, syntax: 'html' },
];

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

/** Scaffolds a create-vite template with the plugin installed and one usage added. */
export async function scaffoldTemplate(template: Template, extraPackages: string[] = []): Promise<string> {
  const parent = await tempFolder(template.name);
  expectOk(await npx(['create-vite@9', 'site', '--template', template.name, '--no-interactive'], parent), `create-vite --template ${template.name}`);
  const dir = path.join(parent, 'site');
  const config = path.join(dir, 'vite.config.ts');
  // The vanilla template has no config: a user adds one to use a plugin.
  if (!existsSync(config)) await fs.writeFile(path.join(dir, 'vite.config.js'), `import { defineConfig } from 'vite'\n\nexport default defineConfig({\n  plugins: [],\n})\n`);
  await addPlugin(existsSync(config) ? config : path.join(dir, 'vite.config.js'), { widths: [64, 128] });
  await edit(path.join(dir, template.file), (text) => {
    const withUsage = text.replace(template.anchor, (anchor) => `${anchor}\n${USAGE(template.syntax)}`);
    return template.syntax === 'jsx' ? JSX_IMPORT + withUsage : withUsage;
  });
  await installPlugin(dir, extraPackages);
  return dir;
}

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
