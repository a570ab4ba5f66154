import path from 'node:path';
import { GeneratedImagesError } from './errors.js';
import { IMAGE_SIZES, type ImageSize } from './ratios.js';
import { resolveReference } from './references.js';

export const FORMATS = ['avif', 'webp', 'jpeg', 'png'] as const;
export type Format = (typeof FORMATS)[number];
export type Placeholder = 'blur' | 'color' | 'none';

/** The options of `generatedImages()`, the same in the Vite plugin and the Astro integration. All optional. */
export interface GeneratedImagesOptions {
  /** Gateway token (`agnic_tok_…`). Default: env `AGNIC_API_KEY`. */
  apiKey?: string;
  /** Any OpenAI-compatible gateway with image output. Default: env `AGNIC_BASE_URL`, else `https://api.agnic.ai/v1`. */
  baseURL?: string;
  /** A model listing `"image"` in `architecture.output_modalities`. Default `google/gemini-2.0-flash`. */
  model?: string;
  /** Text appended to every prompt, for a site-wide look. Part of the cache key. */
  style?: string;
  /** The committed cache, relative to the project root. Default `generated-images`. */
  cacheDir?: string;
  /** Glob patterns (fast-glob's syntax, matched by tinyglobby), relative to the project root, of the files scanned for usages. */
  include?: string | string[];
  /**
   * Gateway requests in flight: a number, or `'auto'` (the default): start at 4, grow while the
   * gateway keeps up, shrink on 429 (pausing every request for its `Retry-After`), never above 16.
   */
  concurrency?: number | 'auto';
  /** A cache miss is an error instead of a gateway call. Default: `true` when env `CI` is set. */
  frozen?: boolean;
  /** Sent as `image_config.image_size` where the model supports it. Part of the cache key when set. */
  imageSize?: ImageSize;
  /** Optimized formats, best first. Default `['avif', 'webp']`. */
  formats?: Format[];
  /** Responsive widths for `srcset`, capped at the source width. Default `[640, 1024, 1600]`. */
  widths?: number[];
  /** Encoder quality, one number for every format or one per format. Default: sharp's per-format defaults. */
  quality?: number | Partial<Record<Format, number>>;
  /** `'blur'` (tiny inline image), `'color'` (dominant colour) or `'none'`. Default `'blur'`. */
  placeholder?: Placeholder;
  /**
   * Image files (relative to the project root) sent with every prompt as image inputs: a brand's
   * look, a mascot, a palette. Part of the cache key.
   */
  references?: string[];
  /**
   * A budget in US dollars for one build or `generate`: when the estimate for the misses (from the
   * gateway's per-image price) exceeds it, fail before any request.
   */
  maxCost?: number;
  /** Attempts after the first for a failed generation (429, 5xx, timeouts, replies without a valid image). Default 3. */
  retries?: number;
  /** Milliseconds one gateway request may take before it counts as failed. Default 120000. */
  timeout?: number;
}

export interface ResolvedOptions {
  root: string;
  apiKey: string | null;
  baseURL: string;
  model: string;
  style: string | null;
  cacheDir: string;
  include: string[];
  concurrency: number | 'auto';
  /** Absolute paths. */
  references: string[];
  maxCost: number | null;
  frozen: boolean;
  imageSize: ImageSize | null;
  formats: Format[];
  widths: number[];
  quality: Partial<Record<Format, number>>;
  placeholder: Placeholder;
  retries: number;
  timeout: number;
}

export const DEFAULT_BASE_URL = 'https://api.agnic.ai/v1';
export const DEFAULT_MODEL = 'google/gemini-2.0-flash';
export const DEFAULT_WIDTHS = [640, 1024, 1600];
export const DEFAULT_FORMATS: Format[] = ['avif', 'webp'];
/**
 * Every source file under the project's root, wherever the framework keeps
 * them (`src/`, React Router's `app/`, VitePress's Markdown, SvelteKit's
 * routes); the scan always skips `node_modules`, and the hosts add the cache
 * and the build output. Dot folders are skipped but VitePress's theme.
 */
export const DEFAULT_INCLUDE = ['**/*.{astro,html,jsx,tsx,vue,svelte,md,mdx}', '.vitepress/theme/**/*.{vue,jsx,tsx,md}'];

const KNOWN = [
  'apiKey', 'baseURL', 'model', 'style', 'cacheDir', 'include', 'concurrency', 'frozen', 'imageSize',
  'formats', 'widths', 'quality', 'placeholder', 'references', 'maxCost', 'retries', 'timeout',
];

const optionsError = (message: string) => new GeneratedImagesError('INVALID_OPTION', message);

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function positiveInteger(name: string, value: unknown, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw optionsError(`option "${name}" must be an integer >= ${min}, got ${describe(value)}`);
  }
  return value;
}

export function validateFormats(value: unknown, where: string): Format[] {
  if (!Array.isArray(value) || value.length === 0 || value.some((f) => !FORMATS.includes(f as Format))) {
    throw optionsError(`${where} must be a non-empty array of ${FORMATS.map((f) => `"${f}"`).join(', ')}, got ${describe(value)}`);
  }
  return [...new Set(value as Format[])];
}

export function validateWidths(value: unknown, where: string): number[] {
  if (!Array.isArray(value) || value.length === 0 || value.some((w) => typeof w !== 'number' || !Number.isInteger(w) || w < 1 || w > 8192)) {
    throw optionsError(`${where} must be a non-empty array of integers from 1 to 8192, got ${describe(value)}`);
  }
  return [...new Set(value as number[])].sort((a, b) => a - b);
}

export function validateQuality(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 100) {
    throw optionsError(`${where} must be an integer from 1 to 100, got ${describe(value)}`);
  }
  return value;
}

/** A URL as it may be printed: no user info, query or fragment, where a token could be. */
function withoutSecrets(url: string): string {
  return url.replace(/\/\/[^/?#]*@/, '//…@').replace(/[?#].*$/s, '?…');
}

/** Resolves and validates the user's options once, so that every later step can trust them. */
export function resolveOptions(
  user: GeneratedImagesOptions | undefined,
  context: { root: string; env?: NodeJS.ProcessEnv },
): ResolvedOptions {
  const env = context.env ?? process.env;
  const options = user ?? {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw optionsError(`options must be an object, got ${describe(options)}`);
  }
  for (const name of Object.keys(options)) {
    if (!KNOWN.includes(name)) {
      const hint = KNOWN.find((k) => k.toLowerCase() === name.toLowerCase());
      throw optionsError(`unknown option "${name}"${hint ? ` (did you mean "${hint}"?)` : ''}; known options: ${KNOWN.join(', ')}`);
    }
  }

  const str = (name: keyof GeneratedImagesOptions, value: unknown): string | undefined => {
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.trim() === '') {
      throw optionsError(`option "${name}" must be a non-empty string, got ${name === 'apiKey' ? typeof value : describe(value)}`);
    }
    return value;
  };

  const apiKey = str('apiKey', options.apiKey) ?? (env.AGNIC_API_KEY?.trim() || null);
  const baseURL = (str('baseURL', options.baseURL) ?? (env.AGNIC_BASE_URL?.trim() || DEFAULT_BASE_URL)).replace(/\/+$/, '');
  let parsed: URL;
  try {
    parsed = new URL(baseURL);
  } catch {
    throw optionsError(`baseURL must be an absolute http(s) URL such as ${DEFAULT_BASE_URL}, got ${describe(withoutSecrets(baseURL))}`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw optionsError(`baseURL must use http or https, got ${describe(withoutSecrets(baseURL))}`);
  }
  if (parsed.username || parsed.password) {
    throw optionsError('baseURL must not contain credentials; pass the token as apiKey or AGNIC_API_KEY');
  }
  // The URL is printed in errors and logs; the SDK appends paths to it, so a query would not even reach the gateway intact.
  if (parsed.search || parsed.hash) {
    throw optionsError(
      `baseURL must not have a query string or fragment (got ${parsed.origin}${parsed.pathname}${parsed.search ? '?…' : ''}${parsed.hash ? '#…' : ''}); pass the token as apiKey or AGNIC_API_KEY, never in the URL`,
    );
  }

  const cacheDirOption = str('cacheDir', options.cacheDir) ?? 'generated-images';
  if (cacheDirOption.includes('\0')) throw optionsError('option "cacheDir" contains a NUL character');
  const cacheDir = path.resolve(context.root, cacheDirOption);
  if (cacheDir === path.parse(cacheDir).root) {
    throw optionsError(`option "cacheDir" must be a folder of its own (e.g. "generated-images"), got ${describe(cacheDirOption)}`);
  }

  let include = DEFAULT_INCLUDE;
  if (options.include !== undefined) {
    const list = typeof options.include === 'string' ? [options.include] : options.include;
    if (!Array.isArray(list) || list.length === 0 || list.some((p) => typeof p !== 'string' || p === '')) {
      throw optionsError(`option "include" must be a glob string or a non-empty array of them, got ${describe(options.include)}`);
    }
    include = list;
  }

  if (options.frozen !== undefined && typeof options.frozen !== 'boolean') {
    throw optionsError(`option "frozen" must be true or false, got ${describe(options.frozen)}`);
  }
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0';

  if (options.imageSize !== undefined && !IMAGE_SIZES.includes(options.imageSize)) {
    throw optionsError(`option "imageSize" must be one of ${IMAGE_SIZES.map((s) => `"${s}"`).join(', ')}, got ${describe(options.imageSize)}`);
  }

  let quality: Partial<Record<Format, number>> = {};
  if (typeof options.quality === 'number') {
    const q = validateQuality(options.quality, 'option "quality"');
    quality = Object.fromEntries(FORMATS.map((f) => [f, q]));
  } else if (options.quality !== undefined) {
    if (typeof options.quality !== 'object' || options.quality === null) {
      throw optionsError(`option "quality" must be a number or an object such as { avif: 50, webp: 80 }, got ${describe(options.quality)}`);
    }
    for (const [format, q] of Object.entries(options.quality)) {
      if (!FORMATS.includes(format as Format)) throw optionsError(`option "quality" has unknown format "${format}"; formats: ${FORMATS.join(', ')}`);
      quality[format as Format] = validateQuality(q, `option "quality.${format}"`);
    }
  }

  const placeholder = options.placeholder ?? 'blur';
  if (!['blur', 'color', 'none'].includes(placeholder)) {
    throw optionsError(`option "placeholder" must be "blur", "color" or "none", got ${describe(placeholder)}`);
  }

  let references: string[] = [];
  if (options.references !== undefined) {
    const list = options.references;
    if (!Array.isArray(list) || list.some((p) => typeof p !== 'string' || p.trim() === '')) {
      throw optionsError(`option "references" must be an array of image file paths (relative to the project root), got ${describe(list)}`);
    }
    references = list.map((file) => resolveReference(file.trim(), context.root));
  }

  const maxCost = options.maxCost;
  if (maxCost !== undefined && (typeof maxCost !== 'number' || !Number.isFinite(maxCost) || maxCost < 0)) {
    throw optionsError(`option "maxCost" must be a number of US dollars >= 0, got ${describe(maxCost)}`);
  }

  const concurrency = options.concurrency ?? 'auto';
  if (concurrency !== 'auto' && (typeof concurrency !== 'number' || !Number.isInteger(concurrency) || concurrency < 1)) {
    throw optionsError(`option "concurrency" must be "auto" or an integer >= 1, got ${describe(concurrency)}`);
  }

  const style = str('style', options.style);
  return {
    root: context.root,
    apiKey,
    baseURL,
    model: str('model', options.model) ?? DEFAULT_MODEL,
    style: style === undefined ? null : style.replace(/\s+/g, ' ').trim(),
    cacheDir,
    include,
    concurrency,
    references,
    maxCost: maxCost ?? null,
    frozen: options.frozen ?? ci,
    imageSize: options.imageSize ?? null,
    formats: options.formats === undefined ? DEFAULT_FORMATS : validateFormats(options.formats, 'option "formats"'),
    widths: options.widths === undefined ? DEFAULT_WIDTHS : validateWidths(options.widths, 'option "widths"'),
    quality,
    placeholder,
    retries: positiveInteger('retries', options.retries, 3, 0),
    timeout: positiveInteger('timeout', options.timeout, 120_000),
  };
}
