// `concurrency: 'auto'` (the default) through real builds against the test
// gateway's limit on requests in flight: it grows past its start of 4 while
// the gateway keeps up, never above 16, settles at the gateway's limit when
// that answers 429 with Retry-After, and no build fails because of those.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { makeProject, readManifest, removeProject, tag, TINY, viteBuild } from './helpers.ts';

const KEY = 'agnic_tok_auto_concurrency_0123';
let gw: TestGateway;
const dirs: string[] = [];
beforeAll(async () => {
  gw = await startTestGateway({ apiKey: KEY, latencyMs: 250 });
});
afterAll(async () => {
  await gw.close();
  await Promise.all(dirs.map(removeProject));
});
beforeEach(() => {
  gw.configure({ maxInFlight: undefined });
  gw.reset();
});

async function project(name: string, count: number): Promise<string> {
  const root = await makeProject(name, Array.from({ length: count }, (_, i) => tag(`A paper lantern, number ${i}`)).join('\n'));
  dirs.push(root);
  return root;
}

describe("concurrency: 'auto'", () => {
  it('grows from 4 while the gateway keeps up, and never above 16', async () => {
    const root = await project('auto-grow', 60);
    const built = await viteBuild(root, { ...TINY, apiKey: KEY, baseURL: gw.url });
    expect(built.error).toBeUndefined();
    expect(gw.stats().peakInFlight).toBe(16);
    expect(gw.chatRequests()).toHaveLength(60);
  });

  it('settles at the gateway’s limit on 429 + Retry-After, and the build succeeds with every image', async () => {
    gw.configure({ maxInFlight: 6, maxInFlightRetryAfter: '1' });
    const root = await project('auto-limit', 40);
    const built = await viteBuild(root, { ...TINY, apiKey: KEY, baseURL: gw.url });
    expect(built.error).toBeUndefined();
    expect(Object.keys((await readManifest(`${root}/generated-images`)).images)).toHaveLength(40);
    const stats = gw.stats();
    expect(stats.peakInFlight).toBe(6);
    expect(stats.rejectedOverLimit).toBeGreaterThan(0);
    // Found once, then probed at most once per window of successes: few refusals for 40 images.
    expect(stats.rejectedOverLimit).toBeLessThan(15);
    expect(gw.chatRequests().filter((r) => !r.overLimit)).toHaveLength(40);
  });

  it('a fixed number still caps the requests in flight', async () => {
    const root = await project('fixed', 12);
    const built = await viteBuild(root, { ...TINY, apiKey: KEY, baseURL: gw.url, concurrency: 2 });
    expect(built.error).toBeUndefined();
    expect(gw.stats().peakInFlight).toBe(2);
  });
});
