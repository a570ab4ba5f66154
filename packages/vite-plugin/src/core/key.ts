import { createHash } from 'node:crypto';
import type { ImageSize, Ratio } from './ratios.js';

/** What identifies one generated image: everything that changes the picture the gateway returns. */
export interface ImageSpec {
  model: string;
  prompt: string;
  style: string | null;
  ratio: Ratio;
  variant: number;
  imageSize: ImageSize | null;
}

export function normalizePrompt(prompt: string): string {
  return prompt.replace(/\s+/g, ' ').trim();
}

/** First 16 hex digits of sha256 over the spec, fields in a fixed order (the SPEC's cache key). */
export function cacheKey(spec: ImageSpec): string {
  const payload = JSON.stringify({
    v: 1,
    model: spec.model,
    prompt: normalizePrompt(spec.prompt),
    style: spec.style ?? null,
    ratio: spec.ratio,
    variant: spec.variant,
    imageSize: spec.imageSize ?? null,
  });
  return createHash('sha256').update(payload).digest('hex').slice(0, 16);
}

/** The text sent to the gateway: the prompt with the site-wide style appended. */
export function fullPrompt(spec: Pick<ImageSpec, 'prompt' | 'style'>): string {
  const prompt = normalizePrompt(spec.prompt);
  if (!spec.style) return prompt;
  return `${prompt}${/[.!?]$/.test(prompt) ? '' : '.'} ${spec.style}`;
}

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}
