import { promises as fs } from 'node:fs';
import path from 'node:path';
import { GeneratedImagesError, isError } from '../core/errors.js';
import type { GeneratedImagesOptions } from '../core/options.js';
import { cliUsageError } from './args.js';
import { loadViteConfig, loadVitePressConfig, VITEPRESS_CONFIG } from './projects/vite.js';
import { loadAstroProject } from './projects/astro.js';

const ASTRO_CONFIGS = ['astro.config.mjs', 'astro.config.js', 'astro.config.ts', 'astro.config.mts', 'astro.config.cjs', 'astro.config.cts'];
const VITE_CONFIGS = ['vite.config.js', 'vite.config.mjs', 'vite.config.ts', 'vite.config.cjs', 'vite.config.mts', 'vite.config.cts'];
/** VitePress sites: `.vitepress/` in the root, or in `docs/` as `vitepress init` suggests. */
const VITEPRESS_CONFIGS = ['.', 'docs'].flatMap((dir) => ['config.mts', 'config.ts', 'config.mjs', 'config.js'].map((name) => path.join(dir, '.vitepress', name)));


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
  /** Folders never scanned besides the cache: the build output, the public folder copied as it is. */
  unscanned: string[];
  /** Astro renders components at build time: a prompt from an expression is generated then. */
  allowDynamicPrompt: boolean;
  /** Where prompts computed at render time may come from (Astro's srcDir), fingerprinted as the build does. */
  dataDirs: string[];
}

async function findConfig(base: string): Promise<string | undefined> {
  for (const name of [...ASTRO_CONFIGS, ...VITE_CONFIGS, ...VITEPRESS_CONFIGS]) {
    const file = path.join(base, name);
    if (await fs.stat(file).then((s) => s.isFile(), () => false)) return file;
  }
  return undefined;
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
    throw cliUsageError(`no vite.config.* or astro.config.* in ${base} (nor a VitePress .vitepress/config.* there or in docs/): run generated-images in the project's root, or pass --root <dir> or --config <file>`);
  }
  if (!(await fs.stat(configFile).then((s) => s.isFile(), () => false))) throw cliUsageError(`--config ${request.config}: no such file`);
  const framework = path.basename(configFile).startsWith('astro.config.') ? 'astro' : 'vite';

  if (framework === 'astro') return loadAstroProject(configFile, base);

  const configName = path.basename(configFile);
  const failed = (error: unknown) => {
    // Bundler errors come with colours and a code frame of the bundled file: the first lines say what is wrong.
    const lines = String((error as Error).message).replace(/\x1b\[[0-9;]*m/g, '').split('\n').filter((l) => l.trim() && !/^\s*[│╭╰─]/.test(l));
    return new GeneratedImagesError('CONFIG', `could not load ${configName}: ${lines.slice(0, 2).join(' ')} (\`${framework} build\` shows the whole error)`);
  };
  const vite = await (VITEPRESS_CONFIG.test(configFile) ? loadVitePressConfig(configFile) : loadViteConfig(configFile, base)).catch((error) => {
    throw isError(error) ? error : failed(error);
  });
  return { framework, configFile, root: vite.root, options: vite.options, htmlInputs: vite.htmlInputs, unscanned: vite.unscanned, allowDynamicPrompt: false, dataDirs: [] };
}
