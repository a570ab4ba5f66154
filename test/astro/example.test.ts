import { promises as fs } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { REPO, hashTree } from '../helpers.ts';
import { astro, pictures } from './helpers.ts';

/** What a fresh clone does: build the Astro example from its committed cache, with CI set, no key and no gateway. */
it('examples/astro-site builds offline from its committed cache without generating or encoding anything', async () => {
  const root = path.join(REPO, 'examples', 'astro-site');
  const cacheBefore = await hashTree(path.join(root, 'generated-images'));
  await fs.mkdir(path.join(REPO, 'test', '.tmp'), { recursive: true });
  const outDir = await fs.mkdtemp(path.join(REPO, 'test', '.tmp', 'astro-site-dist-'));
  const result = await astro(['build', '--outDir', outDir], root, { CI: 'true', AGNIC_BASE_URL: 'http://127.0.0.1:9/v1' });
  expect(result.code, result.output).toBe(0);
  expect(result.output).toMatch(/images: 0 generated, 8 reused from the cache, 0 variants encoded/);

  const post = pictures(await fs.readFile(path.join(outDir, 'blog/harbour-walk/index.html'), 'utf8'));
  expect(post.map((p) => p.img.alt)).toEqual(['Fishing boats in the harbour in the morning mist', 'The lighthouse at the end of the harbour wall']);
  expect(post[1]!.img).toMatchObject({ width: '600', height: '1050', class: 'portrait' });
  const team = pictures(await fs.readFile(path.join(outDir, 'team/index.html'), 'utf8'));
  expect(team.map((p) => [p.img.width, p.img.height])).toEqual([['400', '400'], ['400', '400'], ['400', '400']]);
  for (const picture of [...post, ...team]) {
    for (const [url] of picture.sources.flatMap((s) => s.srcset)) await expect(fs.stat(path.join(outDir, url))).resolves.toBeTruthy();
  }
  expect(await hashTree(path.join(root, 'generated-images'))).toEqual(cacheBefore);
  await fs.rm(outDir, { recursive: true, force: true });
});
