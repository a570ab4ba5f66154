// A lock stays held while its holder lives: a build whose gateway request
// takes longer than any stale threshold (LOCK_STALE_MS) keeps the image's lock
// through its heartbeat, and a second build of the same project that waits on
// it never takes it over — each image is requested exactly once.
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { HEARTBEAT_MS, LOCK_STALE_MS } from '../../packages/vite-plugin/src/core/fs/lock.ts';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { cacheViolations, childBuild, makeProject, promptsOf, readManifest, removeProject, startChildBuild, tag, TINY } from './helpers.ts';

const KEY = 'agnic_tok_live_locks_0123456789';
const SLOW = 'A SLOW tapestry of a harbour';
const QUICK = 'A quick sketch of a gull';

let gw: TestGateway;
let root: string;
beforeAll(async () => {
  gw = await startTestGateway({ apiKey: KEY });
  root = await makeProject('live-lock', [tag(SLOW, '16:9'), tag(QUICK)].join('\n'));
});
afterAll(async () => {
  await gw.close();
  await removeProject(root);
});

it('a holder working longer than the stale threshold keeps its lock; the waiting build requests nothing twice', async () => {
  // The slow image's request outlasts the threshold by several heartbeats.
  gw.setFaultForPrompt('SLOW', { delayMs: LOCK_STALE_MS + 10 * HEARTBEAT_MS });
  const options = { ...TINY, apiKey: KEY, baseURL: gw.url, timeout: 10 * LOCK_STALE_MS, concurrency: 2 };
  const first = startChildBuild(root, options, { outDir: 'dist-first' });
  const deadline = Date.now() + 60_000;
  while (!promptsOf(gw.chatRequests()).includes(SLOW)) {
    if (Date.now() > deadline || first.child.exitCode !== null) throw new Error('the first build never asked for the slow image');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const second = await childBuild(root, options, { outDir: 'dist-second' });
  const done = await first.done;
  expect(done.code, done.stderr).toBe(0);
  expect(second.code, second.stderr).toBe(0);
  expect(promptsOf(gw.chatRequests()).sort()).toEqual([QUICK, SLOW].sort());
  const cacheDir = path.join(root, 'generated-images');
  expect(await cacheViolations(cacheDir)).toEqual([]);
  expect(Object.keys((await readManifest(cacheDir)).images)).toHaveLength(2);
}, 180_000);
