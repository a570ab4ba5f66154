// References and art direction in Astro: `astro build` (the CLI) of a page
// whose components send a reference (as a string and as an array) and art
// direction, then a frozen build from the cache it made, with no request.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { sha256 } from '../reliability/helpers.ts';
import { astro, copyAstroFixture } from './helpers.ts';

const KEY = 'agnic_tok_astro_art_0123456789';
const PAGE = `---
import { GeneratedImage } from 'astro-generated-images/components';
---
<html lang="en">
  <body>
    <GeneratedImage prompt="Our mascot at the harbour" ratio="16:9" alt="Mascot" references="/brand/mascot.png" art="(max-width: 640px) 9:16, (max-width: 1024px) 4:3 crop" />
    <GeneratedImage prompt="Our mascot on a bicycle" alt="" references={["/brand/mascot.png"]} />
  </body>
</html>
`;

let gateway: TestGateway;
let dir: string;
beforeAll(async () => {
  gateway = await startTestGateway({ apiKey: KEY });
  dir = await copyAstroFixture('site', 'art');
  await fs.writeFile(path.join(dir, 'src/pages/about.astro'), PAGE);
  await fs.mkdir(path.join(dir, 'brand'));
  await sharp({ create: { width: 40, height: 40, channels: 3, background: '#e80' } }).png().toFile(path.join(dir, 'brand/mascot.png'));
});
afterAll(async () => {
  await gateway.close();
  await fs.rm(dir, { recursive: true, force: true });
});

const options = (extra: object = {}) => JSON.stringify({ widths: [64, 128], formats: ['webp'], ...extra });

describe('references and art direction in Astro', () => {
  it('sends the reference with each prompt, generates the art entry from the default image, and renders <source media>', async () => {
    const built = await astro(['build'], dir, { AGNIC_API_KEY: KEY, AGNIC_BASE_URL: gateway.url, GI_OPTIONS: options({ frozen: false }) });
    expect(built.code, built.output).toBe(0);
    const mascot = sha256(await fs.readFile(path.join(dir, 'brand/mascot.png')));
    const ours = gateway.chatRequests().filter((r) => r.promptText.startsWith('Our mascot'));
    expect(ours.map((r) => [r.promptText, r.body.image_config.aspect_ratio, r.imageParts.length]).sort()).toEqual([
      ['Our mascot at the harbour', '16:9', 1],
      ['Our mascot at the harbour', '9:16', 2],
      ['Our mascot on a bicycle', '1:1', 1],
    ]);
    for (const request of ours) expect(request.imageParts[0]).toMatchObject({ sha256: mascot, beforeText: true, decodes: true });

    const html = await fs.readFile(path.join(dir, 'dist/about/index.html'), 'utf8');
    const media = [...html.matchAll(/<source\b[^>]*\bmedia="([^"]*)"[^>]*\bwidth="(\d+)" height="(\d+)"/g)].map((m) => [m[1], Number(m[2]), Number(m[3])]);
    expect(media).toEqual([['(max-width: 640px)', 128, 224], ['(max-width: 1024px)', 128, 96]]);
  });

  it('builds frozen from the cache it made, with no request: the page’s keys are the scan’s', async () => {
    gateway.reset();
    const built = await astro(['build'], dir, { CI: 'true', AGNIC_BASE_URL: gateway.url, GI_OPTIONS: options() });
    expect(built.code, built.output).toBe(0);
    expect(gateway.requests).toHaveLength(0);
  });
});
