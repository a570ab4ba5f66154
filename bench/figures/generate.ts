import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { startTestGateway } from '../../test/gateway/server.ts';
import type { Context } from '../lib/context.ts';
import { task } from '../lib/measure.ts';
import { check, ratio, seconds, type Figure } from '../lib/report.ts';

const API_KEY = 'agnic_tok_bench_not_a_secret';

/**
 * N misses through ImagePipeline/GenerationQueue against the test gateway with
 * a fixed latency, against the ideal ceil(N/c) × L. The gateway renders each
 * picture once before the timed run, so the figure holds only the client's
 * own cost (SDK, reply checks, cache writes), not the stand-in server's.
 */
export async function generation(ctx: Context): Promise<Figure[]> {
  const { images, concurrency, latencyMs } = ctx.config.generation;
  const gateway = await startTestGateway({ apiKey: API_KEY });
  try {
    const prompts = Array.from({ length: images }, (_, i) => `Generated in the benchmark: a lighthouse at dusk, take ${i}`);
    for (let i = 0; i < prompts.length; i += 4) {
      await Promise.all(prompts.slice(i, i + 4).map(async (prompt) => {
        const response = await fetch(`${gateway.url}/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'google/gemini-2.0-flash', messages: [{ role: 'user', content: prompt }], modalities: ['image', 'text'], image_config: { aspect_ratio: '16:9' } }),
        });
        check(response.ok, `the test gateway answered ${response.status} while warming up`);
        await response.arrayBuffer();
      }));
    }
    gateway.reset();
    gateway.setLatency(latencyMs);

    const root = path.join(ctx.work, 'generate');
    await fs.rm(root, { recursive: true, force: true });
    await fs.mkdir(root, { recursive: true });
    const result = await task<{ wallMs: number; misses: number; cached: number }>('generate', { root, baseURL: gateway.url, apiKey: API_KEY, concurrency, prompts });
    const chats = gateway.chatRequests();
    check(result.misses === images && result.cached === images, `generated ${result.cached} of ${images} images`);
    check(chats.length === images, `the gateway got ${chats.length} image requests for ${images} images`);
    // Never more than `concurrency` requests in flight: each arrival sees fewer than c earlier requests still waiting.
    const arrivals = chats.map((r) => r.at).sort((a, b) => a - b);
    const peak = Math.max(...arrivals.map((at) => arrivals.filter((other) => other <= at && other > at - latencyMs).length));
    check(peak <= concurrency, `${peak} requests were in flight at once, more than the concurrency ${concurrency}`);
    const manifest = JSON.parse(await fs.readFile(path.join(root, 'generated-images', 'manifest.json'), 'utf8')) as { images: Record<string, { file: string; sha256: string }> };
    for (const entry of Object.values(manifest.images)) {
      const data = await fs.readFile(path.join(root, 'generated-images', entry.file));
      check(createHash('sha256').update(data).digest('hex') === entry.sha256, `${entry.file} does not match the manifest`);
    }
    const ideal = Math.ceil(images / concurrency) * latencyMs;
    // Each request slot pays the client's own work once per image it carries: the ratio at another latency L is 1 + overhead / L.
    const overhead = (result.wallMs - ideal) / Math.ceil(images / concurrency);
    ctx.log(`  ${images} images, concurrency ${concurrency}, latency ${latencyMs} ms: ${seconds(result.wallMs)} against an ideal ${seconds(ideal)}`);
    ctx.log(`  ${Math.round(overhead)} ms per image beyond the gateway's latency (reply JSON, decode check, cache write); at L = 1 s the ratio would be about ${ratio(1 + overhead / 1000)}, at 10 s ${ratio(1 + overhead / 10_000)}`);
    const target = 1.15;
    return [{ name: `generating ${images} misses (c=${concurrency}, L=${latencyMs} ms) ÷ ceil(N/c)×L`, measured: `${ratio(result.wallMs / ideal)} (${seconds(result.wallMs)} vs ${seconds(ideal)})`, target: `≤ ${target}`, met: result.wallMs / ideal <= target }];
  } finally {
    await gateway.close();
  }
}
