import type { HTMLAttributes } from 'astro/types';
import {
  GeneratedImagesError,
  isError,
  isRatio,
  MAX_PROMPT_LENGTH,
  normalizePrompt,
  parseArt,
  RATIOS,
  validateFormats,
  validateQuality,
  validateWidths,
  type GeneratedImageBaseProps,
  type ImageRequest,
  type RenderProps,
} from 'vite-plugin-generated-images/core';
import { forAstro } from './errors.js';

/** Props of `<GeneratedImage>`; any other attribute goes to the `<img>`, as with `astro:assets`' `<Picture>`. */
export interface GeneratedImageProps extends Omit<HTMLAttributes<'img'>, 'src' | 'srcset' | 'alt' | 'width' | 'height' | 'sizes' | 'loading' | 'decoding'>, GeneratedImageBaseProps {
  /** Attributes for the `<picture>` element. */
  pictureAttributes?: HTMLAttributes<'picture'>;
}

export interface ReadProps {
  request: ImageRequest;
  render: RenderProps;
}

const OWN = new Set(['prompt', 'ratio', 'alt', 'variant', 'widths', 'sizes', 'formats', 'quality', 'loading', 'decoding', 'width', 'height', 'style', 'pictureAttributes', 'references', 'art']);

function describe(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/** Astro accepts style objects on elements; the `<img>` gets them as CSS text. */
function styleText(value: unknown, problem: (reason: string) => Error): string | undefined {
  if (value === undefined || value === null || value === false) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined && v !== null && v !== '')
      .map(([k, v]) => `${k.startsWith('--') ? k : k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}:${String(v)}`)
      .join(';');
  }
  throw problem(`style must be a string or an object of CSS properties, got ${describe(value)}`);
}

function attributes(entries: Record<string, unknown>, skip: Set<string>, problem: (reason: string) => Error): Array<{ name: string; value: string | number | boolean }> {
  const out: Array<{ name: string; value: string | number | boolean }> = [];
  for (const [name, value] of Object.entries(entries)) {
    if (skip.has(name) || value === undefined || value === null || value === false) continue;
    if (name === 'style') {
      const css = styleText(value, problem);
      if (css) out.push({ name, value: css });
    } else if (typeof value === 'string' || typeof value === 'number' || value === true) out.push({ name, value });
    else throw problem(`attribute ${name} must be a string, a number or a boolean, got ${typeof value}`);
  }
  return out;
}

/**
 * Reads and validates the component's props: which image (prompt, ratio,
 * variant), which files (widths, formats, quality) and how it is shown.
 * `where` names the page in errors, since a prop may come from data.
 */
export function readProps(props: Record<string, unknown>, where: string): ReadProps {
  const problem = (reason: string) => new GeneratedImagesError('INVALID_PROPS', `<GeneratedImage> on ${where}: ${reason}`);
  const checked = <T>(read: () => T): T => {
    try {
      return read();
    } catch (error) {
      if (isError(error, 'INVALID_OPTION')) throw problem(error.message);
      throw error;
    }
  };

  if (typeof props.prompt !== 'string') throw problem(`prompt must be a non-empty string, got ${props.prompt === undefined ? 'nothing' : describe(props.prompt)}`);
  const prompt = normalizePrompt(props.prompt);
  if (prompt === '') throw problem('prompt must be a non-empty string: it is empty or only whitespace');
  if (prompt.length > MAX_PROMPT_LENGTH) throw problem(`prompt is ${prompt.length} characters long; the limit is ${MAX_PROMPT_LENGTH}`);

  const ratio = props.ratio ?? '1:1';
  if (!isRatio(ratio)) throw problem(`invalid ratio ${describe(ratio)} for prompt ${JSON.stringify(prompt)}; allowed: ${RATIOS.map((r) => `"${r}"`).join(', ')}`);

  const variant = props.variant ?? 0;
  if (typeof variant !== 'number' || !Number.isSafeInteger(variant) || variant < 0) throw problem(`variant must be an integer >= 0, got ${describe(variant)}`);

  if (typeof props.alt !== 'string') {
    throw problem(`alt is required: describe the image for people who cannot see it, or write alt="" for a decorative image (prompt ${JSON.stringify(prompt)})`);
  }

  const request: ImageRequest = { prompt, ratio, variant };
  if (props.widths !== undefined) request.widths = checked(() => validateWidths(props.widths, 'widths'));
  if (props.formats !== undefined) request.formats = checked(() => validateFormats(props.formats, 'formats'));
  if (props.quality !== undefined) request.quality = checked(() => validateQuality(props.quality, 'quality'));
  // Relative references resolve against the project root: a component is given its props, not the file that wrote them.
  if (props.references !== undefined) {
    const list = typeof props.references === 'string' ? props.references.split(/\s+/).filter(Boolean) : props.references;
    if (!Array.isArray(list) || list.length === 0 || list.some((p) => typeof p !== 'string' || p.trim() === '')) {
      throw problem(`references must be image file paths (one space-separated string or an array of strings), got ${describe(props.references)}`);
    }
    request.references = list.map((p: string) => p.trim());
  }
  if (props.art !== undefined) {
    if (typeof props.art !== 'string') throw problem(`art must be a string such as "(max-width: 640px) 9:16, (max-width: 1024px) 4:3", got ${describe(props.art)}`);
    const art = parseArt(props.art);
    if (typeof art === 'string') throw problem(`invalid art ${JSON.stringify(props.art)}: ${art}`);
    request.art = art;
  }

  const size = (name: 'width' | 'height'): number | undefined => {
    const value = props[name];
    if (value === undefined) return undefined;
    const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw problem(`${name} must be a positive integer, got ${describe(value)}`);
    return n;
  };
  const text = (name: 'sizes' | 'loading' | 'decoding'): string | undefined => {
    const value = props[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw problem(`${name} must be a string, got ${describe(value)}`);
    return value;
  };
  const loading = text('loading');
  if (loading !== undefined && loading !== 'lazy' && loading !== 'eager') throw problem(`loading must be "lazy" or "eager", got ${describe(loading)}`);

  const pictureAttributes = props.pictureAttributes ?? {};
  if (typeof pictureAttributes !== 'object' || Array.isArray(pictureAttributes)) throw problem('pictureAttributes must be an object of attributes');

  const render: RenderProps = {
    alt: props.alt,
    sizes: text('sizes'),
    loading,
    decoding: text('decoding'),
    style: styleText(props.style, problem),
    width: size('width'),
    height: size('height'),
    attributes: attributes(props, OWN, problem),
    pictureAttributes: attributes(pictureAttributes as Record<string, unknown>, new Set(), problem),
  };
  return { request, render };
}

/** `readProps`, failing as Astro reports errors (with the hint), for the hosts that render the component. */
export function readAstroProps(props: Record<string, unknown>, where: string): ReadProps {
  try {
    return readProps(props, where);
  } catch (error) {
    throw forAstro(error);
  }
}
