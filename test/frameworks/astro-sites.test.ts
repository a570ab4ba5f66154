// Real Astro sites as a new user has them: Astro's own `examples/blog` and Starlight's
// `examples/basics` (copied from withastro/astro and withastro/starlight into fixtures/),
// installed outside the workspace from `npm pack` tarballs of both packages, the
// integration added to astro.config as `astro add` adds it, built against the test gateway.

import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { astro, pictures } from '../astro/helpers.ts';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { BIN, REPO, run } from '../helpers.ts';

const KEY = 'agnic_tok_TESTKEY_sites_0c9d1e2f';
let gateway: TestGateway;
let packs: string;
let tarballs: Record<string, string>;

beforeAll(async () => {
  gateway = await startTestGateway();
  packs = await fs.mkdtemp(path.join(os.tmpdir(), 'gi-packs-'));
  tarballs = {};
  for (const [name, dir] of [['vite-plugin-generated-images', 'packages/vite-plugin'], ['astro-generated-images', 'packages/astro-integration']] as const) {
    const file = execFileSync('npm', ['pack', '--silent', '--pack-destination', packs], { cwd: path.join(REPO, dir), encoding: 'utf8', env: { ...process.env, PATH: `${BIN}:${process.env.PATH}` } }).trim().split('\n').at(-1)!;
    tarballs[name] = path.join(packs, file);
  }
});
afterAll(async () => {
  await gateway.close();
  await fs.rm(packs, { recursive: true, force: true });
});

interface Site {
  fixture: string;
  /** The integration added to astro.config.mjs, as `astro add` writes it. */
  addIntegration: (config: string) => string;
  /** Usages (and samples that must stay samples) written into the site's content. */
  edits: Record<string, (text: string) => string>;
  prompts: string[];
}

const SAMPLE = '```astro\n<GeneratedImage prompt="A documented sample" ratio="16:9" alt="Sample" />\n```\n';

const SITES: Site[] = [
  {
    fixture: 'astro-blog',
    addIntegration: (config) =>
      config.replace("import sitemap from '@astrojs/sitemap';", "import sitemap from '@astrojs/sitemap';\nimport generatedImages from 'astro-generated-images';").replace('integrations: [mdx(), sitemap()]', 'integrations: [mdx(), sitemap(), generatedImages()]'),
    edits: {
      'src/content/blog/first-post.md': (text) => `${text}\n<GeneratedImage prompt="A lighthouse keeper's cottage in the rain" ratio="16:9" alt="Cottage" />\n\n${SAMPLE}`,
      'src/content/blog/using-mdx.mdx': (text) => text.replace(/(\n---\n)/, "$1\nimport { GeneratedImage } from 'astro-generated-images/components';\n") + '\n<GeneratedImage prompt="A fox reading a newspaper" ratio="4:3" alt="Fox" />\n',
    },
    prompts: ["A fox reading a newspaper", "A lighthouse keeper's cottage in the rain"],
  },
  {
    fixture: 'starlight-basics',
    addIntegration: (config) =>
      config.replace("import starlight from '@astrojs/starlight';", "import starlight from '@astrojs/starlight';\nimport generatedImages from 'astro-generated-images';").replace(/(\n\t\t}\),\n\t\],)/, '\n\t\t}),\n\t\tgeneratedImages(),\n\t],'),
    edits: {
      'src/content/docs/guides/example.md': (text) => `${text}\n\n<GeneratedImage prompt="An astronaut planting a flag on a small moon" ratio="3:2" alt="Astronaut" />\n\nShown as code on this page:\n\n${SAMPLE}`,
    },
    prompts: ['An astronaut planting a flag on a small moon'],
  },
];

/** Character references decoded, as a browser reads text and attribute values. */
const decode = (html: string) =>
  html
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');

async function htmlFiles(dir: string): Promise<string[]> {
  return (await fs.readdir(dir, { recursive: true })).filter((f) => f.endsWith('.html')).map((f) => path.join(dir, f));
}

describe.each(SITES)('$fixture on Astro 7, installed from the tarballs', (site) => {
  let dir: string;
  let install: Awaited<ReturnType<typeof run>>;
  let cold: Awaited<ReturnType<typeof astro>>;
  const env = (extra: Record<string, string | undefined> = {}) => ({ AGNIC_BASE_URL: gateway.url, ...extra });

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), `gi-${site.fixture}-`));
    await fs.cp(path.join(REPO, 'test/frameworks/fixtures', site.fixture), dir, { recursive: true });
    const pkg = JSON.parse(await fs.readFile(path.join(dir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const [name, file] of Object.entries(tarballs)) pkg.dependencies[name] = `file:${file}`;
    await fs.writeFile(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
    const config = path.join(dir, 'astro.config.mjs');
    const before = await fs.readFile(config, 'utf8');
    const after = site.addIntegration(before);
    expect(after).not.toBe(before);
    await fs.writeFile(config, after);
    for (const [file, edit] of Object.entries(site.edits)) await fs.writeFile(path.join(dir, file), edit(await fs.readFile(path.join(dir, file), 'utf8')));
    install = await run('npm', ['install', '--no-audit', '--no-fund'], { cwd: dir });
    gateway.reset();
    cold = await astro(['build'], dir, env({ AGNIC_API_KEY: KEY }));
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it('installs with one Vite and one sharp, and no peer warnings', async () => {
    expect(install.code, install.output).toBe(0);
    expect(install.output).not.toMatch(/ERESOLVE|peer dep|conflicting peer/i);
    const ls = await run('npm', ['ls', 'vite', 'sharp', '--all', '--parseable', '--long'], { cwd: dir });
    const versions = (name: string) => new Set([...ls.stdout.matchAll(new RegExp(`:${name}@([^:\\s]+)`, 'g'))].map((m) => m[1]));
    expect(versions('vite').size, ls.stdout).toBe(1);
    expect(versions('sharp').size, ls.stdout).toBe(1);
  });

  it('builds, generating the usages and not the documented sample', () => {
    expect(cold.code, cold.output).toBe(0);
    expect(gateway.chatRequests().map((r) => r.body.messages[0].content as string).sort()).toEqual([...site.prompts].sort());
    expect(cold.output).not.toMatch(/unhandled error/i);
  });

  it('serves every image URL of every page from dist, keeps the sample as written, and has no dev URL anywhere', async () => {
    let shown = 0;
    for (const file of await htmlFiles(path.join(dir, 'dist'))) {
      const html = await fs.readFile(file, 'utf8');
      expect(html, file).not.toContain('/@generated-images/');
      // Attribute values are samples (Starlight keeps a code block's text in data-code): only tags count.
      expect(html.replace(/="[^"]*"/g, '=""'), file).not.toMatch(/<generatedimage|<astro-generated-image/i);
      for (const picture of pictures(html)) {
        shown++;
        for (const url of [picture.img.src!, ...picture.sources.flatMap((s) => s.srcset.map(([u]) => u))]) {
          await expect(fs.stat(path.join(dir, 'dist', url)), `${file}: ${url}`).resolves.toBeTruthy();
        }
      }
      if (html.includes('A documented sample')) {
        expect(html).not.toMatch(/<img[^>]+alt="Sample"/);
        expect(decode(html.replace(/<[^>]*>/g, ''))).toContain(SAMPLE.split('\n')[1]);
      }
    }
    expect(shown).toBeGreaterThanOrEqual(site.prompts.length);
  });

  it('rebuilds frozen with no request, and the CLI agrees that nothing is missing', async () => {
    gateway.reset();
    const warm = await astro(['build'], dir, env({ CI: 'true' }));
    expect(warm.code, warm.output).toBe(0);
    expect(gateway.requests).toEqual([]);
    const status = await run(path.join(dir, 'node_modules/.bin/generated-images'), ['status'], { cwd: dir, env: { CI: 'true', AGNIC_API_KEY: undefined } });
    expect(status.code, status.output).toBe(0);
  });
});
