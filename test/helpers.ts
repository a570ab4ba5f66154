import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = path.join(REPO, 'node_modules', '.bin');
export const NODE = path.join(BIN, 'node');

/**
 * Copies a fixture project under test/.tmp (inside the repo, so that it
 * resolves the workspace packages from node_modules) and returns its path.
 */
export async function copyFixture(name: string, label = name): Promise<string> {
  const base = path.join(REPO, 'test', '.tmp');
  await fs.mkdir(base, { recursive: true });
  const dir = await fs.mkdtemp(path.join(base, `${label}-`));
  await fs.cp(path.join(REPO, 'test', 'fixtures', name), dir, { recursive: true });
  return dir;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  output: string;
}

/** Runs a command as a user would, with Node 22 first on PATH, capturing everything it prints. */
export function run(command: string, args: string[], options: { cwd: string; env?: Record<string, string | undefined> }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, ...options.env })) if (v !== undefined) env[k] = v;
    env.PATH = `${BIN}:${env.PATH ?? ''}`;
    const child = spawn(command, args, { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let output = '';
    child.stdout.on('data', (d: Buffer) => ((stdout += d), (output += d)));
    child.stderr.on('data', (d: Buffer) => ((stderr += d), (output += d)));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, output }));
  });
}

/** `vite build` in a project, with the gateway and key given (or deliberately absent). */
export function viteBuild(cwd: string, env: Record<string, string | undefined> = {}): Promise<RunResult> {
  return run(path.join(BIN, 'vite'), ['build', '--logLevel', 'info'], { cwd, env: { CI: undefined, AGNIC_API_KEY: undefined, AGNIC_BASE_URL: undefined, ...env } });
}

/** Every file under a folder with its sha256, for byte-identical comparisons. */
export async function hashTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string) => {
    for (const entry of await fs.readdir(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) await walk(full);
      else out[path.relative(dir, full)] = createHash('sha256').update(await fs.readFile(full)).digest('hex');
    }
  };
  await walk(dir);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

/** Every file's text under a folder (binary files too, as latin1), for searching for a secret. */
export async function allBytes(dir: string): Promise<string> {
  let text = '';
  const walk = async (d: string) => {
    for (const entry of await fs.readdir(d, { withFileTypes: true }).catch(() => [])) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) await walk(full);
      else text += (await fs.readFile(full)).toString('latin1');
    }
  };
  await walk(dir);
  return text;
}

/** A 127.0.0.1 port nothing listens on (bound, then released), for an unreachable baseURL. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
