// Real Astro sites as a new user has them: Astro's own `examples/blog` and Starlight's
// `examples/basics` (copied from withastro/astro and withastro/starlight into fixtures/),
// installed outside the workspace from `npm pack` tarballs of both packages, the
// integration added to astro.config as `astro add` adds it, built against the test gateway.
// Then a small site with a React island and the @astrojs/node adapter on each supported
// Astro major (5, 6 and 7), built by that project's own Astro.

import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { decodeHTML } from 'entities';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { astro, pictures, startNodeServer, userEnv } from '../astro/helpers.ts';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { BIN, REPO, run } from '../helpers.ts';
import { inProject, npm, referencedInOutput } from './helpers.ts';

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
      // A prompt from frontmatter: the collection's schema gains a field, the post layout shows it.
      'src/content.config.ts': (text) => text.replace('heroImage: z.optional(image()),', 'heroImage: z.optional(image()),\n\t\t\theroPrompt: z.string().optional(),'),
      'src/layouts/BlogPost.astro': (text) =>
        text
          .replace("import { Image } from 'astro:assets';", "import { Image } from 'astro:assets';\nimport { GeneratedImage } from 'astro-generated-images/components';")
          .replace('const { title, description, pubDate, updatedDate, heroImage } = Astro.props;', 'const { title, description, pubDate, updatedDate, heroImage, heroPrompt } = Astro.props;')
          .replace('{heroImage && <Image width={1020} height={510} src={heroImage} alt="" />}', '{heroImage && <Image width={1020} height={510} src={heroImage} alt="" />}\n\t\t\t\t\t{heroPrompt && <GeneratedImage prompt={heroPrompt} ratio="16:9" alt="" />}'),
      'src/content/blog/second-post.md': (text) => text.replace("pubDate: 'Jul 15 2022'\n", "pubDate: 'Jul 15 2022'\nheroPrompt: 'A quiet harbour at dawn, watercolour'\n"),
    },
    prompts: ['A fox reading a newspaper', "A lighthouse keeper's cottage in the rain", 'A quiet harbour at dawn, watercolour'],
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
    for (const [file, edit] of Object.entries(site.edits)) {
      const text = await fs.readFile(path.join(dir, file), 'utf8');
      expect(edit(text), `the edit of ${file} changes it (has the example changed?)`).not.toBe(text);
      await fs.writeFile(path.join(dir, file), edit(text));
    }
    install = await npm(['install', '--no-audit', '--no-fund', '--prefer-offline'], dir);
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
        expect(decodeHTML(html.replace(/<[^>]*>/g, ''))).toContain(SAMPLE.split('\n')[1]);
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
    expect(status.stdout).toContain(`${site.prompts.length} cached`);
    const prune = await run(path.join(dir, 'node_modules/.bin/generated-images'), ['prune', '--dry-run'], { cwd: dir, env: { CI: 'true' } });
    expect(prune.stdout, prune.output).toContain('nothing to prune');
  });
});

/** What `astro add react` and `astro add node` install beside each Astro major. */
const MAJORS = [
  { major: 5, packages: { astro: '^5.0.0', '@astrojs/react': '^4.0.0', '@astrojs/node': '^9.0.0' } },
  { major: 6, packages: { astro: '^6.0.0', '@astrojs/react': '^5.0.0', '@astrojs/node': '^10.0.0' } },
  { major: 7, packages: { astro: '^7.0.0', '@astrojs/react': '^7.0.0', '@astrojs/node': '^11.0.0' } },
];
/** The fixture's usages: literal ones in a page, an on-demand page and the React island, and two prompts from data. */
const ISLAND_PROMPTS = [
  'A kite over a windy beach',
  'A lighthouse lamp seen from inside',
  'A paper boat on a puddle after rain',
  'A red bicycle leaning on a brick wall',
  'A snail climbing a stalk of grass',
];

/** `astro` as the project installed it, run as a user runs it (see `userEnv`). */
async function projectAstro(dir: string, args: string[], env: Record<string, string | undefined>): Promise<Awaited<ReturnType<typeof run>>> {
  const result = await inProject(dir, 'astro', args, userEnv(env));
  return { ...result, output: stripVTControlCharacters(result.output) };
}

/** Every file under `dir` whose name matches. */
async function filesUnder(dir: string, pattern: RegExp): Promise<string[]> {
  return (await fs.readdir(dir, { recursive: true })).filter((f) => pattern.test(f)).map((f) => path.join(dir, f));
}

describe.each(MAJORS)('a React island and an @astrojs/node site on Astro $major, installed from the tarballs', ({ major, packages }) => {
  let dir: string;
  let cold: Awaited<ReturnType<typeof run>>;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), `gi-astro${major}-islands-`));
    await fs.cp(path.join(REPO, 'test/frameworks/fixtures/astro-islands'), dir, { recursive: true });
    const pkg = JSON.parse(await fs.readFile(path.join(dir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    Object.assign(pkg.dependencies, packages, { react: '^19.0.0', 'react-dom': '^19.0.0' });
    for (const [name, file] of Object.entries(tarballs)) pkg.dependencies[name] = `file:${file}`;
    await fs.writeFile(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
    const install = await npm(['install', '--no-audit', '--no-fund', '--prefer-offline'], dir);
    expect(install.code, install.output).toBe(0);
    gateway.reset();
    cold = await projectAstro(dir, ['build'], { AGNIC_API_KEY: KEY, AGNIC_BASE_URL: gateway.url });
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it('builds with that Astro, generating every usage, without a warning about the island\'s import', async () => {
    const { version } = JSON.parse(await fs.readFile(path.join(dir, 'node_modules/astro/package.json'), 'utf8')) as { version: string };
    expect(version.split('.')[0]).toBe(String(major));
    expect(cold.code, cold.output).toBe(0);
    expect(gateway.chatRequests().map((r) => r.body.messages[0].content as string).sort()).toEqual(ISLAND_PROMPTS);
    expect(cold.output).not.toMatch(/never used|unhandled error/i);
    // The progress went out before the build, never inside Astro's page lines.
    expect(cold.output).not.toMatch(/\.html[^\n]*\[astro-generated-images\]/);
  });

  it('serves every image URL of every page, the island\'s and the on-demand page\'s included, and has no dev URL anywhere', async () => {
    const client = path.join(dir, 'dist/client');
    for (const file of await filesUnder(path.join(dir, 'dist'), /\.(html|js|mjs)$/)) expect(await fs.readFile(file, 'utf8'), file).not.toContain('/@generated-images/');
    const index = await fs.readFile(path.join(client, 'index.html'), 'utf8');
    const shown = pictures(index);
    expect(shown.map((p) => p.img.alt).sort()).toEqual(['A kite over a windy beach', 'A snail climbing a stalk of grass', 'Bicycle', 'Paper boat']);
    for (const picture of shown) {
      for (const url of [picture.img.src!, ...picture.sources.flatMap((s) => s.srcset.map(([u]) => u))]) {
        await expect(fs.stat(path.join(client, url)), url).resolves.toBeTruthy();
      }
    }
    // The island's client code carries its picture too: every file it names is in the client output.
    const referenced = await referencedInOutput(path.join(client, '_astro'));
    expect(referenced.size).toBeGreaterThan(0);
    for (const name of referenced) await expect(fs.stat(path.join(client, '_astro', name)), name).resolves.toBeTruthy();

    const server = await startNodeServer(dir);
    try {
      const live = await (await fetch(`${server.url}/live`)).text();
      const [lamp] = pictures(live);
      expect(lamp!.img.alt).toBe('Lamp');
      for (const url of [lamp!.img.src!, ...lamp!.sources.flatMap((s) => s.srcset.map(([u]) => u))]) {
        const response = await fetch(new URL(url, server.url));
        expect([response.status, response.headers.get('content-type')?.split('/')[0]], url).toEqual([200, 'image']);
      }
    } finally {
      await server.close();
    }
  });

  it('rebuilds frozen with no request', async () => {
    gateway.reset();
    const warm = await projectAstro(dir, ['build'], { CI: 'true', AGNIC_BASE_URL: gateway.url });
    expect(warm.code, warm.output).toBe(0);
    expect(gateway.requests).toEqual([]);
    expect(warm.output).toMatch(/images: 0 generated, 5 reused from the cache, 0 variants encoded/);
    // The CLI knows the images the prompts from data rendered (the build's record) on every Astro major.
    const status = await inProject(dir, 'generated-images', ['status'], { CI: 'true' });
    expect(status.code, status.output).toBe(0);
    expect(status.stdout).toContain('5 entries in generated-images/: 5 cached');
    expect((await inProject(dir, 'generated-images', ['prune', '--dry-run'])).stdout).toContain('nothing to prune');
  });

  it('fails frozen on a prompt from data that is not cached, once the pages are rendered, in Astro\'s own error format', async () => {
    const page = path.join(dir, 'src/pages/index.astro');
    await fs.writeFile(page, (await fs.readFile(page, 'utf8')).replace('A kite over a windy beach', 'A kite over a frozen lake'));
    gateway.reset();
    const frozen = await projectAstro(dir, ['build'], { CI: 'true', AGNIC_BASE_URL: gateway.url });
    expect(frozen.code).not.toBe(0);
    expect(gateway.requests).toEqual([]);
    expect(frozen.output).toContain('[GeneratedImagesError] 1 image with prompts from data is missing from the cache (generated-images) and frozen mode is on (CI is set)');
    expect(frozen.output).toMatch(/\n {2}\/ +"A kite over a frozen lake" \(4:3\)\n {2}Hint:\n {4}Build once where/);
    expect(frozen.output).not.toMatch(/Stack trace|^\s+at /m);
    // Astro 5 renders pages outside any Vite hook: the error can only come from astro:build:done, which Astro introduces with a line of its own.
    if (major >= 6) expect(frozen.output).not.toMatch(/unhandled error/i);
    // status said so before the build: the data changed since the build recorded what its pages showed.
    expect((await inProject(dir, 'generated-images', ['status'], { CI: 'true' })).code).toBe(1);
  });

  it('fails frozen on a literal prompt that is not cached before any page renders, in Astro\'s own error format', async () => {
    const page = path.join(dir, 'src/pages/index.astro');
    await fs.writeFile(page, (await fs.readFile(page, 'utf8')).replace('A red bicycle leaning on a brick wall', 'A blue bicycle leaning on a brick wall'));
    gateway.reset();
    const frozen = await projectAstro(dir, ['build'], { CI: 'true', AGNIC_BASE_URL: gateway.url });
    expect(frozen.code).not.toBe(0);
    expect(gateway.requests).toEqual([]);
    expect(frozen.output).toMatch(/\[GeneratedImagesError\] \d images? (is|are) missing from the cache/);
    expect(frozen.output).toMatch(/src\/pages\/index\.astro:\d+:\d+ +"A blue bicycle leaning on a brick wall" \(16:9\)/);
    expect(frozen.output).not.toContain('generating static routes');
    expect(frozen.output).not.toMatch(/Stack trace|^\s+at /m);
    // Astro 5 has no build step of Vite's to throw from: there Astro's hook line comes first.
    if (major >= 6) expect(frozen.output).not.toMatch(/unhandled error/i);
  });
});
