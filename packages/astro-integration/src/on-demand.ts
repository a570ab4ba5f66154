import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ImagePipeline, ImageRequest, SourceLocation } from 'vite-plugin-generated-images/core';
import { preparedFiles, requestId, type PreparedImages } from './prepared.js';

/**
 * The images of the build's scan, with their plans and URLs, for a
 * production server to render without the cache (see server.ts). Called
 * after `prepare`, so every image and file exists; sorted, so that the
 * server bundle is the same for every build of the same sources.
 */
export async function prepareForServer(pipeline: ImagePipeline, requests: ImageRequest[], url: (name: string) => string): Promise<PreparedImages> {
  const images: PreparedImages['images'] = {};
  for (const request of requests) {
    const id = requestId(request);
    if (images[id]) continue;
    const resolved = await pipeline.resolve(request);
    const { plan, placeholderUrl } = resolved;
    const art = resolved.art.map(({ media, plan: artPlan }) => ({ media, plan: artPlan }));
    images[id] = { plan, art, ...(placeholderUrl ? { placeholderUrl } : {}), urls: Object.fromEntries(preparedFiles({ plan, art }).map((name) => [name, url(name)])) };
  }
  const sorted = Object.fromEntries(Object.entries(images).sort(([a], [b]) => (a < b ? -1 : 1)));
  const { widths, imageSize } = pipeline.options;
  return { settings: { widths, imageSize }, images: sorted };
}

const PRERENDER = /export\s+const\s+prerender\s*=\s*(true|false)\b/;

/**
 * The prompts from expressions in pages that render on demand: the build
 * cannot know them, so a production server will show their placeholders.
 * A page renders on demand when it says `prerender = false`, or under
 * `output: 'server'` unless it says `prerender = true`.
 */
export async function onDemandDynamic(dynamic: SourceLocation[], pagesDir: string, serverOutput: boolean): Promise<SourceLocation[]> {
  const out: SourceLocation[] = [];
  for (const loc of dynamic) {
    if (path.relative(pagesDir, loc.file).startsWith('..')) continue;
    const setting = PRERENDER.exec(await fs.readFile(loc.file, 'utf8'))?.[1];
    if (setting === 'false' || (serverOutput && setting !== 'true')) out.push(loc);
  }
  return out;
}
