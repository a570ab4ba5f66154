import type { SourceLocation } from '../location.js';
import { relativeLocation } from '../errors.js';

export function plural(count: number, word: string, many = `${word}s`): string {
  return `${count} ${count === 1 ? word : many}`;
}

/** How an image is named in reports: its prompt (shortened), ratio, and variant when not the first take. */
export function describeImage(image: { prompt: string; ratio: string; variant: number }): string {
  const prompt = image.prompt.length > 70 ? `${image.prompt.slice(0, 67)}…` : image.prompt;
  return `${JSON.stringify(prompt)} (${image.ratio}${image.variant ? `, variant ${image.variant}` : ''})`;
}

export function locations(locs: SourceLocation[], root: string): string {
  return locs.map((loc) => relativeLocation(loc, root)).join(', ');
}

export function size(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
