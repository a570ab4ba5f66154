import { normalizePrompt, type ImageRequest, type ImageSize, type ResolvedImage } from 'vite-plugin-generated-images/core';

/**
 * What a production server needs to show the images a build prepared, with
 * no cache, pipeline or gateway at hand: each image's plan and URLs, compiled
 * into the server bundle by the build (see vite.ts).
 */
export interface PreparedImage {
  plan: ResolvedImage['plan'];
  placeholderUrl?: string;
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
  return JSON.stringify([normalizePrompt(request.prompt), request.ratio, request.variant, request.widths ?? null, request.formats ?? null, request.quality ?? null]);
}

/** Every file name an image's markup can reference. */
export function preparedFiles(image: Pick<PreparedImage, 'plan'>): string[] {
  return [...image.plan.sources.flatMap((s) => s.variants.map((v) => v.name)), image.plan.fallback.name];
}
