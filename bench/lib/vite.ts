import { promises as fs } from 'node:fs';
import path from 'node:path';
import { measure, type Run } from './measure.ts';
import { REPO } from './paths.ts';
import { check } from './report.ts';

export const VITE_BIN = path.join(REPO, 'node_modules', 'vite', 'bin', 'vite.js');

/**
 * `vite build` as a CI job runs it: a child process, CI set (so a cache miss
 * would fail rather than call a gateway), no API key.
 */
export function viteBuild(dir: string): Promise<Run> {
  return measure(VITE_BIN, ['build'], { cwd: dir, env: { CI: 'true', AGNIC_API_KEY: undefined, AGNIC_BASE_URL: undefined, NODE_ENV: 'production' } });
}

/** The built pages show every picture, and every file they reference is in the output. */
export async function checkViteOutput(dir: string, pictures: number, kind: 'ours' | 'plain'): Promise<void> {
  const pages = (await fs.readdir(path.join(dir, 'dist'))).filter((f) => f.endsWith('.html'));
  let html = '';
  for (const page of pages) html += await fs.readFile(path.join(dir, 'dist', page), 'utf8');
  check(!html.includes('GeneratedImage'), `${dir}: a <GeneratedImage> tag survived the build`);
  const count = (re: RegExp) => html.match(re)?.length ?? 0;
  if (kind === 'ours') check(count(/<picture[\s>]/g) === pictures, `${dir}: expected ${pictures} <picture> elements, found ${count(/<picture[\s>]/g)}`);
  check(count(/<img\s/g) === pictures, `${dir}: expected ${pictures} <img> elements, found ${count(/<img\s/g)}`);
  check(count(/<script type="module"[^>]*src="\/assets\//g) === pages.length, `${dir}: not every page loads the bundled script`);
  const urls = new Set<string>();
  for (const match of html.matchAll(/(?:src|srcset|href)="([^"]+)"/g)) {
    for (const candidate of match[1]!.split(',')) {
      const url = candidate.trim().split(/\s+/)[0]!;
      if (url.startsWith('/') && !url.startsWith('//')) urls.add(url);
    }
  }
  for (const url of urls) {
    const exists = await fs.stat(path.join(dir, 'dist', url)).then(() => true, () => false);
    check(exists, `${dir}: a page references ${url}, which is not in dist/`);
  }
}
