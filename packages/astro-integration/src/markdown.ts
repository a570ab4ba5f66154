import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findUsages, GeneratedImagesError, invalidUsages, relativeLocation, type Usage } from 'vite-plugin-generated-images/core';
import { forAstro } from './errors.js';
import { MARKER_ATTRIBUTE, MARKER_TAG, markerHtml } from './marker.js';
import { usageToProps } from './usage.js';

/**
 * `<GeneratedImage … />` written in Markdown, turned into a marker (see
 * marker.ts) inside Astro's own Markdown pipeline: a rehype plugin for the
 * `unified` processor (Astro 5 and 6, and 7's `unified()`), a HAST plugin for
 * Sätteri (Astro 7's default). Working on the tree rather than the rendered
 * page is what keeps code blocks, inline code and attributes (Starlight's
 * `data-code`) out: there a sample is text, never an element or raw HTML.
 *
 * The tag reaches the tree in one of two shapes: raw HTML (what Markdown
 * passes through before `rehype-raw` runs), or an element that an HTML parser
 * made of it, lowercased to `generatedimage`, with every node after it in
 * the block as its children (HTML has no self-closing custom elements).
 */

interface Point {
  line: number;
  column: number;
  offset?: number;
}
interface Position {
  start: Point;
  end: Point;
}
interface RawNode extends HastNode {
  type: 'raw';
  value: string;
  position?: Position;
}
interface ElementNode extends HastNode {
  type: 'element';
  tagName: string;
  properties: Record<string, unknown>;
  children: HastNode[];
  position?: Position;
}
interface HastNode {
  type: string;
  children?: HastNode[];
  position?: Position;
}

const PARSED_TAG = 'generatedimage';

/** The Markdown file being rendered: its path, and the project root its locations are written against. */
interface Source {
  file: string;
  root: string;
  /** The file's text, where the processor gives it (element positions are offsets into it). */
  text: string | undefined;
}

/** Finds the usages in an HTML fragment that starts at `at` in its Markdown file, with locations in that file. */
function usagesIn(html: string, { file, root }: Source, at: Point | undefined): Usage[] {
  const scan = findUsages(html, `${file}.html`);
  const shift = <T extends { loc: { file: string; line: number; column: number } }>(item: T): T => {
    const line = (at?.line ?? 1) + item.loc.line - 1;
    const column = item.loc.line === 1 ? (at?.column ?? 1) + item.loc.column - 1 : item.loc.column;
    return { ...item, loc: { file, line, column } };
  };
  if (scan.errors.length) throw forAstro(invalidUsages(scan.errors.map(shift), root));
  return scan.usages.map(shift);
}

function marker(usage: Usage, root: string): string {
  const at = relativeLocation(usage.loc, root);
  try {
    return markerHtml({ props: usageToProps(usage, at), at });
  } catch (error) {
    throw forAstro(error instanceof GeneratedImagesError ? new GeneratedImagesError(error.code, error.message, { hint: error.hint, locations: [usage.loc] }) : error);
  }
}

/** Raw HTML with each usage replaced by its marker; undefined when it has none. */
function markRaw(node: RawNode, source: Source): string | undefined {
  const usages = usagesIn(node.value, source, node.position?.start);
  if (usages.length === 0) return undefined;
  let out = '';
  let last = 0;
  for (const usage of usages) {
    out += node.value.slice(last, usage.start) + marker(usage, source.root);
    last = usage.end;
  }
  return out + node.value.slice(last);
}

/**
 * An element the HTML parser made of the tag: its attributes read again from
 * the Markdown source (the parser lowercased their names), as the scan
 * reads them.
 */
function markElement(node: ElementNode, source: Source): string {
  const start = node.position?.start;
  const from = start?.offset;
  const text = source.text !== undefined && from !== undefined ? source.text.slice(from, node.position?.end.offset) : undefined;
  const usage = text === undefined ? undefined : usagesIn(text, source, start).find((u) => u.start === 0);
  if (!usage) {
    throw forAstro(new GeneratedImagesError('INVALID_USAGE', `${path.relative(source.root, source.file)}: a <GeneratedImage> reached the Markdown tree without its source position, so its attributes cannot be read`, {
      hint: 'Check the Markdown plugins that run before astro-generated-images: one of them rebuilt the tree without positions.',
    }));
  }
  return marker(usage, source.root);
}

function markerElement(html: string): ElementNode {
  const payload = html.slice(html.indexOf('"') + 1, html.lastIndexOf('"'));
  return { type: 'element', tagName: MARKER_TAG, properties: { [MARKER_ATTRIBUTE]: payload }, children: [] };
}

function walk(parent: HastNode, source: Source): void {
  const children = parent.children;
  if (!children) return;
  for (let i = 0; i < children.length; i++) {
    const node = children[i]!;
    if (node.type === 'raw') {
      const value = markRaw(node as RawNode, source);
      if (value !== undefined) children[i] = { ...node, value } as RawNode;
    } else if (node.type === 'element' && (node as ElementNode).tagName === PARSED_TAG) {
      const element = node as ElementNode;
      // The nodes the parser put inside the tag are its siblings in the Markdown (walked next: another usage may be among them).
      children.splice(i, 1, markerElement(markElement(element, source)), ...element.children);
    } else {
      walk(node, source);
    }
  }
}

/** The rehype plugin for the `unified` processor (`markdown.rehypePlugins`, or `unified({ rehypePlugins })` on Astro 7). */
export function rehypeGeneratedImages(options: { root: string }) {
  return () => (tree: HastNode, file: { path?: string; value?: unknown }) => {
    walk(tree, { file: file.path ?? 'Markdown', root: options.root, text: typeof file.value === 'string' ? file.value : undefined });
  };
}

interface SatteriContext {
  readonly source: string;
  readonly fileURL: URL | undefined;
  replaceNode(node: unknown, replacement: unknown): void;
}

/** The same for Sätteri, Astro 7's default processor (`processor.options.hastPlugins`). */
export function satteriGeneratedImages(options: { root: string }) {
  const sourceOf = (ctx: SatteriContext): Source => ({ file: ctx.fileURL ? fileURLToPath(ctx.fileURL) : 'Markdown', root: options.root, text: ctx.source });
  return {
    name: 'astro-generated-images',
    options: { position: true },
    raw(node: RawNode, ctx: SatteriContext) {
      const value = markRaw(node, sourceOf(ctx));
      return value === undefined ? undefined : { type: 'raw', value };
    },
    element: {
      filter: [PARSED_TAG],
      visit(node: ElementNode, ctx: SatteriContext) {
        ctx.replaceNode(node, [markerElement(markElement(node, sourceOf(ctx))), ...node.children]);
      },
    },
  };
}
