// `generated-images prune` next to a process that is writing to the same
// cache: a file that process wrote but has not recorded yet is never taken
// for an orphan; once that process is gone, the file is one.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { REPO } from '../helpers.ts';
import { KEY, cli, copyFixture, readManifest } from '../cli/helpers.ts';
import { startNode } from '../reliability/helpers.ts';

let gateway: TestGateway;
let dir: string;
beforeAll(async () => {
  gateway = await startTestGateway();
  dir = await copyFixture('site', 'prune-lock');
  const generated = await cli(dir, ['generate'], { AGNIC_BASE_URL: gateway.url, AGNIC_API_KEY: KEY });
  expect(generated.code, generated.output).toBe(0);
});
afterAll(async () => {
  await gateway.close();
  await fs.rm(dir, { recursive: true, force: true });
});

it('keeps a file another process wrote and has not recorded yet, and deletes it once that process is gone', async () => {
  const cacheDir = path.join(dir, 'generated-images');
  const [key] = Object.keys((await readManifest(dir)).images);
  const name = `${key}-48-0123abcd.webp`;
  // A build between writing a variant and recording it holds its writing lock (as CacheStore does).
  const holder = startNode(path.join(REPO, 'test/reliability/fixtures/hold-lock.ts'), [path.join(cacheDir, '.locks', 'writing-0123456789ab.lock')]);
  let out = '';
  holder.child.stdout!.on('data', (chunk: Buffer) => (out += chunk));
  while (!out.includes('locked')) await new Promise((resolve) => setTimeout(resolve, 20));
  await fs.writeFile(path.join(cacheDir, 'variants', name), 'encoded just now');

  const first = await cli(dir, ['prune']);
  expect(first.code, first.output).toBe(0);
  expect(first.stdout).toContain(`kept  generated-images/variants/${name} — not in manifest.json, but another process is writing to the cache and may be about to record it`);
  expect(await fs.readFile(path.join(cacheDir, 'variants', name), 'utf8')).toBe('encoded just now');

  holder.child.kill('SIGKILL');
  await holder.done;
  const second = await cli(dir, ['prune']);
  expect(second.stdout).toContain(`deleted  generated-images/variants/${name} — not in manifest.json`);
  await expect(fs.access(path.join(cacheDir, 'variants', name))).rejects.toThrow();
});
