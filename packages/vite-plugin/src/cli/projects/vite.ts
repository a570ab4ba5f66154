import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Plugin, ResolvedConfig, UserConfig } from 'vite';
import type { GeneratedImagesOptions } from '../../core/options.js';
import { htmlInputs, unscannedFolders } from '../../vite/config.js';
import { PLUGIN_NAME } from '../../vite/overlay.js';
import { cliUsageError } from '../args.js';

/** What the CLI needs of a Vite project: the build's root, options, HTML entries and output, as the build resolves them. */
export interface ViteProjectConfig {
  root: string;
  options: GeneratedImagesOptions;
  htmlInputs: string[];
  /** The build output and the public folder: never scanned. */
  unscanned: string[];
}

/** VitePress keeps its config in `.vitepress/config.*` beside the Markdown, and builds Vite from it. */
export const VITEPRESS_CONFIG = /(^|[\\/])\.vitepress[\\/]config\.[cm]?[jt]s$/;

function pluginOptions(plugins: readonly Plugin[] | undefined, configName: string): GeneratedImagesOptions {
  const ours = (plugins ?? []).filter((p) => p && p.name === PLUGIN_NAME);
  if (ours.length === 0) throw cliUsageError(`${configName} does not use ${PLUGIN_NAME}: add generatedImages() to plugins`);
  if (ours.length > 1) throw cliUsageError(`${configName} uses ${PLUGIN_NAME} ${ours.length} times; the CLI cannot tell which options to use`);
  const api = ours[0]!.api as { options?: GeneratedImagesOptions } | undefined;
  if (!api || typeof api.options !== 'object') throw cliUsageError(`${PLUGIN_NAME} in ${configName} does not expose its options (api.options): update ${PLUGIN_NAME}`);
  return api.options;
}

/** A package as the project resolves it (the project's own VitePress, not one beside this CLI). */
async function importFromProject<T>(name: string, base: string): Promise<T> {
  const resolved = createRequire(path.join(base, 'package.json')).resolve(name);
  return (await import(pathToFileURL(resolved).href)) as T;
}

/**
 * Resolves the config exactly as `vite build` does, through Vite's own
 * loader and every plugin's `config` hooks, so that framework plugins that
 * move the root or the output (React Router's `build/client`, SvelteKit's
 * `.svelte-kit`) are seen as the build sees them.
 */
export async function loadViteConfig(configFile: string, base: string): Promise<ViteProjectConfig> {
  const { resolveConfig } = await import('vite');
  // `vite build` run in `base` resolves a relative `root` of the config against that folder. An inline `root` would
  // override the config's own (`root: 'site'`), so a last config hook does the resolving, whatever the CLI's cwd.
  const rootFromBase: Plugin = { name: `${PLUGIN_NAME}:cli-root`, enforce: 'post', config: (user) => ({ root: path.resolve(base, user.root ?? '.') }) };
  const config: ResolvedConfig = await resolveConfig({ configFile, plugins: [rootFromBase], logLevel: 'silent' }, 'build', 'production', 'production');
  return {
    root: config.root,
    options: pluginOptions(config.plugins, path.basename(configFile)),
    htmlInputs: htmlInputs(config.build),
    unscanned: unscannedFolders(config),
  };
}

/** VitePress: its own config loader, then the Vite options it builds with (Vite's root is the Markdown folder). */
export async function loadVitePressConfig(configFile: string): Promise<ViteProjectConfig> {
  const siteRoot = path.dirname(path.dirname(configFile));
  const vitepress = await importFromProject<{ resolveConfig(root: string, command: string, mode: string): Promise<{ srcDir: string; outDir: string; vite?: UserConfig }> }>('vitepress', siteRoot);
  const site = await vitepress.resolveConfig(siteRoot, 'build', 'production');
  const plugins = (site.vite?.plugins ?? []).flat(Infinity as 1) as Plugin[];
  // VitePress serves `<srcDir>/public` as Vite's public folder unless its vite options say otherwise.
  const publicDir = site.vite?.publicDir ?? 'public';
  return { root: site.srcDir, options: pluginOptions(plugins, path.relative(siteRoot, configFile)), htmlInputs: [], unscanned: unscannedFolders({ root: site.srcDir, publicDir, build: { outDir: site.outDir } }) };
}
