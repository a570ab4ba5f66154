/** One line of the summary: a measured figure beside its target. */
export interface Figure {
  name: string;
  measured: string;
  target: string;
  /** null when there is nothing to compare (informational, or unavailable). */
  met: boolean | null;
  note?: string;
}

export const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
export const megabytes = (kb: number) => `${Math.round(kb / 1024)} MB`;
export const kilobytes = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
export const ratio = (value: number) => value.toFixed(value < 0.1 ? 3 : 2);

/** A Markdown table, padded so that it also reads well in a terminal. */
export function table(head: string[], rows: Array<Array<string | number>>): string {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(cells[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.slice(1).map(line)].join('\n');
}

/** A failed correctness check: the benchmark measured something other than what it claims. */
export class CheckError extends Error {}

export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new CheckError(message);
}
