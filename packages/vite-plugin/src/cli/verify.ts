import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { MANIFEST_FILE } from '../core/cache/manifest.js';
import { readIfExists } from '../core/fs/atomic.js';
import { sha256 } from '../core/key.js';
import { createLimit } from '../core/limit.js';
import { shorten } from '../core/text.js';
import type { CliContext } from './context.js';
import { plural } from './format.js';

/** What sharp reports as the format of each file type the cache holds. */
const SHARP_FORMAT: Record<string, string> = { png: 'png', jpeg: 'jpeg', jpg: 'jpeg', webp: 'webp', avif: 'heif' };

interface Expected {
  file: string;
  bytes: number;
  sha256: string;
  width: number;
  height: number;
  /** The format the file must decode as (from the transform, or the original's extension). */
  format: string;
  /** Whose file it is, for the report. */
  owner: string;
}

/** Every way one file can differ from its record; empty when it matches. */
async function check(expected: Expected): Promise<string[]> {
  const data = await readIfExists(expected.file);
  if (data === undefined) return [`missing (listed in ${MANIFEST_FILE} for ${expected.owner})`];
  const problems: string[] = [];
  if (data.length !== expected.bytes) problems.push(`${data.length} bytes, ${MANIFEST_FILE} says ${expected.bytes}`);
  const actual = sha256(data);
  if (actual !== expected.sha256) problems.push(`sha256 ${actual.slice(0, 16)}…, ${MANIFEST_FILE} says ${expected.sha256.slice(0, 16)}… (the file was changed)`);
  try {
    // A full decode, not just the header: a truncated or corrupt file fails here.
    const { info } = await sharp(data, { failOn: 'error' }).raw().toBuffer({ resolveWithObject: true });
    const { format } = await sharp(data).metadata();
    if (format !== SHARP_FORMAT[expected.format]) problems.push(`decodes as ${format}, expected ${expected.format}`);
    if (info.width !== expected.width || info.height !== expected.height) problems.push(`${info.width}×${info.height}, ${MANIFEST_FILE} says ${expected.width}×${expected.height}`);
  } catch (error) {
    problems.push(`does not decode as an image (${(error as Error).message.split('\n')[0]})`);
  }
  return problems;
}

/** `generated-images verify`: every original and variant against manifest.json. Exit 1 naming each mismatch. */
export async function verify(context: CliContext): Promise<number> {
  const cache = context.pipeline.cache;
  await context.pipeline.load();
  const expected: Expected[] = [];
  for (const [key, entry] of Object.entries(cache.images).sort(([a], [b]) => a.localeCompare(b))) {
    const owner = `${key} ${JSON.stringify(shorten(entry.prompt, 50))}`;
    expected.push({ file: cache.originalPath(entry), bytes: entry.bytes, sha256: entry.sha256, width: entry.width, height: entry.height, format: path.extname(entry.file).slice(1), owner });
    for (const [name, meta] of Object.entries(entry.variants).sort(([a], [b]) => a.localeCompare(b))) {
      expected.push({ file: cache.variantPath(name), bytes: meta.bytes, sha256: meta.sha256, width: meta.width, height: meta.height, format: meta.transform.format, owner });
    }
  }
  const limit = createLimit(Math.max(1, os.availableParallelism()));
  const results = await Promise.all(expected.map((e) => limit(() => check(e))));

  const out: string[] = [];
  let mismatches = 0;
  results.forEach((problems, i) => {
    if (!problems.length) return;
    mismatches++;
    out.push(`${context.rel(expected[i]!.file)}: ${problems.join('; ')}`);
  });

  const named = new Set(expected.map((e) => e.file));
  const unnamed: string[] = [];
  for (const [dir, pattern] of [[cache.dir, /^[0-9a-f]{16}\.(png|jpe?g|webp)$/], [cache.variantsDir, /^[^.]/]] as const) {
    for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
      const file = path.join(dir, name);
      if (pattern.test(name) && !named.has(file) && (await fs.stat(file)).isFile()) unnamed.push(context.rel(file));
    }
  }
  for (const note of cache.notes) out.push(`note: ${note}`);
  const attributes = (await readIfExists(path.join(cache.dir, '.gitattributes')))?.toString('utf8');
  if (Object.keys(cache.images).length && !/^manifest\.json\s+merge=union\s*$/m.test(attributes ?? '')) {
    out.push(`note: ${context.rel(path.join(cache.dir, '.gitattributes'))} ${attributes === undefined ? 'is missing' : 'does not give manifest.json git\'s union merge driver'}: add the line "manifest.json merge=union", or two branches that each add images conflict on ${MANIFEST_FILE} instead of merging`);
  }
  if (unnamed.length) out.push(`note: ${plural(unnamed.length, 'file is', 'files are')} not in ${MANIFEST_FILE} (\`generated-images prune\` deletes them): ${unnamed.sort().join(', ')}`);

  const originals = Object.keys(cache.images).length;
  const variants = expected.length - originals;
  out.push(
    mismatches
      ? `${plural(mismatches, 'file does', 'files do')} not match ${MANIFEST_FILE} (of ${plural(originals, 'original')} and ${plural(variants, 'variant')} in ${context.rel(cache.dir)}/): restore ${mismatches === 1 ? 'it' : 'them'} from git (git checkout -- ${context.rel(cache.dir)}), or delete ${mismatches === 1 ? 'it' : 'them'} and run \`generated-images prune\` and \`generated-images generate\``
      : `verified ${plural(originals, 'original')} and ${plural(variants, 'variant')} in ${context.rel(cache.dir)}/: every file matches ${MANIFEST_FILE}`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
  return mismatches ? 1 : 0;
}
