// Shared by the browser, dev-server and syntax tests: Debian's Chromium through
// playwright-core (never a downloaded browser), a static server for built
// sites, fixture copies under test/.tmp, and `vite build` as a child process.

import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { RATIO_SIZES } from '../gateway/server.ts';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = path.join(REPO, 'test/screenshots');

/** Debian's Chromium; a missing browser fails the test with what to install, it never skips it. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: the browser tests need Debian's chromium package (apt-get install -y chromium); .ci/run installs it`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

const copies: string[] = [];

/** A fresh copy of a fixture or example under test/.tmp (gitignored), so the committed tree is never modified. */
export async function copyProject(from: string, name: string): Promise<string> {
  const dir = path.join(REPO, 'test/.tmp', `${name}-${process.pid}-${Date.now().toString(36)}`);
  copies.push(dir);
  await fs.rm(dir, { recursive: true, force: true });
  await fs.cp(from, dir, { recursive: true, filter: (src) => !/[\\/](node_modules|dist|\.astro)$/.test(src) });
  return dir;
}

/** Deletes the copies this test file made. */
export async function removeCopies(): Promise<void> {
  await Promise.all(copies.splice(0).map((dir) => fs.rm(dir, { recursive: true, force: true })));
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a tool from the repo's node_modules/.bin (Node 22 first on PATH, as npm scripts do). */
export function run(command: string, args: string[], options: { cwd: string; env?: Record<string, string | undefined> }): Promise<RunResult> {
  const bin = path.join(REPO, 'node_modules/.bin');
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}`, FORCE_COLOR: '0', NO_COLOR: '1' };
  delete env.AGNIC_API_KEY;
  delete env.AGNIC_BASE_URL;
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(bin, command), args, { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml',
  '.avif': 'image/avif', '.webp': 'image/webp', '.jpg': 'image/jpeg', '.png': 'image/png', '.json': 'application/json',
};

/** Serves a built site from a folder on 127.0.0.1, as any static host would (`/` → `index.html`, clean URLs). */
export async function serveStatic(root: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(async (req, res) => {
    let pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (pathname.endsWith('/')) pathname += 'index.html';
    let file = path.join(root, pathname);
    if (!file.startsWith(root + path.sep)) return res.writeHead(403).end();
    // Clean URLs, as static hosts serve prerendered routes: /blog/post → blog/post.html or blog/post/index.html.
    if (!path.extname(file)) file = [`${file}.html`, path.join(file, 'index.html')].find((f) => existsSync(f)) ?? file;
    const data = await fs.readFile(file).catch(() => undefined);
    if (!data) return res.writeHead(404).end('not found');
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(data);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface ImageReport {
  alt: string;
  currentSrc: string;
  naturalWidth: number;
  naturalHeight: number;
  /** The rendered box before any image had arrived, and after all had loaded. */
  before: { width: number; height: number };
  after: { width: number; height: number };
}

export interface PageReport {
  images: ImageReport[];
  /** Sum of the layout-shift entries the page recorded while loading. */
  layoutShift: number;
  html: string;
}

/**
 * Loads a page the way a visitor would, with every image response held back
 * until the layout before any image arrives has been measured, and a
 * layout-shift observer running from the first byte. The viewport is tall
 * enough that lazy images load too; its width is 1280 unless given.
 */
export async function loadPage(browser: Browser, url: string, options: { screenshot?: string; width?: number } = {}): Promise<PageReport> {
  const page = await browser.newPage({ viewport: { width: options.width ?? 1280, height: 2400 } });
  try {
    // Image responses wait until the empty layout has been measured.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    await page.route(/\.(avif|webp|jpg|png)(\?|$)/, async (route) => {
      await gate;
      await route.continue();
    });
    await page.addInitScript(() => {
      const w = window as unknown as { __shift: number };
      w.__shift = 0;
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) w.__shift += (entry as unknown as { value: number }).value;
      }).observe({ type: 'layout-shift', buffered: true });
    });
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('picture img', { state: 'attached' });
    // A page without scripts fires DOMContentLoaded before its stylesheets arrive, and nothing is painted until they
    // have: the first layout a visitor sees is the one with them (under load, one measured 1264 px unstyled, not 1100).
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLLinkElement>('link[rel="stylesheet"]')].every((link) => link.sheet !== null));
    const boxes = () => page.$$eval('picture img', (imgs) => imgs.map((img) => {
      const r = img.getBoundingClientRect();
      return { width: r.width, height: r.height };
    }));
    const before = await boxes();
    release();
    await page.waitForFunction(() => [...document.querySelectorAll('picture img')].every((img) => (img as HTMLImageElement).complete), undefined, { timeout: 30_000 });
    // One more frame, so that a shift caused by the last image is observed.
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const after = await boxes();
    const details = await page.$$eval('picture img', (imgs) => (imgs as HTMLImageElement[]).map((img) => ({
      alt: img.alt, currentSrc: img.currentSrc, naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
    })));
    const layoutShift = await page.evaluate(() => (window as unknown as { __shift: number }).__shift);
    if (options.screenshot) {
      await fs.mkdir(SCREENSHOTS, { recursive: true });
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.screenshot({ path: path.join(SCREENSHOTS, options.screenshot), fullPage: true });
    }
    return {
      images: details.map((d, i) => ({ ...d, before: before[i]!, after: after[i]! })),
      layoutShift,
      html: await page.content(),
    };
  } finally {
    await page.close();
  }
}

/** The ratio an optimized file was generated at, read from the cache's manifest by the key in its name. */
export async function ratioOf(cacheDir: string, url: string): Promise<[number, number]> {
  const manifest = JSON.parse(await fs.readFile(path.join(cacheDir, 'manifest.json'), 'utf8')) as { images: Record<string, { ratio: string }> };
  const key = /([0-9a-f]{16})-\d+-[0-9a-f]{8}\.\w+$/.exec(url)?.[1];
  const entry = key ? manifest.images[key] : undefined;
  if (!entry) throw new Error(`${url} is not a variant in ${cacheDir}/manifest.json`);
  const size = RATIO_SIZES[entry.ratio];
  if (!size) throw new Error(`unknown ratio ${entry.ratio}`);
  return size;
}

export function openPage(browser: Browser): Promise<Page> {
  return browser.newPage({ viewport: { width: 1280, height: 1600 } });
}
