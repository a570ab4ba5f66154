/**
 * The layers under the Vite plugin, for hosts built on the same pipeline and
 * cache (the Astro integration) and for tools: the framework-free core, the
 * scanner, the markup, and the Vite plugins a host composes with its own.
 */
export { GeneratedImagesError, errorText, invalidUsages, isError, PREFIX, type Diagnostic, type ErrorCode } from './core/errors.js';
export { relativeLocation, type SourceLocation } from './core/location.js';
export { describeImage, shorten } from './core/text.js';
export { resolveOptions, validateFormats, validateQuality, validateWidths, FORMATS, type GeneratedImagesOptions, type ResolvedOptions, type Format, type Placeholder } from './core/options.js';
export type { GeneratedImageBaseProps } from './core/props.js';
export { RATIOS, RATIO_SIZES, isRatio, expectedSize, type Ratio, type ImageSize } from './core/ratios.js';
export { cacheKey, normalizePrompt, type ImageSpec } from './core/key.js';
export { parseArt, type ArtEntry } from './core/art.js';
export type { CacheEntry, VariantEntry, Manifest, Transform } from './core/cache/manifest.js';
export { CacheStore } from './core/cache/store.js';
export { readRendered, removeRendered, writeRendered, RENDERED_FILE, type RenderedImage, type RenderedRecord } from './core/cache/rendered.js';
export { plannedFiles, VARIANT_NAME_IN_TEXT } from './core/optimize/plan.js';
export { ImagePipeline, type ImageRequest, type ResolvedImage } from './core/pipeline.js';
export { formatSummary, type BuildSummary, type SummaryImage } from './core/summary.js';
export { interactive, withStatusLine, type ProgressStyle, type Reporter } from './core/report.js';
export { MAX_PROMPT_LENGTH, type Usage } from './sources/usage.js';
export { findUsages } from './sources/usage.js';
export { replaceUsages } from './sources/splice.js';
export { scanProject } from './sources/scan.js';
export { sourceFingerprint, usageFiles } from './sources/fingerprint.js';
export { pictureModel, renderPicture, type RenderProps, type PictureModel } from './render/picture.js';
export { renderPending } from './render/pending.js';
export { excludedFolders } from './vite/config.js';
export { Sessions, type Session } from './vite/session.js';
export { usagesPlugin } from './vite/plugins/usages.js';
export { devPlugin } from './vite/plugins/dev.js';
export { EditSettle } from './vite/dev/settle.js';
