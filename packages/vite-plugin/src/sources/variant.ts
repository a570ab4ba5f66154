import path from 'node:path';
import MagicString from 'magic-string';
import { GeneratedImagesError } from '../core/errors.js';
import { relativeLocation, type SourceLocation } from '../core/location.js';
import type { Attribute } from './extract.js';
import { findUsages } from './usage.js';

/** `variant` written where it is missing: `{n}` where the file's language has expressions, a binding in Vue, a string in HTML and Markdown. */
function newAttribute(file: string, variant: number): string {
  if (/\.(jsx|tsx|mdx|astro|svelte)$/i.test(file)) return `variant={${variant}}`;
  if (/\.vue$/i.test(file)) return `:variant="${variant}"`;
  return `variant="${variant}"`;
}

/** The offset of a 1-based line and column. */
function offsetOf(code: string, loc: SourceLocation): number {
  let offset = 0;
  for (let line = 1; line < loc.line; line++) offset = code.indexOf('\n', offset) + 1;
  return offset + loc.column - 1;
}

const VARIANT_NAMES = new Set(['variant', ':variant', 'v-bind:variant']);

/** The end of an attribute in `code`, checked against its text as the extractor read it. */
function endOf(code: string, attr: Attribute): number {
  const start = offsetOf(code, attr.loc);
  if (!code.startsWith(attr.raw, start)) throw new GeneratedImagesError('TAKE_REFUSED', `${attr.name} is not where the scan found it`);
  return start + attr.raw.length;
}

/**
 * The file with the `variant` of the usage that starts at offset `start` set
 * to `variant`, and nothing else changed: an existing value is replaced in
 * the quoting it was written in (`{1}`, `"1"`, `'1'`, `:variant="1"`); a
 * missing one is added after `ratio` (or `prompt`). The result is read back
 * to prove that the same usage now has that variant and every other prop as
 * before; otherwise nothing is returned but the error.
 */
export function setVariant(code: string, file: string, start: number, variant: number, root: string): { code: string; loc: SourceLocation } {
  if (!Number.isSafeInteger(variant) || variant < 0) throw new GeneratedImagesError('TAKE_REFUSED', `variant must be an integer >= 0, got ${variant}`);
  const before = findUsages(code, file).usages;
  const usage = before.find((u) => u.start === start);
  if (!usage) throw new GeneratedImagesError('SOURCE_CHANGED', `${path.relative(root, file) || file} has no valid <GeneratedImage> at that place any more`);
  const where = relativeLocation(usage.loc, root);
  const s = new MagicString(code);
  const existing = usage.attributes.find((a) => VARIANT_NAMES.has(a.name));
  if (existing) {
    const end = endOf(code, existing);
    let value = code.indexOf('=', offsetOf(code, existing.loc) + existing.name.length) + 1;
    while (/\s/.test(code[value]!)) value++;
    const quote = code[value]!;
    s.overwrite(value, end, quote === '{' ? `{${variant}}` : quote === '"' || quote === "'" ? `${quote}${variant}${quote}` : String(variant));
  } else if (variant !== 0) {
    const after = usage.attributes.find((a) => a.name === 'ratio') ?? usage.attributes.find((a) => a.name === 'prompt');
    if (!after) throw new GeneratedImagesError('TAKE_REFUSED', `${where}: the usage has no literal prompt to put variant beside`);
    s.appendLeft(endOf(code, after), ` ${newAttribute(file, variant)}`);
  }
  const edited = s.toString();
  const after = findUsages(edited, file).usages;
  const same = after.find((u) => u.start === start);
  const unchanged = (a: typeof usage, b: typeof usage) => a.prompt === b.prompt && a.ratio === b.ratio && a.end - a.start === b.end - b.start - (edited.length - code.length);
  if (after.length !== before.length || !same || same.variant !== variant || !unchanged(usage, same)) {
    throw new GeneratedImagesError('TAKE_REFUSED', `${where}: variant could not be set to ${variant} without changing anything else`, { hint: `Write variant={${variant}} on that <GeneratedImage> by hand.` });
  }
  return { code: edited, loc: usage.loc };
}
