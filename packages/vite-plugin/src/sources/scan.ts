import { readFileSync } from 'node:fs';
import path from 'node:path';
import { globSync } from 'tinyglobby';
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

/**
 * Files read between two turns of the event loop. A small source file read
 * synchronously costs some microseconds; through fs.promises its open, stat,
 * read and close are four thread-pool round trips, which made a scan of 5,000
 * files three times slower. Batches keep a dev server responsive meanwhile.
 */
const READ_BATCH = 256;

/** Finds every usage in the project's source before bundling, with the same extractor the transform uses. */
export async function scanProject(options: ScanOptions): Promise<Required<UsageScan> & { files: number }> {
  // Synchronously, like the reads below: a build waits on the scan, and the walk of a site's folders takes a few milliseconds.
  const found = globSync(options.include, {
    cwd: options.root,
    absolute: true,
    onlyFiles: true,
    expandDirectories: false,
    ignore: ['**/node_modules/**', '**/.git/**', ...(options.exclude ?? [])],
  });
  const files = [...new Set([...found.map((f) => path.normalize(f)), ...(options.files ?? []).map((f) => path.resolve(options.root, f))])].sort();
  const result: Required<UsageScan> & { files: number } = { usages: [], errors: [], warnings: [], dynamic: [], files: files.length };
  const perFile: UsageScan[] = [];
  for (let start = 0; start < files.length; start += READ_BATCH) {
    if (start > 0) await new Promise((resolve) => setImmediate(resolve));
    for (const file of files.slice(start, start + READ_BATCH)) {
      let code = '';
      try {
        code = readFileSync(file, 'utf8');
      } catch {
        // Deleted between the glob and the read: nothing to scan.
      }
      // Astro components render in Node at build time: a prompt from an expression is resolved during render.
      const interpret = {
        allowDynamicPrompt: options.allowDynamicPrompt || file.endsWith('.astro'),
        // In Astro these render through the component, which resolves relative references against the root.
        referencesFromRoot: options.allowDynamicPrompt && /\.(astro|mdx?)$/.test(file),
      };
      perFile.push(mayContainUsage(code) ? findUsages(code, file, interpret) : { usages: [], errors: [], warnings: [] });
    }
  }
  for (const scan of perFile) {
    result.usages.push(...scan.usages);
    result.errors.push(...scan.errors);
    result.warnings.push(...scan.warnings);
    result.dynamic.push(...(scan.dynamic ?? []));
  }
  return result;
}
