import net from 'node:net';
import type { IncomingMessage } from 'node:http';

/**
 * Whether the Host header names this dev server as Vite allows it to be named
 * (an IP address, `localhost`, `server.host`, `server.allowedHosts`): Vite
 * checks this itself since 6.0.9 except over HTTPS; the takes routes, which
 * write source files, check it in every version.
 */
export function isOwnHost(host: string, allowed: readonly string[] | true): boolean {
  if (allowed === true) return true;
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  if (net.isIP(name) || name === 'localhost' || name.endsWith('.localhost')) return true;
  return allowed.some((pattern) => pattern === name || (pattern.startsWith('.') && (name === pattern.slice(1) || name.endsWith(pattern))));
}

/**
 * Whether a request comes from a page of this very server. Vite's CORS
 * default lets any `localhost` origin in, so another site on another port of
 * the same machine could otherwise read and write here: the Origin, when a
 * browser sends one (it always does for a POST), must be the Host the request
 * was sent to, and Fetch Metadata, when sent, must say same-origin (or a
 * navigation the user typed).
 */
export function isSameOrigin(req: IncomingMessage, allowedHosts: readonly string[] | true): boolean {
  const host = req.headers.host;
  if (!host || !isOwnHost(host, allowedHosts)) return false;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return req.method === 'GET' || req.method === 'HEAD';
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}
