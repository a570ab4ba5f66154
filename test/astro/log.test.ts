// What the integration prints through Astro's logger, on a terminal: a live
// progress line before the build that any line printed meanwhile replaces
// rather than continues, and nothing at all while pages render (Astro is
// then in the middle of a line of its own), what waited printed afterwards.

import type { AstroIntegrationLogger } from 'astro';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AstroReporter } from '../../packages/astro-integration/src/log.ts';
import { createProgress } from '../../packages/vite-plugin/src/core/report.ts';

/** A terminal and Astro's logger writing to it, in the order things reach the screen. */
function screen() {
  const out: string[] = [];
  const stream = { isTTY: true, write: (s: string) => out.push(s) > 0 } as unknown as NodeJS.WriteStream;
  const logger = { label: 'astro-generated-images', info: (m: string) => out.push(`info ${m}\n`), warn: (m: string) => out.push(`warn ${m}\n`) } as unknown as AstroIntegrationLogger;
  return { out, stream, logger };
}

describe("the integration's output on a terminal", () => {
  const saved = process.env.CI;
  beforeAll(() => {
    delete process.env.CI;
  });
  afterAll(() => {
    if (saved !== undefined) process.env.CI = saved;
  });

  it('draws a live line under its label with the cursor at its start, and prints messages above it', () => {
    const { out, stream, logger } = screen();
    const reporter = new AstroReporter(logger, true, stream);
    const progress = createProgress(reporter, 2, stream);
    reporter.warn('retrying in 1.0s (attempt 2): 503');
    progress.tick(false);
    progress.tick(false);
    progress.end();
    const text = out.join('').replace(/\(\d+\.\ds\)/g, '(…)');
    expect(text).toBe(
      '[astro-generated-images] generating 0/2 (…)\r' +
        '\r\x1b[Kwarn retrying in 1.0s (attempt 2): 503\n[astro-generated-images] generating 0/2 (…)\r' +
        '\r\x1b[K[astro-generated-images] generating 1/2 (…)\r' +
        '\r\x1b[K[astro-generated-images] generating 2/2 (…)\r' +
        '\r\x1b[Kinfo generated 2/2 (…)\n',
    );
  });

  it('prints nothing while pages render, then what waited, in order', () => {
    const { out, stream, logger } = screen();
    const reporter = new AstroReporter(logger, true, stream);
    reporter.hold();
    const progress = createProgress(reporter, 1, stream);
    reporter.warn('retrying in 1.0s (attempt 2): 503');
    progress.tick(false);
    progress.end();
    reporter.info('recovered 1 image');
    expect(out).toEqual([]);
    reporter.release();
    expect(out).toEqual(['warn retrying in 1.0s (attempt 2): 503\n', 'info recovered 1 image\n']);
    reporter.warn('after rendering');
    expect(out.at(-1)).toBe('warn after rendering\n');
  });

  it('prints a few plain lines in astro dev, where Astro logs requests at any moment', () => {
    const { out, stream, logger } = screen();
    const progress = createProgress(new AstroReporter(logger, false, stream), 3, stream);
    progress.tick(false);
    progress.tick(false);
    progress.tick(false);
    progress.end();
    expect(out.map((line) => line.replace(/\(\d+\.\ds\)/, '(…)'))).toEqual(['info generating 0/3 (…)\n', 'info generated 3/3 (…)\n']);
  });
});
