import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, REPO, hashTree, run } from './helpers.ts';

/** What a fresh clone does: build each example from its committed cache, with CI set, no key and no gateway. */
describe.each(['vite-vanilla', 'vite-react'])('examples/%s', (name) => {
  it('builds offline from its committed cache without generating or encoding anything', async () => {
    const root = path.join(REPO, 'examples', name);
    const cacheBefore = await hashTree(path.join(root, 'generated-images'));
    await fs.mkdir(path.join(REPO, 'test', '.tmp'), { recursive: true });
    const outDir = await fs.mkdtemp(path.join(REPO, 'test', '.tmp', `${name}-dist-`));
    const result = await run(path.join(BIN, 'vite'), ['build', '--outDir', outDir, '--emptyOutDir'], {
      cwd: root,
      env: { CI: 'true', AGNIC_API_KEY: undefined, AGNIC_BASE_URL: 'http://127.0.0.1:9/v1' },
    });
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/images: 0 generated, [1-9]\d* reused from the cache, 0 variants encoded/);
    const files = Object.keys(await hashTree(outDir));
    expect(files.filter((f) => f.endsWith('.avif')).length).toBeGreaterThan(0);
    expect(files.filter((f) => f.endsWith('.webp')).length).toBeGreaterThan(0);
    expect(await hashTree(path.join(root, 'generated-images'))).toEqual(cacheBefore);
  });
});
