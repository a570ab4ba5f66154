// The manifest loader against damaged text (fast-check): random truncations,
// byte flips, duplicated and reordered lines of a real manifest.json whose
// files are on disk. Each load either fails with a clear CACHE error naming
// manifest.json, or succeeds — and then every entry whose line is intact and
// whose files verify is still there, or the load reported a repair.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stableStringify } from '../../packages/vite-plugin/src/core/cache/manifest-text.ts';
import { CacheStore } from '../../packages/vite-plugin/src/core/cache/store.ts';
import { GeneratedImagesError } from '../../packages/vite-plugin/src/core/errors.ts';
import { sha256 } from '../../packages/vite-plugin/src/core/key.ts';

let dir: string;
let text: string;
const keys = Array.from({ length: 6 }, (_, i) => (i + 1).toString(16).repeat(16));

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gi-fuzz-'));
  await fs.mkdir(path.join(dir, 'variants'));
  const images: Record<string, unknown> = {};
  for (const [i, key] of keys.entries()) {
    const data = `original ${i}`;
    const small = `variant ${i}`;
    await fs.writeFile(path.join(dir, `${key}.png`), data);
    await fs.writeFile(path.join(dir, 'variants', `${key}-64-abcdef12.webp`), small);
    images[key] = {
      prompt: `Picture ${i}, with "quotes", {braces}, [brackets], a comma, and a backslash \\`, style: i % 2 ? 'ink' : null, ratio: '1:1', variant: i, imageSize: null,
      model: 'google/gemini-2.0-flash', file: `${key}.png`, width: 1024, height: 1024, bytes: data.length, sha256: sha256(data),
      createdAt: '2026-11-25T12:00:00.000Z', modelText: i % 3 ? null : 'Here it is: }, {',
      variants: { [`${key}-64-abcdef12.webp`]: { sha256: sha256(small), bytes: small.length, width: 64, height: 64, transform: { format: 'webp', quality: 80, effort: 4 } } },
    };
  }
  text = stableStringify({ version: 1, images });
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'duplicate'; line: number; to: number }
  | { kind: 'move'; line: number; to: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), line: fc.nat(), to: fc.nat() }),
  fc.record({ kind: fc.constant('move' as const), line: fc.nat(), to: fc.nat() }),
);

function mutate(source: Buffer, m: Mutation): Buffer {
  if (m.kind === 'truncate') return source.subarray(0, m.at % source.length);
  if (m.kind === 'flip') {
    const copy = Buffer.from(source);
    copy[m.at % copy.length]! ^= 1 << m.bit;
    return copy;
  }
  const lines = source.toString('utf8').split('\n');
  const line = lines[m.line % lines.length]!;
  if (m.kind === 'move') lines.splice(m.line % lines.length, 1);
  lines.splice(m.to % (lines.length + 1), 0, line);
  return Buffer.from(lines.join('\n'));
}

it('a damaged manifest.json is a clear error or a reported repair, never a crash or a silently dropped entry', async () => {
  const counts = { error: 0, repaired: 0, intact: 0 };
  await fc.assert(
    fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
      const damaged = mutations.reduce(mutate, Buffer.from(text));
      await fs.writeFile(path.join(dir, 'manifest.json'), damaged);
      let store: CacheStore;
      try {
        store = await new CacheStore(dir).load();
      } catch (error) {
        expect(error).toBeInstanceOf(GeneratedImagesError);
        expect((error as GeneratedImagesError).code).toBe('CACHE');
        expect((error as Error).message).toContain('manifest.json');
        counts.error++;
        return;
      }
      const lines = new Set(damaged.toString('utf8').split('\n').map((l) => l.replace(/,$/, '')));
      const intact = keys.filter((key) => text.split('\n').some((l) => l.startsWith(`    "${key}"`) && lines.has(l.replace(/,$/, ''))));
      const lost = intact.filter((key) => !store.get(key));
      if (store.notes.length) counts.repaired++;
      else counts.intact++;
      expect(lost.length === 0 || store.notes.length > 0, `entries dropped without a note: ${lost.join(', ')}`).toBe(true);
      // An entry the load kept is one whose record is whole: its files are where it says, by the names it says.
      for (const key of Object.keys(store.images)) expect(store.get(key)!.file.startsWith(`${key}.`)).toBe(true);
    }),
    { numRuns: 1500 },
  );
  console.log(`manifest fuzz: ${JSON.stringify(counts)}`);
  expect(counts.error).toBeGreaterThan(0);
  expect(counts.repaired).toBeGreaterThan(0);
});
