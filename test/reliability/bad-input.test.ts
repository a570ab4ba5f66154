// The bad-input matrix: each mistake a user can make in source, options or
// the committed cache fails the build with a message that says what is wrong
// and where, and leaves every file of the project and its cache as it was.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheKey } from '../../packages/vite-plugin/src/core/key.ts';
import type { GeneratedImagesOptions } from '../../packages/vite-plugin/src/core/options.ts';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { closedPort, hashTree, makeProject, readManifest, removeProject, tag, TINY, viteBuild } from './helpers.ts';

const KEY = 'agnic_tok_badinput_0123456789';
const SUNSET = 'A calm sunset over a quiet lake';
const FOREST = 'A pine forest in morning fog';
const keyOf = (prompt: string, ratio: '1:1' | '16:9') => cacheKey({ model: 'google/gemini-2.0-flash', prompt, style: null, ratio, variant: 0, imageSize: null });
const SUNSET_KEY = keyOf(SUNSET, '1:1');

let gw: TestGateway;
let template: string;
const roots: string[] = [];

beforeAll(async () => {
  gw = await startTestGateway({ apiKey: KEY });
  template = await makeProject('bad-input-template', [tag(SUNSET), tag(FOREST, '16:9')].join('\n'));
  roots.push(template);
  const built = await viteBuild(template, options());
  if (built.error) throw built.error;
});
afterAll(async () => {
  await gw.close();
  await Promise.all(roots.map(removeProject));
});

function options(extra: GeneratedImagesOptions = {}): GeneratedImagesOptions {
  return { ...TINY, apiKey: KEY, baseURL: gw.url, ...extra };
}

interface Case {
  /** Changes the copied project (its source, options or cache) into the bad input. */
  setup?: (root: string) => Promise<void>;
  /** Options of the build (a function where they depend on the test gateway). */
  options?: GeneratedImagesOptions | (() => Promise<GeneratedImagesOptions>);
  /** Every one of these must appear in the error. */
  error: Array<string | RegExp>;
}

const cacheDir = (root: string) => path.join(root, 'generated-images');
const writeHtml = (root: string, body: string) =>
  fs.writeFile(path.join(root, 'index.html'), `<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>t</title></head>\n<body>\n${body}\n</body>\n</html>\n`);
/** index.html with the two cached images, then `extra` on line 7. */
const withTag = (extra: string) => (root: string) => writeHtml(root, [tag(SUNSET), tag(FOREST, '16:9'), extra].join('\n'));
async function editManifest(root: string, edit: (manifest: any) => void): Promise<void> {
  const file = path.join(cacheDir(root), 'manifest.json');
  const manifest = JSON.parse(await fs.readFile(file, 'utf8'));
  edit(manifest);
  await fs.writeFile(file, JSON.stringify(manifest, null, 2));
}

const RATIO_LIST = '"1:1", "16:9", "9:16", "4:3", "3:2", "2:3", "3:4", "4:5", "5:4", "21:9"';

const CASES: Record<string, Case> = {
  'an invalid ratio': {
    setup: withTag(tag('A boat', '5:3')),
    error: [`index.html:7:33: invalid ratio "5:3"; allowed: ${RATIO_LIST}`],
  },
  'an empty prompt': {
    setup: withTag('<GeneratedImage prompt="" alt="x" />'),
    error: ['index.html:7:17: prompt must be a non-empty string: it is empty or only whitespace'],
  },
  'a whitespace-only prompt': {
    setup: withTag('<GeneratedImage prompt="  \n\t  " alt="x" />'),
    error: ['index.html:7:17: prompt must be a non-empty string: it is empty or only whitespace'],
  },
  'a prompt over the 4000-character limit': {
    setup: withTag(tag('a'.repeat(4001))),
    error: ['index.html:7:17: prompt is 4001 characters long; the limit is 4000'],
  },
  'a prompt from an expression (JSX)': {
    setup: async (root) => {
      await fs.mkdir(path.join(root, 'src'));
      await fs.writeFile(path.join(root, 'src/Hero.jsx'), 'export const Hero = ({ title }) => (\n  <GeneratedImage prompt={title} alt="" />\n);\n');
    },
    error: ['src/Hero.jsx:2:19: prompt must be a literal (a quoted string) so that the image can be generated at build time; got the expression {title}'],
  },
  'a ratio from an expression (JSX)': {
    setup: async (root) => {
      await fs.mkdir(path.join(root, 'src'));
      await fs.writeFile(path.join(root, 'src/Hero.jsx'), 'export const Hero = ({ r }) => <GeneratedImage prompt="A boat" ratio={r} alt="" />;\n');
    },
    error: [/src\/Hero\.jsx:1:64: ratio must be a literal \("1:1", .*\) so that the image can be generated at build time; got the expression \{r\}/],
  },
  'a misspelled prompt prop': {
    setup: withTag('<GeneratedImage promt="A boat" alt="x" />'),
    error: ['index.html:7:1: prompt is required'],
  },
  'a negative variant': {
    setup: withTag('<GeneratedImage prompt="A boat" variant="-1" alt="x" />'),
    error: ['index.html:7:33: variant must be an integer >= 0, got "-1"'],
  },
  'a missing alt': {
    setup: withTag('<GeneratedImage prompt="A boat" />'),
    error: ['index.html:7:1: alt is required'],
  },
  'a manifest.json that is not JSON': {
    setup: (root) => fs.writeFile(path.join(cacheDir(root), 'manifest.json'), '{"version": 1, "images": {'),
    error: [/generated-images\/manifest\.json is not valid JSON \(.*\)\. Nothing was changed: restore it from git \(git checkout -- manifest\.json\) or fix it by hand\./],
  },
  'a manifest.json that is not a manifest': {
    setup: (root) => fs.writeFile(path.join(cacheDir(root), 'manifest.json'), '[1, 2, 3]\n'),
    error: [/generated-images\/manifest\.json is not a generated-images manifest: expected \{ "version": 1, "images": \{ … \} \}/],
  },
  'a manifest from a newer version': {
    setup: (root) => editManifest(root, (m) => (m.version = 2)),
    error: ['has version 2, newer than this plugin understands (1): upgrade vite-plugin-generated-images'],
  },
  'a manifest entry under a key that is not a cache key': {
    setup: (root) => editManifest(root, (m) => (m.images['../../etc'] = m.images[SUNSET_KEY])),
    error: ['"../../etc" is not a cache key (16 hex digits)'],
  },
  'a manifest entry pointing outside the cache folder': {
    setup: async (root) => {
      await fs.writeFile(path.join(root, 'x.png'), 'not to be touched');
      await editManifest(root, (m) => (m.images[SUNSET_KEY].file = '../x.png'));
    },
    error: [`the entry "${SUNSET_KEY}" points at "../x.png"; files must be plain names inside the cache folder`],
  },
  'a manifest entry with an absolute path': {
    setup: (root) => editManifest(root, (m) => (m.images[SUNSET_KEY].file = '/etc/passwd')),
    error: [`the entry "${SUNSET_KEY}" points at "/etc/passwd"`],
  },
  'a variant name pointing outside variants/': {
    setup: (root) =>
      editManifest(root, (m) => {
        const variants = m.images[SUNSET_KEY].variants;
        const [name] = Object.keys(variants);
        variants['../../index.html'] = variants[name!];
      }),
    error: [`the entry "${SUNSET_KEY}" has a variant "../../index.html"; variants must be plain file names inside variants/`],
  },
  'an original that fails its sha256 (new variants needed)': {
    setup: async (root) => {
      const file = path.join(cacheDir(root), `${SUNSET_KEY}.png`);
      const data = await fs.readFile(file);
      data[data.length - 20] ^= 0xff;
      await fs.writeFile(file, data);
    },
    options: { widths: [64, 96] },
    error: [`${SUNSET_KEY}.png does not match its sha256 in the manifest (entry ${SUNSET_KEY}): restore it from git; nothing was changed`],
  },
  'an original listed but missing (new variants needed)': {
    setup: (root) => fs.rm(path.join(cacheDir(root), `${SUNSET_KEY}.png`)),
    options: { widths: [64, 96] },
    error: [`${SUNSET_KEY}.png is listed in the manifest (entry ${SUNSET_KEY}, prompt "${SUNSET}") but missing: restore it from git`],
  },
  'a variant that fails its sha256': {
    setup: async (root) => {
      const dir = path.join(cacheDir(root), 'variants');
      const [name] = (await fs.readdir(dir)).filter((f) => f.startsWith(SUNSET_KEY) && f.endsWith('.webp'));
      await fs.appendFile(path.join(dir, name!), 'garbage');
    },
    error: [new RegExp(`variants/${SUNSET_KEY}-64-[0-9a-f]{8}\\.webp is missing or does not match the manifest`)],
  },
  'a variant cut short (an interrupted checkout)': {
    setup: async (root) => {
      const dir = path.join(cacheDir(root), 'variants');
      const [name] = (await fs.readdir(dir)).filter((f) => f.startsWith(SUNSET_KEY) && f.endsWith('.webp'));
      const file = path.join(dir, name!);
      await fs.truncate(file, (await fs.stat(file)).size - 1);
    },
    error: [new RegExp(`variants/${SUNSET_KEY}-64-[0-9a-f]{8}\\.webp is missing or does not match the manifest`)],
  },
  'a cacheDir that is a file': {
    setup: (root) => fs.writeFile(path.join(root, 'cache-file'), 'I am a file'),
    options: { cacheDir: 'cache-file' },
    error: [/cacheDir .*cache-file exists and is not a folder/],
  },
  'an empty cacheDir': {
    options: { cacheDir: '' },
    error: ['option "cacheDir" must be a non-empty string, got ""'],
  },
  'the filesystem root as cacheDir': {
    options: { cacheDir: '/' },
    error: ['option "cacheDir" must be a folder of its own (e.g. "generated-images"), got "/"'],
  },
  'a baseURL that is not a URL': {
    options: { baseURL: 'api.agnic.ai/v1' },
    error: ['baseURL must be an absolute http(s) URL such as https://api.agnic.ai/v1, got "api.agnic.ai/v1"'],
  },
  'a baseURL with another protocol': {
    options: { baseURL: 'ftp://127.0.0.1/v1' },
    error: ['baseURL must use http or https, got "ftp://127.0.0.1/v1"'],
  },
  'a baseURL with credentials in it': {
    options: { baseURL: 'http://user:secret@127.0.0.1/v1' },
    error: ['baseURL must not contain credentials; pass the token as apiKey or AGNIC_API_KEY'],
  },
  'a baseURL where no gateway listens': {
    setup: withTag(tag('A boat')),
    options: async () => ({ retries: 0, baseURL: `http://127.0.0.1:${await closedPort()}/v1` }),
    error: [/index\.html:7:1 {2}"A boat" \(1:1\)\n {4}gave up after 1 attempt: could not connect to http:\/\/127\.0\.0\.1:\d+\/v1 \(connect ECONNREFUSED .*\): check baseURL \(or AGNIC_BASE_URL\) and the network/],
  },
  'a baseURL with the wrong path': {
    setup: withTag(tag('A boat')),
    options: async () => ({ baseURL: gw.url.replace(/\/v1$/, '/api') }),
    error: ['the gateway does not know this endpoint or model: check baseURL and model (HTTP 404'],
  },
  'a misspelled option': {
    options: { cachedir: 'images' } as GeneratedImagesOptions,
    error: ['unknown option "cachedir" (did you mean "cacheDir"?)'],
  },
  'a model without image output': {
    setup: withTag(tag('A boat')),
    options: { model: 'openai/gpt-4o-mini' },
    error: ['the model openai/gpt-4o-mini does not output images', 'Models that do: google/gemini-2.0-flash, google/gemini-2.5-flash-image'],
  },
  'a new image in frozen mode': {
    setup: withTag(tag('A boat')),
    options: { frozen: true },
    error: ['1 image is missing from the cache', 'index.html:7:1  "A boat" (1:1)'],
  },
  'a new image and no API key': {
    setup: withTag(tag('A boat')),
    options: { apiKey: undefined },
    error: ['no API key is set: set AGNIC_API_KEY (or the apiKey option)', 'index.html:7:1  "A boat" (1:1)'],
  },
};

describe('bad input fails clearly and changes nothing', () => {
  it.each(Object.entries(CASES))('%s', async (_name, c) => {
    const root = await fs.mkdtemp(`${template}-case-`);
    roots.push(root);
    await fs.cp(template, root, { recursive: true });
    await fs.rm(path.join(root, 'dist'), { recursive: true });
    await c.setup?.(root);
    const extra = typeof c.options === 'function' ? await c.options() : (c.options ?? {});
    const before = await hashTree(root);
    gw.reset();

    const result = await viteBuild(root, options(extra));
    expect(result.error, 'the build should fail').toBeDefined();
    for (const expected of c.error) {
      if (typeof expected === 'string') expect(result.error!.message).toContain(expected);
      else expect(result.error!.message).toMatch(expected);
    }
    expect(result.error!.message).not.toContain(KEY);
    expect(await hashTree(root)).toEqual(before);
    expect(gw.chatRequests().length).toBeLessThanOrEqual(1);
  });
});

describe('unknown props warn with a suggestion', () => {
  it('a misspelled ratio warns "did you mean ratio" and builds, passing the attribute through', async () => {
    const root = await makeProject('warn', [tag(SUNSET, '1:1', 'raito="16:9"'), '<GeneratedImage promt="x" prompt="A pine forest in morning fog" ratio="16:9" alt="" />'].join('\n'));
    roots.push(root);
    await fs.cp(cacheDir(template), cacheDir(root), { recursive: true });
    const before = await hashTree(cacheDir(root));
    gw.reset();
    const result = await viteBuild(root, options());
    expect(result.error).toBeUndefined();
    expect(result.logs).toMatch(/index\.html:5:\d+: unknown prop "raito" on <GeneratedImage> \(did you mean "ratio"\?\)/);
    expect(result.logs).toMatch(/index\.html:6:17: unknown prop "promt" on <GeneratedImage> \(did you mean "prompt"\?\)/);
    expect(result.html).toContain('raito="16:9"');
    expect(gw.chatRequests()).toHaveLength(0);
    expect(await hashTree(cacheDir(root))).toEqual(before);
  });

  it('a misspelled prompt prop alone is an error that also suggests the name', async () => {
    const root = await makeProject('warn', '<GeneratedImage promt="A boat" alt="" />');
    roots.push(root);
    const result = await viteBuild(root, options());
    expect(result.error!.message).toContain('index.html:5:1: prompt is required');
    expect(result.logs).toContain('unknown prop "promt" on <GeneratedImage> (did you mean "prompt"?)');
    expect(await readManifest(cacheDir(root))).toEqual({ version: 1, images: {} });
  });
});
