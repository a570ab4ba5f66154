import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { BIN, closedPort, NODE, REPO, run, type RunResult } from '../helpers.ts';

/**
 * Copies a fixture of test/astro/fixtures under test/.tmp (inside the repo, so
 * that it resolves the workspace packages from node_modules).
 */
export async function copyAstroFixture(name: string, label = name): Promise<string> {
  const base = path.join(REPO, 'test', '.tmp');
  await fs.mkdir(base, { recursive: true });
  const dir = await fs.mkdtemp(path.join(base, `astro-${label}-`));
  await fs.cp(path.join(REPO, 'test', 'astro', 'fixtures', name), dir, { recursive: true });
  return dir;
}

/**
 * A user's shell, not the test runner's: Astro changes how it serves and
 * builds under Vitest (`VITEST`) and `NODE_ENV=test`, and CI, the key and the
 * gateway are set only where a test passes them.
 */
export function userEnv(env: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  const unset = Object.keys(process.env).filter((k) => k.startsWith('VITEST') || ['NODE_ENV', 'TEST', 'MODE', 'PROD', 'DEV', 'SSR', 'BASE_URL'].includes(k));
  return { ...Object.fromEntries(unset.map((k) => [k, undefined])), CI: undefined, AGNIC_API_KEY: undefined, AGNIC_BASE_URL: undefined, GI_OPTIONS: undefined, ...env };
}

/** An `astro` command as a user runs it (see `userEnv`). */
export async function astro(args: string[], cwd: string, env: Record<string, string | undefined> = {}): Promise<RunResult> {
  const result = await run(path.join(BIN, 'astro'), args, { cwd, env: userEnv(env) });
  return { ...result, output: stripVTControlCharacters(result.output) };
}

export interface Picture {
  attributes: Record<string, string>;
  sources: Array<{ type: string; sizes: string; srcset: Array<[string, number]> }>;
  img: Record<string, string>;
}

function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  const inner = tag.replace(/^<[\w-]+/, '').replace(/\/?>$/, '');
  for (const m of inner.matchAll(/([\w:-]+)(?:="([^"]*)")?/g)) out[m[1]!.toLowerCase()] = (m[2] ?? '').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
  return out;
}

/** The `<picture>` elements of a built page, as a browser would read them. */
export function pictures(html: string): Picture[] {
  return [...html.matchAll(/<picture\b[^>]*>[\s\S]*?<\/picture>/g)].map(([element]) => {
    const open = /^<picture\b[^>]*>/.exec(element)![0];
    const sources = [...element.matchAll(/<source\b[^>]*>/g)].map(([tag]) => {
      const a = attributes(tag);
      return {
        type: a.type!,
        sizes: a.sizes!,
        srcset: a.srcset!.split(', ').map((item) => {
          const [url, w] = item.split(' ');
          return [url!, Number(w!.slice(0, -1))] as [string, number];
        }),
      };
    });
    const img = /<img\b[^>]*>/.exec(element)![0];
    return { attributes: attributes(open), sources, img: attributes(img) };
  });
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Polls `probe` until it gives a value. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export interface AstroDev {
  url: string;
  /** What it printed so far. */
  output: () => string;
  stop: () => Promise<void>;
}

/** Starts `astro dev` (the CLI, as a user runs it, see `userEnv`) in `dir` on 127.0.0.1, once it serves pages. */
export async function startAstroDev(dir: string, env: Record<string, string>): Promise<AstroDev> {
  const port = await freePort();
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...userEnv(env) })) if (v !== undefined) childEnv[k] = v;
  childEnv.PATH = `${BIN}:${process.env.PATH ?? ''}`;
  const child = spawn(path.join(BIN, 'astro'), ['dev', '--host', '127.0.0.1', '--port', String(port)], { cwd: dir, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d));
  child.stderr.on('data', (d: Buffer) => (output += d));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
  };
  const url = `http://127.0.0.1:${port}`;
  await until(`astro dev on ${url}`, async () => ((await fetch(`${url}/about/`)).ok ? true : undefined)).catch(async (error: Error) => {
    await stop();
    throw new Error(`${error.message}\n${output}`);
  });
  return { url, output: () => stripVTControlCharacters(output), stop };
}

export interface NodeServer {
  url: string;
  /** Everything the server printed so far. */
  output(): string;
  close(): Promise<void>;
}

/** A built `@astrojs/node` standalone server (`node dist/server/entry.mjs`), as a deployment runs it. */
export async function startNodeServer(dir: string, env: Record<string, string | undefined> = {}): Promise<NodeServer> {
  const port = await closedPort();
  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...userEnv(env), HOST: '127.0.0.1', PORT: String(port) })) if (v !== undefined) vars[k] = v;
  const child = spawn(NODE, [path.join(dir, 'dist/server/entry.mjs')], { cwd: dir, env: vars, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d));
  child.stderr.on('data', (d: Buffer) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`the server exited:\n${output}`);
    if (await fetch(url, { method: 'HEAD' }).then(() => true, () => false)) break;
    if (i > 200) throw new Error(`the server did not answer:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    output: () => stripVTControlCharacters(output),
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill();
      }),
  };
}
