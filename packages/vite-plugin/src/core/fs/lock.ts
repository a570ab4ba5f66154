import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TEMP_SUFFIX } from './atomic.js';
import { alive } from './process.js';

interface LockOwner {
  pid: number;
  host: string;
  at: number;
  /** Tells this holder's lock from a later one at the same path, so a release never removes someone else's. */
  token: string;
}

/**
 * A held lock's file is touched this often while its holder lives, so that
 * no other process ever takes it over however long the holder works (a
 * generation with retries and Retry-After waits can take many minutes).
 */
export const HEARTBEAT_MS = 1_000;
/** A lock not touched for this long is stale whoever holds it: its holder is gone, hung, or on another machine and gone. */
export const LOCK_STALE_MS = 15_000;
/** A process that died while breaking a stale lock leaves its breaker file; others clear it after this long. */
const BREAK_STALE_MS = 5_000;
/** A lock file with no readable owner (its writer was killed between creating and writing it) is stale after this long. */
const UNREADABLE_STALE_MS = 2_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Tokens of the locks this process holds, shared by every copy of this module
 * in the process. A lock naming our own pid with a token not in here was left
 * by an earlier process that had the same pid (containers reuse small pids).
 */
const HELD_KEY = Symbol.for('generated-images.held-locks');
const held: Set<string> = ((globalThis as Record<symbol, unknown>)[HELD_KEY] ??= new Set<string>()) as Set<string>;

function owner(): LockOwner {
  return { pid: process.pid, host: os.hostname(), at: Date.now(), token: randomBytes(8).toString('hex') };
}

/** Creates `file` only if it does not exist. */
async function create(file: string, content: string): Promise<boolean> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(content);
  } finally {
    await handle.close();
  }
  return true;
}

export interface LockOptions {
  /** How long without a heartbeat makes another holder's lock stale. Default LOCK_STALE_MS. */
  staleMs?: number;
  signal?: AbortSignal;
  /** Give up at once (resolve undefined) instead of waiting while another live process holds it. */
  tryOnly?: boolean;
}

/** Touches the lock file while it is ours; stops once it is not (released, or taken over after a long pause). */
function heartbeat(file: string, token: string): () => void {
  const timer = setInterval(() => {
    void readOwner(file).then((holder) => {
      if (holder?.token !== token) return clearInterval(timer);
      const now = new Date();
      return fs.utimes(file, now, now);
    }).catch(() => {});
  }, HEARTBEAT_MS);
  // A held lock never keeps a finished process alive: its holder releases it, or dies and it goes stale.
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * A lock file shared by every process using the cache (builds, dev servers,
 * the CLI). Its holder touches it every HEARTBEAT_MS; a lock whose owner died
 * (same host, pid gone) or that has not been touched for `staleMs` is taken
 * over, so a killed build never blocks the next one and a live one is never
 * overtaken.
 */
export async function acquireLock(file: string, options: LockOptions & { tryOnly: true }): Promise<(() => Promise<void>) | undefined>;
export async function acquireLock(file: string, options?: LockOptions): Promise<() => Promise<void>>;
export async function acquireLock(file: string, options: LockOptions = {}): Promise<(() => Promise<void>) | undefined> {
  const staleMs = options.staleMs ?? LOCK_STALE_MS;
  await fs.mkdir(path.dirname(file), { recursive: true });
  const me = owner();
  for (let attempt = 0; ; attempt++) {
    options.signal?.throwIfAborted();
    held.add(me.token);
    if (await create(file, JSON.stringify(me))) {
      const stop = heartbeat(file, me.token);
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        stop();
        // Only our own: had this process stalled past staleMs, another may own this path now.
        if ((await readOwner(file))?.token === me.token) await fs.rm(file, { force: true });
        held.delete(me.token);
      };
    }
    held.delete(me.token);
    if (await breakIfStale(file, staleMs)) continue;
    if (options.tryOnly) return undefined;
    await sleep(Math.min(25 * 2 ** Math.min(attempt, 4), 400));
  }
}

/** Whether `file` is a lock that a live process holds now. */
export async function isHeld(file: string, staleMs = LOCK_STALE_MS): Promise<boolean> {
  return (await fs.stat(file).catch(() => undefined)) !== undefined && !(await isStale(file, staleMs));
}

/**
 * Removes a stale lock. Breakers take turns through `<file>.break.tmp` and check
 * again once it is theirs: without that, two processes that both saw the
 * same stale lock could each remove it, the second removing the fresh lock
 * the first had just taken, and both would go on holding "the" lock.
 */
async function breakIfStale(file: string, staleMs: number): Promise<boolean> {
  if (!(await isStale(file, staleMs))) return false;
  // Named as a temp file so that the cache's .gitignore hides one left by a process killed mid-break.
  const breaker = `${file}.break${TEMP_SUFFIX}`;
  const me = owner();
  held.add(me.token);
  try {
    if (!(await create(breaker, JSON.stringify(me)))) {
      if (await isStale(breaker, BREAK_STALE_MS)) await fs.rm(breaker, { force: true });
      return false;
    }
    try {
      if (await isStale(file, staleMs)) await fs.rm(file, { force: true });
    } finally {
      await fs.rm(breaker, { force: true });
    }
    return true;
  } finally {
    held.delete(me.token);
  }
}

async function readOwner(file: string): Promise<Partial<LockOwner> | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as Partial<LockOwner>;
  } catch {
    return undefined;
  }
}

async function isStale(file: string, staleMs: number): Promise<boolean> {
  const stat = await fs.stat(file).catch(() => undefined);
  if (!stat) return false;
  const holder = await readOwner(file);
  if (!holder) return Date.now() - stat.mtimeMs > UNREADABLE_STALE_MS;
  if (holder.host === os.hostname() && typeof holder.pid === 'number') {
    if (holder.pid === process.pid ? !held.has(String(holder.token)) : !alive(holder.pid)) return true;
  }
  // The heartbeat moves the file's mtime; `at` is when it was taken.
  return Date.now() - Math.max(holder.at ?? 0, stat.mtimeMs) > staleMs;
}
