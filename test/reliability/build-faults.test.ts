// Gateway faults through a real `vite build`: one image of three gets the
// fault. The build fails naming index.html:line:column and the reason, the
// two good images are kept (and not requested again by the next build), and
// nothing from the bad reply reaches the cache.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cacheKey } from '../../packages/vite-plugin/src/core/key.ts';
import type { Ratio } from '../../packages/vite-plugin/src/core/ratios.ts';
import { startTestGateway, type Fault, type TestGateway } from '../gateway/server.ts';
import { cacheViolations, makeProject, promptsOf, readManifest, removeProject, tag, TINY, viteBuild } from './helpers.ts';

const KEY = 'agnic_tok_buildfaults_0123456789';
const MODEL = 'google/gemini-2.0-flash';
const GOOD = ['A lighthouse on a rocky shore at dawn', 'A harbour with red fishing boats'];
const BAD = 'A FAULTY sailing boat in a storm';
const keyOf = (prompt: string, ratio: Ratio) => cacheKey({ model: MODEL, prompt, style: null, ratio, variant: 0, imageSize: null });

let gw: TestGateway;
const roots: string[] = [];
beforeAll(async () => {
  gw = await startTestGateway({ apiKey: KEY });
});
afterAll(async () => {
  await gw.close();
  await Promise.all(roots.map(removeProject));
});
beforeEach(() => gw.reset());

async function project(): Promise<{ root: string; cacheDir: string }> {
  // Line 5 of index.html is the first tag, so the bad one (third) is on line 7.
  const root = await makeProject('faults', [tag(GOOD[0]!), tag(GOOD[1]!, '4:3'), tag(BAD, '16:9')].join('\n'));
  roots.push(root);
  return { root, cacheDir: path.join(root, 'generated-images') };
}

const options = (extra: object = {}) => ({ ...TINY, apiKey: KEY, baseURL: gw.url, retries: 0, timeout: 30_000, ...extra });

/** The cache holds exactly the two good images, valid, and nothing of the bad one. */
async function expectOnlyGoodImagesKept(cacheDir: string): Promise<void> {
  expect(await cacheViolations(cacheDir)).toEqual([]);
  const manifest = await readManifest(cacheDir);
  expect(Object.values(manifest.images).map((e) => (e as unknown as { prompt: string }).prompt).sort()).toEqual([...GOOD].sort());
  const bad = keyOf(BAD, '16:9');
  const files = [...(await fs.readdir(cacheDir)), ...(await fs.readdir(path.join(cacheDir, 'variants')))];
  expect(files.filter((f) => f.includes(bad))).toEqual([]);
}

describe('a fault on one image fails the build after keeping the others', () => {
  it.each<[string, Fault, string]>([
    ['persistent 503', { status: 503, retryAfter: '0' }, 'gave up after 1 attempt: HTTP 503: Service temporarily unavailable'],
    ['400', { status: 400, message: 'Prompt rejected by provider' }, 'the gateway rejected the request (HTTP 400: Prompt rejected by provider)'],
    ['401', { status: 401 }, 'check AGNIC_API_KEY (or the apiKey option) (HTTP 401: Invalid API key)'],
    ['402', { status: 402 }, 'credit or spending limit is exhausted'],
    ['403', { status: 403 }, 'not allowed to use this model or endpoint (HTTP 403: Forbidden)'],
    ['a hanging request', { hang: true }, 'within 3000 ms'],
    ['a dropped connection', { drop: true }, 'could not connect to'],
    ['malformed JSON', { malformedJson: true }, 'the reply is not valid JSON'],
    ['text and no image', { textOnly: true, message: 'I cannot draw storms.' }, 'the reply has no image (finish reason: IMAGE_SAFETY); the model said: "I cannot draw storms."'],
    ['bad base64', { badBase64: true }, 'is not valid base64'],
    ['a non-image payload', { nonImage: true }, 'its bytes are not a PNG, JPEG or WebP'],
    ['an SVG payload', { svg: true }, 'image/svg+xml, which is not accepted'],
    ['an HTML payload', { html: true }, 'text/html, which is not accepted'],
    ['1024×1024 for 16:9', { size: { width: 1024, height: 1024 } }, 'the image is 1024×1024, 42.9% off the 16:9 ratio (expected 1344×768)'],
    ['a huge image', { huge: true }, 'the image is too large to process safely'],
  ])('%s', async (_name, fault, reason) => {
    const { root, cacheDir } = await project();
    gw.setFaultForPrompt('FAULTY', fault);
    // A short timeout only where the fault is a hang: on a busy machine a good reply may take a second.
    const failed = await viteBuild(root, options({ timeout: fault.hang ? 3000 : 30_000 }));
    expect(failed.error).toBeDefined();
    const message = failed.error!.message;
    expect(message).toContain('1 of 3 images could not be generated (the other 2 are saved in the cache)');
    expect(message).toMatch(/index\.html:7:1 {2}"A FAULTY sailing boat in a storm" \(16:9\)/);
    expect(message).toContain(reason);
    await expectOnlyGoodImagesKept(cacheDir);

    // The next build pays only for the image that failed.
    gw.reset();
    const next = await viteBuild(root, options());
    expect(next.error).toBeUndefined();
    expect(promptsOf(gw.chatRequests())).toEqual([BAD]);
    expect(await cacheViolations(cacheDir)).toEqual([]);
    expect(Object.keys((await readManifest(cacheDir)).images)).toHaveLength(3);
  });
});

describe('faults the build survives', () => {
  it('429 and 5xx then success: retried, the build succeeds, each image stored once', async () => {
    const { root, cacheDir } = await project();
    gw.fault({ status: 429, retryAfter: '0' });
    gw.fault({ status: 502, retryAfter: '0' });
    gw.fault({ status: 500, retryAfter: '0' });
    const built = await viteBuild(root, options({ retries: 3, concurrency: 1 }));
    expect(built.error).toBeUndefined();
    expect(built.logs).toContain('retrying in 0.0s (attempt 2): HTTP 429: Rate limit exceeded, please retry later');
    expect(built.logs).toContain('retrying in 0.0s (attempt 3): HTTP 502: Upstream provider error');
    expect(gw.chatRequests()).toHaveLength(6);
    expect(await cacheViolations(cacheDir)).toEqual([]);
    expect(Object.keys((await readManifest(cacheDir)).images)).toHaveLength(3);
    expect(built.html!.match(/<picture>/g)).toHaveLength(3);
  });

  it('a JPEG and a WebP labelled PNG are stored as .jpeg and .webp, byte for byte, and optimized', async () => {
    const { root, cacheDir } = await project();
    gw.setFaultForPrompt(GOOD[0]!, { format: 'jpeg', mislabel: 'png' });
    gw.setFaultForPrompt(GOOD[1]!, { format: 'webp', mislabel: 'png' });
    const built = await viteBuild(root, options());
    expect(built.error).toBeUndefined();
    const images = (await readManifest(cacheDir)).images;
    const jpeg = images[keyOf(GOOD[0]!, '1:1')]!;
    const webp = images[keyOf(GOOD[1]!, '4:3')]!;
    expect(jpeg.file).toBe(`${keyOf(GOOD[0]!, '1:1')}.jpeg`);
    expect(webp.file).toBe(`${keyOf(GOOD[1]!, '4:3')}.webp`);
    expect((await fs.readFile(path.join(cacheDir, jpeg.file))).subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    expect((await fs.readFile(path.join(cacheDir, webp.file))).subarray(8, 12).toString('latin1')).toBe('WEBP');
    expect(await cacheViolations(cacheDir)).toEqual([]);
  });

  it('a reply with the picture twice stores one original', async () => {
    const { root, cacheDir } = await project();
    gw.setFaultForPrompt('FAULTY', { duplicate: true });
    const built = await viteBuild(root, options());
    expect(built.error).toBeUndefined();
    const originals = (await fs.readdir(cacheDir)).filter((f) => /^[0-9a-f]{16}\.png$/.test(f));
    expect(originals).toHaveLength(3);
    expect(await cacheViolations(cacheDir)).toEqual([]);
  });
});
