import { promises as fs } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Connect } from 'vite';
import { isError } from '../../core/errors.js';
import { TAKES_PATH } from './middleware.js';
import { isSameOrigin } from './origin.js';
import type { KeepRequest, UsageRef } from './takes-data.js';
import { takesPage } from './takes-page.js';
import type { Takes } from './takes.js';

/** A request body larger than this is not ours: the page sends a few hundred bytes. */
const MAX_BODY = 64 * 1024;

const KEY = /^[0-9a-f]{16}$/;

function send(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new SyntaxError('the request body is too large');
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

/** A usage as the page names it, or undefined when the body is not one. */
function usageRef(body: unknown): UsageRef | undefined {
  const { file, start, hash } = (body ?? {}) as Partial<Record<keyof UsageRef, unknown>>;
  if (typeof file !== 'string' || typeof hash !== 'string' || !Number.isSafeInteger(start) || (start as number) < 0) return undefined;
  return { file, start: start as number, hash };
}

function keepRequest(body: unknown): KeepRequest | undefined {
  const ref = usageRef(body);
  const variant = (body as { variant?: unknown }).variant;
  return ref && Number.isSafeInteger(variant) && (variant as number) >= 0 ? { ...ref, variant: variant as number } : undefined;
}

/**
 * The takes page and its endpoints under `<base>@generated-images/takes`, in
 * the dev server only (a build and `vite preview` have no such route). Every
 * request must come from a page of this server (see origin.ts); what the
 * page may ask is narrow: read the list, start the next take of a usage, keep
 * a cached take of a usage (its `variant`, in its own file, if that file is
 * unchanged since the page read it).
 */
export function takesRoutes(takes: Takes, base: string, allowedHosts: () => readonly string[] | true): Connect.NextHandleFunction {
  const prefix = `${base}${TAKES_PATH}`;
  const script = new URL('./takes-app.js', import.meta.url);
  return async (req, res, next) => {
    const url = req.url?.split('?', 1)[0] ?? '';
    if (url !== prefix && !url.startsWith(`${prefix}/`)) return next();
    if (!isSameOrigin(req, allowedHosts())) return send(res, 403, { error: 'the takes page answers only pages of this dev server' });
    const route = `${req.method} ${url.slice(prefix.length) || '/'}`;
    try {
      switch (route) {
        case 'GET /':
          res.setHeader('Content-Type', 'text/html; charset=utf-8');
          res.setHeader('Cache-Control', 'no-store');
          return res.end(takesPage(prefix));
        case 'GET /app.js':
          res.setHeader('Content-Type', 'text/javascript; charset=utf-8');
          res.setHeader('Cache-Control', 'no-store');
          return res.end(await fs.readFile(script));
        case 'GET /data': {
          const keys = new URLSearchParams(req.url!.slice(req.url!.indexOf('?') + 1)).get('keys') ?? '';
          return send(res, 200, await takes.list(keys.split(',').filter((key) => KEY.test(key)).slice(0, 1000)));
        }
        case 'POST /another':
        case 'POST /keep': {
          if (!req.headers['content-type']?.startsWith('application/json')) return send(res, 415, { error: 'send JSON' });
          const body = await readJson(req);
          if (route === 'POST /another') {
            const ref = usageRef(body);
            return ref ? send(res, 202, await takes.another(ref)) : send(res, 400, { error: 'expected { file, start, hash }' });
          }
          const keep = keepRequest(body);
          return keep ? send(res, 200, await takes.keep(keep)) : send(res, 400, { error: 'expected { file, start, hash, variant }' });
        }
        default:
          return send(res, 404, { error: `no ${route} here` });
      }
    } catch (error) {
      if (error instanceof SyntaxError) return send(res, 400, { error: error.message });
      if (isError(error, 'SOURCE_CHANGED') || isError(error, 'TAKE_REFUSED')) return send(res, 409, { error: error.message, hint: error.hint });
      return send(res, 500, { error: isError(error) ? error.message : String((error as Error)?.message ?? error) });
    }
  };
}
