import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A parser package, loaded on its first use: most builds read only HTML or
 * only scripts with no usage in them, and the Markdown/MDX parsers cost about
 * 100 ms to load, oxc's native binding tens. Synchronous, as the scanners
 * are: `require` of an ES module (Node 22.12+, the engines range).
 */
export function onFirstUse<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(name) as T);
}
