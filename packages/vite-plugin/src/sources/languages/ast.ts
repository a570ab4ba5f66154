/**
 * Visits every node of an oxc (ESTree) tree, depth first. Plain objects with
 * a string `type` are nodes; `parent`, `loc` and `range` are skipped so that
 * a tree with back links or position objects is walked once.
 */
export function walkAst<T extends { type: string }>(value: unknown, visit: (node: T) => void): void {
  if (Array.isArray(value)) {
    for (const item of value) walkAst(item, visit);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const node = value as T & Record<string, unknown>;
  if (typeof node.type === 'string') visit(node);
  for (const key in node) if (key !== 'parent' && key !== 'loc' && key !== 'range') walkAst(node[key], visit);
}
