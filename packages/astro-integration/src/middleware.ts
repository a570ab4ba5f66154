import type { MiddlewareHandler } from 'astro';
import { replaceMarkers } from './marker.js';
import { currentHost } from './runtime.js';

/**
 * Resolves the markers that the Markdown plugins left for `<GeneratedImage>`
 * (see marker.ts) as the page streams out: nothing is buffered, so a
 * streaming on-demand page keeps its time to first byte.
 */
export const onRequest: MiddlewareHandler = async (context, next) => {
  const response = await next();
  if (!response.headers.get('content-type')?.startsWith('text/html') || !response.body) return response;
  const page = context.url.pathname;
  const body = replaceMarkers(response.body, (usage) => currentHost().render(usage.props, `${page} (${usage.at})`));
  const headers = new Headers(response.headers);
  headers.delete('content-length');
  return new Response(body, { status: response.status, statusText: response.statusText, headers });
};
