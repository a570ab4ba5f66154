import { invalidUsages } from '../core/errors.js';
import type { ResolvedImage } from '../core/pipeline.js';
import type { Syntax } from '../render/picture.js';
import { renderUsage } from '../render/usage.js';
import { unusedImports } from '../sources/imports.js';
import { spliceUsages, type Spliced } from '../sources/splice.js';
import { findUsages } from '../sources/usage.js';
import type { FileEmitter } from './output.js';
import type { Session } from './session.js';

export interface RenderTarget {
  file: string;
  syntax: Syntax;
  /** The Vite environment whose bundle will hold the markup (client, ssr, …). */
  environment: string;
  /** In dev: called when an image this source waited for is ready, to update the page. */
  onReady: () => void;
  /** How this caller writes a file's URL in dev, when not as the session does (Vite's HTML pipeline adds the base itself). */
  devUrl?: (name: string) => string;
  /** In a build: the hook's plugin context, which emits the files the markup references into the bundle. */
  emitter?: Partial<FileEmitter>;
  /** In a build: bare attributes for each `<source>` and `<img>` (see renderPicture). */
  fileAttributes?: string[];
}

/** The URLs of the files of an image and its art-direction images, emitted into this environment's bundle. */
async function bundleUrls(session: Session, target: RenderTarget, images: ResolvedImage[]): Promise<(name: string) => string> {
  const lookups = await Promise.all(images.map((image) => session.output!.urls(target.environment, image, target.emitter)));
  const byName = new Map(images.flatMap((image, i) => image.files.map((file) => [file.name, lookups[i]!(file.name)] as const)));
  return (name) => byName.get(name)!;
}

/** The source with every usage replaced by its markup, and its source map; undefined when it has none. Throws an INVALID_USAGE error listing each bad one. */
export async function renderUsagesIn(session: Session, code: string, target: RenderTarget): Promise<Spliced | undefined> {
  const scan = findUsages(code, target.file);
  scan.warnings.forEach((w) => session.warnOnce(w));
  if (scan.errors.length) throw invalidUsages(scan.errors, session.config.root);
  if (scan.usages.length === 0) return undefined;
  const rendered = await Promise.all(
    scan.usages.map(async (usage) => {
      if (session.dev) return session.dev.render(usage, target.syntax, target.onReady, target.file, target.devUrl);
      const image = await session.pipeline.resolve(usage);
      const url = session.output ? await bundleUrls(session, target, [image, ...image.art]) : (name: string) => session.buildUrl(name);
      return renderUsage(usage, image, url, target.syntax, target.fileAttributes);
    }),
  );
  // The stub's import goes with its last use: bundlers warn about an import that is never used.
  return spliceUsages(code, scan.usages, rendered, target.file, unusedImports(code, target.file, 'GeneratedImage', scan.usages));
}
