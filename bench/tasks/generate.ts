// Child process: generating every miss through the pipeline's queue (the real
// openai SDK, reply checks, cache writes) against the test gateway. Prints one JSON line.
import { promises as fs } from 'node:fs';
import { ImagePipeline, resolveOptions } from 'vite-plugin-generated-images/core';

const input = JSON.parse(await fs.readFile(process.argv[2]!, 'utf8')) as { root: string; baseURL: string; apiKey: string; concurrency: number | 'auto'; prompts: string[] };
const options = resolveOptions({ apiKey: input.apiKey, baseURL: input.baseURL, concurrency: input.concurrency, frozen: false }, { root: input.root, env: {} });
const pipeline = new ImagePipeline(options, { info: () => {}, warn: (message) => console.error(message) });
const requests = input.prompts.map((prompt) => ({ prompt, ratio: '16:9' as const, variant: 0 }));

const start = performance.now();
const misses = await pipeline.misses(requests);
await Promise.all([...misses].map(([key, miss]) => pipeline.queue.generate(key, miss.spec)));
await pipeline.cache.flush();
const wallMs = performance.now() - start;
console.log(JSON.stringify({ wallMs, misses: misses.size, cached: Object.keys(pipeline.cache.images).length }));
