// `vite dev` as a site author runs it, for the dev-server tests: Vite's JS API
// in this process on a copy of a fixture, with the real plugin and a logger
// that records what the plugin says.

import path from 'node:path';
import { createLogger, createServer, type PluginOption, type ViteDevServer } from 'vite';
import generatedImages, { type GeneratedImagesOptions } from 'vite-plugin-generated-images';
import { copyProject, REPO } from '../browser/harness.ts';

export const DEV_FIXTURES = path.join(REPO, 'test/dev/fixtures');

export interface Dev {
  root: string;
  url: string;
  server: ViteDevServer;
  warnings: string[];
  infos: string[];
}

/**
 * Starts a dev server on a fresh copy of `fixture` (a folder of test/dev/fixtures,
 * or a path from the repo root), or on `root` when given (a copy made earlier).
 * The caller closes `server`.
 */
export async function startDevServer(options: { fixture: string; plugin: GeneratedImagesOptions; extra?: PluginOption[]; base?: string; root?: string }): Promise<Dev> {
  const { fixture } = options;
  const root = options.root ?? (await copyProject(fixture.includes('/') ? path.join(REPO, fixture) : path.join(DEV_FIXTURES, fixture), `dev-${path.basename(fixture)}`));
  const warnings: string[] = [];
  const infos: string[] = [];
  const logger = createLogger('warn', { allowClearScreen: false });
  const warn = logger.warn.bind(logger);
  logger.warn = (message, opts) => {
    warnings.push(message);
    warn(message, opts);
  };
  logger.info = (message) => void infos.push(message);
  const server = await createServer({
    root,
    base: options.base ?? '/',
    configFile: false,
    customLogger: logger,
    server: { host: '127.0.0.1', port: 0, strictPort: false },
    plugins: [generatedImages(options.plugin), ...(options.extra ?? [])],
  });
  await server.listen();
  const url = server.resolvedUrls!.local[0]!;
  return { root, url, server, warnings, infos };
}
