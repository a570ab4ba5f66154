/** How long a file must stay unchanged before a prompt edited in it is generated. */
export const SETTLE_MS = 1000;

interface Waiting {
  timer: NodeJS.Timeout;
  /** By id, so that a file rendered several times while it settles still runs each job once. */
  jobs: Map<string, () => void>;
}

/**
 * Holds back work for files that are being edited. Editors that save on every
 * pause would otherwise pay for a generation per draft of a prompt: work for a
 * file saved less than `quietMs` ago waits until it has been left alone that
 * long, and a save meanwhile drops it (it was for a draft; rendering the new
 * text asks again).
 */
export class EditSettle {
  private readonly changedAt = new Map<string, number>();
  private readonly waiting = new Map<string, Waiting>();

  constructor(private readonly quietMs = SETTLE_MS) {}

  /** `file` was saved. Returns whether work was waiting for it (now dropped). */
  changed(file: string): boolean {
    this.changedAt.set(file, Date.now());
    const waiting = this.waiting.get(file);
    if (!waiting) return false;
    clearTimeout(waiting.timer);
    this.waiting.delete(file);
    return true;
  }

  /**
   * Runs `job` once `file` has been unchanged for the quiet time. Returns false
   * when it has been already (the caller goes ahead at once); a file not saved
   * since the server started counts as settled.
   */
  defer(file: string, id: string, job: () => void): boolean {
    const changed = this.changedAt.get(file);
    const wait = changed === undefined ? 0 : changed + this.quietMs - Date.now();
    if (wait <= 0) return false;
    let waiting = this.waiting.get(file);
    if (!waiting) {
      const timer = setTimeout(() => this.run(file), wait);
      // A dev server that is closing does not wait for a draft.
      timer.unref();
      waiting = { timer, jobs: new Map() };
      this.waiting.set(file, waiting);
    }
    waiting.jobs.set(id, job);
    return true;
  }

  private run(file: string): void {
    const waiting = this.waiting.get(file);
    this.waiting.delete(file);
    for (const job of waiting?.jobs.values() ?? []) job();
  }
}
