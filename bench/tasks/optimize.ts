// Child process: our cold optimization — the pipeline a build runs before
// bundling (ImagePipeline.prepare) on a cache holding originals and no
// variants, frozen so that nothing is generated. Prints one JSON line.
import { promises as fs } from 'node:fs';
import { ImagePipeline, resolveOptions, type Format } from 'vite-plugin-generated-images/core';

interface Input {
  root: string;
  formats: Format[];
  widths: number[];
  prompts: string[];
}

const input = JSON.parse(await fs.readFile(process.argv[2]!, 'utf8')) as Input;
const options = resolveOptions({ formats: input.formats, widths: input.widths, frozen: true }, { root: input.root, env: {} });
const pipeline = new ImagePipeline(options, { info: () => {}, warn: (message) => console.error(message) });

const cpu = process.cpuUsage();
const start = performance.now();
await pipeline.prepare(input.prompts.map((prompt) => ({ prompt, ratio: '16:9', variant: 0 })));
const wallMs = performance.now() - start;
const used = process.cpuUsage(cpu);
console.log(JSON.stringify({ wallMs, cpuMs: (used.user + used.system) / 1000, maxRssKB: process.resourceUsage().maxRSS, encoded: pipeline.optimizer.encoded }));
