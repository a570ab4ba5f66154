import { createHash } from 'node:crypto';
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
});
