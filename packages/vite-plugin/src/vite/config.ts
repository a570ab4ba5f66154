import path from 'node:path';

/** HTML entries of a build's input (Rollup's or Rolldown's), which the scan reads besides `include`. */
export function htmlInputs(build: { rollupOptions?: { input?: unknown }; rolldownOptions?: { input?: unknown } } | undefined): string[] {
  const input = build?.rolldownOptions?.input ?? build?.rollupOptions?.input;
  const list = typeof input === 'string' ? [input] : Array.isArray(input) ? input : input && typeof input === 'object' ? Object.values(input) : [];
  return list.filter((f): f is string => typeof f === 'string' && f.endsWith('.html'));
}

/**
 * The folders of a build that hold no source: its output, and the public
 * folder, whose files Vite copies as they are (a usage there would be paid
 * for and never shown). Relative ones are relative to the root.
 */
export function unscannedFolders(config: { root: string; publicDir: string | false; build: { outDir: string } }): string[] {
  return [path.resolve(config.root, config.build.outDir), ...(config.publicDir ? [path.resolve(config.root, config.publicDir)] : [])];
}

/** What a Vite project's scans skip: the cache, the build output and the public folder. */
export function scanExclusions(config: { root: string; publicDir: string | false; build: { outDir: string } }, cacheDir: string): string[] {
  return excludedFolders(config.root, [cacheDir, ...unscannedFolders(config)]);
}

/** `folder/**` for each folder inside the root (the cache, the build output), so that the scan never reads them. */
export function excludedFolders(root: string, folders: string[]): string[] {
  return folders
    .map((dir) => path.relative(root, path.resolve(root, dir)))
    .filter((p) => p && !p.startsWith('..') && !path.isAbsolute(p))
    .map((p) => `${p}/**`);
}
