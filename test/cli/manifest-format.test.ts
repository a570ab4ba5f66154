import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CacheStore } from '../../packages/vite-plugin/src/core/cache/store.ts';
import { parseManifest } from '../../packages/vite-plugin/src/core/cache/manifest.ts';
import { sha256 } from '../../packages/vite-plugin/src/core/key.ts';
import { readManifestText, stableStringify } from '../../packages/vite-plugin/src/core/cache/manifest-text.ts';

const K1 = '1111111111111111';
const K2 = '2222222222222222';
const K3 = '3333333333333333';
const entry = (file: string, data: string, variants: Record<string, unknown> = {}) => ({
  prompt: `A prompt with "quotes", braces {}, a comma, and a backslash \\`, style: null, ratio: '1:1', variant: 0, imageSize: null,
  model: 'google/gemini-2.0-flash', file, width: 1024, height: 1024, bytes: data.length, sha256: sha256(data),
  createdAt: '2026-11-25T12:00:00.000Z', modelText: null, variants,
});
const variant = (data: string, width = 64) => ({ sha256: sha256(data), bytes: data.length, width, height: width, transform: { format: 'webp', quality: 80, effort: 4 } });
const line = (key: string, value: unknown, comma = true) => `    "${key}": ${JSON.stringify(value)}${comma ? ',' : ''}`;
const document = (lines: string[]) => `{\n  "images": {\n${lines.join('\n')}\n  },\n  "version": 1\n}\n`;

describe('the manifest.json text', () => {
  it('puts each image on one line, keys sorted at every level, the same bytes whatever the insertion order', () => {
    const a = { version: 1, images: { [K2]: entry(`${K2}.png`, 'two'), [K1]: entry(`${K1}.png`, 'one') } };
    const b = { images: { [K1]: entry(`${K1}.png`, 'one'), [K2]: entry(`${K2}.png`, 'two') }, version: 1 };
    const text = stableStringify(a);
    expect(stableStringify(b)).toBe(text);
    expect(text).toBe(document([`    "${K1}": ${JSON.stringify(sortDeep(a.images[K1]))},`, `    "${K2}": ${JSON.stringify(sortDeep(a.images[K2]))}`]));
    expect(JSON.parse(text)).toEqual(a);
    // Empty, the "images" lines stay: a branch that prunes every image changes only image lines.
    expect(stableStringify({ version: 1, images: {} })).toBe('{\n  "images": {\n  },\n  "version": 1\n}\n');
  });

  it('reads the SPEC\'s pretty-printed layout as it is, with nothing to repair', () => {
    const manifest = { version: 1, images: { [K1]: entry(`${K1}.png`, 'one'), [K2]: entry(`${K2}.png`, 'two') } };
    const read = readManifestText(`${JSON.stringify(manifest, null, 2)}\n`);
    expect(read.repairs).toEqual([]);
    expect(read.document).toEqual({ version: 1 });
    expect(read.images).toEqual(Object.entries(manifest.images));
  });

  it('repairs what a union merge leaves — a missing comma, a trailing comma, keys out of order — and keeps every copy of a key', () => {
    const one = entry(`${K1}.png`, 'one');
    const two = entry(`${K2}.png`, 'two');
    const three = entry(`${K3}.png`, 'three');
    const missingComma = document([line(K1, one), line(K3, three, false), line(K2, two, false)]);
    expect(() => JSON.parse(missingComma)).toThrow();
    const parsed = parseManifest(missingComma, 'manifest.json');
    expect(Object.keys(parsed.manifest.images)).toEqual([K1, K3, K2]);
    expect(parsed.repairs).toEqual(['a missing comma before line 5', 'images out of key order']);

    const trailing = parseManifest(document([line(K1, one), line(K2, two)]), 'manifest.json');
    expect(trailing.repairs).toEqual(['a trailing comma on line 4']);
    expect(Object.keys(trailing.manifest.images)).toEqual([K1, K2]);

    const twice = parseManifest(document([line(K1, one), line(K1, { ...one, createdAt: 'later' }, false)]), 'manifest.json');
    expect(twice.duplicates.get(K1)!.map((e) => e.createdAt)).toEqual(['2026-11-25T12:00:00.000Z', 'later']);
  });

  it('still refuses text that is not JSON, naming the file and changing nothing', () => {
    expect(() => parseManifest('{\n  "images": {\n    "1111111111111111": {"file": \n', '/site/generated-images/manifest.json')).toThrow(
      /\/site\/generated-images\/manifest\.json is not valid JSON .* Nothing was changed: restore it from git/,
    );
  });
});

function sortDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortDeep);
  if (value && typeof value === 'object') return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortDeep((value as Record<string, unknown>)[k])]));
  return value;
}

describe('a key given twice after a merge', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gi-manifest-'));
    await fs.mkdir(path.join(dir, 'variants'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('keeps the record of the original on disk, combines the variants of that original, reports it, and rewrites the file', async () => {
    await fs.writeFile(path.join(dir, `${K1}.png`), 'ours');
    await fs.writeFile(path.join(dir, 'variants', `${K1}-64-aaaaaaaa.webp`), 'small');
    await fs.writeFile(path.join(dir, 'variants', `${K1}-128-bbbbbbbb.webp`), 'large');
    const ours = entry(`${K1}.png`, 'ours', { [`${K1}-64-aaaaaaaa.webp`]: variant('small') });
    const oursWider = entry(`${K1}.png`, 'ours', { [`${K1}-128-bbbbbbbb.webp`]: variant('large', 128) });
    // The other branch generated the same prompt independently; git kept our PNG.
    const theirs = entry(`${K1}.png`, 'theirs', { [`${K1}-64-cccccccc.webp`]: variant('other') });
    await fs.writeFile(path.join(dir, 'manifest.json'), document([line(K1, theirs), line(K1, ours), line(K1, oursWider, false)]));

    const store = await new CacheStore(dir).load();
    const kept = store.get(K1)!;
    expect(kept.sha256).toBe(sha256('ours'));
    expect(Object.keys(kept.variants).sort()).toEqual([`${K1}-128-bbbbbbbb.webp`, `${K1}-64-aaaaaaaa.webp`]);
    expect(store.notes).toEqual([
      `manifest.json lists ${K1} 3 times (a git merge): kept the record of ${K1}.png (sha256 ${sha256('ours').slice(0, 12)}…) and dropped ${K1}.png (sha256 ${sha256('theirs').slice(0, 12)}…), a different image for the same prompt`,
    ]);
    await store.flush();
    const text = await fs.readFile(path.join(dir, 'manifest.json'), 'utf8');
    expect(text).toBe(stableStringify(JSON.parse(text)));
    expect(Object.keys(JSON.parse(text).images)).toEqual([K1]);
    expect((await new CacheStore(dir).load()).notes).toEqual([]);
  });
});
