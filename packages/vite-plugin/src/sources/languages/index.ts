import type { SourceLocation } from '../../core/location.js';
import { markdownStarts } from './markdown.js';
import { markupStarts } from './markup.js';
import { scriptStarts, type ScriptLang } from './script.js';

/** The language a file is written in, as its extension says; anything else is read as HTML (pages, rendered Markdown). */
export type HostLanguage = 'html' | 'vue' | 'svelte' | 'astro' | 'markdown' | 'mdx' | ScriptLang;

const BY_EXTENSION: Record<string, HostLanguage> = {
  html: 'html', htm: 'html', vue: 'vue', svelte: 'svelte', astro: 'astro', md: 'markdown', markdown: 'markdown', mdx: 'mdx',
  js: 'jsx', mjs: 'js', cjs: 'js', jsx: 'jsx', ts: 'ts', mts: 'ts', cts: 'ts', tsx: 'tsx',
};

export function languageOf(file: string): HostLanguage {
  const ext = /\.([a-z]+)$/i.exec(file.split('?', 1)[0]!)?.[1]?.toLowerCase() ?? '';
  return BY_EXTENSION[ext] ?? 'html';
}

/**
 * The end of a YAML frontmatter block (`---` lines at the very start), or 0.
 * Astro's is code; Markdown pipelines strip theirs before rendering.
 */
function frontmatterEnd(code: string): number {
  const open = /^\uFEFF?[ \t]*---[ \t]*\r?\n/.exec(code);
  if (!open) return 0;
  const close = /^[ \t]*---[ \t]*$/m;
  const rest = code.slice(open[0].length);
  const m = close.exec(rest);
  return m ? open[0].length + m.index + m[0].length : 0;
}

/** The text with its frontmatter blanked out (same offsets, same lines), so a parser reads only what renders. */
function withoutFrontmatter(code: string): string {
  const end = frontmatterEnd(code);
  return end === 0 ? code : code.slice(0, end).replace(/[^\n]/g, ' ') + code.slice(end);
}

/**
 * Where an element named `tag` starts, in source order: only where the file's
 * own language would render it as an element. May throw a located
 * INVALID_USAGE error when the file cannot be read in its language.
 */
export function elementStarts(code: string, file: string, tag: string, at: (offset: number) => SourceLocation): number[] {
  const language = languageOf(file);
  let starts: number[];
  switch (language) {
    case 'html':
    case 'vue':
    case 'svelte':
      starts = markupStarts(code, language, tag);
      break;
    case 'astro':
      starts = markupStarts(code, 'astro', tag, frontmatterEnd(code));
      break;
    case 'markdown':
    case 'mdx':
      starts = markdownStarts(withoutFrontmatter(code), language === 'mdx', tag, at);
      break;
    default:
      starts = scriptStarts(code, language, tag, at);
  }
  return [...new Set(starts)].sort((a, b) => a - b);
}
