import { relativeLocation } from './errors.js';
import type { SourceLocation } from './location.js';
import type { BuildSummary } from './pipeline.js';

/** Where the pipeline reports: Vite's logger, Astro's integration logger, or the CLI's console. */
export interface Reporter {
  info(message: string): void;
  warn(message: string): void;
  /**
   * Shows a status line redrawn in place (or clears it, given undefined).
   * Only reporters that write to a terminal have one; the others get plain lines.
   */
  status?(line: string | undefined): void;
}

export interface ProgressState {
  done: number;
  total: number;
  failed: number;
  startedAt: number;
}

export function formatProgress(state: ProgressState, now = Date.now()): string {
  const elapsed = ((now - state.startedAt) / 1000).toFixed(1);
  return `generating ${state.done}/${state.total}${state.failed ? `, ${state.failed} failed` : ''} (${elapsed}s)`;
}

function interactive(stream: NodeJS.WriteStream): boolean {
  const ci = process.env.CI;
  return stream.isTTY === true && (ci === undefined || ci === '' || ci === 'false' || ci === '0');
}

/**
 * On a terminal, gives `base` a status line that its messages print above, so
 * that a retry warning never lands in the middle of the progress line.
 * Elsewhere (CI logs, pipes) returns `base` as it is.
 */
export function withStatusLine(base: Reporter, stream: NodeJS.WriteStream = process.stdout): Reporter {
  if (!interactive(stream)) return base;
  let line: string | undefined;
  const clear = () => {
    if (line !== undefined) stream.write('\r\x1b[K');
  };
  const above = (print: (message: string) => void) => (message: string) => {
    clear();
    print(message);
    if (line !== undefined) stream.write(line);
  };
  return {
    info: above((m) => base.info(m)),
    warn: above((m) => base.warn(m)),
    status(next) {
      clear();
      line = next;
      if (next !== undefined) stream.write(next);
    },
  };
}

/**
 * A live line on a terminal (rewritten in place, ticking every second); plain
 * lines elsewhere (CI logs), one per finished image so the log stays readable.
 */
export function createProgress(reporter: Reporter, total: number, stream: NodeJS.WriteStream = process.stderr) {
  const state: ProgressState = { done: 0, total, failed: 0, startedAt: Date.now() };
  // A reporter without a status line of its own (a bare console) still gets a live line on a terminal.
  const status = reporter.status?.bind(reporter) ?? (interactive(stream) ? (line: string | undefined) => stream.write(`\r\x1b[K${line ?? ''}`) : undefined);
  const draw = () => status?.(`[generated-images] ${formatProgress(state)}`);
  let timer: NodeJS.Timeout | undefined;
  if (status) {
    draw();
    timer = setInterval(draw, 1000);
    timer.unref();
  } else reporter.info(formatProgress(state));
  return {
    state,
    tick(failed: boolean) {
      state.done++;
      if (failed) state.failed++;
      if (status) draw();
      else reporter.info(formatProgress(state));
    },
    end() {
      if (timer) clearInterval(timer);
      if (status) {
        status(undefined);
        reporter.info(formatProgress(state).replace(/^generating/, 'generated'));
      }
    },
  };
}

/** Where an image is used and what it shows, for the summary's rows. */
export interface SummaryImage {
  prompt: string;
  ratio: string;
  locations: SourceLocation[];
}

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * The end-of-build summary: one line of totals (with the gateway's cost when
 * it reported one), then a table of what was generated and what failed, with
 * where each is used, so that a person knows what to commit and what to fix.
 */
export function formatSummaryTable(summary: BuildSummary, images: ReadonlyMap<string, SummaryImage>, root: string, encoded = summary.encoded): string {
  const totals = [`${summary.generated.length} generated`, `${summary.reused.size} reused from the cache`];
  if (summary.failed.length) totals.push(`${summary.failed.length} failed`);
  totals.push(`${encoded} variant${encoded === 1 ? '' : 's'} encoded`);
  if (summary.cost > 0) totals.push(`gateway cost $${summary.cost.toFixed(4)}`);
  const head = `images: ${totals.join(', ')}`;

  const rows: Array<[string, string, string, string]> = [];
  const where = (locations: SourceLocation[]) => locations.map((l) => relativeLocation(l, root)).join(', ') || '(no location)';
  for (const key of summary.generated) {
    const image = images.get(key);
    rows.push(['generated', image ? where(image.locations) : key, image?.ratio ?? '', shorten(image?.prompt ?? '', 60)]);
  }
  const reasons: string[] = [];
  for (const miss of summary.failed) {
    rows.push(['failed', where(miss.locations), miss.ratio, shorten(miss.prompt, 60)]);
    reasons.push(miss.reason ? shorten(miss.reason.split('\n', 1)[0]!, 160) : '');
  }
  if (rows.length === 0) return head;
  const table: Array<[string, string, string, string]> = [['status', 'where', 'ratio', 'prompt'], ...rows];
  const widths = [0, 1, 2].map((i) => Math.max(...table.map((row) => row[i]!.length)));
  const lines = table.map((row) => `  ${row.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell)).join('  ')}`.trimEnd());
  // Each failure's reason goes on the line below its row.
  const failedFrom = 1 + summary.generated.length;
  const out: string[] = [];
  lines.forEach((line, i) => {
    out.push(line);
    const reason = i >= failedFrom ? reasons[i - failedFrom] : undefined;
    if (reason) out.push(`${' '.repeat(4 + widths[0]!)}${reason}`);
  });
  return `${head}\n${out.join('\n')}`;
}
