import { diagnostic, GeneratedImagesError, isError, type Diagnostic } from '../core/errors.js';
import { decodeHTMLAttribute, decodeHTMLStrict } from 'entities';
import { locator, type SourceLocation } from '../core/location.js';
import { skipExpression, skipQuoted } from './languages/expression.js';
import { elementStarts, languageOf } from './languages/index.js';

/** How an attribute's value was written, as far as the build can know it without running code. */
export type AttributeValue =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'array'; value: unknown[] }
  | { kind: 'boolean' }
  | { kind: 'expression'; code: string };

export interface Attribute {
  /** As written, e.g. `prompt`, `className`, `:prompt` (Vue binding), `...` (JSX spread). */
  name: string;
  value: AttributeValue;
  /** The attribute's exact source text, for passing it through unchanged. */
  raw: string;
  loc: SourceLocation;
}

/** One `<GeneratedImage …>` element as found in source, before its props are interpreted. */
export interface Tag {
  /** Offsets of the whole element (through `/>` or `</GeneratedImage>`), for replacing it. */
  start: number;
  end: number;
  attributes: Attribute[];
  loc: SourceLocation;
}

export interface ExtractResult {
  tags: Tag[];
  errors: Diagnostic[];
}

const TAG = 'GeneratedImage';
const invalid = (reason: string, loc: SourceLocation) => new GeneratedImagesError('INVALID_USAGE', reason, { locations: [loc] });
const OPEN = `<${TAG}`;
const CLOSE = `</${TAG}>`;

/** Quick test before the real extractor, so that files without usages cost one `indexOf`. */
export function mayContainUsage(code: string): boolean {
  return code.includes(OPEN);
}

/**
 * Attribute strings decode character references as their language does: HTML
 * (and the templates built on it) as a browser does in an attribute, legacy
 * references without `;` included; JSX and MDX only complete references.
 */
function decoderFor(file: string): (text: string) => string {
  const language = languageOf(file);
  return language === 'mdx' || language === 'js' || language === 'jsx' || language === 'ts' || language === 'tsx' ? decodeHTMLStrict : decodeHTMLAttribute;
}

/**
 * Finds every `<GeneratedImage …>` element in a source file of any supported
 * syntax (HTML, JSX/TSX, Astro, Vue and Svelte templates, Markdown, MDX):
 * only where the file's own language renders it as an element (see
 * `languages/`), never in comments, strings, code or raw text. It reads
 * attributes the way those syntaxes write them and never evaluates code: a
 * value in braces is either a literal or an expression.
 */
export function extractTags(code: string, file: string): ExtractResult {
  const tags: Tag[] = [];
  const errors: Diagnostic[] = [];
  if (!mayContainUsage(code)) return { tags, errors };
  const at = locator(code, file);
  const decode = decoderFor(file);
  let starts: number[];
  try {
    starts = elementStarts(code, file, TAG, at);
  } catch (error) {
    if (!isError(error, 'INVALID_USAGE')) throw error;
    return { tags, errors: [diagnostic(error.message, error.locations[0]!)] };
  }
  let from = 0;
  for (const start of starts) {
    if (start < from) continue;
    try {
      const tag = readTag(code, start, at, decode);
      tags.push(tag);
      from = tag.end;
    } catch (error) {
      if (!isError(error, 'INVALID_USAGE')) throw error;
      errors.push(diagnostic(error.message, error.locations[0]!));
    }
  }
  return { tags, errors };
}

function readTag(code: string, start: number, at: (offset: number) => SourceLocation, decode: (text: string) => string): Tag {
  const attributes: Attribute[] = [];
  let i = start + OPEN.length;
  for (;;) {
    while (i < code.length && /\s/.test(code[i]!)) i++;
    if (i >= code.length) throw invalid(`<${TAG}> is not closed: expected "/>" or ">"`, at(start));
    if (code.startsWith('/>', i)) {
      return { start, end: i + 2, attributes, loc: at(start) };
    }
    if (code[i] === '>') {
      const close = code.indexOf(CLOSE, i + 1);
      if (close < 0) {
        throw invalid(`<${TAG}> has no closing tag: write <${TAG} … /> or <${TAG} …></${TAG}>`, at(start));
      }
      const inner = code.slice(i + 1, close);
      if (inner.trim() !== '') {
        throw invalid(`<${TAG}> takes no children (found ${JSON.stringify(inner.trim().slice(0, 40))}); the image is described by its prompt`, at(i + 1));
      }
      return { start, end: close + CLOSE.length, attributes, loc: at(start) };
    }
    const attrStart = i;
    if (code[i] === '{') {
      // JSX/Astro spread `{...props}` or Svelte shorthand `{prompt}`.
      const end = readBraces(code, i, at);
      const inner = code.slice(i + 1, end - 1).trim();
      const spread = inner.startsWith('...');
      attributes.push({
        name: spread ? '...' : inner,
        value: { kind: 'expression', code: spread ? inner.slice(3) : inner },
        raw: code.slice(attrStart, end),
        loc: at(attrStart),
      });
      i = end;
      continue;
    }
    const nameMatch = /^[^\s"'<>\/=]+/.exec(code.slice(i, i + 200));
    if (!nameMatch) {
      throw invalid(`unexpected ${JSON.stringify(code[i])} in <${TAG}>: expected an attribute such as prompt="…"`, at(i));
    }
    const name = nameMatch[0];
    i += name.length;
    let j = i;
    while (j < code.length && /\s/.test(code[j]!)) j++;
    if (code[j] !== '=') {
      attributes.push({ name, value: { kind: 'boolean' }, raw: name, loc: at(attrStart) });
      continue;
    }
    j++;
    while (j < code.length && /\s/.test(code[j]!)) j++;
    const quote = code[j];
    let value: AttributeValue;
    let end: number;
    if (quote === '"' || quote === "'") {
      const close = code.indexOf(quote, j + 1);
      if (close < 0) throw invalid(`the value of ${name} has no closing ${quote}`, at(j));
      end = close + 1;
      value = { kind: 'string', value: decode(code.slice(j + 1, close)) };
    } else if (quote === '{') {
      end = readBraces(code, j, at);
      value = staticValue(code.slice(j + 1, end - 1));
    } else {
      const m = /^[^\s"'=<>`]+/.exec(code.slice(j));
      if (!m || m[0].startsWith('/>')) throw invalid(`${name}= has no value`, at(j));
      let text = m[0];
      if (text.endsWith('/') && code[j + text.length] === '>') text = text.slice(0, -1);
      end = j + text.length;
      value = { kind: 'string', value: decode(text) };
    }
    attributes.push({ name, value, raw: code.slice(attrStart, end), loc: at(attrStart) });
    i = end;
  }
}

/** Returns the offset just past the `}` matching the `{` at `open`, skipping strings, template literals and comments. */
function readBraces(code: string, open: number, at: (offset: number) => SourceLocation): number {
  const { end, closed } = skipExpression(code, open, code.length, 'js');
  if (!closed) throw invalid(`unbalanced "{" in <${TAG}>: the expression is never closed`, at(open));
  return end;
}

const NUMBER = /^-?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/** The value of `{…}` when it is a literal the build can read (string, number, array of literals), else the expression. */
export function staticValue(inner: string): AttributeValue {
  const text = inner.trim();
  if (NUMBER.test(text)) return { kind: 'number', value: Number(text) };
  const str = stringLiteral(text);
  if (str !== undefined) return { kind: 'string', value: str };
  if (text.startsWith('[') && text.endsWith(']')) {
    const items = splitTopLevel(text.slice(1, -1));
    const values: unknown[] = [];
    for (const item of items) {
      if (NUMBER.test(item)) values.push(Number(item));
      else {
        const s = stringLiteral(item);
        if (s === undefined) return { kind: 'expression', code: text };
        values.push(s);
      }
    }
    return { kind: 'array', value: values };
  }
  return { kind: 'expression', code: text };
}

function stringLiteral(text: string): string | undefined {
  const q = text[0];
  if (text.length < 2 || text[text.length - 1] !== q) return undefined;
  if (q === '`') {
    const body = text.slice(1, -1);
    if (body.includes('${') || /(?<!\\)`/.test(body)) return undefined;
    return unescapeJs(body);
  }
  if (q !== '"' && q !== "'") return undefined;
  const body = text.slice(1, -1);
  // A literal is exactly one string: reject `"a" + "b"` and friends.
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '\\') i++;
    else if (body[i] === q || body[i] === '\n') return undefined;
  }
  return unescapeJs(body);
}

function unescapeJs(body: string): string {
  return body.replace(/\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|\r\n|[\s\S])/g, (_, e: string) => {
    if (e[0] === 'u' && e[1] === '{') return String.fromCodePoint(parseInt(e.slice(2, -1), 16));
    if (e[0] === 'u' && e.length === 5) return String.fromCharCode(parseInt(e.slice(1), 16));
    if (e[0] === 'x' && e.length === 3) return String.fromCharCode(parseInt(e.slice(1), 16));
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', '0': '\0', '\n': '', '\r\n': '' };
    return simple[e] ?? e;
  });
}

function splitTopLevel(list: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let current = '';
  for (let i = 0; i < list.length; i++) {
    const c = list[i]!;
    if (c === '"' || c === "'" || c === '`') {
      const end = c === '`' ? list.indexOf('`', i + 1) : skipQuoted(list, i, list.length) - 1;
      current += list.slice(i, end + 1);
      i = end;
      continue;
    }
    if (c === '[' || c === '{' || c === '(') depth++;
    if (c === ']' || c === '}' || c === ')') depth--;
    if (c === ',' && depth === 0) {
      items.push(current.trim());
      current = '';
    } else current += c;
  }
  if (current.trim() !== '') items.push(current.trim());
  return items;
}
