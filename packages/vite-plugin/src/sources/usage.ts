import path from 'node:path';
import { parseArt, type ArtEntry } from '../core/art.js';
import { diagnostic, type Diagnostic } from '../core/errors.js';
import type { SourceLocation } from '../core/location.js';
import { FORMATS, type Format } from '../core/options.js';
import { isRatio, RATIOS, type Ratio } from '../core/ratios.js';
import { extractTags, type Attribute, type AttributeValue, type Tag } from './extract.js';

/** Longest prompt accepted, in characters after whitespace is collapsed (documented in the README). */
export const MAX_PROMPT_LENGTH = 4000;

/** One `<GeneratedImage>` in the site's source, with the props that decide what is generated and how it is shown. */
export interface Usage {
  loc: SourceLocation;
  start: number;
  end: number;
  prompt: string;
  ratio: Ratio;
  variant: number;
  /** A literal, or an expression the framework evaluates (JSX, Svelte, Vue bindings), whose `code` is then the whole attribute as written. */
  alt: AttributeValue;
  widths?: number[];
  formats?: Format[];
  quality?: number;
  /** Display size overrides; the other side follows from the ratio. */
  width?: number;
  height?: number;
  sizes?: Attribute;
  loading?: Attribute;
  decoding?: Attribute;
  style?: Attribute;
  /** Every other attribute, passed through to the `<img>` exactly as written. */
  passthrough: Attribute[];
  /** Image inputs as written: `/`-rooted, or relative to `referencesBase` (the source file's folder). */
  references?: string[];
  referencesBase?: string;
  /** Art direction: other ratios below media queries. */
  art?: ArtEntry[];
}

export interface UsageScan {
  usages: Usage[];
  errors: Diagnostic[];
  warnings: Diagnostic[];
  /** Where the host renders at build time (`allowDynamicPrompt`): the usages whose prompt is an expression, known only then. */
  dynamic?: SourceLocation[];
}

const PROPS = ['prompt', 'ratio', 'alt', 'variant', 'widths', 'sizes', 'formats', 'quality', 'loading', 'decoding', 'width', 'height', 'style', 'references', 'art'];
/** Attributes users commonly mean for the `<img>`; never flagged as misspellings. */
const COMMON_ATTRIBUTES = new Set(['class', 'classname', 'id', 'title', 'style', 'role', 'fetchpriority', 'crossorigin', 'referrerpolicy', 'key', 'slot', 'pictureattributes', 'itemprop', 'tabindex', 'draggable', 'hidden', 'lang', 'dir', 'is', 'ref', 'ismap', 'usemap']);

/** Edits between two names, a swap of neighbours counting as one (`raito` is one slip from `ratio`). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  return d[a.length]![b.length]!;
}

export function suggestProp(name: string): string | undefined {
  const lower = name.toLowerCase();
  if (COMMON_ATTRIBUTES.has(lower) || lower.startsWith('data-') || lower.startsWith('aria-') || lower.startsWith('on')) return undefined;
  let best: string | undefined;
  let bestDistance = 3;
  for (const prop of PROPS) {
    const distance = editDistance(lower, prop);
    if (distance > 0 && distance < bestDistance && distance <= Math.max(1, Math.floor(prop.length / 3))) {
      best = prop;
      bestDistance = distance;
    }
  }
  return best;
}

/** Vue writes bindings as `:prop` or `v-bind:prop`; the prop is the same. */
function propName(name: string): string {
  if (name.startsWith('v-bind:')) return name.slice(7);
  if (name.startsWith(':')) return name.slice(1);
  return name;
}

function valueOf(attr: Attribute): AttributeValue {
  // A Vue binding is always an expression, even when it looks like a literal: `:variant="2"`.
  if (attr.name.startsWith(':') || attr.name.startsWith('v-bind:')) {
    const code = attr.value.kind === 'string' ? attr.value.value : '';
    const literal = /^\s*-?\d+(\.\d+)?\s*$/.test(code) ? { kind: 'number' as const, value: Number(code) } : undefined;
    return literal ?? { kind: 'expression', code };
  }
  return attr.value;
}

export interface InterpretOptions {
  /** Astro renders components at build time, so a prompt from an expression is resolved during render, not an error. */
  allowDynamicPrompt?: boolean;
  /**
   * Relative `references` resolve against the project root instead of the file: in Astro, whose
   * `.astro` and Markdown usages render through the component, which is given props but not its file.
   */
  referencesFromRoot?: boolean;
}

const allowedRatios = () => RATIOS.map((r) => `"${r}"`).join(', ');

/** Reads a tag's props into a `Usage`, or explains with its location what is wrong. Returns null for dynamic prompts when allowed. */
export function interpretTag(tag: Tag, options: InterpretOptions = {}): { usage: Usage | null; dynamic?: true; errors: Diagnostic[]; warnings: Diagnostic[] } {
  const errors: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  const byProp = new Map<string, Attribute>();
  const passthrough: Attribute[] = [];
  for (const attr of tag.attributes) {
    const prop = propName(attr.name);
    if (attr.name === '...') {
      errors.push(diagnostic(`spread props ({...${attr.value.kind === 'expression' ? attr.value.code : ''}}) are not supported on <GeneratedImage>: prompt, ratio and variant must be written as literals so that the image can be generated at build time`, attr.loc));
      continue;
    }
    if (PROPS.includes(prop)) {
      if (byProp.has(prop)) errors.push(diagnostic(`${prop} is given twice`, attr.loc));
      byProp.set(prop, attr);
      continue;
    }
    const suggestion = suggestProp(prop);
    if (suggestion) warnings.push(diagnostic(`unknown prop "${prop}" on <GeneratedImage> (did you mean "${suggestion}"?); it is passed to the <img> as it is`, attr.loc));
    passthrough.push(attr);
  }

  const nonLiteral = (prop: string, attr: Attribute, allowed: string) =>
    diagnostic(`${prop} must be a literal (${allowed}) so that the image can be generated at build time; got the expression {${valueOf(attr).kind === 'expression' ? (valueOf(attr) as { code: string }).code : ''}}`, attr.loc);

  let prompt: string | undefined;
  const promptAttr = byProp.get('prompt');
  if (!promptAttr) {
    errors.push(diagnostic('prompt is required: describe the image, e.g. prompt="A lighthouse at dawn, watercolour"', tag.loc));
  } else {
    const value = valueOf(promptAttr);
    if (value.kind === 'expression') {
      if (options.allowDynamicPrompt) return { usage: null, dynamic: true, errors, warnings };
      errors.push(nonLiteral('prompt', promptAttr, 'a quoted string'));
    } else if (value.kind !== 'string') {
      errors.push(diagnostic(`prompt must be a non-empty string, got ${value.kind === 'boolean' ? 'no value' : JSON.stringify(value.value)}`, promptAttr.loc));
    } else {
      const normalized = value.value.replace(/\s+/g, ' ').trim();
      if (normalized === '') errors.push(diagnostic('prompt must be a non-empty string: it is empty or only whitespace', promptAttr.loc));
      else if (normalized.length > MAX_PROMPT_LENGTH) {
        errors.push(diagnostic(`prompt is ${normalized.length} characters long; the limit is ${MAX_PROMPT_LENGTH}`, promptAttr.loc));
      } else prompt = normalized;
    }
  }

  let ratio: Ratio = '1:1';
  const ratioAttr = byProp.get('ratio');
  if (ratioAttr) {
    const value = valueOf(ratioAttr);
    if (value.kind === 'expression') errors.push(nonLiteral('ratio', ratioAttr, allowedRatios()));
    else {
      const text = value.kind === 'string' ? value.value.trim() : value.kind === 'boolean' ? '' : String(value.value);
      if (isRatio(text)) ratio = text;
      else errors.push(diagnostic(`invalid ratio ${JSON.stringify(text)}; allowed: ${allowedRatios()}`, ratioAttr.loc));
    }
  }

  let variant = 0;
  const variantAttr = byProp.get('variant');
  if (variantAttr) {
    const value = valueOf(variantAttr);
    const n = value.kind === 'number' ? value.value : value.kind === 'string' && /^\s*\d+\s*$/.test(value.value) ? Number(value.value) : NaN;
    if (value.kind === 'expression') errors.push(nonLiteral('variant', variantAttr, 'an integer such as {1}'));
    else if (!Number.isSafeInteger(n) || n < 0) errors.push(diagnostic(`variant must be an integer >= 0, got ${variantAttr.raw.slice(variantAttr.name.length + 1) || 'no value'}`, variantAttr.loc));
    else variant = n;
  }

  let alt: AttributeValue = { kind: 'string', value: '' };
  const altAttr = byProp.get('alt');
  if (!altAttr) errors.push(diagnostic('alt is required: describe the image for people who cannot see it, or write alt="" for a decorative image', tag.loc));
  else {
    const value = valueOf(altAttr);
    if (value.kind === 'boolean') alt = { kind: 'string', value: '' };
    else if (value.kind === 'number') alt = { kind: 'string', value: String(value.value) };
    else if (value.kind === 'array') errors.push(diagnostic('alt must be a string', altAttr.loc));
    else alt = value.kind === 'expression' ? { kind: 'expression', code: altAttr.raw } : value;
  }

  const usage: Usage = { loc: tag.loc, start: tag.start, end: tag.end, prompt: prompt ?? '', ratio, variant, alt, passthrough };

  const listOf = (prop: 'widths' | 'formats'): unknown[] | undefined => {
    const attr = byProp.get(prop);
    if (!attr) return undefined;
    const value = valueOf(attr);
    if (value.kind === 'array') return value.value;
    if (value.kind === 'string') return value.value.split(/[\s,]+/).filter(Boolean).map((s) => (prop === 'widths' ? Number(s) : s));
    if (value.kind === 'number') return [value.value];
    errors.push(nonLiteral(prop, attr, prop === 'widths' ? 'e.g. widths={[640, 1280]} or widths="640,1280"' : 'e.g. formats={["avif", "webp"]} or formats="avif,webp"'));
    return undefined;
  };
  const widths = listOf('widths');
  if (widths) {
    if (widths.length === 0 || widths.some((w) => typeof w !== 'number' || !Number.isInteger(w) || w < 1 || w > 8192)) {
      errors.push(diagnostic(`widths must be integers from 1 to 8192, got ${JSON.stringify(widths)}`, byProp.get('widths')!.loc));
    } else usage.widths = [...new Set(widths as number[])].sort((a, b) => a - b);
  }
  const formats = listOf('formats');
  if (formats) {
    if (formats.length === 0 || formats.some((f) => !FORMATS.includes(f as Format))) {
      errors.push(diagnostic(`formats must be some of ${FORMATS.map((f) => `"${f}"`).join(', ')}, got ${JSON.stringify(formats)}`, byProp.get('formats')!.loc));
    } else usage.formats = [...new Set(formats as Format[])];
  }
  const numberProp = (prop: 'quality' | 'width' | 'height', min: number, max: number): number | undefined => {
    const attr = byProp.get(prop);
    if (!attr) return undefined;
    const value = valueOf(attr);
    const n = value.kind === 'number' ? value.value : value.kind === 'string' ? Number(value.value) : NaN;
    if (value.kind === 'expression') errors.push(nonLiteral(prop, attr, `an integer from ${min} to ${max}`));
    else if (!Number.isInteger(n) || n < min || n > max) errors.push(diagnostic(`${prop} must be an integer from ${min} to ${max}, got ${attr.raw.slice(attr.name.length + 1) || 'no value'}`, attr.loc));
    else return n;
    return undefined;
  };
  usage.quality = numberProp('quality', 1, 100);
  usage.width = numberProp('width', 1, 16384);
  usage.height = numberProp('height', 1, 16384);
  for (const prop of ['sizes', 'loading', 'decoding', 'style'] as const) {
    const attr = byProp.get(prop);
    if (attr) usage[prop] = attr;
  }
  const loading = usage.loading && valueOf(usage.loading);
  if (loading?.kind === 'string' && !['lazy', 'eager'].includes(loading.value)) {
    errors.push(diagnostic(`loading must be "lazy" or "eager", got ${JSON.stringify(loading.value)}`, usage.loading!.loc));
  }
  readImageInputs(byProp, usage, errors, nonLiteral, !options.referencesFromRoot);
  for (const key of ['widths', 'formats', 'quality', 'width', 'height'] as const) if (usage[key] === undefined) delete usage[key];
  return { usage: errors.length ? null : usage, errors, warnings };
}

/** A Vue binding's array of string literals (`:references="['a.png', 'b.png']"`), or undefined when it is anything else. */
function stringArray(code: string): string[] | undefined {
  const body = /^\s*\[([^]*)\]\s*$/.exec(code)?.[1];
  if (body === undefined) return undefined;
  const items = body.split(',').map((item) => item.trim()).filter(Boolean);
  const values = items.map((item) => /^(['"`])([^'"`\\]*)\1$/.exec(item)?.[2]);
  return values.every((v) => v !== undefined) ? (values as string[]) : undefined;
}

/** `references` (paths, as one space-separated string or an array of string literals) and `art` (a string in the syntax of `sizes`). */
function readImageInputs(
  byProp: Map<string, Attribute>,
  usage: Usage,
  errors: Diagnostic[],
  nonLiteral: (prop: string, attr: Attribute, allowed: string) => Diagnostic,
  fromFile: boolean,
): void {
  const referencesAttr = byProp.get('references');
  if (referencesAttr) {
    const value = valueOf(referencesAttr);
    const list = value.kind === 'string' ? value.value.split(/\s+/).filter(Boolean)
      : value.kind === 'array' ? value.value
      : value.kind === 'expression' ? stringArray(value.code)
      : undefined;
    if (list === undefined) errors.push(nonLiteral('references', referencesAttr, 'e.g. references="/brand/look.png ./mascot.webp" or references={["/brand/look.png"]}'));
    else if (list.length === 0 || list.some((p) => typeof p !== 'string' || p.trim() === '')) {
      errors.push(diagnostic(`references must be image file paths, got ${JSON.stringify(list)}`, referencesAttr.loc));
    } else {
      usage.references = (list as string[]).map((p) => p.trim());
      if (fromFile) usage.referencesBase = path.dirname(usage.loc.file);
    }
  }
  const artAttr = byProp.get('art');
  if (artAttr) {
    const value = valueOf(artAttr);
    if (value.kind !== 'string') errors.push(nonLiteral('art', artAttr, 'e.g. art="(max-width: 640px) 9:16, (max-width: 1024px) 4:3"'));
    else {
      const art = parseArt(value.value);
      if (typeof art === 'string') errors.push(diagnostic(`invalid art ${JSON.stringify(value.value)}: ${art}`, artAttr.loc));
      else usage.art = art;
    }
  }
}

/** The one extractor for every syntax: finds the tags in a file and interprets their props. */
export function findUsages(code: string, file: string, options: InterpretOptions = {}): UsageScan {
  const { tags, errors } = extractTags(code, file);
  const result: UsageScan = { usages: [], errors: [...errors], warnings: [], ...(options.allowDynamicPrompt ? { dynamic: [] } : {}) };
  for (const tag of tags) {
    const { usage, dynamic, errors: e, warnings: w } = interpretTag(tag, options);
    if (usage) result.usages.push(usage);
    if (dynamic) result.dynamic!.push(tag.loc);
    result.errors.push(...e);
    result.warnings.push(...w);
  }
  return result;
}
