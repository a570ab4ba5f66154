import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { convertPathToPattern, glob } from 'tinyglobby';

export interface FingerprintOptions {
  root: string;
  /** Files that hold usages (absolute paths): the scan's, wherever they are. */
  files: string[];
  /** Folders whose every file counts: where a site keeps the data its prompts may come from (Astro's srcDir). */
  dataDirs: string[];
  exclude: string[];
}

/**
 * One hash of the sources a render-time prompt can come from: every file
 * under the data folders (pages, components, content collections, JSON,
 * YAML, modules) and the files that hold usages elsewhere. A build records
 * it beside what its pages rendered, and the CLI compares: a different hash
 * means the record may not describe the sources any more. Other files (a
 * README.md the scan reads and finds nothing in) do not count, so editing
 * them leaves the record current. Line endings are ignored, so a checkout
 * with `core.autocrlf` fingerprints as the commit it came from.
 */
export async function sourceFingerprint(options: FingerprintOptions): Promise<string> {
  const patterns = options.dataDirs.map((dir) => `${convertPathToPattern(path.relative(options.root, dir) || '.')}/**/*`);
  const found = await glob(patterns, {
    cwd: options.root,
    onlyFiles: true,
    expandDirectories: false,
    dot: false,
    ignore: ['**/node_modules/**', '**/.git/**', ...options.exclude],
  });
  const files = [...found, ...options.files.map((file) => path.relative(options.root, file))];
  const hash = createHash('sha256');
  for (const file of [...new Set(files.map((f) => f.split(path.sep).join('/')))].sort()) {
    const bytes = await fs.readFile(path.join(options.root, file)).catch(() => undefined);
    if (!bytes) continue;
    const text = bytes.includes(0) ? bytes : Buffer.from(bytes.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
    hash.update(`${file}\0${createHash('sha256').update(text).digest('hex')}\n`);
  }
  return hash.digest('hex').slice(0, 32);
}

/** The files a scan found usages in, its prompts from expressions included. */
export function usageFiles(scan: { usages: Array<{ loc: { file: string } }>; dynamic?: Array<{ file: string }> }): string[] {
  return [...new Set([...scan.usages.map((u) => u.loc.file), ...(scan.dynamic ?? []).map((d) => d.file)])];
}
