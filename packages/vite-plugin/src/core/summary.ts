import { byLocation, relativeLocation, type SourceLocation } from './location.js';
import { oneLine, plural, shorten } from './text.js';

/** One image a build asked for: what it shows and everywhere it is used. */
export interface SummaryImage {
  key: string;
  prompt: string;
  ratio: string;
  locations: SourceLocation[];
  /** The pages that rendered it, for a prompt from data: it has no place in the source to name. */
  pages?: string[];
}

/** An image that could not be generated, with the gateway's or the check's reason. */
export interface FailedImage extends SummaryImage {
  reason: string;
}

/** What one build (or `generate`) did with its images: a snapshot, built once at the end. */
export interface BuildSummary {
  generated: SummaryImage[];
  failed: FailedImage[];
  /** Images shown from the cache without a request. */
  reused: number;
  /** Optimized files encoded by this process (a warm build encodes none). */
  encoded: number;
  /** US dollars, as the gateway reported it; 0 when it reported nothing. */
  cost: number;
}

const where = ({ locations, pages = [] }: SummaryImage, root: string) =>
  locations.map((l) => relativeLocation(l, root)).join(', ') || (pages.length ? `page ${[...new Set(pages)].sort().join(', ')}` : '(no location)');
const firstPlace = (a: SummaryImage, b: SummaryImage) =>
  (a.locations[0] && b.locations[0] ? byLocation(a.locations[0], b.locations[0]) : a.locations.length ? -1 : b.locations.length ? 1 : 0) ||
  a.key.localeCompare(b.key);

/**
 * The end-of-build summary, the same for Vite, Astro and the CLI: one line of
 * totals (with the gateway's cost when it reported one), then a table of what
 * was generated and what failed, with where each is used and each failure's
 * reason below its row, so that a person knows what to commit and what to fix.
 * Rows are in source order, so two runs print the same table.
 */
export function formatSummary(summary: BuildSummary, root: string): string {
  const totals = [`${summary.generated.length} generated`, `${summary.reused} reused from the cache`];
  if (summary.failed.length) totals.push(`${summary.failed.length} failed`);
  totals.push(plural(summary.encoded, 'variant') + ' encoded');
  if (summary.cost > 0) totals.push(`gateway cost $${summary.cost.toFixed(4)}`);
  const head = `images: ${totals.join(', ')}`;

  const rows: Array<{ cells: [string, string, string, string]; reason?: string }> = [
    ...[...summary.generated].sort(firstPlace).map((image) => ({ cells: ['generated', where(image, root), image.ratio, shorten(image.prompt, 60)] as [string, string, string, string] })),
    ...[...summary.failed].sort(firstPlace).map((image) => ({
      cells: ['failed', where(image, root), image.ratio, shorten(image.prompt, 60)] as [string, string, string, string],
      reason: oneLine(image.reason.split('\n', 1)[0]!, 160),
    })),
  ];
  if (rows.length === 0) return head;
  const table = [{ cells: ['status', 'where', 'ratio', 'prompt'] as [string, string, string, string] }, ...rows];
  const widths = [0, 1, 2].map((i) => Math.max(...table.map((row) => row.cells[i]!.length)));
  const lines: string[] = [];
  for (const row of table) {
    lines.push(`  ${row.cells.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell)).join('  ')}`.trimEnd());
    if (row.reason) lines.push(`${' '.repeat(4 + widths[0]!)}${row.reason}`);
  }
  return `${head}\n${lines.join('\n')}`;
}
