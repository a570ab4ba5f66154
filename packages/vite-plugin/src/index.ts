import { generatedImages } from './vite/plugin.js';

export default generatedImages;
export { generatedImages };
export type { GeneratedImagesOptions, Format, Placeholder } from './core/options.js';
export type { Ratio, ImageSize } from './core/ratios.js';
export type { GeneratedImageProps } from './jsx.js';
