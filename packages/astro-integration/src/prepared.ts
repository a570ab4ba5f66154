import { normalizePrompt, type ImageRequest, type ImageSize, type ResolvedImage } from 'vite-plugin-generated-images/core';

/**
 * What a production server needs to show the images a build prepared, with
 * no cache, pipeline or gateway at hand: each image's plan and URLs, compiled
 * into the server bundle by the build (see vite.ts).
 */
export interface PreparedImage {
  plan: ResolvedImage['plan'];
  placeholderUrl?: string;
  /** Art direction: below each media query, that image's plan. */
  art: Array<{ media: string; plan: ResolvedImage['plan'] }>;
  /** Each file's URL in the build output, by file name. */
  urls: Record<string, string>;
}

export interface PreparedImages {
  /** For the placeholder of an image the build did not prepare: its box, as the final image's. */
  settings: { widths?: number[]; imageSize: ImageSize | null };
  /** By `requestId`. */
  images: Record<string, PreparedImage>;
}

/** One image and its files: the props that choose them, as the component reads them. */
export function requestId(request: ImageRequest): string {
  const { ratio, variant, widths, formats, quality, references, art } = request;
  return JSON.stringify([normalizePrompt(request.prompt), ratio, variant, widths ?? null, formats ?? null, quality ?? null, references ?? null, art ?? null]);
}

/** Every file name an image's markup can reference. */
export function preparedFiles(image: Pick<PreparedImage, 'plan' | 'art'>): string[] {
  return [image.plan, ...image.art.map((a) => a.plan)].flatMap((plan) => [...plan.sources.flatMap((s) => s.variants.map((v) => v.name)), plan.fallback.name]);
}
