/** A place in a source file, 1-based, as editors and Vite's overlay show it. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

export function formatLocation(loc: SourceLocation): string {
  return `${loc.file}:${loc.line}:${loc.column}`;
}

/** `file:line:column` with the file relative to the project root, as every message shows it. */
export function relativeLocation(loc: SourceLocation, root: string): string {
  const file = loc.file.startsWith(root + '/') ? loc.file.slice(root.length + 1) : loc.file;
  return formatLocation({ ...loc, file });
}

export function byLocation(a: SourceLocation, b: SourceLocation): number {
  return a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column;
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
