import { promises as fs } from 'node:fs';
import type { Connect } from 'vite';
import type { ImagePipeline } from '../../core/pipeline.js';
import { VARIANT_MIME, VARIANT_NAME } from '../../core/optimize/plan.js';

/** Where the dev server serves optimized files from the cache. */
export const DEV_PREFIX = '@generated-images/';

/**
 * Serves `variants/` files under `<base>@generated-images/`. Only a plain
 * variant name is ever looked up, so no request reaches outside the cache;
 * a name that does not decode is simply not ours.
 */
export function variantMiddleware(pipeline: ImagePipeline, base: string): Connect.NextHandleFunction {
  const prefix = `${base}${DEV_PREFIX}`;
  return async (req, res, next) => {
    const url = req.url?.split('?', 1)[0] ?? '';
    if (!url.startsWith(prefix)) return next();
    let name: string;
    try {
      name = decodeURIComponent(url.slice(prefix.length));
    } catch {
      return next();
    }
    if (!VARIANT_NAME.test(name)) return next();
    try {
      const data = await fs.readFile(pipeline.cache.variantPath(name));
      res.setHeader('Content-Type', VARIANT_MIME[name.slice(name.lastIndexOf('.') + 1)]!);
      res.setHeader('Cache-Control', 'no-cache');
      res.end(data);
    } catch {
      next();
    }
  };
}
