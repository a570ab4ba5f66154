import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { GeneratedImagesError } from './errors.js';
import { sniffMime, type ImageMime } from './generation/reply.js';
import { sha256, type ReferenceFile } from './key.js';
import { formatLocation, type SourceLocation } from './location.js';
import { shorten } from './text.js';

/** Image inputs sent with a prompt: where their files are, what their bytes hash to, and how they are sent. */

/** Longest side a reference is sent at; larger ones are downscaled (image models take no more). */
export const REFERENCE_MAX_SIDE = 1536;
/** Largest reference accepted, after the downscale. */
export const REFERENCE_MAX_BYTES = 8 * 1024 * 1024;

/** Who asked for a reference, for errors: the usage's place and prompt, or the `references` option. */
export interface ReferenceUser {
  prompt: string;
  loc?: SourceLocation;
}

function owner(user: ReferenceUser | undefined): string {
  if (!user) return 'the references option';
  return `<GeneratedImage prompt=${JSON.stringify(shorten(user.prompt, 60))}>${user.loc ? ` at ${formatLocation(user.loc)}` : ''}`;
}

function referenceError(file: string, root: string, user: ReferenceUser | undefined, reason: string): GeneratedImagesError {
  return new GeneratedImagesError('INVALID_REFERENCE', `reference ${toPosix(path.relative(root, file))} of ${owner(user)}: ${reason}`, {
    hint: 'references must be PNG, JPEG or WebP files, under 8 MB once downscaled to 1536 px on the longest side',
    locations: user?.loc ? [user.loc] : [],
  });
}

const toPosix = (file: string) => file.split(path.sep).join('/');

/**
 * Where a reference written in source or options is: `/`-rooted paths at the
 * project root, others relative to `base` (the source file's folder; the root
 * for the option and for props that carry no file).
 */
export function resolveReference(written: string, root: string, base = root): string {
  return written.startsWith('/') ? path.join(root, written) : path.resolve(base, written);
}

/**
 * Reads reference files for cache keys: synchronously (a key is computed
 * where no await is possible) and once per file version, since the same
 * brand image is named by every usage of a site.
 */
export class ReferenceReader {
  private readonly read = new Map<string, { mtimeMs: number; size: number; ref: ReferenceFile; mime: ImageMime }>();
  /** A brand image sent with a hundred prompts is read and downscaled once. */
  private readonly urls = new Map<string, Promise<string>>();

  constructor(private readonly root: string) {}

  /** The file's digest, after checking it exists and is a PNG, JPEG or WebP. */
  reference(file: string, user?: ReferenceUser): ReferenceFile {
    return this.load(file, user).ref;
  }

  private load(file: string, user: ReferenceUser | undefined) {
    let stat;
    try {
      stat = statSync(file);
    } catch {
      throw referenceError(file, this.root, user, 'the file does not exist');
    }
    if (!stat.isFile()) throw referenceError(file, this.root, user, 'not a file');
    const known = this.read.get(file);
    if (known && known.mtimeMs === stat.mtimeMs && known.size === stat.size) return known;
    const data = readFileSync(file);
    const mime = sniffMime(data);
    if (!mime) throw referenceError(file, this.root, user, 'not a PNG, JPEG or WebP image');
    const loaded = { mtimeMs: stat.mtimeMs, size: stat.size, mime, ref: { file: toPosix(path.relative(this.root, file)), sha256: sha256(data) } };
    this.read.set(file, loaded);
    return loaded;
  }

  /**
   * The reference as the gateway gets it: a `data:` URL of the file, or of a
   * copy downscaled to 1536 px on its longest side in the same format. The
   * key stays the digest of the file itself, so a new sharp never changes it.
   */
  dataUrl(ref: ReferenceFile, user?: ReferenceUser): Promise<string> {
    const id = `${ref.sha256} ${ref.file}`;
    let url = this.urls.get(id);
    if (!url) {
      url = this.encode(ref, user);
      this.urls.set(id, url);
      url.catch(() => this.urls.delete(id));
    }
    return url;
  }

  private async encode(ref: ReferenceFile, user: ReferenceUser | undefined): Promise<string> {
    const file = path.resolve(this.root, ref.file);
    const data = readFileSync(file);
    if (sha256(data) !== ref.sha256) throw referenceError(file, this.root, user, 'the file changed during the build; build again');
    const mime = sniffMime(data)!;
    const { default: sharp } = await import('sharp');
    let meta;
    try {
      meta = await sharp(data).metadata();
    } catch (error) {
      throw referenceError(file, this.root, user, `the image does not decode (${(error as Error).message})`);
    }
    let sent = data;
    if (Math.max(meta.width ?? 0, meta.height ?? 0) > REFERENCE_MAX_SIDE) {
      const resized = sharp(data).rotate().resize({ width: REFERENCE_MAX_SIDE, height: REFERENCE_MAX_SIDE, fit: 'inside', withoutEnlargement: true });
      sent = await (mime === 'image/png' ? resized.png() : mime === 'image/webp' ? resized.webp({ quality: 90 }) : resized.jpeg({ quality: 90 })).toBuffer();
    }
    if (sent.length >= REFERENCE_MAX_BYTES) {
      throw referenceError(file, this.root, user, `${(sent.length / 2 ** 20).toFixed(1)} MB${sent === data ? '' : ` after downscaling to ${REFERENCE_MAX_SIDE} px`}; the limit is 8 MB`);
    }
    return `data:${mime};base64,${sent.toString('base64')}`;
  }
}
