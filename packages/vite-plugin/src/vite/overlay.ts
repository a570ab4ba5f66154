import { inspect } from 'node:util';
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

/**
 * An error whose stack would be our own code's, of no use to the user: it is
 * `Error: message` and no frame, the form Vite 6 and 7 (`enhanceRollupError`)
 * and Rolldown (its summary of a failed build) drop from under the message
 * instead of printing the message a second time. Vite 8 prints what the build
 * threw with `util.inspect`, which shows the message alone through the
 * custom inspector, and no properties: the Rollup-style ones are not enumerable.
 */
class MessageOnlyError extends Error implements RollupStyleError {
  declare plugin: string;
  declare id?: string;
  declare loc?: RollupStyleError['loc'];
  declare frame?: string;

  constructor(message: string, fields: Omit<RollupStyleError, 'message'>) {
    super(message);
    this.stack = `Error: ${message}\n`;
    for (const [name, value] of Object.entries(fields)) Object.defineProperty(this, name, { value, writable: true, configurable: true, enumerable: false });
  }

  [inspect.custom](): string {
    return this.message;
  }
}

/** Our error as Vite's overlay and build output show it: prefixed, located, with a frame when the source is at hand. */
export function overlayError(error: GeneratedImagesError, code?: string): Error & RollupStyleError {
  const loc = error.locations[0];
  return new MessageOnlyError(`${PREFIX} ${errorText(error)}`, {
    plugin: PLUGIN_NAME,
    id: loc?.file,
    loc: loc && { file: loc.file, line: loc.line, column: loc.column - 1 },
    frame: loc && code !== undefined ? codeFrame(code, loc.line, loc.column) : undefined,
  });
}

/** Rolldown's error for a failed build: one of its own around the plugins' errors (`errors`), with its stack. */
interface BundlerError extends Error {
  errors?: unknown[];
}

const isOurs = (error: unknown) => error instanceof Error && error.message.startsWith(`${PREFIX} `);

/**
 * A failed Rolldown build (Vite 8) throws an error of Rolldown's that wraps
 * the plugins' errors: its message is their summary (plugin, file:line:column,
 * message with its hint), its stack Rolldown's and Vite's internals. When
 * every error in it is ours, it prints as that summary alone. Anything else
 * is left as it is.
 */
export function withoutBundlerStack(error: unknown): unknown {
  const wrapped = error instanceof Error ? (error as BundlerError).errors : undefined;
  if (!Array.isArray(wrapped) || wrapped.length === 0 || !wrapped.every(isOurs)) return error;
  const summary = (error as Error).message;
  (error as Error).stack = summary;
  Object.defineProperty(error, 'errors', { value: wrapped, writable: true, configurable: true, enumerable: false });
  Object.defineProperty(error, inspect.custom, { value: () => (error as Error).message, configurable: true, enumerable: false });
  return error;
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
