import type { Usage } from './usage.js';

/** The source with each usage's element replaced by its markup (`rendered[i]` for `usages[i]`, in source order). */
export function replaceUsages(code: string, usages: Array<Pick<Usage, 'start' | 'end'>>, rendered: string[]): string {
  let out = '';
  let last = 0;
  usages.forEach((usage, i) => {
    out += code.slice(last, usage.start) + rendered[i];
    last = usage.end;
  });
  return out + code.slice(last);
}
