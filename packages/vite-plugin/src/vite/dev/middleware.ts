import { promises as fs } from 'node:fs';
import type { ServerResponse } from 'node:http';
import type { Connect } from 'vite';
import type { ImagePipeline } from '../../core/pipeline.js';
import { VARIANT_MIME, VARIANT_NAME } from '../../core/optimize/plan.js';

/** Where the dev server serves optimized files from the cache. */
export const DEV_PREFIX = '@generated-images/';

/** Where the dev server serves its takes page, under `base`. */
export const TAKES_PATH = `${DEV_PREFIX}takes`;

function refuse(res: ServerResponse, status: 400 | 404, message: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end(message);
}

/**
 * Serves `variants/` files under `<base>@generated-images/`. The route is
 * answered here whatever is asked, never passed on to Vite's own file
 * serving: only a plain variant name is ever looked up, so no request reaches
 * outside the cache, and a name that does not decode is a 400, not a throw.
 */
export function variantMiddleware(pipeline: ImagePipeline, base: string): Connect.NextHandleFunction {
  const prefix = `${base}${DEV_PREFIX}`;
  return async (req, res, next) => {
    const url = req.url?.split(/[?#]/, 1)[0] ?? '';
    if (!url.startsWith(prefix)) return next();
    let name: string;
    try {
      name = decodeURIComponent(url.slice(prefix.length));
    } catch {
      return refuse(res, 400, 'malformed percent-encoding in an image name');
    }
    if (!VARIANT_NAME.test(name)) return refuse(res, 404, 'not an optimized image of the generated-images cache');
    try {
      const data = await fs.readFile(pipeline.cache.variantPath(name));
      res.setHeader('Content-Type', VARIANT_MIME[name.slice(name.lastIndexOf('.') + 1)]!);
      res.setHeader('Cache-Control', 'no-cache');
      res.end(data);
    } catch {
      refuse(res, 404, 'not in the generated-images cache (yet)');
    }
  };
}
