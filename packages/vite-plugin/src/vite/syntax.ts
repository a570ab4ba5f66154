import type { Syntax } from '../render/picture.js';

const JSX_FILE = /\.(jsx|tsx|mdx)$/;
/** Markdown keeps raw HTML; every Markdown pipeline that renders pages (VitePress, markdown-it, marked, Astro) passes it through. */
const HTML_FILE = /\.(svelte|md)$/;

/**
 * How Markdown's raw HTML is compiled: VitePress makes each page a Vue
 * component, whose compiler (with absolute URLs included) would turn a
 * static `src`/`srcset` into an import; elsewhere it stays HTML.
 */
export function markdownSyntax(plugins: ReadonlyArray<{ name: string }>): Syntax {
  return plugins.some((p) => p.name === 'vitepress') ? 'vue' : 'html';
}

/** Module ids the transform may change, for Rolldown's hook filter (the handler checks again, for older Vite). */
export const MODULE_FILTER = { id: /\.(jsx|tsx|mdx|md|vue|svelte)(\?.*)?$/, code: '<GeneratedImage' };

/** How a module writes markup, or undefined when it is not ours to transform. */
export function syntaxOf(id: string, markdown: Syntax = 'html'): Syntax | undefined {
  const file = id.split('?', 1)[0]!;
  if (JSX_FILE.test(file)) return 'jsx';
  // `.vue?vue&type=…` and `.svelte?svelte&type=style` sub-requests carry compiled code, not the template.
  if (id.includes('?')) return undefined;
  if (file.endsWith('.vue')) return 'vue';
  if (file.endsWith('.md')) return markdown;
  if (HTML_FILE.test(file)) return 'html';
  return undefined;
}
