import { generatedImages } from './plugin.js';

export default generatedImages;
export { generatedImages };
export type { GeneratedImagesOptions, Format, Placeholder } from './options.js';
export type { Ratio, ImageSize } from './ratios.js';
export type { GeneratedImageProps } from './jsx.js';
