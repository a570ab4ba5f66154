import { relativeLocation, type SourceLocation } from '../core/location.js';

export { describeImage, plural } from '../core/text.js';

export function locations(locs: SourceLocation[], root: string): string {
  return locs.map((loc) => relativeLocation(loc, root)).join(', ');
}

export function size(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
