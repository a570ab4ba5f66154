import path from 'node:path';
import type { Context } from '../lib/context.ts';
import { median, task } from '../lib/measure.ts';
import { check, seconds, type Figure } from '../lib/report.ts';
import { writeSourceTree } from '../lib/source-tree.ts';

/** The SPEC's default include. */
const INCLUDE = ['src/**/*.{astro,html,jsx,tsx,vue,svelte,md,mdx}', '*.html'];

/** scanProject over a large source tree, in a fresh process (as a build runs it), then warm. */
export async function scan(ctx: Context): Promise<Figure[]> {
  const { files, usages } = ctx.config.scan;
  const root = path.join(ctx.work, 'scan');
  await writeSourceTree(root, files, usages);
  const result = await task<{ times: number[]; files: number; usages: number; errors: number; usageFiles: number }>('scan', { root, include: INCLUDE, repeat: 5 });
  check(result.files === files, `the scan read ${result.files} files, expected ${files}`);
  check(result.usages === usages && result.usageFiles === usages && result.errors === 0, `the scan found ${result.usages} usages in ${result.usageFiles} files with ${result.errors} errors, expected ${usages} usages and no errors`);
  const [first, ...rest] = result.times as [number, ...number[]];
  const warm = median(rest);
  ctx.log(`  first scan in a fresh process: ${seconds(first)} (${Math.round(files / (first / 1000))} files/s); warm: ${seconds(warm)} (${Math.round(files / (warm / 1000))} files/s)`);
  const target = 500;
  return [{ name: `scan of ${files} files holding ${usages} usages`, measured: `${seconds(first)}, ${Math.round(files / (first / 1000)).toLocaleString('en')} files/s`, target: '≤ 0.5 s', met: first <= target }];
}
