const PLACEHOLDER = /__VITE_ASSET__[\w$]+__/g;

interface Node {
  type: string;
  start: number;
  end: number;
  value?: unknown;
  raw?: string;
}

/**
 * Vite replaces an asset placeholder in a chunk with a URL escaped for a
 * double-quoted string, or, for a runtime URL (relative bases in JS,
 * `renderBuiltUrl` returning `{ runtime }`, SvelteKit's paths), with
 * `"+expression+"`, which assumes the placeholder sits in a double-quoted
 * string, as Vite's own `export default "__VITE_ASSET__…__"` does. Our
 * placeholders sit in whatever the framework compiled the markup into:
 * Svelte's template literals, Vue's single-quoted bindings. This rewrites
 * those into double-quoted strings (a template literal gets `${"…"}` around
 * each placeholder), so that every replacement is valid JavaScript.
 */
export function placeholdersInDoubleQuotes(code: string, program: unknown): string | undefined {
  const edits: Array<{ start: number; end: number; text: string }> = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    const n = node as Node;
    if (n.type === 'Literal' && typeof n.value === 'string' && code[n.start] === "'" && code.slice(n.start, n.end).includes('__VITE_ASSET__')) {
      edits.push({ start: n.start, end: n.end, text: JSON.stringify(n.value) });
    } else if (n.type === 'TemplateElement') {
      // Parsers disagree on whether a quasi's range includes its delimiters; the placeholders are found within it either way.
      const text = code.slice(n.start, n.end);
      for (const match of text.matchAll(PLACEHOLDER)) {
        const start = n.start + match.index;
        edits.push({ start, end: start + match[0].length, text: `\${"${match[0]}"}` });
      }
    }
    for (const key in n) if (key !== 'type' && typeof (n as unknown as Record<string, unknown>)[key] === 'object') visit((n as unknown as Record<string, unknown>)[key]);
  };
  visit(program);
  if (edits.length === 0) return undefined;
  let out = '';
  let at = 0;
  for (const edit of edits.sort((a, b) => a.start - b.start)) {
    out += code.slice(at, edit.start) + edit.text;
    at = edit.end;
  }
  return out + code.slice(at);
}
