import { promises as fs } from 'node:fs';
import type { Connect, ViteDevServer } from 'vite';
import { formatLocation } from './location.js';
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

/**
 * The dev server's rendering: what is cached renders at once; what is not
 * shows a placeholder while it generates in the background, then the page
 * reloads. Without a key, or frozen, misses stay placeholders with one warning.
 */
export class DevRenderer {
  private warned = false;

  constructor(
    private readonly pipeline: ImagePipeline,
    private readonly server: ViteDevServer,
    private readonly base: string,
  ) {}

  url = (name: string) => `${this.base}${DEV_PREFIX}${name}`;

  async render(usage: Usage, syntax: Syntax, onReady: () => void): Promise<string> {
    const { pipeline } = this;
    const options = pipeline.options;
    await pipeline.load();
    if (pipeline.cache.get(pipeline.key(usage))) return renderUsage(usage, await pipeline.resolve(usage), this.url, syntax);
    if (options.frozen || !options.apiKey) {
      if (!this.warned) {
        this.warned = true;
        pipeline.reporter.warn(
          options.frozen
            ? 'frozen mode is on: images missing from the cache show as placeholders and are not generated'
            : 'no API key (set AGNIC_API_KEY or the apiKey option): images missing from the cache show as placeholders and are not generated',
        );
      }
      return renderPending(usage, options.frozen ? 'Not generated (frozen)' : 'Not generated (no API key)', syntax);
    }
    pipeline.resolve(usage).then(onReady, (error: Error) => {
      pipeline.reporter.warn(`${formatLocation(usage.loc)}: ${error.message}`);
      this.server.ws.send({ type: 'error', err: { message: error.message, stack: '', id: usage.loc.file, loc: { file: usage.loc.file, line: usage.loc.line, column: usage.loc.column } } });
    });
    return renderPending(usage, 'Generating…', syntax);
  }
}
