import { PREFIX } from './errors.js';

/** Where the pipeline reports: Vite's logger, Astro's integration logger, or the CLI's console. */
export interface Reporter {
  info(message: string): void;
  warn(message: string): void;
  /**
   * Shows a status line redrawn in place (or clears it, given undefined).
   * Only reporters that write to a terminal have one; the others get plain lines.
   * The line comes without a prefix: the reporter puts its own.
   */
  status?(line: string | undefined): void;
  /** How to show progress from now on, where the host decides (see `ProgressStyle`); else a live line on a terminal, a line per image elsewhere. */
  progressStyle?(): ProgressStyle;
}

/**
 * `live`: one line redrawn in place (`status`); `every`: a plain line per
 * finished image; `milestones`: plain lines at the start, at each failure and
 * at the end; `silent`: none (while the host's own output must not be broken
 * into, its summary says what was done).
 */
export type ProgressStyle = 'live' | 'every' | 'milestones' | 'silent';

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

/** A terminal a person watches: a TTY, and not CI (whose logs keep every redraw). */
export function interactive(stream: NodeJS.WriteStream): boolean {
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
      line = next === undefined ? undefined : `${PREFIX} ${next}`;
      if (line !== undefined) stream.write(line);
    },
  };
}

/**
 * A live line on a terminal (rewritten in place, ticking every second); plain
 * lines elsewhere (CI logs), one per finished image so the log stays readable,
 * unless the reporter asks for another style.
 */
export function createProgress(reporter: Reporter, total: number, stream: NodeJS.WriteStream = process.stderr) {
  const state: ProgressState = { done: 0, total, failed: 0, startedAt: Date.now() };
  const style = reporter.progressStyle?.() ?? (reporter.status || interactive(stream) ? 'live' : 'every');
  // A reporter without a status line of its own (a bare console) still gets a live line on a terminal.
  const status = style !== 'live' ? undefined : reporter.status?.bind(reporter) ?? ((line: string | undefined) => stream.write(`\r\x1b[K${line === undefined ? '' : `${PREFIX} ${line}`}`));
  const draw = () => status?.(formatProgress(state));
  const plain = (when: boolean) => {
    if (when) reporter.info(formatProgress(state));
  };
  let timer: NodeJS.Timeout | undefined;
  if (status) {
    draw();
    timer = setInterval(draw, 1000);
    timer.unref();
  } else plain(style !== 'silent');
  return {
    state,
    tick(failed: boolean) {
      state.done++;
      if (failed) state.failed++;
      if (status) draw();
      else plain(style === 'every' || (style === 'milestones' && failed && state.done < state.total));
    },
    end() {
      if (timer) clearInterval(timer);
      if (status) status(undefined);
      if (status || style === 'milestones') reporter.info(formatProgress(state).replace(/^generating/, 'generated'));
    },
  };
}
