import { languageOf } from './languages/index.js';
import { onFirstUse } from './languages/load.js';
import { walkAst } from './languages/ast.js';

const oxc = onFirstUse<typeof import('oxc-parser')>('oxc-parser');

/** A stretch of source to delete: `[start, end)`. */
export interface Range {
  start: number;
  end: number;
}

interface Node {
  type: string;
  start: number;
  end: number;
  name?: string;
  [key: string]: unknown;
}

interface Specifier extends Node {
  local: Node;
  importKind?: string;
}

interface ImportDeclaration extends Node {
  specifiers: Specifier[];
  importKind?: string;
}

const inside = (offset: number, ranges: Range[]) => ranges.some((r) => offset >= r.start && offset < r.end);

/** The whole declaration, with the line break after it when nothing else follows on its line. */
function wholeDeclaration(code: string, declaration: Node): Range {
  const rest = /^[ \t]*(?:\r?\n|$)/.exec(code.slice(declaration.end));
  return { start: declaration.start, end: declaration.end + (rest ? rest[0].length : 0) };
}

/** One specifier out of a declaration that keeps others: with its comma, or the braces when it was the only named one. */
function oneSpecifier(code: string, declaration: ImportDeclaration, specifier: Specifier): Range {
  const all = declaration.specifiers;
  const named = all.filter((s) => s.type === 'ImportSpecifier');
  const i = all.indexOf(specifier);
  if (specifier.type === 'ImportSpecifier' && named.length === 1) {
    // `import D, { GeneratedImage } from …` → `import D from …`
    return { start: all[i - 1]!.end, end: code.indexOf('}', specifier.end) + 1 };
  }
  return i < all.length - 1 ? { start: specifier.start, end: all[i + 1]!.start } : { start: all[i - 1]!.end, end: specifier.end };
}

/**
 * What to delete from a JavaScript or TypeScript module so that the import of
 * `name` goes once every use of it is replaced (`replaced`, the usages' own
 * ranges): bundlers warn about an import that is never used, and keep the
 * module it names in the server bundle. Nothing when the name is used
 * anywhere else (`typeof GeneratedImage`, a prop, a re-export), or in any
 * other language.
 */
export function unusedImports(code: string, file: string, name: string, replaced: Range[]): Range[] {
  const lang = languageOf(file);
  if (lang !== 'js' && lang !== 'jsx' && lang !== 'ts' && lang !== 'tsx') return [];
  const { program, errors } = oxc().parseSync(`module.${lang}`, code, { lang, sourceType: 'module' });
  if (errors.some((e) => e.severity === 'Error')) return [];
  const imports: Array<{ declaration: ImportDeclaration; specifier: Specifier }> = [];
  for (const statement of (program as unknown as { body: Node[] }).body) {
    if (statement.type !== 'ImportDeclaration') continue;
    const declaration = statement as ImportDeclaration;
    if (declaration.importKind === 'type') continue;
    for (const specifier of declaration.specifiers) {
      if (specifier.local.name === name && specifier.importKind !== 'type') imports.push({ declaration, specifier });
    }
  }
  if (imports.length !== 1) return [];
  const { declaration, specifier } = imports[0]!;
  let usedElsewhere = false;
  walkAst<Node>(program, (node) => {
    if (node.name !== name || (node.type !== 'Identifier' && node.type !== 'JSXIdentifier')) return;
    if (node.start >= declaration.start && node.start < declaration.end) return;
    if (!inside(node.start, replaced)) usedElsewhere = true;
  });
  if (usedElsewhere) return [];
  return [declaration.specifiers.length === 1 ? wholeDeclaration(code, declaration) : oneSpecifier(code, declaration, specifier)];
}
