// `vite dev` as a site author runs it, for the dev-server tests: Vite's JS API
// in this process on a copy of a fixture, with the real plugin and a logger
// that records what the plugin says.

import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createLogger, createServer, type PluginOption, type ViteDevServer } from 'vite';
import generatedImages, { type GeneratedImagesOptions } from 'vite-plugin-generated-images';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { copyProject, launchChromium, REPO, removeCopies } from '../browser/harness.ts';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';

export const DEV_FIXTURES = path.join(REPO, 'test/dev/fixtures');

export interface Dev {
  root: string;
  url: string;
  server: ViteDevServer;
  warnings: string[];
  infos: string[];
}

/**
 * Starts a dev server on a fresh copy of `fixture` (a folder of test/dev/fixtures,
 * or a path from the repo root), or on `root` when given (a copy made earlier).
 * The caller closes `server`.
 */
export interface DevOptions {
  extra?: PluginOption[];
  base?: string;
  root?: string;
}

export async function startDevServer(options: { fixture: string; plugin: GeneratedImagesOptions } & DevOptions): Promise<Dev> {
  const { fixture } = options;
  const root = options.root ?? (await copyProject(fixture.includes('/') ? path.join(REPO, fixture) : path.join(DEV_FIXTURES, fixture), `dev-${path.basename(fixture)}`));
  const warnings: string[] = [];
  const infos: string[] = [];
  const logger = createLogger('warn', { allowClearScreen: false });
  const warn = logger.warn.bind(logger);
  logger.warn = (message, opts) => {
    warnings.push(message);
    warn(message, opts);
  };
  logger.info = (message) => void infos.push(message);
  const server = await createServer({
    root,
    base: options.base ?? '/',
    configFile: false,
    customLogger: logger,
    server: { host: '127.0.0.1', port: 0, strictPort: false },
    plugins: [generatedImages(options.plugin), ...(options.extra ?? [])],
  });
  await server.listen();
  const url = server.resolvedUrls!.local[0]!;
  return { root, url, server, warnings, infos };
}

/**
 * What a file of dev-server tests shares, with its hooks registered: Chromium,
 * the test gateway (reset before each test), and the servers and pages a test
 * opens, closed after it.
 */
export function devTestbed(apiKey: string) {
  let browser: Browser;
  let gw: TestGateway;
  const open: Array<{ close(): Promise<unknown> }> = [];
  beforeAll(async () => {
    browser = await launchChromium();
    gw = await startTestGateway({ apiKey });
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
    await removeCopies();
  });
  beforeEach(() => {
    gw.reset();
    gw.setLatency(0);
  });
  afterEach(async () => {
    while (open.length) await open.pop()!.close();
  });
  return {
    get gw(): TestGateway {
      return gw;
    },
    /** Closes it after the test. */
    track(closable: { close(): Promise<unknown> }): void {
      open.push(closable);
    },
    /** A dev server on the test gateway, with small widths so that encoding is quick. */
    async startDev(fixture: string, options: GeneratedImagesOptions, more: DevOptions = {}): Promise<Dev> {
      const dev = await startDevServer({ fixture, plugin: { baseURL: gw.url, widths: [64, 128], ...options }, ...more });
      open.push(dev.server);
      return dev;
    },
    async newPage(viewport = { width: 1280, height: 1200 }): Promise<Page> {
      const page = await browser.newPage({ viewport });
      open.push(page);
      return page;
    },
  };
}
