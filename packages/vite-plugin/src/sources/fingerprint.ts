import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import fg from 'fast-glob';

export interface FingerprintOptions {
  root: string;
  /** The globs the scan reads (relative to root). */
  include: string[];
  /** Folders whose every file counts: where a site keeps the data its prompts may come from (Astro's srcDir). */
  dataDirs: string[];
  exclude: string[];
}

/**
 * One hash of the sources a render-time prompt can come from: the scanned
 * files and everything under the data folders (content collections, JSON,
 * YAML, modules). A build records it beside what its pages rendered, and the
 * CLI compares: a different hash means the record may not describe the
 * sources any more. Line endings are ignored, so a checkout with
 * `core.autocrlf` fingerprints as the commit it came from.
 */
export async function sourceFingerprint(options: FingerprintOptions): Promise<string> {
  const patterns = [
    ...options.include,
    ...options.dataDirs.map((dir) => `${fg.convertPathToPattern(path.relative(options.root, dir) || '.')}/**/*`),
  ];
  const files = await fg(patterns, {
    cwd: options.root,
    onlyFiles: true,
    dot: false,
    ignore: ['**/node_modules/**', '**/.git/**', ...options.exclude],
  });
  const hash = createHash('sha256');
  for (const file of [...new Set(files.map((f) => f.split(path.sep).join('/')))].sort()) {
    const bytes = await fs.readFile(path.join(options.root, file)).catch(() => undefined);
    if (!bytes) continue;
    const text = bytes.includes(0) ? bytes : Buffer.from(bytes.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
    hash.update(`${file}\0${createHash('sha256').update(text).digest('hex')}\n`);
  }
  return hash.digest('hex').slice(0, 32);
}
