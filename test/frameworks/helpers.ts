// Framework projects as a new user makes them: scaffolded by the framework's own tool into a temporary folder
// outside this repository, with the packages installed from `npm pack` tarballs beside the framework's own
// dependencies. One npm cache for every fixture, so each download happens once per machine.

import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { expect } from 'vitest';
import { serveStatic } from '../browser/harness.ts';
import type { TestGateway } from '../gateway/server.ts';
import { REPO, run, type RunResult } from '../helpers.ts';

export const NPM_CACHE = path.join(REPO, 'test', '.tmp', 'npm-cache');
const PACKED = path.join(REPO, 'test', '.tmp', 'packed');
export const KEY = 'agnic_tok_TESTKEY_frameworks_51c2';

/** Output in full when a step fails: a framework's error is the only clue. */
export function expectOk(result: RunResult, what: string): void {
  if (result.code !== 0) throw new Error(`${what} exited ${result.code}:\n${result.output.slice(-6000)}`);
}

const npmEnv = { npm_config_cache: NPM_CACHE, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', CI: undefined };

export function npm(args: string[], cwd: string): Promise<RunResult> {
  return run('npm', args, { cwd, env: npmEnv });
}

export function npx(args: string[], cwd: string): Promise<RunResult> {
  return run('npx', ['--yes', ...args], { cwd, env: npmEnv });
}

let packed: Promise<string> | undefined;

/** The vite plugin's tarball, as `npm publish` would upload it (the packages are built by `npm run build` first). */
export function pluginTarball(): Promise<string> {
  packed ??= (async () => {
    await fs.mkdir(PACKED, { recursive: true });
    const result = await npm(['pack', '--pack-destination', PACKED, '-w', 'vite-plugin-generated-images', '--json'], REPO);
    expectOk(result, 'npm pack');
    const [{ filename }] = JSON.parse(result.stdout) as Array<{ filename: string }>;
    return path.join(PACKED, filename);
  })();
  return packed;
}

const projects: string[] = [];

/** A fresh folder outside the repository (so nothing resolves the workspace's packages). */
export async function tempFolder(label: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `gi-${label}-`));
  projects.push(dir);
  return dir;
}

export async function removeProjects(): Promise<void> {
  await Promise.all(projects.splice(0).map((dir) => fs.rm(dir, { recursive: true, force: true })));
}

/** Installs the project's own dependencies and the plugin's tarball (plus any extra packages) as a user would. */
export async function installPlugin(dir: string, extra: string[] = []): Promise<void> {
  expectOk(await npm(['install', '--no-audit', '--no-fund', '--prefer-offline', '--save-dev', await pluginTarball(), ...extra], dir), `npm install in ${path.basename(dir)}`);
}

export async function edit(file: string, change: (text: string) => string): Promise<void> {
  const before = await fs.readFile(file, 'utf8');
  const after = change(before);
  if (after === before) throw new Error(`${file}: the edit found nothing to change (has the scaffolder's template changed?)`);
  await fs.writeFile(file, after);
}

/** Adds `generatedImages(options)` first in a Vite config's plugins. */
export async function addPlugin(configFile: string, options: Record<string, unknown>): Promise<void> {
  await edit(configFile, (text) =>
    `import generatedImages from 'vite-plugin-generated-images'\n${text.replace(/plugins:\s*\[/, `plugins: [generatedImages(${JSON.stringify(options)}), `)}`,
  );
}

/** A command in the project, with its own node_modules/.bin (and the repo's Node 22) on PATH. */
export function inProject(dir: string, command: string, args: string[], env: Record<string, string | undefined> = {}): Promise<RunResult> {
  const local = path.join(dir, 'node_modules', '.bin', command);
  return run(existsSync(local) ? local : command, args, { cwd: dir, env: { CI: undefined, AGNIC_API_KEY: undefined, AGNIC_BASE_URL: undefined, ...env } });
}

const VARIANT_URL = /[0-9a-f]{16}-\d+-[0-9a-f]{8}\.(?:avif|webp|jpg|png)/;

/**
 * Every image URL the page shows (each `srcset` candidate and `src` in its
 * pictures), fetched by the page itself: those that did not answer 200 with
 * an image.
 */
export async function brokenImages(page: Page): Promise<{ checked: number; broken: string[] }> {
  return page.evaluate(async (pattern) => {
    const urls = new Set<string>();
    for (const el of document.querySelectorAll('picture source, picture img')) {
      for (const candidate of (el.getAttribute('srcset') ?? '').split(',')) if (candidate.trim()) urls.add(new URL(candidate.trim().split(/\s+/)[0]!, document.baseURI).href);
      const src = el.getAttribute('src');
      if (src) urls.add(new URL(src, document.baseURI).href);
    }
    const broken: string[] = [];
    for (const url of urls) {
      const response = await fetch(url).catch(() => undefined);
      if (!response?.ok || !response.headers.get('content-type')?.startsWith('image/') || !new RegExp(pattern).test(url)) broken.push(`${url} (${response?.status ?? 'no answer'})`);
    }
    return { checked: urls.size, broken };
  }, VARIANT_URL.source);
}

/** Every variant file name referenced in built pages and scripts (the URLs a browser will request). */
export async function referencedInOutput(dir: string): Promise<Set<string>> {
  const names = new Set<string>();
  const walk = async (d: string): Promise<void> => {
    for (const entry of await fs.readdir(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (/\.(html|js|mjs)$/.test(entry.name)) for (const m of (await fs.readFile(full, 'utf8')).matchAll(new RegExp(VARIANT_URL, 'g'))) names.add(m[0]);
    }
  };
  await walk(dir);
  return names;
}

/** A page of a built site served from `root` on 127.0.0.1, closed (with the server) when `use` is done. */
export async function withServedPage(browser: Browser, root: string, use: (page: Page, url: string) => Promise<void>): Promise<void> {
  const server = await serveStatic(root);
  const page = await browser.newPage();
  try {
    await use(page, server.url);
  } finally {
    await page.close();
    await server.close();
  }
}

/**
 * What CI does after committing the cache: a frozen rebuild makes no request,
 * and the CLI agrees with the build (every image cached, nothing to prune).
 */
export async function expectFrozenRebuildAgrees(dir: string, gateway: TestGateway, build: string[], images: number): Promise<void> {
  gateway.reset();
  expectOk(await inProject(dir, build[0]!, build.slice(1), { CI: 'true' }), `${build.join(' ')} (frozen)`);
  expect(gateway.requests).toHaveLength(0);
  const status = await inProject(dir, 'generated-images', ['status']);
  expect(status.code, status.output).toBe(0);
  expect(status.stdout).toContain(`${plural(images, 'image')} in source, ${plural(images, 'entry', 'entries')} in generated-images/: ${images} cached`);
  const prune = await inProject(dir, 'generated-images', ['prune', '--dry-run']);
  expect(prune.stdout).toContain('nothing to prune');
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
