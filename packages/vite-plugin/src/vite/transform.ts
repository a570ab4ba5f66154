import { invalidUsages } from '../core/errors.js';
import type { Syntax } from '../render/picture.js';
import { renderUsage } from '../render/usage.js';
import { spliceUsages, type Spliced } from '../sources/splice.js';
import { findUsages } from '../sources/usage.js';
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
      for (const shown of [image, ...image.art]) session.output?.refer(target.environment, shown);
      return renderUsage(usage, image, (name) => session.buildUrl(name), target.syntax);
    }),
  );
  return spliceUsages(code, scan.usages, rendered, target.file);
}
