import { formatLocation, relativeLocation, type SourceLocation } from './location.js';

/**
 * What went wrong, as a stable name: callers branch on it (retry an invalid
 * reply, exit 2 for a command-line mistake), tests and users search for it.
 */
export type ErrorCode =
  | 'INVALID_USAGE'
  | 'INVALID_OPTION'
  | 'INVALID_PROPS'
  | 'PLUGIN_ORDER'
  | 'MISSING_IMAGES'
  | 'NO_API_KEY'
  | 'GENERATION_FAILED'
  | 'OVER_BUDGET'
  | 'INVALID_REFERENCE'
  | 'GATEWAY'
  | 'INVALID_REPLY'
  | 'CACHE'
  | 'CONFIG'
  | 'CLI_USAGE'
  | 'NO_HOST';

export interface ErrorDetails {
  /** What to do about it, printed on its own line below the message. */
  hint?: string;
  /** Every place in the site's source the error concerns. */
  locations?: SourceLocation[];
  /** The gateway's HTTP status, for errors from the gateway. */
  status?: number;
}

/**
 * The one error type of the project. Its message says what is wrong without
 * any prefix or location: the reporter of each host (Vite, Astro, the CLI)
 * adds the `[generated-images]` prefix and shows the locations its own way.
 */
export class GeneratedImagesError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly locations: SourceLocation[];
  readonly status: number | undefined;
  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message);
    this.name = 'GeneratedImagesError';
    this.code = code;
    this.hint = details.hint;
    this.locations = details.locations ?? [];
    this.status = details.status;
  }
}

export const isError = (error: unknown, code?: ErrorCode): error is GeneratedImagesError =>
  error instanceof GeneratedImagesError && (code === undefined || error.code === code);

/** The prefix every host puts before our messages. */
export const PREFIX = '[generated-images]';

/** An error as a person reads it: the message, then the hint. */
export function errorText(error: GeneratedImagesError): string {
  return error.hint ? `${error.message}\n${error.hint}` : error.message;
}

/**
 * A problem with one usage in the site's source, found while scanning: data
 * the scan returns (several per file), not something thrown. `message` is
 * `file:line:column: reason`, as editors link it.
 */
export interface Diagnostic {
  loc: SourceLocation;
  reason: string;
  message: string;
}

export function diagnostic(reason: string, loc: SourceLocation): Diagnostic {
  return { loc, reason, message: `${formatLocation(loc)}: ${reason}` };
}

/** Several invalid usages as one error, each on its own line with its location relative to the root. */
export function invalidUsages(errors: Diagnostic[], root: string): GeneratedImagesError {
  const head = errors.length === 1 ? 'invalid <GeneratedImage>' : `${errors.length} invalid <GeneratedImage> usages`;
  return new GeneratedImagesError('INVALID_USAGE', `${head}:\n${errors.map((e) => `  ${relativeLocation(e.loc, root)}: ${e.reason}`).join('\n')}`, {
    locations: errors.map((e) => e.loc),
  });
}
