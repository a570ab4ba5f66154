// Framework projects that also show the tag as text (commented out, in a
// string) and write a real usage over several lines: `vite build` with
// `build.sourcemap: true` generates only the real image, a statement after the
// usage maps back to its own line and column, a frozen CI build from the
// committed cache then makes no request, and in React, Preact and Solid the
// blur placeholder and the image's width survive into the page (Chromium).

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { originalPositionFor, TraceMap } from '@jridgewell/trace-mapping';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { copyProject, launchChromium, removeCopies, REPO, run, serveStatic, type RunResult } from '../browser/harness.ts';

const KEY = 'agnic_tok_frameworks_0123456789';
const MARKER = 'statement after the usage';

const JSX = ['react', 'preact', 'solid'];
/** The built code keeps the sample string; it is how the chunk is found. */
const SAMPLE = 'a code sample, never generated';
const CONSOLE = { statement: `console.info('${MARKER}')`, emitted: /console\.info\(["'`]statement after the usage/ };
/**
 * `statement`: the source text after the usage whose start the map must give
 * back; `emitted`: where the built code has it. Svelte maps a statement as a
 * whole (its string to the declaration's start), the others token by token.
 */
const FIXTURES = [
  ...JSX.map((name) => ({ name, source: 'src/App.jsx', ...CONSOLE })),
  { name: 'vue-sourcemap', source: 'src/App.vue', ...CONSOLE },
  { name: 'svelte-sourcemap', source: 'src/App.svelte', statement: 'const caption', emitted: /[`'"]<GeneratedImage prompt=\\?"a code sample/ },
];
/** Each fixture's built copy, by name. */
const built = new Map<string, string>();

let browser: Browser;
let gw: TestGateway;

beforeAll(async () => {
  browser = await launchChromium();
  gw = await startTestGateway({ apiKey: KEY });
});
afterAll(async () => {
  await browser?.close();
  await gw?.close();
  await removeCopies();
});

/** The built JavaScript chunk that holds `text`, with its source map. */
async function chunkWith(dist: string, text: string): Promise<{ file: string; code: string; map: TraceMap }> {
  const dir = path.join(dist, 'assets');
  for (const name of await fs.readdir(dir)) {
    if (!name.endsWith('.js')) continue;
    const code = await fs.readFile(path.join(dir, name), 'utf8');
    if (code.includes(text)) return { file: name, code, map: new TraceMap(await fs.readFile(path.join(dir, `${name}.map`), 'utf8')) };
  }
  throw new Error(`no chunk in ${dir} contains ${JSON.stringify(text)}`);
}

/** 1-based line and 0-based column of an offset, as source maps count them. */
function position(code: string, offset: number): { line: number; column: number } {
  const before = code.slice(0, offset).split('\n');
  return { line: before.length, column: before.at(-1)!.length };
}

describe.each(FIXTURES)('a $name project', ({ name, source, statement, emitted }) => {
  let dir: string;
  let build: RunResult;
  let requests: number;

  beforeAll(async () => {
    dir = await copyProject(path.join(REPO, 'test/syntax/fixtures', name), `frameworks-${name}`);
    const before = gw.chatRequests().length;
    build = await run('vite', ['build'], { cwd: dir, env: { CI: 'true', AGNIC_API_KEY: KEY, AGNIC_BASE_URL: gw.url } });
    requests = gw.chatRequests().length - before;
    expect(build.code, `vite build failed:\n${build.stdout}\n${build.stderr}`).toBe(0);
    built.set(name, dir);
  });

  it('generates only the real usage: commented-out and sample usages are text', async () => {
    expect(requests).toBe(1);
    expect(build.stdout).toContain('images: 1 generated, 0 reused from the cache');
    await chunkWith(path.join(dir, 'dist'), SAMPLE);
    const manifest = JSON.parse(await fs.readFile(path.join(dir, 'generated-images/manifest.json'), 'utf8')) as { images: Record<string, { prompt: string }> };
    expect(Object.values(manifest.images).map((e) => e.prompt)).toEqual([expect.stringMatching(/flat illustration$/)]);
  });

  it('maps a statement after the multi-line usage back to its own line and column', async () => {
    const original = await fs.readFile(path.join(dir, source), 'utf8');
    const want = position(original, original.indexOf(statement));
    const { code, map } = await chunkWith(path.join(dir, 'dist'), SAMPLE);
    expect(code.search(emitted)).toBeGreaterThan(0);
    const at = position(code, code.search(emitted));
    const found = originalPositionFor(map, at);
    expect(found.source).toMatch(new RegExp(`${source.replace(/[.]/g, '\\.')}$`));
    expect({ line: found.line, column: found.column }).toEqual(want);
  });

  it('builds frozen, as CI does, from the committed cache with no request', async () => {
    const config = path.join(dir, 'vite.config.js');
    await fs.writeFile(config, (await fs.readFile(config, 'utf8')).replace('frozen: false, ', ''));
    gw.reset();
    const frozen = await run('vite', ['build'], { cwd: dir, env: { CI: 'true' } });
    expect(frozen.code, `${frozen.stdout}\n${frozen.stderr}`).toBe(0);
    expect(frozen.stdout).toContain('images: 0 generated, 1 reused from the cache');
    expect(gw.requests).toHaveLength(0);
  });
});

describe.each(JSX)('the %s page in Chromium', (name) => {
  it('shows the whole blur placeholder, and the image never outgrows its container', async () => {
    const dir = built.get(name)!;
    const { code } = await chunkWith(path.join(dir, 'dist'), SAMPLE);
    const placeholder = /data:image\/webp;base64,[A-Za-z0-9+/=]+/.exec(code)?.[0];
    expect(placeholder, 'the chunk carries the blur placeholder').toBeDefined();
    const server = await serveStatic(path.join(dir, 'dist'));
    const page = await browser.newPage({ viewport: { width: 375, height: 800 } });
    try {
      await page.goto(server.url);
      const img = await page.waitForSelector('picture img', { state: 'attached' });
      const shown = await img.evaluate((el) => ({
        background: getComputedStyle(el).backgroundImage,
        width: el.getBoundingClientRect().width,
        container: el.closest('.narrow')!.getBoundingClientRect().width,
      }));
      expect(shown.background).toBe(`url("${placeholder}")`);
      expect(shown.container).toBe(100);
      expect(shown.width).toBeLessThanOrEqual(shown.container);
      expect(shown.width).toBeGreaterThan(0);
    } finally {
      await page.close();
      await server.close();
    }
  });
});
