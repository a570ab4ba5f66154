/** The aspect ratios gateways of this family serve, with the size they return at `imageSize` 1K. */
export const RATIO_SIZES = {
  '1:1': [1024, 1024],
  '16:9': [1344, 768],
  '9:16': [768, 1344],
  '4:3': [1184, 864],
  '3:2': [1248, 832],
  '2:3': [832, 1248],
  '3:4': [864, 1184],
  '4:5': [896, 1152],
  '5:4': [1152, 896],
  '21:9': [1536, 672],
} as const satisfies Record<string, readonly [number, number]>;

export type Ratio = keyof typeof RATIO_SIZES;
export const RATIOS = Object.keys(RATIO_SIZES) as Ratio[];

export type ImageSize = '1K' | '2K' | '4K';
export const IMAGE_SIZES: readonly ImageSize[] = ['1K', '2K', '4K'];
const SCALE: Record<ImageSize, number> = { '1K': 1, '2K': 2, '4K': 4 };

/** Gateways return these sizes; a returned image more than this far off the expected aspect ratio is rejected. */
export const RATIO_TOLERANCE = 0.01;

export function isRatio(value: unknown): value is Ratio {
  return typeof value === 'string' && Object.hasOwn(RATIO_SIZES, value);
}

export function expectedSize(ratio: Ratio, imageSize: ImageSize | null): { width: number; height: number } {
  const [w, h] = RATIO_SIZES[ratio];
  const s = SCALE[imageSize ?? '1K'];
  return { width: w * s, height: h * s };
}

/** Relative deviation of `width/height` from the size the gateway serves for `ratio`. */
export function ratioDeviation(ratio: Ratio, width: number, height: number): number {
  const [w, h] = RATIO_SIZES[ratio];
  return Math.abs(width / height / (w / h) - 1);
}
