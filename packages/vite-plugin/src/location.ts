/** A place in a source file, 1-based, as editors and Vite's overlay show it. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

export function formatLocation(loc: SourceLocation): string {
  return `${loc.file}:${loc.line}:${loc.column}`;
}

/** Maps offsets in a text to line/column without rescanning it for every lookup. */
export function locator(code: string, file: string): (offset: number) => SourceLocation {
  const lineStarts = [0];
  for (let i = 0; i < code.length; i++) if (code.charCodeAt(i) === 10) lineStarts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { file, line: lo + 1, column: offset - lineStarts[lo]! + 1 };
  };
}

/** An error about the user's source, carrying where it is so that Vite's overlay and our summaries can point at it. */
export class UsageError extends Error {
  readonly loc: SourceLocation;
  /** The message without the location, for reporters that show the location themselves. */
  readonly reason: string;
  constructor(reason: string, loc: SourceLocation) {
    super(`${formatLocation(loc)}: ${reason}`);
    this.name = 'UsageError';
    this.loc = loc;
    this.reason = reason;
  }
}
