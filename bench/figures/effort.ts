import type { Context } from '../lib/context.ts';
import { task } from '../lib/measure.ts';
import type { Original } from '../lib/originals.ts';
import { kilobytes, table, type Figure } from '../lib/report.ts';
import type { EffortRow } from '../tasks/effort.ts';
import { DEFAULT_EFFORT, DEFAULT_QUALITY } from '../../packages/vite-plugin/dist/core/optimize/plan.js';

/** Time, bytes and fidelity of every encoder effort, relative to the chosen default. */
export async function effort(ctx: Context, pictures: Original[]): Promise<Figure[]> {
  const { width, avif, webp } = ctx.config.effort;
  const result = await task<{ rows: EffortRow[] }>('effort', {
    files: pictures.map((p) => p.file),
    width,
    avif: { quality: DEFAULT_QUALITY.avif, efforts: avif },
    webp: { quality: DEFAULT_QUALITY.webp, efforts: webp },
  });
  for (const format of ['avif', 'webp'] as const) {
    const rows = result.rows.filter((r) => r.format === format);
    const base = rows.find((r) => r.effort === DEFAULT_EFFORT[format]) ?? rows[0]!;
    ctx.log();
    ctx.log(`${format.toUpperCase()}, quality ${DEFAULT_QUALITY[format]}, ${width} px wide, mean of ${pictures.length} picture${pictures.length === 1 ? '' : 's'} (one libvips thread; default effort marked *)`);
    ctx.log();
    ctx.log(table(['effort', 'CPU per file', 'time vs default', 'bytes', 'bytes vs default', 'PSNR'], rows.map((r) => [
      `${r.effort}${r.effort === DEFAULT_EFFORT[format] ? ' *' : ''}`,
      `${Math.round(r.cpuMs)} ms`,
      `${(r.cpuMs / base.cpuMs).toFixed(2)}×`,
      kilobytes(r.bytes),
      `${r.bytes >= base.bytes ? '+' : ''}${(((r.bytes - base.bytes) / base.bytes) * 100).toFixed(1)}%`,
      `${r.psnr.toFixed(2)} dB`,
    ])));
  }
  ctx.log();
  return [];
}
