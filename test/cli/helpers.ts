import { promises as fs } from 'node:fs';
import path from 'node:path';
import { cacheKey } from '../../packages/vite-plugin/src/core/key.ts';
import { NODE, REPO, run, type RunResult } from '../helpers.ts';

export const CLI = path.join(REPO, 'packages', 'vite-plugin', 'bin', 'generated-images.js');
export const KEY = 'agnic_tok_cli_test_secret';
const TMP = path.join(REPO, 'test', '.tmp');

/** A copy of a fixture under test/.tmp (inside the repo, so that it resolves the workspace packages). */
export async function copyFixture(name: string, label: string): Promise<string> {
  await fs.mkdir(TMP, { recursive: true });
  const dir = await fs.mkdtemp(path.join(TMP, `cli-${label}-`));
  await fs.cp(path.join(REPO, 'test', 'cli', 'fixtures', name), dir, { recursive: true });
  return dir;
}

export async function tempDir(label: string): Promise<string> {
  await fs.mkdir(TMP, { recursive: true });
  return fs.mkdtemp(path.join(TMP, `cli-${label}-`));
}

/** The environment of a developer's shell: no CI, the gateway and key only when given. */
export function userEnv(env: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { CI: undefined, AGNIC_API_KEY: undefined, AGNIC_BASE_URL: undefined, ...env };
}

/** `generated-images …` as a user runs it in a project. */
export function cli(cwd: string, args: string[], env: Record<string, string | undefined> = {}): Promise<RunResult> {
  return run(NODE, [CLI, ...args], { cwd, env: userEnv(env) });
}

/**
 * git with a fixed identity and nothing from the user's or the system's
 * config, as on a fresh clone: merge drivers come only from the repository.
 */
export async function git(cwd: string, args: string[]): Promise<RunResult> {
  return run('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'init.defaultBranch=main', '-c', 'commit.gpgsign=false', ...args], {
    cwd,
    env: { GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0' },
  });
}

export async function gitOk(cwd: string, args: string[]): Promise<string> {
  const result = await git(cwd, args);
  if (result.code !== 0) throw new Error(`git ${args.join(' ')} failed:\n${result.output}`);
  return result.stdout;
}

export { closedPort } from '../helpers.ts';

/** A prompt whose cache key sorts as asked against the given keys (to place a new image at the start or end of the manifest). */
export function promptWithKey(base: string, ratio: '1:1' | '16:9' | '4:3', test: (key: string) => boolean): { prompt: string; key: string } {
  for (let i = 0; ; i++) {
    const prompt = `${base} ${i}`;
    const key = cacheKey({ model: 'google/gemini-2.0-flash', prompt, style: null, ratio, variant: 0, imageSize: null });
    if (test(key)) return { prompt, key };
  }
}

export async function readManifest(dir: string): Promise<{ version: number; images: Record<string, { file: string; prompt: string; variants: Record<string, unknown> }> }> {
  return JSON.parse(await fs.readFile(path.join(dir, 'generated-images', 'manifest.json'), 'utf8'));
}

/** Adds a usage before `</body>` of an HTML page of the fixture. */
export async function addUsage(dir: string, page: string, tag: string): Promise<void> {
  const file = path.join(dir, page);
  const html = await fs.readFile(file, 'utf8');
  await fs.writeFile(file, html.replace('  </body>', `    ${tag}\n  </body>`));
}
