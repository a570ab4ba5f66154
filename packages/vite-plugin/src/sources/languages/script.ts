import { GeneratedImagesError } from '../../core/errors.js';
import type { SourceLocation } from '../../core/location.js';
import { walkAst } from './ast.js';
import { onFirstUse } from './load.js';

const oxc = onFirstUse<typeof import('oxc-parser')>('oxc-parser');

export type ScriptLang = 'js' | 'jsx' | 'ts' | 'tsx';

interface Node {
  type: string;
  start: number;
  name?: { type: string; name?: string };
  [key: string]: unknown;
}

/**
 * Where JSX elements named `tag` start in a JavaScript or TypeScript module,
 * found by parsing it (oxc): comments, strings and template literals are
 * never elements, and in `.ts` a `<Tag>x` is a type assertion.
 * `offset` is where `source` starts in the file, for locations.
 */
export function scriptStarts(source: string, lang: ScriptLang, tag: string, at: (offset: number) => SourceLocation, offset = 0): number[] {
  const { program, errors } = oxc().parseSync(`module.${lang}`, source, { lang, sourceType: 'module' });
  const first = errors.find((e) => e.severity === 'Error');
  if (first) {
    const where = first.labels[0]?.start ?? 0;
    throw new GeneratedImagesError('INVALID_USAGE', `cannot read this ${lang.toUpperCase()} code to find <${tag}> usages: ${first.message}`, { locations: [at(offset + where)] });
  }
  const starts: number[] = [];
  walkAst<Node>(program, (node) => {
    if (node.type === 'JSXOpeningElement' && node.name?.type === 'JSXIdentifier' && node.name.name === tag) starts.push(offset + node.start);
  });
  return starts;
}
