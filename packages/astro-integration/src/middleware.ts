import type { MiddlewareHandler } from 'astro';
import { findHost } from './registry.js';
import { hostId } from './runtime.js';

const TAG = '<GeneratedImage';

/**
 * Markdown passes `<GeneratedImage … />` through as raw HTML; this replaces it
 * in the rendered page. Astro keeps rendered Markdown in its content store
 * between runs, so resolving images here (not in a Markdown plugin) keeps
 * that store free of URLs and dev placeholders.
 */
export const onRequest: MiddlewareHandler = async (context, next) => {
  const response = await next();
  if (!response.headers.get('content-type')?.startsWith('text/html') || !response.body) return response;
  const html = await response.clone().text();
  if (!html.includes(TAG)) return response;
  const headers = new Headers(response.headers);
  headers.delete('content-length');
  const out = await findHost(hostId()).renderHtml(html, context.url.pathname);
  return new Response(out, { status: response.status, statusText: response.statusText, headers });
};
