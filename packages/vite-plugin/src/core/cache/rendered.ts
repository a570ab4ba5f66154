import { promises as fs } from 'node:fs';
import path from 'node:path';
import { readIfExists, writeFileAtomic } from '../fs/atomic.js';

/** Beside manifest.json: what the last build's pages rendered, for the images of prompts only known at render time. */
export const RENDERED_FILE = 'rendered.json';
const RENDERED_VERSION = 1;

/** One image a page rendered: enough for `status` to name it and for `prune` to keep the files shown. */
export interface RenderedImage {
  prompt: string;
  ratio: string;
  /** The variant files the page's `<picture>` refers to (none when the image was missing). */
  files: string[];
}

/**
 * What an `astro build` rendered: per page, the keys of the images it showed.
 * `sources` fingerprints the project's sources at that build, so that a
 * reader can tell whether it still describes them: prompts from data change
 * with the data, and the record only knows what was rendered.
 */
export interface RenderedRecord {
  version: number;
  sources: string;
  pages: Record<string, string[]>;
  images: Record<string, RenderedImage>;
}

const sorted = <T>(record: Record<string, T>): Record<string, T> => Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/**
 * One page and one image per line: two branches that render different pages
 * merge without a conflict, and a conflict (or any damage) only makes the
 * record unreadable, which readers treat as no record — it is rebuilt by the
 * next build and never decides alone that an image may be deleted.
 */
export function formatRendered(record: RenderedRecord): string {
  const block = (entries: Record<string, unknown>) => {
    const lines = Object.entries(sorted(entries)).map(([name, value]) => `    ${JSON.stringify(name)}: ${JSON.stringify(value)}`);
    return lines.length ? `{\n${lines.join(',\n')}\n  }` : '{}';
  };
  const pages = Object.fromEntries(Object.entries(record.pages).map(([page, keys]) => [page, [...new Set(keys)].sort()]));
  const images = Object.fromEntries(Object.entries(record.images).map(([key, image]) => [key, { prompt: image.prompt, ratio: image.ratio, files: [...new Set(image.files)].sort() }]));
  return `{\n  "version": ${RENDERED_VERSION},\n  "sources": ${JSON.stringify(record.sources)},\n  "pages": ${block(pages)},\n  "images": ${block(images)}\n}\n`;
}

const isStrings = (value: unknown): value is string[] => Array.isArray(value) && value.every((v) => typeof v === 'string');

function parseRendered(text: string): RenderedRecord | undefined {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  const record = data as Partial<RenderedRecord> | null;
  if (!record || record.version !== RENDERED_VERSION || typeof record.sources !== 'string') return undefined;
  if (typeof record.pages !== 'object' || !record.pages || !Object.values(record.pages).every(isStrings)) return undefined;
  if (typeof record.images !== 'object' || !record.images) return undefined;
  for (const image of Object.values(record.images)) {
    if (!image || typeof image.prompt !== 'string' || typeof image.ratio !== 'string' || !isStrings(image.files)) return undefined;
  }
  return record as RenderedRecord;
}

/** The record in a cache folder; undefined when there is none or it cannot be read (a merge conflict, a hand edit). */
export async function readRendered(cacheDir: string): Promise<RenderedRecord | undefined> {
  const bytes = await readIfExists(path.join(cacheDir, RENDERED_FILE));
  return bytes ? parseRendered(bytes.toString('utf8')) : undefined;
}

/** Writes the record when it says something new, so that a build of committed sources leaves the cache untouched. */
export async function writeRendered(cacheDir: string, record: RenderedRecord): Promise<void> {
  const file = path.join(cacheDir, RENDERED_FILE);
  const text = formatRendered(record);
  if ((await readIfExists(file))?.toString('utf8') === text) return;
  await fs.mkdir(cacheDir, { recursive: true });
  await writeFileAtomic(file, text);
}

/** A project whose prompts are all literal needs no record: one left from earlier would only mislead. */
export async function removeRendered(cacheDir: string): Promise<void> {
  await fs.rm(path.join(cacheDir, RENDERED_FILE), { force: true });
}
