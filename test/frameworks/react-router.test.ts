import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../browser/harness.ts';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { addPlugin, brokenImages, edit, expectFrozenRebuildAgrees, expectOk, inProject, installPlugin, KEY, removeProjects, tempFolder, withServedPage } from './helpers.ts';

/**
 * React Router 7 in framework mode: its `default` template (sources in
 * `app/`, `react-router.config.ts`, the `reactRouter()` and Tailwind Vite
 * plugins), copied from remix-run/react-router-templates into
 * fixtures/react-router-default because `create-react-router` fetches it from
 * GitHub, which this machine cannot reach. The test then does what a user
 * does: prerendering with `ssr: false`, the plugin in vite.config.ts, a
 * usage on the home page and one on a nested route it links to.
 */
const FIXTURE = path.join(import.meta.dirname, 'fixtures', 'react-router-default');

const POST_ROUTE = `import { GeneratedImage } from 'vite-plugin-generated-images/jsx';

export default function Post() {
  return <GeneratedImage prompt="A teapot on a wooden table" ratio="4:3" alt="Teapot" />;
}
`;

async function scaffold(dir: string): Promise<void> {
  await fs.cp(FIXTURE, dir, { recursive: true });
  await edit(path.join(dir, 'react-router.config.ts'), (text) => text.replace('ssr: true,', "ssr: false,\n  prerender: ['/', '/blog/post'],"));
  await addPlugin(path.join(dir, 'vite.config.ts'), { widths: [64, 128] });
  await edit(path.join(dir, 'app/routes.ts'), (text) =>
    text.replace('import { type RouteConfig, index }', 'import { type RouteConfig, index, route }').replace('[index("routes/home.tsx")]', '[index("routes/home.tsx"), route("blog/post", "routes/post.tsx")]'),
  );
  await edit(path.join(dir, 'app/routes/home.tsx'), (text) =>
    `import { Link } from "react-router";\nimport { GeneratedImage } from "vite-plugin-generated-images/jsx";\n${text.replace(
      'return <Welcome />;',
      'return (\n    <>\n      <GeneratedImage prompt="A lighthouse on a cliff at dusk" ratio="16:9" alt="Lighthouse" />\n      <Link to="/blog/post">Read the post</Link>\n      <Welcome />\n    </>\n  );',
    )}`,
  );
  await fs.writeFile(path.join(dir, 'app/routes/post.tsx'), POST_ROUTE);
}

let gateway: TestGateway;
let browser: Browser;
let dir: string;

beforeAll(async () => {
  gateway = await startTestGateway();
  browser = await launchChromium();
  dir = await tempFolder('react-router');
  await scaffold(dir);
  await installPlugin(dir);
});

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
  await removeProjects();
});

describe('React Router 7 framework mode from its default template, prerendered', () => {
  it('builds with a summary, and every image URL resolves on both pages and after client-side navigation', async () => {
    gateway.reset();
    const build = await inProject(dir, 'react-router', ['build'], { AGNIC_API_KEY: KEY, AGNIC_BASE_URL: gateway.url });
    expectOk(build, 'react-router build');
    expect(gateway.chatRequests()).toHaveLength(2);
    expect(build.output).toContain('2 generated, 0 reused from the cache');
    // The home page is prerendered with its picture. React Router 7.16 writes the SPA fallback for /blog/post
    // instead (its bug with the template's v8_trailingSlashAwareDataRequests, remix-run/react-router#15173),
    // so that page's picture exists only once the client has rendered it: wait for it rather than for the network.
    expect(await fs.readFile(path.join(dir, 'build/client/index.html'), 'utf8')).toMatch(/<picture><source type="image\/avif" srcSet="\/assets\//);
    await withServedPage(browser, path.join(dir, 'build/client'), async (page, url) => {
      await page.goto(new URL('blog/post', url).href);
      await page.waitForSelector('picture img[alt="Teapot"]');
      expect(await brokenImages(page)).toEqual({ checked: 5, broken: [] });
      await page.goto(url);
      await page.waitForSelector('picture img[alt="Lighthouse"]');
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
