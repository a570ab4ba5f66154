import { promises as fs } from 'node:fs';
import path from 'node:path';
import fg from 'fast-glob';
import { mayContainUsage } from './extract.js';
import { findUsages, type InterpretOptions, type UsageScan } from './usage.js';

export interface ScanOptions extends InterpretOptions {
  root: string;
  include: string[];
  /** Extra files to scan (HTML entries from the build config). */
  files?: string[];
  /** Folders never scanned: the cache, the build output. */
  exclude?: string[];
}

/** Files read at once while scanning; enough to keep the disk busy without opening thousands of handles. */
const READ_CONCURRENCY = 64;

/** Finds every usage in the project's source before bundling, with the same extractor the transform uses. */
export async function scanProject(options: ScanOptions): Promise<UsageScan & { files: number }> {
  const found = await fg(options.include, {
    cwd: options.root,
    absolute: true,
    onlyFiles: true,
    ignore: ['**/node_modules/**', '**/.git/**', ...(options.exclude ?? [])],
  });
  const files = [...new Set([...found.map((f) => path.normalize(f)), ...(options.files ?? []).map((f) => path.resolve(options.root, f))])].sort();
  const result: UsageScan & { files: number } = { usages: [], errors: [], warnings: [], files: files.length };
  const perFile: UsageScan[] = new Array(files.length);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const index = next++;
      const file = files[index]!;
      const code = await fs.readFile(file, 'utf8').catch(() => '');
      // Astro components render in Node at build time: a prompt from an expression is resolved during render.
      const interpret = { allowDynamicPrompt: options.allowDynamicPrompt || file.endsWith('.astro') };
      perFile[index] = mayContainUsage(code) ? findUsages(code, file, interpret) : { usages: [], errors: [], warnings: [] };
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, files.length) }, worker));
  for (const scan of perFile) {
    result.usages.push(...scan.usages);
    result.errors.push(...scan.errors);
    result.warnings.push(...scan.warnings);
  }
  return result;
}
