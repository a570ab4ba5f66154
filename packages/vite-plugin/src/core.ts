/** The shared core, for the Astro integration and tools built on the same pipeline and cache. */
export { ImagePipeline, type ImageRequest, type ResolvedImage, type BuildSummary } from './pipeline.js';
export { resolveOptions, OptionsError, FORMATS, type GeneratedImagesOptions, type ResolvedOptions, type Format } from './options.js';
export { CacheStore, CacheError, type CacheEntry, type VariantEntry, type Manifest, type Transform } from './cache.js';
export { cacheKey, normalizePrompt, type ImageSpec } from './key.js';
export { RATIOS, RATIO_SIZES, isRatio, expectedSize, type Ratio, type ImageSize } from './ratios.js';
export { scanProject } from './scan.js';
export { findUsages, replaceUsages, MAX_PROMPT_LENGTH, type Usage } from './usage.js';
export { pictureModel, renderPicture, type RenderProps, type PictureModel } from './render.js';
export { renderPending } from './markup.js';
export { GeneratedImagesError } from './errors.js';
export { withStatusLine, type Reporter } from './progress.js';
export type { SourceLocation } from './location.js';
export { validateFormats, validateQuality, validateWidths, type Placeholder } from './options.js';
export { pendingSvg } from './markup.js';
export { DEV_PREFIX } from './dev.js';
export { relativeLocation } from './errors.js';
export type { PluginHost } from './plugin.js';
