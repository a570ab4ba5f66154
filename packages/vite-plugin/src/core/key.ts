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
  /** Image inputs sent with the prompt, in order (the `references` option's, then the usage's). */
  references?: ReferenceFile[];
}

/** An image input: the file (relative to the project root, with `/`) and the sha256 hex of its bytes. */
export interface ReferenceFile {
  file: string;
  sha256: string;
}

export function normalizePrompt(prompt: string): string {
  return prompt.replace(/\s+/g, ' ').trim();
}

/** First 16 hex digits of sha256 over the spec, fields in a fixed order (the SPEC's cache key; `references` last, as digests). */
export function cacheKey(spec: ImageSpec): string {
  const fields: Record<string, unknown> = {
    v: 1,
    model: spec.model,
    prompt: normalizePrompt(spec.prompt),
    style: spec.style ?? null,
    ratio: spec.ratio,
    variant: spec.variant,
    imageSize: spec.imageSize ?? null,
  };
  // Only when there are references, so that every key made before they existed stays the same.
  if (spec.references?.length) fields.references = spec.references.map((r) => r.sha256);
  const payload = JSON.stringify(fields);
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
