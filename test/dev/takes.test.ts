// Takes in `vite dev`, as a site author uses them: the page's placeholder links
// to the takes page, another take is generated through the test gateway, both
// show side by side, and keeping one writes its `variant` into the source.
// Also: a prompt being edited is generated only once its file settles, and the
// takes page exists only in dev and only for the dev server's own pages.

import { promises as fs } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import react from '@vitejs/plugin-react';
import type { Page } from 'playwright-core';
import { build, preview } from 'vite';
import generatedImages from 'vite-plugin-generated-images';
import { describe, expect, it } from 'vitest';
import { copyProject } from '../browser/harness.ts';
import { DEV_FIXTURES, devTestbed } from './server.ts';
import { sideBySide, takeLoaded } from './takes-page.ts';

const KEY = 'agnic_tok_takes_0123456789';
const TEAPOT = 'A teapot on a windowsill, morning light, gouache';

const bed = devTestbed(KEY);
const { startDev, newPage } = bed;

/** Every image on the page is a real, loaded picture. */
const allLoaded = (page: Page) =>
  page.waitForFunction(() => {
    const pictures = [...document.querySelectorAll('picture')];
    return pictures.length > 0 && pictures.every((p) => !p.hasAttribute('data-generated-image') && (p.querySelector('img') as HTMLImageElement).complete && (p.querySelector('img') as HTMLImageElement).naturalWidth > 0);
  }, undefined, { timeout: 60_000 });

/** A raw request with the headers a browser on another site (or a script) would send. */
function request(url: string, options: { method?: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('takes in vite dev', () => {
  it('opens from a placeholder, makes another take, shows both side by side, and keeps the second in the source', async () => {
    // Long enough to click a placeholder's link before the images arrive.
    bed.gw.setLatency(3000);
    const dev = await startDev('html', { apiKey: KEY, frozen: false });
    const html = path.join(dev.root, 'index.html');
    const original = await fs.readFile(html, 'utf8');

    const site = await newPage();
    await site.goto(dev.url);
    const link = site.locator('picture[data-generated-image="pending"] [data-generated-images-takes]').first();
    const [takes] = await Promise.all([site.waitForEvent('popup'), link.click()]);
    bed.track(takes);
    await takes.waitForSelector('h2:has-text("On this page (/)")');
    await takeLoaded(takes, TEAPOT, 0);
    const card = takes.locator('section.usage', { hasText: TEAPOT });
    expect(await card.locator('.meta').textContent()).toBe('16:9 · index.html:9:5 · variant 0');
    // What the gateway charged when the manifest records it, else its price per image (the test gateway's pricing.image).
    expect(await card.locator('figure[data-take="0"] .cost').textContent()).toMatch(/^(≈ )?\$0\.039$/);
    expect(await takes.locator('h2').first().textContent()).toBe('On this page (/)');
    expect(await takes.locator('section.usage').count()).toBe(2);

    await card.locator('button.another').click();
    await takeLoaded(takes, TEAPOT, 1);
    expect(await sideBySide(takes, TEAPOT, [0, 1])).toBe(true);
    const prompts = bed.gw.chatRequests().map((r) => r.promptText);
    expect(prompts.filter((p) => p === TEAPOT)).toHaveLength(2);
    expect(prompts).toHaveLength(3);

    const keptKey = await card.locator('figure[data-take="1"]').getAttribute('data-key');
    await card.locator('figure[data-take="1"] button.keep').click();
    await takes.waitForSelector('.banner.ok');
    expect(await takes.locator('.banner.ok').textContent()).toBe('Kept variant 1: index.html:9:5 now says so.');
    // Only the teapot's usage changed, and only by its variant: every other byte is as it was.
    expect(await fs.readFile(html, 'utf8')).toBe(original.replace(`prompt="${TEAPOT}" ratio="16:9"`, `prompt="${TEAPOT}" ratio="16:9" variant="1"`));

    // The takes page shows the kept take as the one in source…
    await takes.waitForSelector(`section.usage:has-text("${TEAPOT}") figure[data-take="1"][data-current]`);
    expect(await card.locator('.meta').textContent()).toBe('16:9 · index.html:9:5 · variant 1');
    expect(await card.locator('figure[data-take="0"] button.keep').count()).toBe(1);
    // …and the site page, reloaded by the file watcher, shows it, with no new request.
    await site.waitForFunction((key) => (document.images[0] as HTMLImageElement).currentSrc.includes(`/@generated-images/${key}-`), keptKey, { timeout: 30_000 });
    await allLoaded(site);
    expect(bed.gw.chatRequests()).toHaveLength(3);
    // The take not kept stays in the cache until `prune`.
    const manifest = JSON.parse(await fs.readFile(path.join(dev.root, 'generated-images/manifest.json'), 'utf8'));
    expect(Object.values(manifest.images as Record<string, { prompt: string; variant: number }>).filter((e) => e.prompt === TEAPOT).map((e) => e.variant).sort()).toEqual([0, 1]);
  });

  it('without a key, or frozen, lists the cached takes and says why no new take can be made', async () => {
    const first = await startDev('html', { apiKey: KEY, frozen: false });
    const site = await newPage();
    await site.goto(first.url);
    await allLoaded(site);
    await first.server.close();
    bed.gw.reset();

    const saved = process.env.AGNIC_API_KEY;
    delete process.env.AGNIC_API_KEY;
    try {
      for (const [options, why] of [[{ frozen: false }, /no API key/], [{ apiKey: KEY, frozen: true }, /frozen mode is on/]] as const) {
        const dev = await startDev('html', options, { root: first.root });
        const takes = await newPage();
        await takes.goto(`${dev.url}@generated-images/takes`);
        await takeLoaded(takes, TEAPOT, 0);
        expect(await takes.locator('h2').first().textContent()).toBe('Every image on the site');
        expect(await takes.locator('#context').textContent()).toMatch(why);
        const another = takes.locator('section.usage', { hasText: TEAPOT }).locator('button.another');
        expect(await another.isDisabled()).toBe(true);
        expect(await another.getAttribute('title')).toMatch(why);
        await dev.server.close();
      }
    } finally {
      if (saved !== undefined) process.env.AGNIC_API_KEY = saved;
    }
    expect(bed.gw.requests).toHaveLength(0);
  });

  it('answers only pages of the dev server itself, never writes a file that changed since the page read it, nor one outside the site', async () => {
    const dev = await startDev('html', { apiKey: KEY, frozen: false });
    const html = path.join(dev.root, 'index.html');
    const before = await fs.readFile(html, 'utf8');
    const takesUrl = `${dev.url}@generated-images/takes`;
    const own = new URL(dev.url).host;
    const data = JSON.parse((await request(`${takesUrl}/data`, {})).body);
    const usage = data.usages[0];
    const keep = (headers: Record<string, string>, body: object = { file: usage.file, start: usage.start, hash: usage.hash, variant: 0 }) =>
      request(`${takesUrl}/keep`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });

    for (const origin of ['http://evil.example', `http://localhost:1`, 'null']) {
      expect((await request(takesUrl, { headers: { Origin: origin } })).status).toBe(403);
      expect((await request(`${takesUrl}/data`, { headers: { Origin: origin } })).status).toBe(403);
      expect((await keep({ Origin: origin })).status).toBe(403);
    }
    expect((await request(takesUrl, { headers: { 'Sec-Fetch-Site': 'cross-site' } })).status).toBe(403);
    // A POST without an Origin is not a browser on this page.
    expect((await keep({})).status).toBe(403);
    // A name that is not this server's (DNS rebinding) is refused before any route answers.
    expect((await keep({ Host: 'evil.example', Origin: 'http://evil.example' })).status).toBe(403);

    const ok = { Origin: `http://${own}` };
    expect((await request(takesUrl, { headers: { ...ok, 'Sec-Fetch-Site': 'same-origin' } })).status).toBe(200);
    const stale = await keep(ok, { file: usage.file, start: usage.start, hash: '0'.repeat(64), variant: 0 });
    expect(stale.status).toBe(409);
    expect(JSON.parse(stale.body).error).toBe('index.html changed since this page was loaded: nothing was written');
    for (const file of ['../outside.html', '/etc/passwd', 'node_modules/vite/index.html', 'generated-images/manifest.json']) {
      const refused = await keep(ok, { file, start: 0, hash: usage.hash, variant: 0 });
      expect(refused.status).toBe(409);
      expect(JSON.parse(refused.body).error).toBe(`${file} is not a source file of this site with a <GeneratedImage> in it`);
    }
    // A take that is not in the cache cannot be kept: keeping never generates.
    const uncached = await keep(ok, { file: usage.file, start: usage.start, hash: usage.hash, variant: 5 });
    expect(uncached.status).toBe(409);
    expect(JSON.parse(uncached.body).error).toMatch(/variant 5 of index\.html:9:5 is not in the cache/);
    expect(await fs.readFile(html, 'utf8')).toBe(before);
    expect(bed.gw.chatRequests()).toHaveLength(0);
  });

  it('has no takes page in a production build or in vite preview', async () => {
    const root = await copyProject(path.join(DEV_FIXTURES, 'html'), 'takes-build');
    await build({ root, configFile: false, logLevel: 'silent', plugins: [generatedImages({ baseURL: bed.gw.url, apiKey: KEY, frozen: false, widths: [64] })] });
    const files = await fs.readdir(path.join(root, 'dist'), { recursive: true });
    expect(files.filter((f) => f.includes('takes') || f.includes('@generated-images'))).toEqual([]);
    const server = await preview({ root, configFile: false, logLevel: 'silent', appType: 'mpa', preview: { host: '127.0.0.1', port: 0 }, plugins: [generatedImages({ baseURL: bed.gw.url, apiKey: KEY })] });
    bed.track(server);
    const url = server.resolvedUrls!.local[0]!;
    const origin = { Origin: new URL(url).origin };
    expect((await request(url, {})).status).toBe(200);
    expect((await request(`${url}@generated-images/takes`, { headers: origin })).status).toBe(404);
    expect((await request(`${url}@generated-images/takes/data`, { headers: origin })).status).toBe(404);
    const keep = await request(`${url}@generated-images/takes/keep`, { method: 'POST', headers: { ...origin, 'Content-Type': 'application/json' }, body: '{}' });
    expect(keep.status).toBe(404);
  });
});

describe('a prompt being edited in vite dev', () => {
  it('is generated once, for the last text, when a file saved ten times in three seconds settles', async () => {
    const dev = await startDev('react', { apiKey: KEY, frozen: false }, { extra: [react()] });
    const page = await newPage();
    await page.goto(dev.url);
    await allLoaded(page);
    bed.gw.reset();

    const app = path.join(dev.root, 'src/App.jsx');
    const source = await fs.readFile(app, 'utf8');
    const draft = (n: number) => `A red kite over green hills, draft ${n} of the prompt`;
    // Ten saves 300 ms apart, as an editor that saves on every pause makes them; the page takes each one through HMR.
    for (let n = 1; n <= 10; n++) {
      if (n > 1) await new Promise((resolve) => setTimeout(resolve, 300));
      await fs.writeFile(app, source.replace('A red kite over green hills, paper cut-out', draft(n)));
    }
    await expect.poll(() => bed.gw.chatRequests().length, { timeout: 30_000 }).toBe(1);
    const keyOf = async (prompt: string) => {
      const manifest = JSON.parse(await fs.readFile(path.join(dev.root, 'generated-images/manifest.json'), 'utf8'));
      return Object.entries(manifest.images as Record<string, { prompt: string }>).find(([, e]) => e.prompt === prompt)?.[0];
    };
    let key: string | undefined;
    await expect.poll(async () => (key = await keyOf(draft(10))), { timeout: 30_000 }).toBeDefined();
    // The page shows the last prompt's image, updated in place.
    await page.waitForFunction((key) => (document.images[0] as HTMLImageElement).currentSrc.includes(`/@generated-images/${key}-`), key, { timeout: 60_000 });
    await allLoaded(page);
    // Longer than the settle time again: no draft is generated late either.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(bed.gw.chatRequests().map((r) => r.promptText)).toEqual([draft(10)]);
  });
});
