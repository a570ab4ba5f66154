import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

interface LockOwner {
  pid: number;
  host: string;
  at: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A lock file shared by every process using the cache (builds, dev servers,
 * the CLI). A lock whose owner died (same host, pid gone) or that is older
 * than `staleMs` is taken over, so a killed build never blocks the next one.
 */
export async function acquireLock(file: string, options: { staleMs: number; signal?: AbortSignal }): Promise<() => Promise<void>> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const me: LockOwner = { pid: process.pid, host: os.hostname(), at: Date.now() };
  for (let attempt = 0; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      const handle = await fs.open(file, 'wx');
      await handle.writeFile(JSON.stringify(me));
      await handle.close();
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        await fs.rm(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (await isStale(file, options.staleMs)) {
      // Rename first so that two processes breaking the same stale lock cannot both win.
      const grave = `${file}.stale-${process.pid}-${attempt}`;
      try {
        await fs.rename(file, grave);
        await fs.rm(grave, { force: true });
      } catch {
        /* another process broke it first */
      }
      continue;
    }
    await sleep(Math.min(25 * 2 ** Math.min(attempt, 4), 400));
  }
}

async function isStale(file: string, staleMs: number): Promise<boolean> {
  let owner: Partial<LockOwner> = {};
  let mtime = Date.now();
  try {
    const [text, stat] = await Promise.all([fs.readFile(file, 'utf8'), fs.stat(file)]);
    mtime = stat.mtimeMs;
    owner = JSON.parse(text) as LockOwner;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    // Half-written by a process killed between open and write: stale once it is not brand new.
    return Date.now() - mtime > 2000;
  }
  if (owner.host === os.hostname() && typeof owner.pid === 'number' && owner.pid !== process.pid && !alive(owner.pid)) return true;
  return Date.now() - (owner.at ?? mtime) > staleMs;
}
