import { pictureModel, renderPicture, type RenderProps, type Syntax } from './render.js';
import type { ResolvedImage } from './pipeline.js';
import type { Usage } from './usage.js';
import { expectedSize, type Ratio } from './ratios.js';
import type { AttributeValue } from './extract.js';

/** The props of a scanned usage, as the renderer takes them. */
export function usageProps(usage: Usage): RenderProps {
  return {
    alt: usage.alt,
    sizes: usage.sizes,
    loading: usage.loading,
    decoding: usage.decoding,
    style: usage.style,
    width: usage.width,
    height: usage.height,
    attributes: usage.passthrough,
  };
}

/** The markup that replaces a usage in source. */
export function renderUsage(usage: Usage, image: ResolvedImage, url: (name: string) => string, syntax: Syntax): string {
  return renderPicture(pictureModel(image.plan, usageProps(usage), url, image.placeholderUrl), syntax);
}

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

/** An image of the right size showing the prompt, for the dev server while the real one is generated (or cannot be). */
export function pendingSvg(prompt: string, ratio: Ratio, status: string): string {
  const { width, height } = expectedSize(ratio, null);
  const lines = wrap(prompt, Math.max(20, Math.floor(width / 22)), 4);
  const size = Math.round(width / 40);
  const text = [status, ...lines]
    .map((line, i) => `<text x="50%" y="${height / 2 + (i - lines.length / 2) * size * 1.5}" font-size="${i === 0 ? size * 0.8 : size}" fill="${i === 0 ? '#6b7280' : '#374151'}" text-anchor="middle" font-family="system-ui,sans-serif">${escapeXml(line)}</text>`)
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><rect width="100%" height="100%" fill="#e5e7eb"/>${text}</svg>`;
}

export function renderPending(usage: Pick<Usage, 'prompt' | 'ratio' | 'passthrough'> & { alt: AttributeValue | string; width?: number; height?: number }, status: string, syntax: Syntax): string {
  const { width, height } = expectedSize(usage.ratio, null);
  const src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(pendingSvg(usage.prompt, usage.ratio, status))}`;
  const alt = typeof usage.alt === 'string' ? { name: 'alt', value: usage.alt } : usage.alt.kind === 'expression' ? { raw: usage.alt.code } : { name: 'alt', value: usage.alt.kind === 'string' ? usage.alt.value : '' };
  const w = usage.width ?? width;
  const h = usage.height ?? Math.round((w * height) / width);
  return renderPicture(
    {
      sources: [],
      picture: [{ name: 'data-generated-image', value: 'pending' }],
      img: [
        { name: 'src', value: src },
        { name: 'width', value: w },
        { name: 'height', value: h },
        alt,
        { name: 'style', value: 'max-width:100%;height:auto' },
        ...usage.passthrough.map((a) => ({ raw: a.raw })),
      ],
    },
    syntax,
  );
}
