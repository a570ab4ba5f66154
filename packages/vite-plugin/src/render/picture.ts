import { MIME, type ImagePlan } from '../core/optimize/plan.js';
import type { Attribute, AttributeValue } from '../sources/extract.js';

/**
 * How markup is written: HTML (also Svelte templates and Markdown), JSX (React,
 * Preact, MDX), Solid's JSX (whose style objects take CSS property names as
 * CSS writes them), or a Vue template: HTML whose URLs are bound as string
 * literals, because Vue's compiler turns a static `src`/`srcset` into imports
 * of files that exist only in the build output.
 */
export type Syntax = 'html' | 'jsx' | 'solid' | 'vue';

const isJsx = (syntax: Syntax) => syntax === 'jsx' || syntax === 'solid';

/** Attributes whose URLs Vue's `transformAssetUrls` would rewrite into imports. */
const VUE_URL_ATTRIBUTES = new Set(['src', 'srcset']);

/**
 * An attribute to write: a value we know, source text passed through exactly
 * as the user wrote it, or the `<img>`'s style: our declarations, then the
 * user's (CSS text, or an expression that the framework merges over ours).
 */
export type MarkupAttribute =
  | { name: string; value: string | number | boolean }
  | { raw: string }
  | { style: Array<[property: string, value: string]>; css?: string; expression?: Attribute };

/** What one usage renders to, independent of syntax. */
export interface PictureModel {
  /** Art direction's sources carry their media query and their own box (browsers size the `<img>` from the chosen source's width and height). */
  sources: Array<{ media?: string; type: string; srcset: string; sizes: MarkupAttribute; width?: number; height?: number }>;
  img: MarkupAttribute[];
  picture: MarkupAttribute[];
}

/** The parts of a usage that shape the markup, whether they come from source (Vite) or from props (Astro). */
export interface RenderProps {
  alt: AttributeValue | string;
  sizes?: Attribute | string;
  loading?: Attribute | string;
  decoding?: Attribute | string;
  style?: Attribute | string;
  width?: number;
  height?: number;
  /** Other attributes for the `<img>`. */
  attributes?: Array<Attribute | { name: string; value: string | number | boolean }>;
  /** Attributes for the `<picture>` (Astro's `pictureAttributes`). */
  pictureAttributes?: Array<{ name: string; value: string | number | boolean }>;
}

const JSX_NAMES: Record<string, string> = { srcset: 'srcSet', class: 'className', fetchpriority: 'fetchPriority', crossorigin: 'crossOrigin', referrerpolicy: 'referrerPolicy' };

function fromProp(prop: Attribute | string | undefined, name: string, fallback?: string): MarkupAttribute | undefined {
  if (prop === undefined) return fallback === undefined ? undefined : { name, value: fallback };
  if (typeof prop === 'string') return { name, value: prop };
  if (prop.value.kind === 'string') return { name, value: prop.value.value };
  if (prop.value.kind === 'number') return { name, value: String(prop.value.value) };
  return { raw: prop.raw };
}

/** The box an image is shown in: the display size asked for, else its largest file's; the other side from its ratio. */
function box(plan: ImagePlan, props: Pick<RenderProps, 'width' | 'height'>): { width: number; height: number } {
  const width = props.width ?? (props.height ? Math.round((props.height * plan.width) / plan.height) : plan.fallback.width);
  return { width, height: props.height ?? Math.round((width * plan.height) / plan.width) };
}

/** An art-direction image of the picture: below `media`, this plan's files. */
export interface ArtSource {
  media: string;
  plan: ImagePlan;
}

/**
 * Builds the picture's model: one `<source>` per format with its srcset (art
 * direction's first, each with its media query and box), and an `<img>` that
 * reserves its box.
 */
export function pictureModel(plan: ImagePlan, props: RenderProps, url: (name: string) => string, placeholderUrl?: string, art: ArtSource[] = []): PictureModel {
  const { width, height } = box(plan, props);
  const sizes = fromProp(props.sizes, 'sizes', `(min-width: ${width}px) ${width}px, 100vw`)!;
  const srcset = (source: ImagePlan['sources'][number]) => source.variants.map((v) => `${url(v.name)} ${v.width}w`).join(', ');
  const sources: PictureModel['sources'] = art.flatMap(({ media, plan: artPlan }) => {
    // Its own box at the same display width: the aspect ratio is right below its media query before a byte arrives.
    const artBox = box(artPlan, { width: props.width ?? (props.height ? undefined : artPlan.fallback.width), height: props.width ? undefined : props.height });
    return artPlan.sources.map((source) => ({ media, type: MIME[source.format], srcset: srcset(source), sizes, width: artBox.width, height: artBox.height }));
  });
  sources.push(...plan.sources.map((source) => ({ type: MIME[source.format], srcset: srcset(source), sizes })));

  const style: Array<[string, string]> = [['max-width', '100%'], ['height', 'auto']];
  if (plan.placeholder && 'color' in plan.placeholder) style.push(['background-color', plan.placeholder.color]);
  // `URL(`, which CSS reads as `url(`: Vite's HTML build sends every style attribute containing "url(" through
  // its CSS pipeline as a module of its own, which cost a 60-image page a third of a second for nothing to rewrite.
  else if (placeholderUrl) style.push(['background-image', `URL("${placeholderUrl}")`], ['background-size', 'cover'], ['background-repeat', 'no-repeat']);

  const alt: MarkupAttribute =
    typeof props.alt === 'string' ? { name: 'alt', value: props.alt }
    : props.alt.kind === 'expression' ? { raw: props.alt.code }
    : { name: 'alt', value: props.alt.kind === 'string' ? props.alt.value : '' };

  const img: MarkupAttribute[] = [
    { name: 'src', value: url(plan.fallback.name) },
    { name: 'width', value: width },
    { name: 'height', value: height },
    alt,
    fromProp(props.loading, 'loading', 'lazy')!,
    fromProp(props.decoding, 'decoding', 'async')!,
  ];
  const user = props.style;
  if (user === undefined) img.push({ style });
  else if (typeof user === 'string') img.push({ style, css: user });
  else if (user.value.kind === 'string') img.push({ style, css: user.value.value });
  else img.push({ style, expression: user });
  for (const attr of props.attributes ?? []) img.push('raw' in attr ? { raw: attr.raw } : attr);
  return { sources, img, picture: props.pictureAttributes ?? [] };
}

function escapeHtml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** CSS declarations, split at the `;`s that end them (not those inside quotes or parentheses, as in a data URL). */
function declarations(css: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let depth = 0;
  let quote = '';
  let start = 0;
  const take = (end: number) => {
    const rule = css.slice(start, end);
    const colon = rule.indexOf(':');
    if (colon > 0) out.push([rule.slice(0, colon).trim(), rule.slice(colon + 1).trim()]);
    start = end + 1;
  };
  for (let i = 0; i < css.length; i++) {
    const c = css[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if (c === ';' && depth === 0) take(i);
  }
  take(css.length);
  return out;
}

function cssText(style: Array<[string, string]>): string {
  return style.map(([property, value]) => `${property}:${value}`).join(';');
}

/** A style object literal: React and Preact take camelCased properties (custom properties as written), Solid CSS's own names. */
function styleObject(style: Array<[string, string]>, syntax: Syntax): string {
  const key = (property: string) => (syntax === 'solid' || property.startsWith('--') ? property : property.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()));
  return `{${style.map(([property, value]) => `${JSON.stringify(key(property))}: ${JSON.stringify(value)}`).join(', ')}}`;
}

function writeStyle(attr: Extract<MarkupAttribute, { style: unknown }>, syntax: Syntax): string {
  const all = attr.css ? [...attr.style, ...declarations(attr.css)] : attr.style;
  if (!isJsx(syntax)) {
    // An expression in an HTML-like syntax (Vue `:style`, Svelte `style={…}`): the framework merges it with the static style.
    return ` style="${escapeHtml(cssText(all))}"${attr.expression ? ` ${attr.expression.raw}` : ''}`;
  }
  if (!attr.expression) return ` style={${styleObject(all, syntax)}}`;
  // The user's style is an expression: spread it over ours so theirs wins.
  const raw = attr.expression.raw;
  return ` style={{...${styleObject(all, syntax)}, ...(${raw.slice(raw.indexOf('{') + 1, raw.lastIndexOf('}'))})}}`;
}

/** Attributes as the syntax writes them, each with its leading space. */
export function writeAttributes(attrs: MarkupAttribute[], syntax: Syntax): string {
  let out = '';
  for (const attr of attrs) {
    if ('style' in attr) {
      out += writeStyle(attr, syntax);
      continue;
    }
    if ('raw' in attr) {
      out += ` ${attr.raw}`;
      continue;
    }
    const { name, value } = attr;
    if (isJsx(syntax)) {
      const jsxName = JSX_NAMES[name] ?? name;
      if (typeof value === 'number') out += ` ${jsxName}={${value}}`;
      else if (typeof value === 'boolean') out += value ? ` ${jsxName}` : '';
      else out += ` ${jsxName}={${JSON.stringify(value)}}`;
    } else if (typeof value === 'boolean') out += value ? ` ${name}` : '';
    else if (syntax === 'vue' && VUE_URL_ATTRIBUTES.has(name)) out += ` :${name}="${escapeHtml(`'${String(value).replace(/[\\']/g, '\\$&')}'`)}"`;
    else out += ` ${name}="${escapeHtml(String(value))}"`;
  }
  return out;
}

/**
 * Writes the model as markup in the given syntax; the result replaces the
 * `<GeneratedImage>` element. `fileAttributes`: bare attributes written first
 * on each element that references a file (`<source>`, `<img>`), for the host
 * that reads the markup next.
 */
export function renderPicture(model: PictureModel, syntax: Syntax, fileAttributes: string[] = []): string {
  const close = isJsx(syntax) ? ' />' : '>';
  const lead = fileAttributes.map((name) => ` ${name}`).join('');
  const sources = model.sources
    .map((s) => {
      const attrs: MarkupAttribute[] = [{ name: 'type', value: s.type }, { name: 'srcset', value: s.srcset }, s.sizes];
      if (s.media !== undefined) attrs.unshift({ name: 'media', value: s.media });
      if (s.width !== undefined && s.height !== undefined) attrs.push({ name: 'width', value: s.width }, { name: 'height', value: s.height });
      return `<source${lead}${writeAttributes(attrs, syntax)}${close}`;
    })
    .join('');
  return `<picture${writeAttributes(model.picture, syntax)}>${sources}<img${lead}${writeAttributes(model.img, syntax)}${close}</picture>`;
}
