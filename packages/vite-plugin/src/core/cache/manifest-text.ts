/**
 * The text of `manifest.json`: how it is written so that git merges it, and
 * how it is read back after a merge.
 *
 * Written: 2-space JSON, keys sorted at every level, each image on one line
 * of its own, between an `"images": {` line and a `},` line that never
 * change. The cache folder's `.gitattributes` gives manifest.json git's
 * built-in `union` merge driver (no git config needed), which keeps every
 * line of both sides instead of reporting a conflict. With one image per
 * line, whole images are what get combined, never halves of two. What a
 * union merge can leave behind is repaired here on reading, and reported:
 * a missing comma (both branches appended after the last key), a trailing
 * comma (one side deleted the last image), keys out of order, and the same
 * key twice (both branches changed one image).
 */

/** JSON with object keys sorted at every level, in one pass (building sorted copies first cost seconds at 5,000 images). */
function sortedJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  const members: string[] = [];
  for (const key of Object.keys(record).sort()) {
    if (record[key] !== undefined) members.push(`${JSON.stringify(key)}:${sortedJson(record[key])}`);
  }
  return `{${members.join(',')}}`;
}

/** The committed form of a manifest: the same content always gives the same bytes. */
export function stableStringify(manifest: { version: number; images: Record<string, unknown> }): string {
  const members = Object.keys(manifest).sort().map((name) => {
    const value = (manifest as Record<string, unknown>)[name];
    if (name !== 'images' || !value || typeof value !== 'object') return `  ${JSON.stringify(name)}: ${sortedJson(value)}`;
    const images = value as Record<string, unknown>;
    const lines = Object.keys(images).sort().map((key) => `    ${JSON.stringify(key)}: ${sortedJson(images[key])}`);
    // The opening and closing lines stay even when empty: a branch that prunes every image then changes
    // only image lines, which a union merge combines with another branch's, never a second "images".
    return ['  "images": {', ...(lines.length ? [lines.join(',\n')] : []), '  }'].join('\n');
  });
  return `{\n${members.join(',\n')}\n}\n`;
}

/**
 * Whether text read without repairs is in the layout stableStringify writes: its fixed lines where
 * they belong and one line per image (the key order is checked by the reader). Cheaper than writing
 * the text again to compare.
 */
export function inCommittedLayout(text: string, images: number): boolean {
  const lines = text.split('\n');
  return lines.length === images + 6 && lines[0] === '{' && lines[1] === '  "images": {' && lines.at(-4) === '  },' && lines.at(-2) === '}' && lines.at(-1) === '';
}

export interface ManifestText {
  /** The document; `images` is left out and given as `images` below. */
  document: Record<string, unknown>;
  /** Every image member in file order, a key given twice appearing twice; undefined when there is no `images` object. */
  images: Array<[key: string, value: unknown]> | undefined;
  /** What had to be repaired for the text to parse, in words, with line numbers. */
  repairs: string[];
}

interface Edit {
  at: number;
  remove: number;
  insert: string;
}

/**
 * Finds the members of the top-level `images` object with a small lexer, so
 * that duplicate keys (which JSON.parse silently collapses) are seen, and a
 * missing or extra comma between two images can be fixed before parsing.
 */
function scanImages(text: string): { keys: Array<{ start: number; end: number; name: string }>; objects: number; edits: Edit[]; repairs: string[] } {
  const keys: Array<{ start: number; end: number; name: string }> = [];
  /** Top-level `images` members: an earlier layout wrote `"images": {}` on one line, which a union merge could put beside a second one. */
  let objects = 0;
  const edits: Edit[] = [];
  const repairs: string[] = [];
  const lineAt = (offset: number) => text.slice(0, offset).split('\n').length;
  let depth = 0;
  let topExpectsKey = false;
  let topKey: string | undefined;
  let inImages = false;
  /** Inside `images`: what the next token should be. */
  let state: 'key' | 'colon' | 'value' | 'comma' = 'key';
  let lastComma = -1;
  /** Where the last image's value ended: a missing comma goes there. */
  let valueEnd = -1;
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === ' ' || ch === '\n' || ch === '\r' || ch === '\t') {
      i++;
      continue;
    }
    if (ch === '"') {
      const start = i;
      // To the next quote not escaped by an odd run of backslashes.
      for (;;) {
        const quote = text.indexOf('"', i + 1);
        if (quote < 0) {
          i = text.length + 1;
          break;
        }
        let slashes = 0;
        while (text.charCodeAt(quote - 1 - slashes) === 92) slashes++;
        i = quote;
        if (slashes % 2 === 0) break;
      }
      i++;
      const token = text.slice(start, i);
      if (depth === 1 && topExpectsKey) {
        topKey = JSON.parse(token) as string;
        topExpectsKey = false;
        if (topKey === 'images') {
          // Renamed so that JSON.parse keeps each of them; their members are read together.
          edits.push({ at: start, remove: i - start, insert: `"#images${objects}"` });
          if (++objects === 2) repairs.push(`a second "images" object on line ${lineAt(start)}`);
        }
      } else if (inImages && depth === 2) {
        if (state === 'comma') {
          edits.push({ at: valueEnd, remove: 0, insert: ',' });
          repairs.push(`a missing comma before line ${lineAt(start)}`);
          state = 'key';
        }
        if (state === 'key') {
          keys.push({ start, end: i, name: JSON.parse(token) as string });
          state = 'colon';
        } else if (state === 'value') {
          state = 'comma';
          valueEnd = i;
        }
      }
      continue;
    }
    if (ch === '{' || ch === '[') {
      if (depth === 0) topExpectsKey = ch === '{';
      else if (depth === 1 && ch === '{' && topKey === 'images' && !topExpectsKey) {
        inImages = true;
        state = 'key';
      } else if (inImages && depth === 2 && state === 'comma') {
        // A value where a comma belongs cannot come from a union merge; leave it to JSON.parse to report.
        state = 'value';
      }
      depth++;
      i++;
      continue;
    }
    if (ch === '}' || ch === ']') {
      if (inImages && depth === 2 && state === 'key' && lastComma >= 0) {
        edits.push({ at: lastComma, remove: 1, insert: '' });
        repairs.push(`a trailing comma on line ${lineAt(lastComma)}`);
      }
      depth--;
      i++;
      if (inImages && depth === 2) {
        state = 'comma';
        valueEnd = i;
      }
      if (inImages && depth === 1) inImages = false;
      continue;
    }
    if (ch === ':') {
      if (inImages && depth === 2 && state === 'colon') state = 'value';
      i++;
      continue;
    }
    if (ch === ',') {
      if (depth === 1) topExpectsKey = true;
      if (inImages && depth === 2 && state === 'comma') {
        state = 'key';
        lastComma = i;
      }
      i++;
      continue;
    }
    // A number, true, false or null; anything else (a control character, say) is left for JSON.parse to refuse.
    const from = i;
    while (i < text.length && !/[\s{}[\]:,"]/.test(text[i]!)) i++;
    if (i === from) i++;
    if (inImages && depth === 2 && state === 'value') {
      state = 'comma';
      valueEnd = i;
    }
  }
  return { keys, objects, edits, repairs };
}

/** An image's line as stableStringify writes it, up to its value: the key is what a line can be checked by without parsing. */
const IMAGE_LINE = /^ {4}"([0-9a-f]{16})": \{/;

/**
 * The text as stableStringify wrote it, read with JSON.parse alone: every
 * image on a line of its own, no key twice, nothing to repair. Undefined for
 * anything else, which the lexer reads (it costs some 30 ms of a build at 60
 * images, JSON.parse under one).
 */
function readCommittedText(text: string): ManifestText | undefined {
  const lines = text.split('\n');
  if (lines.length < 6 || lines[0] !== '{' || lines[1] !== '  "images": {' || lines.at(-4) !== '  },' || lines.at(-2) !== '}' || lines.at(-1) !== '') return undefined;
  const keys: string[] = [];
  for (let i = 2; i < lines.length - 4; i++) {
    const key = IMAGE_LINE.exec(lines[i]!)?.[1];
    if (key === undefined) return undefined;
    keys.push(key);
  }
  let parsed: { images?: unknown };
  try {
    parsed = JSON.parse(text) as { images?: unknown };
  } catch {
    return undefined;
  }
  const { images, ...document } = parsed;
  // A key given twice, or a line holding more than one image, is the lexer's to report.
  if (!images || typeof images !== 'object' || Object.keys(images).length !== keys.length || new Set(keys).size !== keys.length) return undefined;
  return { document, images: keys.map((key) => [key, (images as Record<string, unknown>)[key]]), repairs: [] };
}

/**
 * Reads manifest.json as written by `stableStringify`, by hand in the SPEC's
 * layout, or as left by a union merge. Throws a SyntaxError for text that is
 * not JSON even after the repairs above.
 */
export function readManifestText(text: string): ManifestText {
  const committed = readCommittedText(text);
  if (committed) return committed;
  const scan = scanImages(text);
  // Every image key is renamed to its index, so that JSON.parse keeps a key given twice.
  const edits: Edit[] = [...scan.edits, ...scan.keys.map((k, index) => ({ at: k.start, remove: k.end - k.start, insert: `"#${index}"` }))];
  // Assembled in one pass: splicing the edits into the string one by one copied the whole manifest per image.
  const parts: string[] = [];
  let copied = 0;
  for (const edit of edits.sort((a, b) => a.at - b.at)) {
    parts.push(text.slice(copied, edit.at), edit.insert);
    copied = edit.at + edit.remove;
  }
  parts.push(text.slice(copied));
  const parsed = JSON.parse(parts.join('')) as unknown;
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return { document: {}, images: undefined, repairs: scan.repairs };
  const document: Record<string, unknown> = {};
  let members: Array<[string, unknown]> | undefined;
  for (const [name, value] of Object.entries(parsed)) {
    if (!/^#images\d+$/.test(name)) document[name] = value;
    else if (value && typeof value === 'object' && !Array.isArray(value)) {
      members ??= [];
      for (const [id, entry] of Object.entries(value)) members.push([scan.keys[Number(id.slice(1))]!.name, entry]);
    }
  }
  return { document, images: members, repairs: scan.repairs };
}
