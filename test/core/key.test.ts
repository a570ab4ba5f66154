import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cacheKey, fullPrompt } from '../../packages/vite-plugin/src/core/key.ts';

const base = { model: 'google/gemini-2.0-flash', prompt: 'A beautiful sunset over mountains, oil painting', style: null, ratio: '16:9' as const, variant: 0, imageSize: null };

describe('the cache key', () => {
  it('is the first 16 hex digits of sha256 over the SPEC’s JSON, in its key order', () => {
    const json = '{"v":1,"model":"google/gemini-2.0-flash","prompt":"A beautiful sunset over mountains, oil painting","style":null,"ratio":"16:9","variant":0,"imageSize":null}';
    expect(cacheKey(base)).toBe(createHash('sha256').update(json).digest('hex').slice(0, 16));
    expect(cacheKey(base)).toMatch(/^[0-9a-f]{16}$/);
  });

  it('collapses whitespace in the prompt', () => {
    expect(cacheKey({ ...base, prompt: '  A beautiful   sunset over\n mountains,\toil painting ' })).toBe(cacheKey(base));
  });

  it('changes with every field that changes the picture', () => {
    const keys = new Set([
      cacheKey(base),
      cacheKey({ ...base, model: 'other/model' }),
      cacheKey({ ...base, prompt: 'A sunrise' }),
      cacheKey({ ...base, style: 'watercolour' }),
      cacheKey({ ...base, ratio: '1:1' }),
      cacheKey({ ...base, variant: 1 }),
      cacheKey({ ...base, imageSize: '2K' }),
    ]);
    expect(keys.size).toBe(7);
  });

  it('appends the site style to the prompt sent', () => {
    expect(fullPrompt({ prompt: 'A cat', style: 'flat illustration' })).toBe('A cat. flat illustration');
    expect(fullPrompt({ prompt: 'A cat.', style: 'flat illustration' })).toBe('A cat. flat illustration');
    expect(fullPrompt({ prompt: ' A  cat ', style: null })).toBe('A cat');
  });

  it('gains the references’ sha256 digests, in order, after imageSize, only when there are references', () => {
    const a = { file: 'brand/a.png', sha256: 'a'.repeat(64) };
    const b = { file: 'brand/b.png', sha256: 'b'.repeat(64) };
    const json = `{"v":1,"model":"google/gemini-2.0-flash","prompt":"A beautiful sunset over mountains, oil painting","style":null,"ratio":"16:9","variant":0,"imageSize":null,"references":["${a.sha256}","${b.sha256}"]}`;
    expect(cacheKey({ ...base, references: [a, b] })).toBe(createHash('sha256').update(json).digest('hex').slice(0, 16));
    expect(cacheKey({ ...base, references: [b, a] })).not.toBe(cacheKey({ ...base, references: [a, b] }));
    // The file's name is not part of the key, its bytes are.
    expect(cacheKey({ ...base, references: [{ ...a, file: 'elsewhere.png' }, b] })).toBe(cacheKey({ ...base, references: [a, b] }));
    expect(cacheKey({ ...base, references: [] })).toBe(cacheKey(base));
  });

  it('keeps every key of the examples’ committed caches, made before references existed', () => {
    for (const example of ['vite-vanilla', 'vite-react', 'astro-site']) {
      const manifest = JSON.parse(readFileSync(path.join(import.meta.dirname, '../../examples', example, 'generated-images/manifest.json'), 'utf8'));
      const entries = Object.entries(manifest.images as Record<string, typeof base>);
      expect(entries.length).toBeGreaterThan(0);
      for (const [key, entry] of entries) {
        expect(cacheKey({ model: entry.model, prompt: entry.prompt, style: entry.style, ratio: entry.ratio, variant: entry.variant, imageSize: entry.imageSize })).toBe(key);
      }
    }
  });
});
