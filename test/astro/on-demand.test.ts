// A site with the @astrojs/node adapter: prerendered pages and pages rendered on
// demand by the built standalone server (`node dist/server/entry.mjs`), as a
// deployment runs it, against the test gateway.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { hashTree } from '../helpers.ts';
import { astro, copyAstroFixture, pictures, startNodeServer, type NodeServer } from './helpers.ts';

const KEY = 'agnic_tok_TESTKEY_ondemand_4b1e90aa';
let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway();
});
afterAll(async () => {
  await gateway.close();
});

/** Astro encrypts server island props with a key it makes up on every build unless ASTRO_KEY is set (`astro create-key`): a reproducible build sets it. */
const ASTRO_KEY = Buffer.alloc(32, 7).toString('base64');
const options = (extra: Record<string, unknown> = {}) => JSON.stringify({ widths: [64, 128], formats: ['webp'], ...extra });

/** The first chunk of a response body, and whether the rest was still to come when it arrived. */
async function firstChunk(url: string): Promise<{ status: number; first: string; rest: string }> {
  const response = await fetch(url);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const first = decoder.decode((await reader.read()).value);
  let rest = '';
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += decoder.decode(chunk.value, { stream: true });
  return { status: response.status, first, rest };
}

describe('astro build with the node adapter, then its production server', () => {
  let dir: string;
  let build: Awaited<ReturnType<typeof astro>>;
  let server: NodeServer;

  beforeAll(async () => {
    dir = await copyAstroFixture('server');
    gateway.reset();
    build = await astro(['build'], dir, { ASTRO_KEY, AGNIC_API_KEY: KEY, AGNIC_BASE_URL: gateway.url, GI_OPTIONS: options({ frozen: false }) });
    gateway.reset();
    // The server runs with no key and the gateway reachable: any request it made would be recorded.
    server = await startNodeServer(dir, { AGNIC_API_KEY: KEY, AGNIC_BASE_URL: gateway.url });
  });
  afterAll(async () => {
    await server?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('builds, warning about the prompt from an expression in the on-demand page', () => {
    expect(build.code, build.output).toBe(0);
    expect(build.output).toMatch(/src\/pages\/live\.astro:\d+:\d+: this prompt comes from an expression in a page rendered on demand/);
  });

  it('renders cached images in an on-demand page with files the client output serves, and a placeholder with one warning for a miss', async () => {
    const first = await fetch(`${server.url}/live`);
    expect(first.status).toBe(200);
    const html = await first.text();
    const [tram, topic] = pictures(html);
    expect(tram!.img.alt).toBe('Tram');
    for (const url of [tram!.img.src!, ...tram!.sources.flatMap((s) => s.srcset.map(([u]) => u))]) {
      expect(url).toMatch(/^\/_astro\/[0-9a-f]{16}-\d+-[0-9a-f]{8}\.(webp|jpg)$/);
      const file = await fetch(`${server.url}${url}`);
      expect([url, file.status]).toEqual([url, 200]);
      await expect(fs.stat(path.join(dir, 'dist/client', url))).resolves.toBeTruthy();
    }
    expect(topic!.img.alt).toBe('Topic');
    expect(topic!.img.src).toMatch(/^data:image\/svg\+xml/);
    expect(html).not.toContain('/@generated-images/');

    expect((await fetch(`${server.url}/live`)).status).toBe(200);
    expect(server.output().match(/"A lantern on a jetty" \(1:1\) was not prepared by the build/g)).toHaveLength(1);
    expect(gateway.requests).toEqual([]);
  });

  it('streams an on-demand page: its first part arrives before the part it waits for', async () => {
    const { status, first, rest } = await firstChunk(`${server.url}/stream`);
    expect(status).toBe(200);
    expect(first).toContain('first part');
    expect(first).not.toContain('slow part done');
    expect(rest).toContain('slow part done');
  });

  it('prerenders the static page with the same URLs, and gives a byte-identical dist/ (server included) for two frozen builds, with no request', async () => {
    const [windmill] = pictures(await fs.readFile(path.join(dir, 'dist/client/index.html'), 'utf8'));
    await expect(fs.stat(path.join(dir, 'dist/client', windmill!.img.src!))).resolves.toBeTruthy();
    // Astro inlines environment variables such as CI into the server bundle: both builds run as CI does.
    const frozen = () => astro(['build'], dir, { ASTRO_KEY, CI: 'true', AGNIC_BASE_URL: gateway.url, GI_OPTIONS: options() });
    gateway.reset();
    const once = await frozen();
    expect(once.code, once.output).toBe(0);
    const before = await hashTree(path.join(dir, 'dist'));
    const again = await frozen();
    expect(again.code, again.output).toBe(0);
    expect(gateway.requests).toEqual([]);
    expect(await hashTree(path.join(dir, 'dist'))).toEqual(before);
  });
});
