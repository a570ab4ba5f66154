import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CacheStore } from '../../packages/vite-plugin/src/core/cache/store.ts';
import { stableStringify } from '../../packages/vite-plugin/src/core/cache/manifest-text.ts';
import { writeFileAtomic } from '../../packages/vite-plugin/src/core/fs/atomic.ts';
import { sha256 } from '../../packages/vite-plugin/src/core/key.ts';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gi-cache-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const meta = { prompt: 'A red kite', style: null, ratio: '1:1' as const, variant: 0, imageSize: null, model: 'google/gemini-2.0-flash', width: 1024, height: 1024, createdAt: '2026-11-25T12:00:00.000Z', modelText: null };

describe('the cache store', () => {
  it('writes the original, then a sorted, 2-space manifest that names it with its sha256', async () => {
    const store = await new CacheStore(dir).load();
    const data = Buffer.from('png bytes');
    await store.putOriginal('0123456789abcdef', data, meta, 'png');
    await store.putOriginal('00000000000000ff', Buffer.from('other'), { ...meta, prompt: 'B' }, 'webp');
    const text = await fs.readFile(path.join(dir, 'manifest.json'), 'utf8');
    const manifest = JSON.parse(text);
    expect(Object.keys(manifest)).toEqual(['images', 'version']);
    expect(Object.keys(manifest.images)).toEqual(['00000000000000ff', '0123456789abcdef']);
    expect(manifest.images['0123456789abcdef']).toMatchObject({ file: '0123456789abcdef.png', bytes: data.length, sha256: sha256(data), variants: {} });
    expect(text).toBe(stableStringify(manifest));
    expect(text.split('\n')[1]).toBe('  "images": {');
    expect(await fs.readFile(path.join(dir, '0123456789abcdef.png'))).toEqual(data);
    expect(await fs.readFile(path.join(dir, '00000000000000ff.webp'), 'utf8')).toBe('other');
  });

  it('produces the same bytes for the same content whatever the insertion order', async () => {
    const a = await new CacheStore(path.join(dir, 'a')).load();
    const b = await new CacheStore(path.join(dir, 'b')).load();
    await a.putOriginal('1111111111111111', Buffer.from('1'), meta, 'png');
    await a.putOriginal('2222222222222222', Buffer.from('2'), meta, 'png');
    await b.putOriginal('2222222222222222', Buffer.from('2'), meta, 'png');
    await b.putOriginal('1111111111111111', Buffer.from('1'), meta, 'png');
    expect(await fs.readFile(path.join(dir, 'a/manifest.json'), 'utf8')).toBe(await fs.readFile(path.join(dir, 'b/manifest.json'), 'utf8'));
  });

  it('merges entries written by two stores (processes) sharing the folder', async () => {
    const one = await new CacheStore(dir).load();
    const two = await new CacheStore(dir).load();
    await one.putOriginal('1111111111111111', Buffer.from('1'), meta, 'png');
    await two.putOriginal('2222222222222222', Buffer.from('2'), meta, 'png');
    const fresh = await new CacheStore(dir).load();
    expect(Object.keys(fresh.images).sort()).toEqual(['1111111111111111', '2222222222222222']);
  });

  it('leaves the old file whole when a write is interrupted before its rename', async () => {
    const file = path.join(dir, 'manifest.json');
    await writeFileAtomic(file, '{"version":1,"images":{}}\n');
    // A write that dies mid-way leaves only its temp file behind; the real file is untouched.
    const temp = path.join(dir, `.manifest.json.99999.deadbeef.tmp`);
    await fs.writeFile(temp, '{"version":1,"ima');
    expect(await fs.readFile(file, 'utf8')).toBe('{"version":1,"images":{}}\n');
    const store = await new CacheStore(dir).load();
    expect(store.images).toEqual({});
  });

  it('refuses a manifest that is not JSON, without touching it', async () => {
    const file = path.join(dir, 'manifest.json');
    await fs.writeFile(file, '{ "version": 1, "images": { oops');
    await expect(new CacheStore(dir).load()).rejects.toThrow(/manifest\.json is not valid JSON .*Nothing was changed/);
    expect(await fs.readFile(file, 'utf8')).toBe('{ "version": 1, "images": { oops');
  });

  it('refuses entries that point outside the cache folder and manifests from a newer version', async () => {
    const file = path.join(dir, 'manifest.json');
    await fs.writeFile(file, JSON.stringify({ version: 1, images: { '0123456789abcdef': { ...meta, file: '../secret.png', sha256: 'x', bytes: 1, variants: {} } } }));
    await expect(new CacheStore(dir).load()).rejects.toThrow(/points at "\.\.\/secret\.png"; files must be plain names inside the cache folder/);
    await fs.writeFile(file, JSON.stringify({ version: 2, images: {} }));
    await expect(new CacheStore(dir).load()).rejects.toThrow(/version 2, newer than this plugin understands \(1\)/);
  });

  it('catches an original that does not match its sha256', async () => {
    const store = await new CacheStore(dir).load();
    await store.putOriginal('0123456789abcdef', Buffer.from('original'), meta, 'png');
    await fs.writeFile(path.join(dir, '0123456789abcdef.png'), 'tampered');
    await expect(store.readOriginal('0123456789abcdef')).rejects.toThrow(/does not match its sha256/);
    expect(await fs.readFile(path.join(dir, '0123456789abcdef.png'), 'utf8')).toBe('tampered');
  });
});
