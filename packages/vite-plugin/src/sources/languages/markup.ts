import { skipExpression } from './expression.js';

/**
 * The HTML-like template languages: plain HTML; Vue SFCs (top-level blocks
 * other than an HTML `<template>` are raw, `{{ … }}` is code); Svelte (`{…}`
 * is JavaScript, in text and in attributes); Astro (`{…}` is JavaScript that
 * may hold JSX elements).
 */
export type MarkupDialect = 'html' | 'vue' | 'svelte' | 'astro';

/**
 * Elements whose content the HTML tokenizer reads as text up to their end
 * tag (RAWTEXT, RCDATA and script data states), so a tag inside is text.
 */
const RAW_TEXT = new Set(['script', 'style', 'textarea', 'title', 'xmp', 'iframe', 'noembed', 'noframes', 'plaintext']);

const NAME = /[A-Za-z][^\s/>]*/y;
/** What can end or change the reading of an open tag. */
const TAG_SPECIAL = /[>"'{]/g;
const LANG = /\slang\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i;

interface Tag {
  name: string;
  /** Just past the tag's `>`. */
  end: number;
  selfClosing: boolean;
}

/** Reads an open tag from its `<` past its `>`, over quoted values and (outside HTML) `{…}` expressions. */
function readOpenTag(code: string, lt: number, to: number, dialect: MarkupDialect): Tag {
  NAME.lastIndex = lt + 1;
  const name = NAME.exec(code)![0];
  let i = lt + 1 + name.length;
  while (i < to) {
    const c = code[i]!;
    if (c === '>') return { name, end: i + 1, selfClosing: code[i - 1] === '/' };
    if (c === '"' || c === "'") {
      const close = code.indexOf(c, i + 1);
      i = close < 0 || close >= to ? to : close + 1;
    } else if (c === '{' && dialect !== 'html') i = skipExpression(code, i, to, dialect === 'astro' ? 'jsx' : 'js').end;
    else {
      TAG_SPECIAL.lastIndex = i + 1;
      i = TAG_SPECIAL.exec(code) ? TAG_SPECIAL.lastIndex - 1 : to;
    }
  }
  return { name, end: to, selfClosing: false };
}

/** Offset just past the end tag `</name …>` that closes raw text starting at `from` (case-insensitive, as HTML matches it). */
function rawTextEnd(code: string, from: number, to: number, name: string): number {
  const close = new RegExp(`</${name}(?=[\\s/>])`, 'ig');
  close.lastIndex = from;
  const m = close.exec(code);
  if (!m || m.index >= to) return to;
  const gt = code.indexOf('>', m.index);
  return gt < 0 || gt >= to ? to : gt + 1;
}

/**
 * Where a `<tag` of the given name starts as an element between `from` and
 * `to`: never inside comments, raw-text elements, or the code of expressions
 * (where Astro's JSX elements count, found by the expression reader).
 */
export function markupStarts(code: string, dialect: MarkupDialect, tag: string, from = 0, to = code.length, starts: number[] = []): number[] {
  // Vue: how deep inside `<template>` elements the scan is; outside any, a tag opens a block of its own language.
  let templates = 0;
  const special = dialect === 'html' ? /</g : /[<{]/g;
  let i = from;
  while (i < to) {
    const c = code[i]!;
    if (c === '{' && dialect !== 'html') {
      if (dialect === 'vue') {
        if (code[i + 1] !== '{') {
          i++;
          continue;
        }
        const close = code.indexOf('}}', i + 2);
        i = close < 0 || close >= to ? to : close + 2;
        continue;
      }
      const expression = skipExpression(code, i, to, dialect === 'astro' ? 'jsx' : 'js', tag);
      starts.push(...expression.starts);
      i = expression.end;
      continue;
    }
    if (c !== '<') {
      // Text: jump to the next character that can start markup or an expression.
      special.lastIndex = i + 1;
      i = special.exec(code) ? special.lastIndex - 1 : to;
      continue;
    }
    const next = code[i + 1];
    if (code.startsWith('<!--', i)) {
      const close = code.indexOf('-->', i + 4);
      i = close < 0 || close >= to ? to : close + 3;
    } else if (next === '!' || next === '?') {
      // Doctype, CDATA or a bogus comment: text up to the next `>`.
      const close = code.indexOf('>', i);
      i = close < 0 || close >= to ? to : close + 1;
    } else if (next === '/') {
      NAME.lastIndex = i + 2;
      const name = NAME.exec(code)?.[0];
      if (dialect === 'vue' && name?.toLowerCase() === 'template') templates = Math.max(0, templates - 1);
      const close = code.indexOf('>', i);
      i = close < 0 || close >= to ? to : close + 1;
    } else if (next !== undefined && /[A-Za-z]/.test(next)) {
      const open = readOpenTag(code, i, to, dialect);
      const lower = open.name.toLowerCase();
      const lang = LANG.exec(code.slice(i, open.end));
      const langName = lang ? (lang[1] ?? lang[2] ?? lang[3] ?? '').toLowerCase() : 'html';
      if (open.name === tag && (dialect !== 'vue' || templates > 0)) starts.push(i);
      i = open.end;
      if (open.selfClosing && dialect !== 'html') continue;
      const vueBlock = dialect === 'vue' && templates === 0 && lower !== 'template';
      if (vueBlock || RAW_TEXT.has(lower) || (lower === 'template' && langName !== 'html')) i = rawTextEnd(code, i, to, open.name);
      else if (dialect === 'vue' && lower === 'template') templates++;
    } else i++;
  }
  return starts;
}
