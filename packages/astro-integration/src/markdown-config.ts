import type { AstroConfig, HookParameters } from 'astro';
import { rehypeGeneratedImages, satteriGeneratedImages } from './markdown.js';

type UpdateConfig = HookParameters<'astro:config:setup'>['updateConfig'];

/** Astro 7's `markdown.processor`: Sätteri takes HAST plugins, `unified()` rehype plugins, each in its own options. */
interface Processor {
  name: string;
  options: { hastPlugins?: unknown[]; rehypePlugins?: unknown[] };
}

/**
 * Adds the Markdown plugin to the processor Astro renders `.md` with (and
 * MDX, which shares it): on Astro 7 to its processor's own plugin list, on
 * Astro 5 and 6 to `markdown.rehypePlugins`, as `@astrojs/mdx` does.
 */
export function addMarkdownPlugin(config: AstroConfig, updateConfig: UpdateConfig, root: string): void {
  const processor = (config.markdown as { processor?: Processor }).processor;
  if (Array.isArray(processor?.options.hastPlugins)) processor.options.hastPlugins.push(satteriGeneratedImages({ root }));
  else if (Array.isArray(processor?.options.rehypePlugins)) processor.options.rehypePlugins.push(rehypeGeneratedImages({ root }));
  else updateConfig({ markdown: { rehypePlugins: [rehypeGeneratedImages({ root })] } });
}
