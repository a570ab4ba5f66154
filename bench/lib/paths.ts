import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const REPO = path.dirname(BENCH);
/** Everything the benchmark writes; gitignored. Inside the repo so that sites resolve the workspace packages. */
export const BENCH_TMP = path.join(BENCH, '.tmp');
export const BIN = path.join(REPO, 'node_modules', '.bin');
export const NODE = process.execPath;
