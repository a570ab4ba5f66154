import { promises as fs } from 'node:fs';
import type { Connect } from 'vite';
import { renderPending, renderUsage } from './markup.js';
import type { ImagePipeline } from './pipeline.js';
import type { Syntax } from './render.js';
import type { Usage } from './usage.js';

/** Where the dev server serves optimized files from the cache. */
export const DEV_PREFIX = '@generated-images/';
const VARIANT_NAME = /^[0-9a-f]{16}-\d+-[0-9a-f]{8}\.(avif|webp|jpg|png)$/;
const TYPES: Record<string, string> = { avif: 'image/avif', webp: 'image/webp', jpg: 'image/jpeg', png: 'image/png' };

/** Serves `variants/` files under `<base>@generated-images/`. */
export function variantMiddleware(pipeline: ImagePipeline, base: string): Connect.NextHandleFunction {
  const prefix = `${base}${DEV_PREFIX}`;
  return async (req, res, next) => {
    const url = req.url?.split('?', 1)[0] ?? '';
    if (!url.startsWith(prefix)) return next();
    const name = decodeURIComponent(url.slice(prefix.length));
    if (!VARIANT_NAME.test(name)) return next();
    try {
      const data = await fs.readFile(pipeline.cache.variantPath(name));
      res.setHeader('Content-Type', TYPES[name.split('.').pop()!]!);
      res.setHeader('Cache-Control', 'no-cache');
      res.end(data);
    } catch {
      next();
    }
  };
}

export interface DevHooks {
  /** A generation failed (`reason`: the gateway's or the check's words); the usage shows a "failed" placeholder until its file changes. */
  onError(usage: Usage, reason: string): void;
}

function shorten(text: string, max: number): string {
  const line = text.replace(/^\[generated-images\]\s*/, '').replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** The custom HMR event a page sends with the keys of the placeholders it shows. */
export const PENDING_EVENT = 'generated-images:pending';

/**
 * Runs in pages served by the dev server. An update sent before the module
 * that shows a placeholder had registered for updates is dropped by Vite's
 * client, so the page reports each placeholder it shows, once it shows it,
 * and the server answers for those that are ready (or failed) meanwhile.
 */
export const DEV_CLIENT = `if (import.meta.hot) {
  const reported = new Set();
  let timer;
  const report = () => {
    timer = undefined;
    const keys = [...document.querySelectorAll('picture[data-generated-image-key]')]
      .map((picture) => picture.getAttribute('data-generated-image-key'))
      .filter((key) => !reported.has(key));
    keys.forEach((key) => reported.add(key));
    if (keys.length) import.meta.hot.send(${JSON.stringify(PENDING_EVENT)}, { keys });
  };
  const schedule = () => (timer ??= setTimeout(report, 50));
  new MutationObserver(schedule).observe(document.documentElement, { childList: true, subtree: true });
  schedule();
}
`;

/**
 * The dev server's rendering. What is cached renders at once; what is not
 * renders as a placeholder of the final size while it generates in the
 * background, and whoever showed it is told when it is ready (`onReady`), once
 * per image and caller however often the page was requested meanwhile.
 * Without a key, or frozen, misses stay placeholders with one warning.
 */
export class DevRenderer {
  private warned = false;
  /** Images being generated (or encoded) now. */
  private readonly waiting = new Set<string>();
  /** Images shown as placeholders → the callers (by id) to tell when each is ready. */
  private readonly viewers = new Map<string, Map<string, () => void>>();
  /** Images whose generation failed, with the files that use them: not retried until one of those changes. */
  private readonly failures = new Map<string, { usage: Usage; reason: string; files: Set<string> }>();

  constructor(
    private readonly pipeline: ImagePipeline,
    private readonly url: (name: string) => string,
    private readonly hooks: DevHooks,
  ) {}

  /** `url`: how this caller writes a file's URL, when not as the renderer was told (Vite's HTML pipeline adds the base itself). */
  async render(usage: Usage, syntax: Syntax, onReady: () => void, caller: string = usage.loc.file, url = this.url): Promise<string> {
    const { pipeline } = this;
    const options = pipeline.options;
    await pipeline.load();
    const key = pipeline.key(usage);
    const settings = { widths: options.widths, imageSize: options.imageSize, key };
    if (pipeline.cache.get(key)) return renderUsage(usage, await pipeline.resolve(usage), url, syntax);

    const failure = this.failures.get(key);
    if (failure) {
      failure.files.add(usage.loc.file);
      return renderPending(usage, `Failed: ${shorten(failure.reason, 90)}`, syntax, settings);
    }
    if (options.frozen || !options.apiKey) {
      if (!this.warned) {
        this.warned = true;
        pipeline.reporter.warn(
          options.frozen
            ? `frozen mode is on${process.env.CI ? ' (CI is set)' : ''}: images missing from the cache show as placeholders and are not generated; set frozen: false to generate them`
            : 'no API key: images missing from the cache show as placeholders and are not generated; set AGNIC_API_KEY (or the apiKey option) and restart the dev server to generate them',
        );
      }
      return renderPending(usage, options.frozen ? 'Not generated (frozen)' : 'Not generated (no API key)', syntax, settings);
    }

    let callers = this.viewers.get(key);
    if (!callers) this.viewers.set(key, (callers = new Map()));
    callers.set(caller, onReady);
    if (!this.waiting.has(key)) {
      this.waiting.add(key);
      pipeline.resolve(usage).then(
        () => {
          this.waiting.delete(key);
          this.announce(key);
        },
        (error: Error) => {
          this.waiting.delete(key);
          // The pipeline's error lists every failed image; this usage's own reason is in its summary.
          const miss = pipeline.summary.failed.findLast((m) => m.prompt === usage.prompt && m.ratio === usage.ratio);
          const reason = miss?.reason ?? shorten(error.message, 500);
          this.failures.set(key, { usage, reason, files: new Set([usage.loc.file]) });
          this.hooks.onError(usage, reason);
        },
      );
    }
    return renderPending(usage, 'Generating…', syntax, settings);
  }

  private announce(key: string): void {
    for (const ready of this.viewers.get(key)?.values() ?? []) ready();
  }

  /**
   * A page shows placeholders for `keys`: those ready by now are announced
   * again (the page may have missed the first announcement); those that
   * failed are returned, for the page to show their error.
   */
  recheck(keys: unknown): Array<{ usage: Usage; reason: string }> {
    const failed: Array<{ usage: Usage; reason: string }> = [];
    if (!Array.isArray(keys)) return failed;
    for (const key of new Set(keys.slice(0, 1000))) {
      if (typeof key !== 'string') continue;
      const failure = this.failures.get(key);
      if (failure) failed.push(failure);
      else if (!this.waiting.has(key) && this.pipeline.cache.get(key)) this.announce(key);
    }
    return failed;
  }

  /** `file` was edited: images that failed there are tried again when next rendered. */
  fileChanged(file: string): void {
    for (const [key, failure] of this.failures) if (failure.files.has(file)) this.failures.delete(key);
  }
}

/** A few lines of source around a location with a caret, for Vite's error overlay. */
export function codeFrame(code: string, line: number, column: number): string {
  const lines = code.split('\n');
  const from = Math.max(1, line - 2);
  const to = Math.min(lines.length, line + 2);
  const width = String(to).length;
  const out: string[] = [];
  for (let n = from; n <= to; n++) {
    out.push(`${String(n).padStart(width)} | ${lines[n - 1]}`);
    if (n === line) out.push(`${' '.repeat(width)} | ${' '.repeat(Math.max(0, column - 1))}^`);
  }
  return out.join('\n');
}
