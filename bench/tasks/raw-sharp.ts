// Child process: the baseline a developer would write by hand — plain sharp,
// one file per (image, format, width), a fixed number of encodes in flight.
// Prints one JSON line: wall and CPU time of the encoding, peak RSS, output size.
import { promises as fs } from 'node:fs';
import sharp from 'sharp';

export interface RawJob {
  input: string;
  output: string;
  width: number;
  format: 'avif' | 'webp' | 'jpeg' | 'png';
  options: Record<string, number | boolean>;
}

const { jobs, inFlight, vipsThreads } = JSON.parse(await fs.readFile(process.argv[2]!, 'utf8')) as { jobs: RawJob[]; inFlight: number; vipsThreads?: number };
if (vipsThreads) sharp.concurrency(vipsThreads);

const cpu = process.cpuUsage();
const start = performance.now();
let next = 0;
let bytes = 0;
const worker = async () => {
  while (next < jobs.length) {
    const job = jobs[next++]!;
    const info = await sharp(job.input).rotate().resize({ width: job.width, withoutEnlargement: true }).toFormat(job.format, job.options).toFile(job.output);
    bytes += info.size;
  }
};
await Promise.all(Array.from({ length: inFlight }, worker));
const wallMs = performance.now() - start;
const used = process.cpuUsage(cpu);
console.log(JSON.stringify({ wallMs, cpuMs: (used.user + used.system) / 1000, maxRssKB: process.resourceUsage().maxRSS, files: jobs.length, bytes, vipsThreads: sharp.concurrency() }));
