import type { Options } from 'mdast-util-from-markdown';
import { GeneratedImagesError } from '../../core/errors.js';
import type { SourceLocation } from '../../core/location.js';
import { onFirstUse } from './load.js';
import { markupStarts } from './markup.js';
import { scriptStarts } from './script.js';

const markdown = onFirstUse<typeof import('mdast-util-from-markdown')>('mdast-util-from-markdown');
const mdxSyntax = onFirstUse<typeof import('micromark-extension-mdxjs')>('micromark-extension-mdxjs');
const mdxTree = onFirstUse<typeof import('mdast-util-mdx')>('mdast-util-mdx');

interface MdNode {
  type: string;
  name?: string | null;
  position?: { start: { offset?: number }; end: { offset?: number } };
  children?: MdNode[];
}

/** The message micromark throws for MDX it cannot parse (a VFileMessage). */
interface ParseMessage {
  reason?: string;
  message: string;
  place?: { offset?: number; start?: { offset?: number } };
}

/** Built once: the extensions are plain data that every parse can share. */
let mdxOptions: Options | undefined;

function parse(code: string, mdx: boolean, at: (offset: number) => SourceLocation): MdNode {
  const { fromMarkdown } = markdown();
  if (!mdx) return fromMarkdown(code) as MdNode;
  mdxOptions ??= { extensions: [mdxSyntax().mdxjs()], mdastExtensions: [mdxTree().mdxFromMarkdown()] };
  try {
    return fromMarkdown(code, mdxOptions) as MdNode;
  } catch (error) {
    const { reason, message, place } = error as ParseMessage;
    const offset = place?.offset ?? place?.start?.offset ?? 0;
    throw new GeneratedImagesError('INVALID_USAGE', `cannot read this MDX to find <GeneratedImage> usages: ${reason ?? message}`, { locations: [at(offset)] });
  }
}

/**
 * Where `<tag` elements start in Markdown (its raw HTML, read as HTML) or MDX
 * (its JSX elements, and those in its expressions and ESM). Code spans,
 * fenced and indented code blocks are text in both; MDX `{/* … *\/}` is code.
 */
export function markdownStarts(code: string, mdx: boolean, tag: string, at: (offset: number) => SourceLocation): number[] {
  const starts: number[] = [];
  const visit = (node: MdNode): void => {
    const start = node.position?.start.offset ?? 0;
    const end = node.position?.end.offset ?? start;
    switch (node.type) {
      case 'code':
      case 'inlineCode':
        return;
      case 'html':
        markupStarts(code, 'html', tag, start, end, starts);
        return;
      case 'mdxJsxFlowElement':
      case 'mdxJsxTextElement':
        if (node.name === tag) starts.push(start);
        break;
      case 'mdxjsEsm':
        starts.push(...scriptStarts(code.slice(start, end), 'jsx', tag, at, start));
        return;
      case 'mdxFlowExpression':
      case 'mdxTextExpression':
        // An expression is JavaScript, read as a JSX child so that a comment alone (`{/* … */}`) is valid.
        starts.push(...scriptStarts(`<>${code.slice(start, end)}</>`, 'jsx', tag, at, start - 2));
        return;
    }
    node.children?.forEach(visit);
  };
  visit(parse(code, mdx, at));
  return starts;
}
