import type { ResolvedImage } from '../core/pipeline.js';
import type { AttributeValue } from '../sources/extract.js';
import type { Usage } from '../sources/usage.js';
import { pictureModel, renderPicture, type RenderProps, type Syntax } from './picture.js';

/** The props of a scanned usage, as the renderer takes them. */
export function usageProps(usage: Pick<Usage, 'sizes' | 'loading' | 'decoding' | 'style' | 'width' | 'height' | 'passthrough'> & { alt: AttributeValue | string }): RenderProps {
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

/** The markup that replaces a usage in source (`fileAttributes`: see renderPicture). */
export function renderUsage(usage: Usage, image: ResolvedImage, url: (name: string) => string, syntax: Syntax, fileAttributes?: string[]): string {
  return renderPicture(pictureModel(image.plan, usageProps(usage), url, image.placeholderUrl, image.art), syntax, fileAttributes);
}
