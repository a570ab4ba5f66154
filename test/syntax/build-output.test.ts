// What `vite build` prints about images: plain progress lines when the output
// is not a terminal (CI logs), a live line on a terminal, and a summary that
// names what was generated and what failed, where, and what it cost.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProgress, withStatusLine, type Reporter } from '../../packages/vite-plugin/src/core/report.ts';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { copyProject, removeCopies, REPO, run } from '../browser/harness.ts';

const KEY = 'agnic_tok_output_0123456789';
let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway({ apiKey: KEY });
});
afterAll(async () => {
  await gw?.close();
  await removeCopies();
});

describe('vite build output', () => {
  it('prints progress lines, then a summary with locations, the failure and the cost; later builds say what they reused', async () => {
    const dir = await copyProject(path.join(REPO, 'test/syntax/fixtures/html'), 'output-html');
    const env = { CI: 'true', AGNIC_API_KEY: KEY, AGNIC_BASE_URL: gw.url };
    gw.setFaultForPrompt('lemon cake', { status: 400, message: 'Prompt rejected by the safety system' });

    const first = await run('vite', ['build'], { cwd: dir, env });
    expect(first.code).not.toBe(0);
    const out = first.stdout;
    expect(out).not.toMatch(/\r|\x1b\[/);
    expect(out).toContain('[generated-images] generating 0/2 (');
    expect(out).toMatch(/\[generated-images\] generating 2\/2, 1 failed \(\d+\.\ds\)/);
    // A failed build stops before encoding: the summary says so.
    expect(out).toContain('[generated-images] images: 1 generated, 0 reused from the cache, 1 failed, 0 variants encoded, gateway cost $0.0390');
    const table = out.slice(out.indexOf('images: 1 generated'));
    expect(table).toMatch(/status\s+where\s+ratio\s+prompt/);
    expect(table).toMatch(/generated\s+index\.html:9:5\s+16:9\s+A teapot on a windowsill, morning light, gouache/);
    expect(table).toMatch(/failed\s+index\.html:11:5\s+1:1\s+A slice of lemon cake on a blue plate, gouache\n\s+the gateway rejected the request \(HTTP 400: Prompt rejected by the safety system\)/);
    // The build fails naming the place and the reason, and keeps the image that did arrive.
    expect(first.stderr).toMatch(/index\.html:11:5/);
    const manifest = JSON.parse(await fs.readFile(path.join(dir, 'generated-images/manifest.json'), 'utf8'));
    expect(Object.values(manifest.images).map((e) => (e as { prompt: string }).prompt)).toEqual(['A teapot on a windowsill, morning light, gouache']);

    gw.reset();
    const second = await run('vite', ['build'], { cwd: dir, env });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/images: 1 generated, 1 reused from the cache, \d+ variants encoded, gateway cost \$0\.0390\n/);
    expect(second.stdout).toMatch(/generated\s+index\.html:11:5\s+1:1\s+A slice of lemon cake/);
    expect(second.stdout).not.toMatch(/generated\s+index\.html:9:5/);

    gw.reset();
    const third = await run('vite', ['build'], { cwd: dir, env });
    expect(third.code, third.stderr).toBe(0);
    expect(third.stdout).toContain('[generated-images] images: 0 generated, 2 reused from the cache, 0 variants encoded\n');
    expect(third.stdout).not.toContain('generating');
    expect(gw.requests).toHaveLength(0);
  });
});

/** A terminal as the progress line sees it: it records what is written. */
function fakeTerminal() {
  const writes: string[] = [];
  return { writes, stream: { isTTY: true, write: (s: string) => writes.push(s) > 0 } as unknown as NodeJS.WriteStream };
}

describe('the progress line on a terminal', () => {
  const saved = process.env.CI;
  beforeAll(() => {
    delete process.env.CI;
  });
  afterAll(() => {
    if (saved !== undefined) process.env.CI = saved;
  });

  it('is redrawn in place, keeps messages above it, and clears itself at the end', () => {
    const { writes, stream } = fakeTerminal();
    const printed: string[] = [];
    const base: Reporter = { info: (m) => printed.push(`info ${m}`), warn: (m) => printed.push(`warn ${m}`) };
    const reporter = withStatusLine(base, stream);
    const progress = createProgress(reporter, 3);
    progress.tick(false);
    reporter.warn('retrying in 1.0s (attempt 2): 503');
    progress.tick(true);
    progress.end();

    expect(writes[0]).toMatch(/^\[generated-images\] generating 0\/3 \(\d+\.\ds\)$/);
    expect(writes).toContainEqual(expect.stringMatching(/^\[generated-images\] generating 1\/3 \(/));
    expect(writes).toContainEqual(expect.stringMatching(/^\[generated-images\] generating 2\/3, 1 failed \(/));
    // Each redraw first erases the line it replaces.
    for (let i = 1; i < writes.length; i++) if (writes[i] !== '\r\x1b[K') expect(writes[i - 1]).toBe('\r\x1b[K');
    // The warning went out between an erase and a redraw, never into the middle of the line.
    expect(printed).toEqual(['warn retrying in 1.0s (attempt 2): 503', expect.stringMatching(/^info generated 2\/3, 1 failed \(\d+\.\ds\)$/)]);
    expect(writes.at(-1)).toBe('\r\x1b[K');
  });

  it('is plain lines, one per finished image, when CI is set', () => {
    process.env.CI = 'true';
    try {
      const { writes, stream } = fakeTerminal();
      const printed: string[] = [];
      const reporter = withStatusLine({ info: (m) => printed.push(m), warn: (m) => printed.push(m) }, stream);
      const progress = createProgress(reporter, 2, stream);
      progress.tick(false);
      progress.tick(false);
      progress.end();
      expect(writes).toEqual([]);
      expect(printed.map((line) => line.replace(/\(\d+\.\ds\)/, '(…)'))).toEqual(['generating 0/2 (…)', 'generating 1/2 (…)', 'generating 2/2 (…)']);
    } finally {
      delete process.env.CI;
    }
  });

  it('is the start, each failure and the end, or nothing, where the host asks for it (Astro)', () => {
    const { writes, stream } = fakeTerminal();
    for (const [style, want] of [
      ['milestones', ['generating 0/4 (…)', 'generating 2/4, 1 failed (…)', 'generated 4/4, 2 failed (…)']],
      ['silent', []],
    ] as const) {
      const printed: string[] = [];
      const progress = createProgress({ info: (m) => printed.push(m), warn: (m) => printed.push(m), progressStyle: () => style }, 4, stream);
      progress.tick(false);
      progress.tick(true);
      progress.tick(false);
      progress.tick(true);
      progress.end();
      expect(printed.map((line) => line.replace(/\(\d+\.\ds\)/, '(…)')), style).toEqual(want);
    }
    expect(writes).toEqual([]);
  });
});
