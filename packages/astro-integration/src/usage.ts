import { GeneratedImagesError, type Usage } from 'vite-plugin-generated-images/core';

type Value = Usage['alt'];

/**
 * A `<GeneratedImage … />` found in rendered Markdown, as component props: one
 * render path for both. Markdown cannot evaluate `{…}`, so only literals count.
 */
export function usageToProps(usage: Usage, page: string): Record<string, unknown> {
  const literal = (name: string, value: Value): unknown => {
    switch (value.kind) {
      case 'string':
      case 'number':
      case 'array':
        return value.value;
      case 'boolean':
        return true;
      case 'expression':
        throw new GeneratedImagesError('INVALID_PROPS', `<GeneratedImage prompt=${JSON.stringify(usage.prompt)}> in the Markdown of ${page}: ${name}={${value.code}} is an expression, which Markdown does not evaluate; write a literal value`);
    }
  };
  const props: Record<string, unknown> = {
    prompt: usage.prompt,
    ratio: usage.ratio,
    variant: usage.variant,
    alt: literal('alt', usage.alt),
    widths: usage.widths,
    formats: usage.formats,
    quality: usage.quality,
    width: usage.width,
    height: usage.height,
    references: usage.references,
    art: usage.art?.map((a) => `${a.media} ${a.ratio}${a.crop ? ' crop' : ''}`).join(', '),
  };
  for (const attr of [usage.sizes, usage.loading, usage.decoding, usage.style, ...usage.passthrough]) {
    if (attr) props[attr.name] = literal(attr.name, attr.value);
  }
  return props;
}
