import type { ImagePlan } from '../core/optimize/plan.js';
import { capWidths } from '../core/optimize/plan.js';
import { DEFAULT_WIDTHS } from '../core/options.js';
import { expectedSize, type ImageSize, type Ratio } from '../core/ratios.js';
import { pictureModel, renderPicture, writeAttributes, type MarkupAttribute, type RenderProps, type Syntax } from './picture.js';

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Splits a prompt into a few short lines for the placeholder. */
function wrap(text: string, width: number, lines: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if ((line + ' ' + word).trim().length > width) {
      out.push(line.trim());
      line = word;
      if (out.length === lines) break;
    } else line += ' ' + word;
  }
  if (out.length < lines && line.trim()) out.push(line.trim());
  if (out.join(' ').length < text.length && out.length) out[out.length - 1] = `${out[out.length - 1]!.slice(0, width - 1)}…`;
  return out;
}

/**
 * An image showing the prompt, drawn on the gateway's canvas for the ratio and
 * sized to the box it stands in for (`width`×`height`), so that its intrinsic
 * aspect ratio is exactly the final image's.
 */
export function pendingSvg(prompt: string, ratio: Ratio, status: string, box?: { width: number; height: number }): string {
  const { width, height } = expectedSize(ratio, null);
  const lines = wrap(prompt, Math.max(20, Math.floor(width / 22)), 4);
  const size = Math.round(width / 40);
  const text = [status, ...lines]
    .map((line, i) => `<text x="50%" y="${height / 2 + (i - lines.length / 2) * size * 1.5}" font-size="${i === 0 ? size * 0.8 : size}" fill="${i === 0 ? '#6b7280' : '#374151'}" text-anchor="middle" font-family="system-ui,sans-serif">${escapeXml(line)}</text>`)
    .join('');
  const { width: w, height: h } = box ?? { width, height };
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${width} ${height}" preserveAspectRatio="xMidYMid slice"><rect width="100%" height="100%" fill="#e5e7eb"/>${text}</svg>`;
}

/** Which image a placeholder stands for and the widths it will be shown at. */
export interface PendingImage {
  prompt: string;
  ratio: Ratio;
  widths?: number[];
  /** The dev server's page script reports the keys of the placeholders it shows. */
  key?: string;
}

/** The attribute by which the dev server's page script knows the link to the takes page. */
export const TAKES_LINK_ATTRIBUTE = 'data-generated-images-takes';

/**
 * A small "Takes" link over the placeholder's top left corner. Positioned out
 * of flow before the `<img>`, so that it takes no room and sits where the image
 * starts whether the image is inline or a block; a `span` that the page script
 * opens, because an `<a>` inside a link the user wrapped around the image would
 * break the page's HTML.
 */
function takesLink(syntax: Syntax): string {
  const attributes: MarkupAttribute[] = [
    { name: TAKES_LINK_ATTRIBUTE, value: '' },
    { name: 'role', value: 'link' },
    { name: 'tabIndex', value: 0 },
    { name: 'title', value: 'Try other takes of this image' },
    { style: [['position', 'absolute'], ['margin', '6px'], ['padding', '1px 6px'], ['font', '12px/1.5 system-ui,sans-serif'], ['color', '#fff'], ['background', 'rgba(17,24,39,.75)'], ['border-radius', '4px'], ['cursor', 'pointer'], ['z-index', '1']] },
  ];
  return `<span${writeAttributes(attributes, syntax)}>Takes</span>`;
}

/**
 * The dev server's stand-in for an image that is not in the cache yet: the
 * markup of the final `<picture>` (same width, height, style and attributes,
 * so nothing moves when it arrives) whose one file is an SVG of the prompt,
 * with a link to the takes page where the host has one (`takes`).
 */
export function renderPending(image: PendingImage, props: RenderProps, status: string, syntax: Syntax, settings: { widths?: number[]; imageSize?: ImageSize | null; takes?: boolean } = {}): string {
  const source = expectedSize(image.ratio, settings.imageSize ?? null);
  const widths = capWidths(image.widths ?? settings.widths ?? DEFAULT_WIDTHS, source.width);
  const largest = widths[widths.length - 1]!;
  // The box pictureModel gives the final image: the largest width (or the given width or height), the other side by the ratio.
  const width = props.width ?? (props.height ? Math.round((props.height * source.width) / source.height) : largest);
  const height = props.height ?? Math.round((width * source.height) / source.width);
  const svg = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(pendingSvg(image.prompt, image.ratio, status, { width, height }))}`;
  const plan: ImagePlan = {
    key: image.key ?? 'pending',
    width: source.width,
    height: source.height,
    sources: [],
    fallback: { name: svg, width: largest, height: Math.round((largest * source.height) / source.width), transform: { format: 'png', quality: 100, effort: 0 } },
    placeholder: null,
  };
  const pictureAttributes = [
    ...(props.pictureAttributes ?? []),
    { name: 'data-generated-image', value: 'pending' },
    ...(image.key ? [{ name: 'data-generated-image-key', value: image.key }] : []),
  ];
  const markup = renderPicture(pictureModel(plan, { ...props, pictureAttributes }, (name) => name), syntax);
  if (!settings.takes) return markup;
  const img = markup.lastIndexOf('<img');
  return `${markup.slice(0, img)}${takesLink(syntax)}${markup.slice(img)}`;
}
