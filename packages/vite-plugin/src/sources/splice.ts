import MagicString, { type SourceMap } from 'magic-string';
import type { Range } from './imports.js';
import type { Usage } from './usage.js';

export interface Spliced {
  code: string;
  /** Maps the result back to the source: everything after a replaced usage keeps its own line and column. */
  map: SourceMap;
}

function edit(code: string, usages: Array<Pick<Usage, 'start' | 'end'>>, rendered: string[], removed: Range[] = []): MagicString {
  const s = new MagicString(code);
  usages.forEach((usage, i) => s.overwrite(usage.start, usage.end, rendered[i]!));
  for (const range of removed) s.remove(range.start, range.end);
  return s;
}

/**
 * The source with each usage's element replaced by its markup (`rendered[i]`
 * for `usages[i]`) and the `removed` ranges deleted (an import nothing uses
 * any more), and its source map, made when first read: an HTML entry's
 * transform returns only the code, and a map of a page costs more than the
 * splice.
 */
export function spliceUsages(code: string, usages: Array<Pick<Usage, 'start' | 'end'>>, rendered: string[], file: string, removed: Range[] = []): Spliced {
  const s = edit(code, usages, rendered, removed);
  let map: SourceMap | undefined;
  return {
    code: s.toString(),
    get map() {
      // 'boundary': one mapping per word, as Vite's and Astro's own plugins generate, so columns map too.
      return (map ??= s.generateMap({ source: file, file, includeContent: true, hires: 'boundary' }));
    },
  };
}

/** The source with each usage's element replaced by its markup, where no map is wanted (rendered HTML). */
export function replaceUsages(code: string, usages: Array<Pick<Usage, 'start' | 'end'>>, rendered: string[]): string {
  return usages.length === 0 ? code : edit(code, usages, rendered).toString();
}
