import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BENCH, BENCH_TMP, BIN, NODE } from './paths.ts';

export interface Run {
  /** From spawn to exit, as a user waiting for the command sees it. */
  wallMs: number;
  /** User + system CPU time of every Node process of the command. */
  cpuMs: number;
  /** Peak resident set size of the largest process of the command. */
  maxRssKB: number;
  output: string;
}

export class CommandError extends Error {}

let runs = 0;

/**
 * Runs a Node program as a child process and measures it from the outside:
 * wall time here, CPU time and peak RSS reported by the child itself on exit
 * (lib/rusage.mjs, preloaded into every Node process it starts).
 */
export async function measure(script: string, args: string[], options: { cwd: string; env?: Record<string, string | undefined> }): Promise<Run> {
  const usageFile = path.join(BENCH_TMP, 'rusage', `${process.pid}-${++runs}.jsonl`);
  await fs.mkdir(path.dirname(usageFile), { recursive: true });
  await fs.rm(usageFile, { force: true });
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...options.env })) if (v !== undefined) env[k] = v;
  env.PATH = `${BIN}:${env.PATH ?? ''}`;
  env.BENCH_RUSAGE = usageFile;
  env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --import ${path.join(BENCH, 'lib', 'rusage.mjs')}`.trim();
  const start = performance.now();
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(NODE, [script, ...args], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d));
    child.stderr.on('data', (d: Buffer) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
  const wallMs = performance.now() - start;
  if (code !== 0) throw new CommandError(`${path.basename(script)} ${args.join(' ')} (in ${options.cwd}) exited with ${code}:\n${output.slice(-4000)}`);
  const lines = (await fs.readFile(usageFile, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { cpuMs: number; maxRssKB: number });
  await fs.rm(usageFile, { force: true });
  return {
    wallMs,
    cpuMs: lines.reduce((sum, l) => sum + l.cpuMs, 0),
    maxRssKB: Math.max(0, ...lines.map((l) => l.maxRssKB)),
    output,
  };
}

/** A benchmark task (bench/tasks/*.ts) run as a child; its last output line is its JSON result. */
export async function task<T>(name: string, input: unknown, env?: Record<string, string | undefined>): Promise<T & { run: Run }> {
  const inputFile = path.join(BENCH_TMP, 'rusage', `${name}-${process.pid}-${++runs}.json`);
  await fs.mkdir(path.dirname(inputFile), { recursive: true });
  await fs.writeFile(inputFile, JSON.stringify(input));
  const run = await measure(path.join(BENCH, 'tasks', `${name}.ts`), [inputFile], { cwd: BENCH, env });
  await fs.rm(inputFile, { force: true });
  const last = run.output.trim().split('\n').at(-1) ?? '';
  try {
    return { ...(JSON.parse(last) as T), run };
  } catch {
    throw new CommandError(`task ${name} printed no result:\n${run.output.slice(-4000)}`);
  }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
