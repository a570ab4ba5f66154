import { isRatio, RATIOS, type Ratio } from './ratios.js';

/** One entry of `art`: below this media query, show the image at this ratio (generated, or cut from the default). */
export interface ArtEntry {
  media: string;
  ratio: Ratio;
  /** Cut from the default image with sharp's attention crop instead of generating a picture of its own. */
  crop: boolean;
}

/**
 * Reads `art` in the syntax of `sizes`: comma-separated entries of a media
 * condition, a ratio and optionally `crop`, e.g.
 * `(max-width: 640px) 9:16 crop, (max-width: 1024px) 4:3`. Returns the
 * entries, or why the text is not that.
 */
export function parseArt(text: string): ArtEntry[] | string {
  const entries: ArtEntry[] = [];
  // Commas inside a media condition's parentheses do not end an entry.
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  for (const raw of parts) {
    const part = raw.trim();
    if (part === '') return 'it has an empty entry; write e.g. "(max-width: 640px) 9:16, (max-width: 1024px) 4:3"';
    const match = /^(.*\S)\s+(\d+:\d+)(?:\s+(crop))?$/.exec(part);
    if (!match || !match[1]!.includes('(')) return `the entry ${JSON.stringify(part)} is not a media condition followed by a ratio (and optionally "crop"), e.g. "(max-width: 640px) 9:16"`;
    const ratio = match[2]!;
    if (!isRatio(ratio)) return `the entry ${JSON.stringify(part)} has the ratio ${JSON.stringify(ratio)}; allowed: ${RATIOS.map((r) => `"${r}"`).join(', ')}`;
    if (entries.some((e) => e.media === match[1])) return `the media condition ${JSON.stringify(match[1])} is given twice`;
    entries.push({ media: match[1]!, ratio, crop: match[3] === 'crop' });
  }
  return entries;
}
