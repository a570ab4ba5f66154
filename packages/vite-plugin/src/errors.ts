import { formatLocation, type SourceLocation } from './location.js';

/** A build that cannot go on, with every place it concerns; Vite and Astro print the message as it is. */
export class GeneratedImagesError extends Error {
  readonly locations: SourceLocation[];
  constructor(message: string, locations: SourceLocation[] = []) {
    super(message);
    this.name = 'GeneratedImagesError';
    this.locations = locations;
  }
}

export interface MissRecord {
  prompt: string;
  ratio: string;
  locations: SourceLocation[];
  reason?: string;
}

export function listMisses(misses: MissRecord[], root: string): string {
  return misses
    .map((m) => {
      const where = m.locations.map((l) => relativeLocation(l, root)).join(', ');
      const prompt = m.prompt.length > 70 ? `${m.prompt.slice(0, 67)}…` : m.prompt;
      return `  ${where}  ${JSON.stringify(prompt)} (${m.ratio})${m.reason ? `\n    ${m.reason}` : ''}`;
    })
    .join('\n');
}

export function relativeLocation(loc: SourceLocation, root: string): string {
  const file = loc.file.startsWith(root + '/') ? loc.file.slice(root.length + 1) : loc.file;
  return formatLocation({ ...loc, file });
}
