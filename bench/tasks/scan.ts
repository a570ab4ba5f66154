// Child process: scanProject (the scan every build starts with) over a large
// source tree, first in a fresh process as a build runs it, then again warm.
// Prints one JSON line.
import { promises as fs } from 'node:fs';
import { scanProject } from '../../packages/vite-plugin/dist/sources/scan.js';

const { root, include, repeat } = JSON.parse(await fs.readFile(process.argv[2]!, 'utf8')) as { root: string; include: string[]; repeat: number };
const times: number[] = [];
let result: Awaited<ReturnType<typeof scanProject>> | undefined;
for (let i = 0; i < repeat; i++) {
  const start = performance.now();
  result = await scanProject({ root, include });
  times.push(performance.now() - start);
}
console.log(JSON.stringify({ times, files: result!.files, usages: result!.usages.length, errors: result!.errors.length, usageFiles: new Set(result!.usages.map((u) => u.loc.file)).size }));
