import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GeneratedImagesError } from '../core/errors.js';
import type { GeneratedImagesOptions } from '../core/options.js';
import { htmlInputs } from '../vite/config.js';
import { cliUsageError } from './args.js';
import { loadAstroProject } from './projects/astro.js';

export const VITE_PLUGIN_NAME = 'vite-plugin-generated-images';
export const ASTRO_INTEGRATION_NAME = 'astro-generated-images';

const ASTRO_CONFIGS = ['astro.config.mjs', 'astro.config.js', 'astro.config.ts', 'astro.config.mts', 'astro.config.cjs', 'astro.config.cts'];
const VITE_CONFIGS = ['vite.config.js', 'vite.config.mjs', 'vite.config.ts', 'vite.config.cjs', 'vite.config.mts', 'vite.config.cts'];


/** A project as its own config describes it: nothing about the images is configured twice. */
export interface Project {
  framework: 'vite' | 'astro';
  configFile: string;
  /** The root the build resolves options and scans from. */
  root: string;
  /** The options as written in the config, exactly what the plugin or integration was given. */
  options: GeneratedImagesOptions;
  /** HTML entries from the Vite config's build input, scanned like the plugin does. */
  htmlInputs: string[];
  /** The build output folder, never scanned. */
  outDir: string;
  /** Astro renders components at build time: a prompt from an expression is generated then. */
  allowDynamicPrompt: boolean;
}

async function findConfig(base: string): Promise<string | undefined> {
  for (const name of [...ASTRO_CONFIGS, ...VITE_CONFIGS]) {
    const file = path.join(base, name);
    if (await fs.stat(file).then((s) => s.isFile(), () => false)) return file;
  }
  return undefined;
}

/** Plugin and integration lists may nest arrays, hold false/null, and (Vite) promises. */
async function flatten(list: unknown): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = [];
  const walk = async (item: unknown): Promise<void> => {
    const value = await item;
    if (Array.isArray(value)) for (const inner of value) await walk(inner);
    else if (value && typeof value === 'object') out.push(value as Record<string, unknown>);
  };
  await walk(list);
  return out;
}

function optionsOf(found: Array<Record<string, unknown>>, name: string, configFile: string): GeneratedImagesOptions | undefined {
  const matches = found.filter((p) => p.name === name);
  if (matches.length === 0) return undefined;
  if (matches.length > 1) throw cliUsageError(`${path.basename(configFile)} uses ${name} ${matches.length} times; the CLI cannot tell which options to use`);
  const api = matches[0]!.api as { options?: GeneratedImagesOptions } | undefined;
  if (!api || typeof api.options !== 'object') {
    throw cliUsageError(`${name} in ${path.basename(configFile)} does not expose its options (api.options): update ${name}`);
  }
  return api.options;
}

function pathOption(value: unknown, base: string): string {
  if (value instanceof URL) return fileURLToPath(value);
  if (typeof value === 'string') return value.startsWith('file:') ? fileURLToPath(value) : path.resolve(base, value);
  return base;
}

/**
 * Finds and loads the project's vite.config.* or astro.config.* (with Vite's
 * own loader, as `vite build` does) and reads the options given to the plugin
 * or the integration from its `api.options`.
 */
export async function loadProject(request: { cwd: string; root?: string; config?: string }): Promise<Project> {
  const base = path.resolve(request.cwd, request.root ?? '.');
  if (!(await fs.stat(base).then((s) => s.isDirectory(), () => false))) throw cliUsageError(`--root ${request.root}: no such folder`);
  const configFile = request.config ? path.resolve(request.cwd, request.config) : await findConfig(base);
  if (!configFile) {
    throw cliUsageError(`no vite.config.* or astro.config.* in ${base}: run generated-images in the project's root, or pass --root <dir> or --config <file>`);
  }
  if (!(await fs.stat(configFile).then((s) => s.isFile(), () => false))) throw cliUsageError(`--config ${request.config}: no such file`);
  const framework = path.basename(configFile).startsWith('astro.config.') ? 'astro' : 'vite';

  if (framework === 'astro') return loadAstroProject(configFile, base);

  const configName = path.basename(configFile);
  const { loadConfigFromFile } = await import('vite');
  let loaded: Awaited<ReturnType<typeof loadConfigFromFile>>;
  try {
    loaded = await loadConfigFromFile({ command: 'build', mode: 'production', isSsrBuild: false, isPreview: false }, configFile, base, 'silent');
  } catch (error) {
    // Bundler errors come with colours and a code frame of the bundled file: the first lines say what is wrong.
    const lines = String((error as Error).message).replace(/\x1b\[[0-9;]*m/g, '').split('\n').filter((l) => l.trim() && !/^\s*[│╭╰─]/.test(l));
    throw new GeneratedImagesError('CONFIG', `could not load ${configName}: ${lines.slice(0, 2).join(' ')} (\`${framework} build\` shows the whole error)`);
  }
  const config = (loaded?.config ?? {}) as Record<string, unknown>;

  const root = pathOption(config.root, base);
  const options = optionsOf(await flatten(config.plugins), VITE_PLUGIN_NAME, configFile);
  if (!options) throw cliUsageError(`${configName} does not use ${VITE_PLUGIN_NAME}: add generatedImages() to plugins`);
  const build = config.build as Record<string, unknown> | undefined;
  return { framework, configFile, root, options, htmlInputs: htmlInputs(build as Parameters<typeof htmlInputs>[0]), outDir: path.resolve(root, (build?.outDir as string | undefined) ?? 'dist'), allowDynamicPrompt: false };
}
