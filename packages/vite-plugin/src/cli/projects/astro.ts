import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { GeneratedImagesError } from '../../core/errors.js';
import type { GeneratedImagesOptions } from '../../core/options.js';
import { cliUsageError } from '../args.js';
import type { Project } from '../project.js';

const INTEGRATION_NAME = 'astro-generated-images';
const VITE_PLUGIN_NAME = 'vite-plugin-generated-images';

/** The part of Astro's config the CLI reads: the resolved folders, and the integrations as given (validation drops their `api`). */
interface AstroConfig {
  root: URL;
  srcDir: URL;
  outDir: URL;
  publicDir: URL;
}
interface UserConfig {
  integrations?: unknown;
  vite?: { plugins?: unknown };
}
/** Astro joins `configFile` to `root`: it is relative to it. */
type ResolveConfig = (inline: { root: string; configFile: string }, command: 'build') => Promise<{ astroConfig: AstroConfig; userConfig: UserConfig }>;

/**
 * Astro's own config loader (`resolveConfig`, what `astro build` runs), from
 * the project's own Astro: it loads every config Astro loads (TypeScript
 * integrations such as Starlight's, which Node cannot import from
 * node_modules, go through Astro's Vite runner) and applies Astro's defaults.
 * It is not among Astro's package exports, so it is found beside them.
 */
async function astroLoader(root: string): Promise<ResolveConfig> {
  let entry: string;
  try {
    entry = createRequire(path.join(root, 'package.json')).resolve('astro/package.json');
  } catch {
    throw new GeneratedImagesError('CONFIG', `astro is not installed in ${root}`, { hint: 'Run `npm install` in the project, then run generated-images again.' });
  }
  const file = path.join(path.dirname(entry), 'dist/core/config/config.js');
  if (!(await fs.stat(file).then((s) => s.isFile(), () => false))) {
    throw new GeneratedImagesError('CONFIG', `this version of astro (${path.dirname(entry)}) has no config loader where astro 5, 6 and 7 keep it (dist/core/config/config.js)`);
  }
  const module = (await import(pathToFileURL(file).href)) as { resolveConfig?: ResolveConfig };
  if (typeof module.resolveConfig !== 'function') throw new GeneratedImagesError('CONFIG', `${file} has no resolveConfig: this version of astro is not supported`);
  return module.resolveConfig;
}

function optionsOf(items: Array<{ name?: unknown; api?: { options?: GeneratedImagesOptions } }>, name: string, configName: string): GeneratedImagesOptions | undefined {
  const matches = items.filter((item) => item && item.name === name);
  if (matches.length === 0) return undefined;
  if (matches.length > 1) throw cliUsageError(`${configName} uses ${name} ${matches.length} times; the CLI cannot tell which options to use`);
  const options = matches[0]!.api?.options;
  if (typeof options !== 'object' || options === null) throw cliUsageError(`${name} in ${configName} does not expose its options (api.options): update ${name}`);
  return options;
}

/** Integration and plugin lists may nest arrays and hold false or null. */
function entries(list: unknown): Array<{ name?: unknown; api?: { options?: GeneratedImagesOptions } }> {
  return Array.isArray(list) ? list.flat(Infinity).filter((p): p is { name?: unknown } => Boolean(p) && typeof p === 'object') : [];
}

/** An Astro project as `astro build` sees it: its root, its output folder and the integration's options. */
export async function loadAstroProject(configFile: string, base: string): Promise<Project> {
  const configName = path.basename(configFile);
  const resolveConfig = await astroLoader(base);
  let config: AstroConfig;
  let user: UserConfig;
  try {
    ({ astroConfig: config, userConfig: user } = await resolveConfig({ root: base, configFile: path.relative(base, configFile) }, 'build'));
  } catch (error) {
    const message = String((error as Error)?.message ?? error).replace(/\x1b\[[0-9;]*m/g, '').split('\n').find((l) => l.trim()) ?? 'unknown error';
    throw new GeneratedImagesError('CONFIG', `could not load ${configName} with Astro's config loader: ${message}`, { hint: '`astro build` loads it the same way and prints the whole error.' });
  }
  const options = optionsOf(entries(user.integrations), INTEGRATION_NAME, configName) ?? optionsOf(entries(user.vite?.plugins), VITE_PLUGIN_NAME, configName);
  if (!options) throw cliUsageError(`${configName} does not use ${INTEGRATION_NAME}: add it to integrations`);
  const root = path.resolve(fileURLToPath(config.root));
  return { framework: 'astro', configFile, root, options, htmlInputs: [], unscanned: [fileURLToPath(config.outDir), fileURLToPath(config.publicDir)], allowDynamicPrompt: true, dataDirs: [path.resolve(fileURLToPath(config.srcDir))] };
}
