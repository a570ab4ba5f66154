import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stableStringify } from '../../packages/vite-plugin/src/core/cache/manifest-text.ts';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { viteBuild } from '../helpers.ts';
import { KEY, addUsage, cli, closedPort, copyFixture, git, gitOk, promptWithKey, readManifest } from './helpers.ts';

let gateway: TestGateway;
let repo: string;
let baseKeys: string[];
const env = () => ({ AGNIC_BASE_URL: gateway.url, AGNIC_API_KEY: KEY });
const manifestPath = () => path.join(repo, 'generated-images', 'manifest.json');

async function generateAndCommit(message: string): Promise<void> {
  const result = await cli(repo, ['generate'], env());
  expect(result.code, result.output).toBe(0);
  await gitOk(repo, ['add', '-A']);
  await gitOk(repo, ['commit', '-q', '-m', message]);
}

/** A project whose cache is committed, as users keep it. */
beforeAll(async () => {
  gateway = await startTestGateway();
  repo = await copyFixture('site', 'merge');
  await gitOk(repo, ['init', '-q']);
  await fs.writeFile(path.join(repo, '.gitignore'), 'dist/\n');
  await generateAndCommit('site with its generated images');
  baseKeys = Object.keys((await readManifest(repo)).images).sort();
});
afterAll(async () => {
  await gateway.close();
  await fs.rm(repo, { recursive: true, force: true });
});

describe('manifest.json in git', () => {
  it('is committed with a .gitattributes that gives it git\'s built-in union merge', async () => {
    expect(await fs.readFile(path.join(repo, 'generated-images', '.gitattributes'), 'utf8')).toMatch(/^manifest\.json merge=union$/m);
    const attr = await gitOk(repo, ['check-attr', 'merge', '--', 'generated-images/manifest.json']);
    expect(attr.trim()).toBe('generated-images/manifest.json: merge: union');
    const text = await fs.readFile(manifestPath(), 'utf8');
    expect(text).toBe(stableStringify(JSON.parse(text)));
    expect(text.split('\n').slice(0, 2)).toEqual(['{', '  "images": {']);
    // One line per image, keys sorted, the version last.
    expect(text.split('\n').filter((l) => /^ {4}"[0-9a-f]{16}": \{.*\}(,)?$/.test(l))).toHaveLength(3);
    expect(text.endsWith('  },\n  "version": 1\n}\n')).toBe(true);
  });

  it('two branches that each generate images merge without a conflict, and the result builds frozen', async () => {
    const min = baseKeys[0]!;
    const max = baseKeys.at(-1)!;
    // Each branch adds an image before the first key and one after the last: the two places a comma-separated list collides.
    const a = [promptWithKey('A paper boat on a pond', '1:1', (k) => k < min), promptWithKey('A red kite over a beach', '1:1', (k) => k > max)];
    const b = [promptWithKey('A cactus in a clay pot', '1:1', (k) => k < min), promptWithKey('A night train in the rain', '1:1', (k) => k > max)];

    await gitOk(repo, ['checkout', '-q', '-b', 'images-a']);
    for (const image of a) await addUsage(repo, 'index.html', `<GeneratedImage prompt="${image.prompt}" alt="" />`);
    await generateAndCommit('branch a: two images');
    // Generating images changes only their own lines (and the comma of the line before an appended one).
    const diff = await gitOk(repo, ['diff', '-U0', 'main', 'images-a', '--', 'generated-images/manifest.json']);
    const added = diff.split('\n').filter((l) => l.startsWith('+') && !l.startsWith('+++'));
    const removed = diff.split('\n').filter((l) => l.startsWith('-') && !l.startsWith('---'));
    expect(removed.length).toBeLessThanOrEqual(1);
    for (const line of added) expect(a.some((i) => line.includes(`"${i.key}"`)) || removed.some((r) => `+${r.slice(1)},` === line)).toBe(true);

    await gitOk(repo, ['checkout', '-q', 'main']);
    await gitOk(repo, ['checkout', '-q', '-b', 'images-b']);
    for (const image of b) await addUsage(repo, 'about.html', `<GeneratedImage prompt="${image.prompt}" alt="" />`);
    await generateAndCommit('branch b: two images');

    const merge = await git(repo, ['merge', '--no-edit', 'images-a']);
    expect(merge.code, merge.output).toBe(0);
    expect(merge.output).not.toContain('CONFLICT');
    expect(await gitOk(repo, ['diff', '--name-only', '--diff-filter=U'])).toBe('');
    expect(await fs.readFile(manifestPath(), 'utf8')).not.toContain('<<<<<<<');

    const status = await cli(repo, ['status']);
    expect(status.code, status.output).toBe(0);
    expect(status.stdout).toContain('7 images in source, 7 entries in generated-images/: 7 cached');
    expect(status.stdout).toContain('note: manifest.json was repaired after a git merge (a missing comma before line');
    expect((await cli(repo, ['verify'])).code).toBe(0);

    // CI on the merge commit: frozen, no key, no gateway.
    const build = await viteBuild(repo, { CI: 'true', AGNIC_BASE_URL: `http://127.0.0.1:${await closedPort()}/v1` });
    expect(build.code, build.output).toBe(0);
    expect(build.output).toContain('images: 0 generated, 7 reused from the cache, 0 variants encoded');
    expect(build.output).toContain('manifest.json was repaired after a git merge');
    // …and the repaired file is the committed form again: plain JSON, sorted, every image of both branches.
    const text = await fs.readFile(manifestPath(), 'utf8');
    const manifest = JSON.parse(text);
    expect(text).toBe(stableStringify(manifest));
    expect(Object.keys(manifest.images)).toEqual([...baseKeys, ...a.map((i) => i.key), ...b.map((i) => i.key)].sort());
    await gitOk(repo, ['commit', '-q', '-am', 'manifest.json in its committed form after the merge']);
  });

  it('two branches that change the same image merge without a conflict, and its records are combined and reported', async () => {
    const teapot = Object.entries((await readManifest(repo)).images).find(([, e]) => e.prompt.startsWith('A blue teapot'))![0];
    const merged = (await gitOk(repo, ['rev-parse', 'HEAD'])).trim();
    // One branch changes the site's widths (every image gets new variants), the other shows the teapot at another size.
    await gitOk(repo, ['checkout', '-q', '-b', 'wider']);
    const config = path.join(repo, 'vite.config.js');
    await fs.writeFile(config, (await fs.readFile(config, 'utf8')).replace('widths: [64, 128]', 'widths: [64, 128, 160]'));
    await generateAndCommit('wider images');
    await gitOk(repo, ['checkout', '-q', '-b', 'teapot-small', merged]);
    await addUsage(repo, 'about.html', '<GeneratedImage prompt="A blue teapot on a wooden table" alt="" widths="96" />');
    await generateAndCommit('a small teapot on the about page');

    const merge = await git(repo, ['merge', '--no-edit', 'wider']);
    expect(merge.code, merge.output).toBe(0);
    expect(merge.output).not.toContain('CONFLICT');

    const status = await cli(repo, ['status']);
    expect(status.code, status.output).toBe(0);
    expect(status.stdout).toContain(`note: manifest.json lists ${teapot} 2 times (a git merge): the records were combined`);
    expect(status.stdout).toContain('7 images in source, 7 entries in generated-images/: 7 cached');
    const verify = await cli(repo, ['verify']);
    expect(verify.code, verify.output).toBe(0);
    expect(verify.stdout).toContain(`note: manifest.json lists ${teapot} 2 times`);
    // Nothing was lost: the teapot has both branches' variants, and nothing is left to generate or encode.
    const generate = await cli(repo, ['generate'], env());
    expect(generate.stdout).toContain('nothing to do: the cache holds every image and variant of 7 images');
    const variants = Object.keys((await readManifest(repo)).images[teapot]!.variants);
    expect(variants.some((n) => n.includes('-96-'))).toBe(true);
    expect(variants.some((n) => n.includes('-160-'))).toBe(true);
    expect(await fs.readFile(manifestPath(), 'utf8')).toBe(stableStringify(await readManifest(repo)));
  });

  it('reports an entry whose file is missing (status and verify exit 1) and prune drops it to be generated again', async () => {
    const [key, entry] = Object.entries((await readManifest(repo)).images)[0]!;
    await fs.rm(path.join(repo, 'generated-images', entry.file));
    const status = await cli(repo, ['status']);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(new RegExp(`broken +${key} .* — generated-images/${entry.file} is listed in manifest\\.json but missing`));
    const verify = await cli(repo, ['verify']);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(`generated-images/${entry.file}: missing (listed in manifest.json for ${key}`);
    const prune = await cli(repo, ['prune']);
    expect(prune.stdout).toContain(`deleted  ${key}`);
    expect(prune.stdout).toContain(`${entry.file} is missing, so the entry is dropped`);
    expect((await cli(repo, ['status', '--json'])).stdout).toMatch(/"state": "missing"/);
  });

  it('refuses a manifest from a newer version with a clear error, changing nothing', async () => {
    gateway.reset();
    const newer = `{\n  "images": {},\n  "version": 2\n}\n`;
    await fs.writeFile(manifestPath(), newer);
    for (const command of ['status', 'generate']) {
      const result = await cli(repo, [command], env());
      expect(result.code, command).toBe(1);
      expect(result.stderr).toContain('manifest.json has version 2, newer than this plugin understands (1): upgrade vite-plugin-generated-images');
    }
    expect(await fs.readFile(manifestPath(), 'utf8')).toBe(newer);
    expect(gateway.requests).toHaveLength(0);
  });
});
