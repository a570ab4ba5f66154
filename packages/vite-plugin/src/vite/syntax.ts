import type { ResolvedConfig } from 'vite';
import type { Syntax } from '../render/picture.js';

const JSX_FILE = /\.(jsx|tsx|mdx)$/;
/** Markdown keeps raw HTML; every Markdown pipeline that renders pages (VitePress, markdown-it, marked, Astro) passes it through. */
const HTML_FILE = /\.(svelte|md)$/;

/** Module ids the transform may change, for Rolldown's hook filter (the handler checks again, for older Vite). */
export const MODULE_FILTER = { id: /\.(jsx|tsx|mdx|md|vue|svelte)(\?.*)?$/, code: '<GeneratedImage' };

const JSX_IMPORT_SOURCE = /@jsxImportSource\s+(\S+)/;
/** vite-plugin-solid's plugin name: a project that compiles its JSX with it writes Solid. */
const SOLID_PLUGIN = 'solid';

/**
 * Which JSX a module is written for: Solid when the module says so
 * (`@jsxImportSource solid-js`) or when the config compiles JSX with
 * vite-plugin-solid (or names solid-js as the JSX import source); else
 * React's conventions, which Preact and MDX share.
 */
function jsxSyntax(code: string, config: ResolvedConfig): Syntax {
  const pragma = JSX_IMPORT_SOURCE.exec(code)?.[1];
  if (pragma) return pragma.startsWith('solid-js') ? 'solid' : 'jsx';
  if (config.esbuild && config.esbuild.jsxImportSource?.startsWith('solid-js')) return 'solid';
  return config.plugins.some((plugin) => plugin.name === SOLID_PLUGIN) ? 'solid' : 'jsx';
}

/** How a module writes markup, or undefined when it is not ours to transform. */
export function syntaxOf(id: string, code: string, config: ResolvedConfig): Syntax | undefined {
  const file = id.split('?', 1)[0]!;
  if (JSX_FILE.test(file)) return jsxSyntax(code, config);
  // `.vue?vue&type=…` and `.svelte?svelte&type=style` sub-requests carry compiled code, not the template.
  if (id.includes('?')) return undefined;
  if (file.endsWith('.vue')) return 'vue';
  if (HTML_FILE.test(file)) return 'html';
  return undefined;
}
