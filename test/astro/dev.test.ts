// `astro dev` as a site author runs it (the CLI, as a child process) on a copy
// of the fixture, against the test gateway: pages render at once, images that
// are not cached yet show a placeholder, and the cache's files are served.

import { promises as fs } from 'node:fs';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { copyAstroFixture, pictures, startAstroDev, until } from './helpers.ts';

const KEY = 'agnic_tok_TESTKEY_astro_dev_77aa';
let gateway: TestGateway;
const running: Array<() => Promise<void>> = [];

beforeAll(async () => {
  gateway = await startTestGateway();
});
afterEach(async () => {
  while (running.length) await running.pop()!();
});
afterAll(async () => {
  await gateway.close();
});

/** Starts `astro dev` in `dir`, stopped after the test. */
async function startDev(dir: string, env: Record<string, string>) {
  const dev = await startAstroDev(dir, env);
  running.push(dev.stop);
  return dev;
}

const html = async (url: string) => {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return response.text();
};

describe('astro dev', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await copyAstroFixture('site', 'dev');
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it('shows a placeholder with the prompt while an image generates, then the picture, served from the cache', async () => {
    gateway.reset();
    const dev = await startDev(dir, { AGNIC_API_KEY: KEY, AGNIC_BASE_URL: gateway.url, GI_OPTIONS: JSON.stringify({ widths: [64, 128], frozen: false }) });
    const first = pictures(await html(`${dev.url}/posts/alpha/`));
    expect(first.map((p) => p.attributes['data-generated-image'])).toEqual(['pending', 'pending']);
    expect(decodeURIComponent(first[0]!.img.src!)).toContain('A red fox asleep in fresh snow');
    // The placeholder takes the final picture's box, so the page does not move when the image arrives.
    expect(first[0]!.img).toMatchObject({ width: '128', height: '73', alt: 'Alpha' });

    const ready = await until('the images to be generated', async () => {
      const found = pictures(await html(`${dev.url}/posts/alpha/`));
      return found.every((p) => p.attributes['data-generated-image'] === undefined) ? found : undefined;
    });
    expect(ready.map((p) => p.img.alt)).toEqual(['Alpha', 'Boat']);
    for (const picture of ready) {
      const [url, width] = picture.sources[0]!.srcset[1]!;
      expect(url).toMatch(/^\/@generated-images\/[0-9a-f]{16}-128-[0-9a-f]{8}\.avif$/);
      const response = await fetch(`${dev.url}${url}`);
      expect(response.headers.get('content-type')).toBe('image/avif');
      expect((await sharp(Buffer.from(await response.arrayBuffer())).metadata()).width).toBe(width);
    }
    expect(gateway.chatRequests().map((r) => r.body.messages[0].content).sort()).toEqual(['A red fox asleep in fresh snow', 'A small blue rowing boat']);
  });

  it('without a key, renders what is cached and shows placeholders for the rest, with a single warning', async () => {
    gateway.reset();
    const dev = await startDev(dir, { AGNIC_BASE_URL: gateway.url, GI_OPTIONS: JSON.stringify({ widths: [64, 128], frozen: false }) });
    const cached = pictures(await html(`${dev.url}/posts/beta/`));
    expect(cached).toHaveLength(1);
    expect(cached[0]!.attributes['data-generated-image']).toBeUndefined();
    for (let i = 0; i < 2; i++) {
      const [missing] = pictures(await html(`${dev.url}/`));
      expect(missing!.attributes['data-generated-image']).toBe('pending');
      expect(decodeURIComponent(missing!.img.src!)).toContain('Not generated (no API key)');
    }
    expect(dev.output().match(/no API key \(set AGNIC_API_KEY or the apiKey option\)/g)).toHaveLength(1);
    expect(gateway.requests).toEqual([]);
  });
});
