import { promises as fs } from 'node:fs';
import path from 'node:path';
import { renderPhoto } from './photo.ts';
import { BENCH_TMP } from './paths.ts';

/** The size the gateway returns for 16:9, the most common ratio on a web page. */
export const WIDTH = 1344;
export const HEIGHT = 768;
/** Bump when renderPhoto changes, so that stale pictures are not reused. */
const GENERATOR = 'photo-v1';

export interface Original {
  index: number;
  prompt: string;
  file: string;
}

export function promptFor(index: number): string {
  return `Benchmark photograph ${index}: hills under a clear sky, soft evening light`;
}

/**
 * The first `count` benchmark pictures as PNG files, rendered once and kept
 * under bench/.tmp so that later runs (and the larger sites) reuse them.
 */
export async function originals(count: number, onProgress?: (done: number) => void): Promise<Original[]> {
  const dir = path.join(BENCH_TMP, 'originals', `${GENERATOR}-${WIDTH}x${HEIGHT}`);
  await fs.mkdir(dir, { recursive: true });
  const list = Array.from({ length: count }, (_, index) => ({ index, prompt: promptFor(index), file: path.join(dir, `${index}.png`) }));
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < list.length) {
      const item = list[next++]!;
      const exists = await fs.stat(item.file).then((s) => s.size > 0, () => false);
      if (!exists) {
        const png = await renderPhoto(item.prompt, WIDTH, HEIGHT);
        const temp = `${item.file}.${process.pid}.part`;
        await fs.writeFile(temp, png);
        await fs.rename(temp, item.file);
      }
      onProgress?.(++done);
    }
  };
  // Rendering is half JavaScript, half libvips: two at once keeps both busy.
  await Promise.all([worker(), worker()]);
  return list;
}
