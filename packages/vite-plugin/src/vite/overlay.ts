import type { ResolvedConfig } from 'vite';
import { errorText, PREFIX, type GeneratedImagesError } from '../core/errors.js';
import { withStatusLine, type Reporter } from '../core/report.js';

export const PLUGIN_NAME = 'vite-plugin-generated-images';

/** Vite's logger with our prefix; on a terminal, with the live progress line kept below it. */
export function viteReporter(config: ResolvedConfig): Reporter {
  const reporter: Reporter = {
    // Timestamped in dev, like Vite's own lines; in a build they are not, and the first one costs 30 ms of ICU setup.
    info: (message) => config.logger.info(`${PREFIX} ${message}`, { timestamp: config.command === 'serve' }),
    warn: (message) => config.logger.warn(`${PREFIX} ${message}`, { timestamp: config.command === 'serve' }),
  };
  // A quieter log level silences the progress line too.
  return config.logLevel === 'info' ? withStatusLine(reporter) : reporter;
}

/** What Vite and Rollup take as an error: message, the plugin, and (1-based line, 0-based column) location with a source frame. */
export interface RollupStyleError {
  message: string;
  plugin: string;
  id?: string;
  loc?: { file: string; line: number; column: number };
  frame?: string;
}

/** Our error as Vite's overlay and build output show it: prefixed, located, with a frame when the source is at hand. */
export function overlayError(error: GeneratedImagesError, code?: string): Error & RollupStyleError {
  const loc = error.locations[0];
  const message = `${PREFIX} ${errorText(error)}`;
  // The stack is our own code's, of no use to the user: Vite prints it under the message, so it is the message alone.
  return Object.assign(new Error(message), {
    stack: message,
    plugin: PLUGIN_NAME,
    id: loc?.file,
    loc: loc && { file: loc.file, line: loc.line, column: loc.column - 1 },
    frame: loc && code !== undefined ? codeFrame(code, loc.line, loc.column) : undefined,
  });
}

/** A few lines of source around a location with a caret, for Vite's error overlay. */
export function codeFrame(code: string, line: number, column: number): string {
  const lines = code.split('\n');
  const from = Math.max(1, line - 2);
  const to = Math.min(lines.length, line + 2);
  const width = String(to).length;
  const out: string[] = [];
  for (let n = from; n <= to; n++) {
    out.push(`${String(n).padStart(width)} | ${lines[n - 1]}`);
    if (n === line) out.push(`${' '.repeat(width)} | ${' '.repeat(Math.max(0, column - 1))}^`);
  }
  return out.join('\n');
}
