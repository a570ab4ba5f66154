/** Where the pipeline reports: Vite's logger, Astro's integration logger, or the CLI's console. */
export interface Reporter {
  info(message: string): void;
  warn(message: string): void;
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

/**
 * A live line on a terminal (rewritten in place, ticking every second); plain
 * lines elsewhere (CI logs), one per finished image so the log stays readable.
 */
export function createProgress(reporter: Reporter, total: number, stream: NodeJS.WriteStream = process.stderr) {
  const state: ProgressState = { done: 0, total, failed: 0, startedAt: Date.now() };
  const live = stream.isTTY === true && !process.env.CI;
  let timer: NodeJS.Timeout | undefined;
  const draw = () => stream.write(`\r\x1b[K[generated-images] ${formatProgress(state)}`);
  if (live) {
    draw();
    timer = setInterval(draw, 1000);
    timer.unref();
  } else reporter.info(formatProgress(state));
  return {
    state,
    tick(failed: boolean) {
      state.done++;
      if (failed) state.failed++;
      if (live) draw();
      else reporter.info(formatProgress(state));
    },
    end() {
      if (timer) clearInterval(timer);
      if (live) stream.write('\r\x1b[K');
    },
  };
}
