// Child process: time, size and fidelity of every AVIF and WebP `effort`
// level on the benchmark's pictures, one encode at a time on one libvips
// thread, so that CPU time is the encoder's own cost. Prints one JSON line.
import { promises as fs } from 'node:fs';
import sharp from 'sharp';

interface Input {
  files: string[];
  width: number;
  avif: { quality: number; efforts: number[] };
  webp: { quality: number; efforts: number[] };
}

export interface EffortRow {
  format: 'avif' | 'webp';
  effort: number;
  /** Mean CPU milliseconds per encode. */
  cpuMs: number;
  /** Mean bytes per file. */
  bytes: number;
  /** Mean PSNR (dB) of the decoded file against the resized source. */
  psnr: number;
}

const input = JSON.parse(await fs.readFile(process.argv[2]!, 'utf8')) as Input;
sharp.concurrency(1);
sharp.cache(false);

const references = await Promise.all(
  input.files.map(async (file) => {
    const { data, info } = await sharp(file).resize({ width: input.width }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    return { file, data, info };
  }),
);

function psnr(a: Buffer, b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sum += d * d;
  }
  const mse = sum / a.length;
  return mse === 0 ? 99 : 10 * Math.log10((255 * 255) / mse);
}

const rows: EffortRow[] = [];
for (const format of ['avif', 'webp'] as const) {
  const { quality, efforts } = input[format];
  for (const effort of efforts) {
    let cpu = 0;
    let bytes = 0;
    let fidelity = 0;
    for (const ref of references) {
      const pipeline = sharp(ref.data, { raw: ref.info }).toFormat(format, { quality, effort });
      const before = process.cpuUsage();
      const encoded = await pipeline.toBuffer();
      const used = process.cpuUsage(before);
      cpu += (used.user + used.system) / 1000;
      bytes += encoded.length;
      const decoded = await sharp(encoded).removeAlpha().raw().toBuffer();
      fidelity += psnr(ref.data, decoded);
    }
    const n = references.length;
    rows.push({ format, effort, cpuMs: cpu / n, bytes: bytes / n, psnr: fidelity / n });
  }
}
console.log(JSON.stringify({ rows }));
