/**
 * The `{…}` expressions of Svelte and Astro templates, read far enough to
 * know where they end: strings, template literals and comments are code, and
 * in Astro (`jsx`) an element in expression position is markup whose own
 * `<tag` may be a usage (`{items.map((i) => <GeneratedImage … />)}`).
 */
export type ExpressionMode = 'js' | 'jsx';

export interface SkippedExpression {
  /** Just past the closing `}`, or `to` when it is never closed (the framework's compiler reports that). */
  end: number;
  /** Whether its `}` was found before `to`. */
  closed: boolean;
  /** Where `<tag` elements start inside it (JSX mode only). */
  starts: number[];
}

/** After one of these (or `return`), a `<` opens a JSX element rather than comparing. */
const BEFORE_ELEMENT = new Set(['', '(', ',', '=', ':', '?', '&', '|', '{', '[', ';', '!', '>', '}']);

/** The characters at which reading code can change state; everything between them is skipped at once. */
const CODE_SPECIAL = /[{}"'`/<]/g;

/** Offset just past the string literal whose quote is at `i` (or past the line it breaks off at). */
export function skipQuoted(code: string, i: number, to: number): number {
  const quote = code[i];
  for (i++; i < to; i++) {
    const c = code[i];
    if (c === '\\') i++;
    else if (c === quote || c === '\n') return i + 1;
  }
  return to;
}

function previousToken(code: string, open: number, i: number): string {
  let j = i - 1;
  while (j > open && /\s/.test(code[j]!)) j--;
  if (j <= open) return '';
  if (/\w/.test(code[j]!)) {
    let k = j;
    while (k > open && /\w/.test(code[k - 1]!)) k--;
    return code.slice(k, j + 1);
  }
  return code[j]!;
}

/** Reads the `{` at `open` through its matching `}`. */
export function skipExpression(code: string, open: number, to: number, mode: ExpressionMode, tag?: string): SkippedExpression {
  const starts: number[] = [];
  let depth = 0;
  let i = open;
  while (i < to) {
    const c = code[i]!;
    if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) return { end: i + 1, closed: true, starts };
    } else if (c === '"' || c === "'") {
      i = skipQuoted(code, i, to);
      continue;
    } else if (c === '`') {
      i = skipTemplate(code, i, to, mode, tag, starts);
      continue;
    } else if (c === '/' && code[i + 1] === '/') {
      const nl = code.indexOf('\n', i);
      i = nl < 0 || nl >= to ? to : nl;
      continue;
    } else if (c === '/' && code[i + 1] === '*') {
      const close = code.indexOf('*/', i + 2);
      i = close < 0 || close >= to ? to : close + 2;
      continue;
    } else if (c === '<' && mode === 'jsx' && /[A-Za-z>]/.test(code[i + 1] ?? '')) {
      const before = previousToken(code, open, i);
      if (BEFORE_ELEMENT.has(before) || before === 'return') {
        i = skipElement(code, i, to, tag, starts);
        continue;
      }
    }
    CODE_SPECIAL.lastIndex = i + 1;
    i = CODE_SPECIAL.exec(code) ? CODE_SPECIAL.lastIndex - 1 : to;
  }
  return { end: to, closed: false, starts };
}

function skipTemplate(code: string, i: number, to: number, mode: ExpressionMode, tag: string | undefined, starts: number[]): number {
  for (i++; i < to; ) {
    const c = code[i];
    if (c === '\\') i += 2;
    else if (c === '`') return i + 1;
    else if (c === '$' && code[i + 1] === '{') {
      const inner = skipExpression(code, i + 1, to, mode, tag);
      starts.push(...inner.starts);
      i = inner.end;
    } else i++;
  }
  return to;
}

/** Reads a JSX element (or fragment) from its `<` past its end, noting where `<tag` elements start. */
function skipElement(code: string, lt: number, to: number, tag: string | undefined, starts: number[]): number {
  const name = /^[^\s/>{]*/.exec(code.slice(lt + 1, lt + 201))![0];
  if (name === tag) starts.push(lt);
  let i = lt + 1 + name.length;
  // Attributes, up to the end of the opening tag.
  while (i < to) {
    const c = code[i]!;
    if (c === '/' && code[i + 1] === '>') return i + 2;
    if (c === '>') break;
    if (c === '"' || c === "'") {
      const close = code.indexOf(c, i + 1);
      i = close < 0 || close >= to ? to : close + 1;
    } else if (c === '{') {
      const inner = skipExpression(code, i, to, 'jsx', tag);
      starts.push(...inner.starts);
      i = inner.end;
    } else i++;
  }
  // Children: text, expressions and elements, up to the closing tag.
  for (i++; i < to; ) {
    const c = code[i]!;
    if (c === '{') {
      const inner = skipExpression(code, i, to, 'jsx', tag);
      starts.push(...inner.starts);
      i = inner.end;
    } else if (c === '<' && code[i + 1] === '/') {
      const close = code.indexOf('>', i);
      return close < 0 || close >= to ? to : close + 1;
    } else if (c === '<' && /[A-Za-z>]/.test(code[i + 1] ?? '')) i = skipElement(code, i, to, tag, starts);
    else i++;
  }
  return to;
}
