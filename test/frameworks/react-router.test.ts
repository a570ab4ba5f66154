import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../browser/harness.ts';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { brokenImages, expectFrozenRebuildAgrees, expectOk, inProject, installPlugin, KEY, removeProjects, tempFolder, withServedPage } from './helpers.ts';

/**
 * React Router 7 in framework mode, laid out as its `default` template is
 * (sources in `app/`, `react-router.config.ts`, the `reactRouter()` Vite
 * plugin), prerendering a home page and a nested route with `ssr: false`.
 * The template itself comes from GitHub, which this machine cannot reach,
 * so its few files are written here.
 */
const FILES: Record<string, string> = {
  // The template's dependencies (React Router finds its server runtime among `dependencies`).
  'package.json': JSON.stringify(
    {
      name: 'rr',
      private: true,
      type: 'module',
      scripts: { build: 'react-router build' },
      dependencies: { '@react-router/node': '^7.0.0', isbot: '^5.1.0', react: '^19.0.0', 'react-dom': '^19.0.0', 'react-router': '^7.0.0' },
      devDependencies: { '@react-router/dev': '^7.0.0', '@types/react': '^19.0.0', typescript: '^5.9.0', vite: '^8.0.0' },
    },
    null,
    2,
  ),
  'react-router.config.ts': `import type { Config } from '@react-router/dev/config'\n\nexport default { ssr: false, prerender: ['/', '/blog/post'] } satisfies Config\n`,
  'vite.config.ts': `import { reactRouter } from '@react-router/dev/vite'\nimport { defineConfig } from 'vite'\nimport generatedImages from 'vite-plugin-generated-images'\n\nexport default defineConfig({\n  plugins: [generatedImages({ widths: [64, 128] }), reactRouter()],\n})\n`,
  'app/root.tsx': `import { Links, Meta, Outlet, Scripts, ScrollRestoration } from 'react-router'\n\nexport function Layout({ children }: { children: React.ReactNode }) {\n  return (\n    <html lang="en">\n      <head><meta charSet="utf-8" /><Meta /><Links /></head>\n      <body>{children}<ScrollRestoration /><Scripts /></body>\n    </html>\n  )\n}\n\nexport default function App() {\n  return <Outlet />\n}\n`,
  'app/routes.ts': `import { type RouteConfig, index, route } from '@react-router/dev/routes'\n\nexport default [index('routes/home.tsx'), route('blog/post', 'routes/post.tsx')] satisfies RouteConfig\n`,
  'app/routes/home.tsx': `import { Link } from 'react-router'\nimport { GeneratedImage } from 'vite-plugin-generated-images/jsx'\n\nexport default function Home() {\n  return (\n    <main>\n      <GeneratedImage prompt="A lighthouse on a cliff at dusk" ratio="16:9" alt="Lighthouse" />\n      <Link to="/blog/post">Read the post</Link>\n    </main>\n  )\n}\n`,
  'app/routes/post.tsx': `import { GeneratedImage } from 'vite-plugin-generated-images/jsx'\n\nexport default function Post() {\n  return <GeneratedImage prompt="A teapot on a wooden table" ratio="4:3" alt="Teapot" />\n}\n`,
};

let gateway: TestGateway;
let browser: Browser;
let dir: string;

beforeAll(async () => {
  gateway = await startTestGateway();
  browser = await launchChromium();
  dir = await tempFolder('react-router');
  for (const [file, text] of Object.entries(FILES)) {
    await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await fs.writeFile(path.join(dir, file), text);
  }
  await installPlugin(dir);
});

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
  await removeProjects();
});

describe('React Router 7 framework mode, prerendered', () => {
  it('builds with a summary, and every image URL resolves on both pages and after client-side navigation', async () => {
    gateway.reset();
    const build = await inProject(dir, 'react-router', ['build'], { AGNIC_API_KEY: KEY, AGNIC_BASE_URL: gateway.url });
    expectOk(build, 'react-router build');
    expect(gateway.chatRequests()).toHaveLength(2);
    expect(build.output).toContain('2 generated, 0 reused from the cache');
    await withServedPage(browser, path.join(dir, 'build/client'), async (page, url) => {
      await page.goto(new URL('blog/post', url).href, { waitUntil: 'networkidle' });
      expect(await brokenImages(page)).toEqual({ checked: 5, broken: [] });
      await page.goto(url, { waitUntil: 'networkidle' });
      expect(await brokenImages(page)).toEqual({ checked: 5, broken: [] });
      await page.click('a[href="/blog/post"]');
      await page.waitForSelector('picture img[alt="Teapot"]');
      expect(await brokenImages(page)).toEqual({ checked: 5, broken: [] });
    });
  });

  it('rebuilds frozen with no request; status and prune see the sources in app/', async () => {
    await expectFrozenRebuildAgrees(dir, gateway, ['react-router', 'build'], 2);
  });
});
