// Shared by the reliability tests: tiny fixture projects, real `vite build`s
// (in this process or in a child process that can be killed), and an
// independent check of the cache invariant that reads the folder with plain
// fs and crypto rather than through the code under test.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { build, type Logger } from 'vite';
import generatedImages from '../../packages/vite-plugin/src/index.ts';
import type { GeneratedImagesOptions } from '../../packages/vite-plugin/src/core/options.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
/** The project's Node 22 (the machine's own node is 20). */
const NODE = path.join(REPO, 'node_modules/.bin/node');
const BUILD_SCRIPT = path.join(import.meta.dirname, 'fixtures/build.ts');
const TMP = path.join(REPO, 'test/.tmp/reliability');

/** Tiny output so that builds cost milliseconds of sharp, not seconds: one width, one format. */
export const TINY = { widths: [64], formats: ['webp'], placeholder: 'none', frozen: false } satisfies GeneratedImagesOptions;

export const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

export function tag(prompt: string, ratio = '1:1', extra = ''): string {
  return `<GeneratedImage prompt=${JSON.stringify(prompt)} ratio="${ratio}" alt="test image" ${extra}/>`;
}

/** A Vite project whose index.html holds `body` (a list of tags, say), in a fresh folder under test/.tmp. */
export async function makeProject(name: string, body: string): Promise<string> {
  await fs.mkdir(TMP, { recursive: true });
  const root = await fs.mkdtemp(path.join(TMP, `${name}-`));
  await fs.writeFile(path.join(root, 'index.html'), `<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>t</title></head>\n<body>\n${body}\n</body>\n</html>\n`);
  return root;
}

export async function removeProject(root: string): Promise<void> {
  await fs.rm(root, { recursive: true, force: true });
}

export interface BuildOutcome {
  error?: Error;
  /** Everything Vite's logger printed (info, warnings, errors). */
  logs: string;
  /** dist/index.html when the build succeeded. */
  html?: string;
}

/** A real `vite build` through the JS API in this process, with the plugin from source. */
export async function viteBuild(root: string, options: GeneratedImagesOptions, outDir = 'dist'): Promise<BuildOutcome> {
  const lines: string[] = [];
  const record = (msg: string) => void lines.push(msg);
  const logger: Logger = {
    info: record,
    warn: record,
    warnOnce: record,
    error: record,
    clearScreen: () => {},
    hasErrorLogged: () => false,
    hasWarned: false,
  };
  try {
    await build({ root, configFile: false, logLevel: 'info', customLogger: logger, plugins: [generatedImages(options)], build: { outDir, emptyOutDir: true } });
  } catch (error) {
    return { error: error as Error, logs: lines.join('\n') };
  }
  const html = await fs.readFile(path.join(root, outDir, 'index.html'), 'utf8');
  return { logs: lines.join('\n'), html };
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A script run by the project's Node in a process of its own; `done` settles when it exits. */
export function startNode(script: string, args: string[], run: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { child: ChildProcess; done: Promise<ChildResult> } {
  const child = spawn(NODE, [script, ...args], {
    cwd: run.cwd ?? REPO,
    env: { ...process.env, CI: '', AGNIC_API_KEY: '', AGNIC_BASE_URL: '', ...run.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const done = new Promise<ChildResult>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

/** `vite build` in a child process (fixtures/build.ts, the built plugin), started. */
export function startChildBuild(root: string, options: GeneratedImagesOptions, run: { outDir?: string; env?: NodeJS.ProcessEnv } = {}): { child: ChildProcess; done: Promise<ChildResult> } {
  return startNode(BUILD_SCRIPT, [root, run.outDir ?? 'dist', JSON.stringify(options)], { cwd: root, env: run.env });
}

/** `vite build` in a child process, run to its end. */
export function childBuild(root: string, options: GeneratedImagesOptions, run: { outDir?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ChildResult> {
  return startChildBuild(root, options, run).done;
}

/** Every file under `dir` (relative paths); none when it does not exist. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (sub: string): Promise<void> => {
    const entries = await fs.readdir(path.join(dir, sub), { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const rel = path.join(sub, entry.name);
      if (entry.isDirectory()) await walk(rel);
      else out.push(rel);
    }
  };
  await walk('');
  return out.sort();
}

/** sha256 of every file under `dir` by relative path, to show that a failed build changed nothing. */
export async function hashTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const file of await listFiles(dir)) out[file] = sha256(await fs.readFile(path.join(dir, file)));
  return out;
}

interface ManifestFile {
  version: number;
  images: Record<string, { file: string; sha256: string; bytes: number; variants?: Record<string, { sha256: string; bytes: number }> }>;
}

export async function readManifest(cacheDir: string): Promise<ManifestFile> {
  const text = await fs.readFile(path.join(cacheDir, 'manifest.json'), 'utf8').catch(() => undefined);
  return text === undefined ? { version: 1, images: {} } : (JSON.parse(text) as ManifestFile);
}

const PLAIN = (name: string) => name !== '' && !/[\\/\0]/.test(name) && !name.startsWith('.') && !name.endsWith('.tmp');

/**
 * The crash-safety invariant of SPEC "The cache": the manifest parses, and
 * every entry's file and every variant exists inside the cache folder and
 * matches its recorded sha256 and size; no temp file is ever named by an entry.
 * Returns one line per violation (none: the invariant holds).
 */
export async function cacheViolations(cacheDir: string): Promise<string[]> {
  const violations: string[] = [];
  const text = await fs.readFile(path.join(cacheDir, 'manifest.json'), 'utf8').catch(() => undefined);
  if (text === undefined) return violations;
  let manifest: ManifestFile;
  try {
    manifest = JSON.parse(text) as ManifestFile;
  } catch (error) {
    return [`manifest.json does not parse: ${(error as Error).message}`];
  }
  if (manifest.version !== 1 || typeof manifest.images !== 'object' || manifest.images === null) return ['manifest.json has no version 1 images object'];
  const check = async (file: string, expected: { sha256: string; bytes: number }, what: string) => {
    const data = await fs.readFile(file).catch(() => undefined);
    if (!data) violations.push(`${what}: ${file} is missing`);
    else if (sha256(data) !== expected.sha256 || data.length !== expected.bytes) violations.push(`${what}: ${file} does not match its sha256/bytes`);
  };
  for (const [key, entry] of Object.entries(manifest.images)) {
    if (!/^[0-9a-f]{16}$/.test(key)) violations.push(`"${key}" is not a cache key`);
    if (!PLAIN(entry.file)) violations.push(`${key}: file ${JSON.stringify(entry.file)} is not a plain, visible, non-temp name`);
    else await check(path.join(cacheDir, entry.file), entry, key);
    for (const [name, variant] of Object.entries(entry.variants ?? {})) {
      if (!PLAIN(name)) violations.push(`${key}: variant ${JSON.stringify(name)} is not a plain, visible, non-temp name`);
      else await check(path.join(cacheDir, 'variants', name), variant, `${key} variant`);
    }
  }
  return violations;
}

/** Originals `<key>.<ext>` in the cache folder that no manifest entry names (written just before a crash). */
export async function orphanOriginals(cacheDir: string): Promise<string[]> {
  const manifest = await readManifest(cacheDir);
  const named = new Set(Object.values(manifest.images).map((e) => e.file));
  const files = await fs.readdir(cacheDir).catch(() => [] as string[]);
  return files.filter((f) => /^[0-9a-f]{16}\.(png|jpeg|webp)$/.test(f) && !named.has(f));
}

/** The user prompts of the chat requests a gateway received. */
export function promptsOf(requests: Array<{ body: any }>): string[] {
  return requests.map((r) => r.body?.messages?.at(-1)?.content).filter((p): p is string => typeof p === 'string');
}

export { closedPort } from '../helpers.ts';
