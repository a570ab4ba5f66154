// Several processes on one cache: two builds at once, a build waiting for a
// lock held by a live process, and locks left by killed processes. The cache
// stays consistent and no image is ever requested twice.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cacheKey } from '../../packages/vite-plugin/src/core/key.ts';
import { acquireLock } from '../../packages/vite-plugin/src/core/fs/lock.ts';
import type { Ratio } from '../../packages/vite-plugin/src/core/ratios.ts';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { cacheViolations, childBuild, makeProject, promptsOf, readManifest, removeProject, startChildBuild, startNode, tag, TINY } from './helpers.ts';

const KEY = 'agnic_tok_concurrency_0123456789';
const FIXTURES = path.join(import.meta.dirname, 'fixtures');
const RATIOS: Ratio[] = ['1:1', '16:9', '3:2'];
const images = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => ({ prompt: `Shared cache picture ${from + i}, a windmill`, ratio: RATIOS[(from + i) % RATIOS.length]! }));
const keyOf = (image: { prompt: string; ratio: Ratio }) => cacheKey({ model: 'google/gemini-2.0-flash', prompt: image.prompt, style: null, ratio: image.ratio, variant: 0, imageSize: null });
const body = (list: Array<{ prompt: string; ratio: Ratio }>) => list.map((i) => tag(i.prompt, i.ratio)).join('\n');

let gw: TestGateway;
const dirs: string[] = [];
beforeAll(async () => {
  gw = await startTestGateway({ apiKey: KEY, latencyMs: 80 });
});
afterAll(async () => {
  await gw.close();
  await Promise.all(dirs.map(removeProject));
});
beforeEach(() => gw.reset());

const options = (extra: object = {}) => ({ ...TINY, apiKey: KEY, baseURL: gw.url, concurrency: 3, ...extra });

/** Polls until `check` holds; a generous deadline only so that a hang fails the test instead of stalling it. */
async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function holdLock(file: string) {
  const holder = startNode(path.join(FIXTURES, 'hold-lock.ts'), [file]);
  let out = '';
  holder.child.stdout!.on('data', (chunk: Buffer) => (out += chunk));
  await until(() => out.includes('locked'), 'the holder has the lock');
  return holder;
}

function expectEachRequestedOnce(prompts: string[], expected: string[]): void {
  expect([...prompts].sort()).toEqual([...expected].sort());
}

describe('two builds at once on one cache', () => {
  it('the same project built twice at once: both succeed, each image requested once', async () => {
    const list = images(0, 9);
    const root = await makeProject('concurrent', body(list));
    dirs.push(root);
    const [a, b] = await Promise.all([childBuild(root, options(), { outDir: 'dist-a' }), childBuild(root, options(), { outDir: 'dist-b' })]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expectEachRequestedOnce(promptsOf(gw.chatRequests()), list.map((i) => i.prompt));
    const cacheDir = path.join(root, 'generated-images');
    expect(await cacheViolations(cacheDir)).toEqual([]);
    expect(Object.keys((await readManifest(cacheDir)).images).sort()).toEqual(list.map(keyOf).sort());
    // Same cache, same pictures, same markup.
    const [htmlA, htmlB] = await Promise.all(['dist-a', 'dist-b'].map((d) => fs.readFile(path.join(root, d, 'index.html'), 'utf8')));
    expect(htmlA).toBe(htmlB);
  });

  it('two projects sharing one cache folder, with images in common: the common ones are requested once', async () => {
    const shared = await fs.mkdtemp(path.join(os.tmpdir(), 'gi-shared-cache-'));
    dirs.push(shared);
    const first = images(0, 8);
    const second = images(4, 12);
    const rootA = await makeProject('shared-a', body(first));
    const rootB = await makeProject('shared-b', body(second));
    dirs.push(rootA, rootB);
    const [a, b] = await Promise.all([childBuild(rootA, options({ cacheDir: shared })), childBuild(rootB, options({ cacheDir: shared }))]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expectEachRequestedOnce(promptsOf(gw.chatRequests()), images(0, 12).map((i) => i.prompt));
    expect(await cacheViolations(shared)).toEqual([]);
    expect(Object.keys((await readManifest(shared)).images)).toHaveLength(12);
  });
});

describe('locks', () => {
  it('a build waits for an image locked by a live process, and takes it over once that process is killed', async () => {
    const list = images(20, 24);
    const root = await makeProject('held', body(list));
    dirs.push(root);
    const cacheDir = path.join(root, 'generated-images');
    const locked = list[0]!;
    const holder = await holdLock(path.join(cacheDir, '.locks', `${keyOf(locked)}.lock`));

    const build = startChildBuild(root, options());
    let output = '';
    build.child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
    await until(async () => {
      if (build.child.exitCode !== null) throw new Error(`the build ended while the lock was held: ${output}`);
      return Object.keys((await readManifest(cacheDir)).images).length === list.length - 1;
    }, 'the unlocked images are stored');
    // The others are done; the locked one is not asked for while its lock is held.
    expect(promptsOf(gw.chatRequests())).not.toContain(locked.prompt);
    expect(build.child.exitCode).toBeNull();

    holder.child.kill('SIGKILL');
    const result = await build.done;
    expect(result.code, result.stderr).toBe(0);
    expectEachRequestedOnce(promptsOf(gw.chatRequests()), list.map((i) => i.prompt));
    expect(await cacheViolations(cacheDir)).toEqual([]);
  });

  it('locks left by killed processes (an image lock, the manifest lock, a half-done break) do not block the next build', async () => {
    const list = images(30, 33);
    const root = await makeProject('stale', body(list));
    dirs.push(root);
    const cacheDir = path.join(root, 'generated-images');
    const keyLock = path.join(cacheDir, '.locks', `${keyOf(list[0]!)}.lock`);
    const manifestLock = path.join(cacheDir, '.lock');
    const holders = [await holdLock(keyLock), await holdLock(manifestLock)];
    for (const holder of holders) {
      holder.child.kill('SIGKILL');
      await holder.done;
    }
    const deadPid = holders[0]!.child.pid!;
    await fs.writeFile(`${keyLock}.break.tmp`, JSON.stringify({ pid: deadPid, host: os.hostname(), at: Date.now(), token: 'dead' }));
    // A lock file whose writer died between creating and writing it.
    const emptyLock = path.join(cacheDir, '.locks', `${keyOf(list[1]!)}.lock`);
    await fs.writeFile(emptyLock, '');
    const past = new Date(Date.now() - 60_000);
    await fs.utimes(emptyLock, past, past);

    const result = await childBuild(root, options());
    expect(result.code, result.stderr).toBe(0);
    expectEachRequestedOnce(promptsOf(gw.chatRequests()), list.map((i) => i.prompt));
    expect(await cacheViolations(cacheDir)).toEqual([]);
    expect(await fs.readdir(path.join(cacheDir, '.locks'))).toEqual([]);
    await expect(fs.access(manifestLock)).rejects.toThrow();
  });

  it('processes taking turns on one lock, some killed while holding it, are never inside at once', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gi-lock-'));
    dirs.push(dir);
    const file = path.join(dir, '.lock');
    const log = path.join(dir, 'log');
    // Start from a lock whose owner is gone, as after a crash.
    await fs.writeFile(file, JSON.stringify({ pid: 2 ** 22 + 17, host: os.hostname(), at: Date.now(), token: 'gone' }));
    const contenders = Array.from({ length: 4 }, () => startNode(path.join(FIXTURES, 'lock-contender.ts'), [file, log, '12', '0.08']));
    const results = await Promise.all(contenders.map((c) => c.done));
    for (const r of results) expect(r.signal === 'SIGKILL' || r.code === 0, r.stderr).toBe(true);

    let holder: string | undefined;
    const problems: string[] = [];
    for (const line of (await fs.readFile(log, 'utf8')).trim().split('\n')) {
      const [event, pid] = line.split(' ');
      if (event === 'enter') {
        if (holder) problems.push(`${pid} entered while ${holder} held the lock`);
        holder = pid;
      } else if (event === 'exit' || event === 'die') {
        if (holder !== pid) problems.push(`${pid} left without holding the lock`);
        holder = undefined;
      }
    }
    expect(problems).toEqual([]);
  });

  it('many waiters breaking one stale lock at once: one holder at a time', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gi-lock-'));
    dirs.push(dir);
    const file = path.join(dir, '.lock');
    let overlaps = 0;
    let turns = 0;
    for (let round = 0; round < 25; round++) {
      await fs.writeFile(file, JSON.stringify({ pid: 2 ** 22 + 17, host: os.hostname(), at: Date.now(), token: 'gone' }));
      let inside = 0;
      // The race is in the first milliseconds, when every waiter sees the same stale lock; later waiters give up.
      await Promise.all(
        Array.from({ length: 6 }, async () => {
          const release = await acquireLock(file, { staleMs: 600_000, signal: AbortSignal.timeout(100) }).catch(() => undefined);
          if (!release) return;
          if (++inside > 1) overlaps++;
          turns++;
          await new Promise((resolve) => setTimeout(resolve, 2));
          inside--;
          await release();
        }),
      );
      await fs.rm(file, { force: true });
    }
    expect(turns).toBeGreaterThanOrEqual(25);
    expect(overlaps).toBe(0);
  });

  it('a holder that outlived staleMs does not remove the lock of the process that took over', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gi-lock-'));
    dirs.push(dir);
    const file = path.join(dir, '.lock');
    const releaseSlow = await acquireLock(file, { staleMs: 1 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const releaseNext = await acquireLock(file, { staleMs: 1 });
    const next = await fs.readFile(file, 'utf8');
    await releaseSlow();
    expect(await fs.readFile(file, 'utf8')).toBe(next);
    await releaseNext();
    await expect(fs.access(file)).rejects.toThrow();
  });

  it('a lock naming this process\'s pid that it does not hold (left by an earlier process with the same pid) is taken over', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gi-lock-'));
    dirs.push(dir);
    const file = path.join(dir, '.lock');
    await fs.writeFile(file, JSON.stringify({ pid: process.pid, host: os.hostname(), at: Date.now(), token: 'earlier-process' }));
    const release = await acquireLock(file, { staleMs: 600_000, signal: AbortSignal.timeout(10_000) });
    expect(JSON.parse(await fs.readFile(file, 'utf8')).token).not.toBe('earlier-process');
    await release();
  });

  it('a lock held by a live process is respected', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gi-lock-'));
    dirs.push(dir);
    const file = path.join(dir, '.lock');
    const holder = await holdLock(file);
    await expect(acquireLock(file, { staleMs: 600_000, signal: AbortSignal.timeout(500) })).rejects.toThrow();
    holder.child.kill('SIGKILL');
    await holder.done;
    const release = await acquireLock(file, { staleMs: 600_000 });
    await release();
  });
});
