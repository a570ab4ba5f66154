/** How one gateway request ended, as far as the concurrency controller cares. */
export type RequestOutcome = { kind: 'ok' } | { kind: 'throttled'; retryAfterMs: number | undefined } | { kind: 'failed' };

/**
 * Admission of gateway requests: every attempt (first or retry) takes a slot
 * for as long as it is in flight, and says how it went when it gives it back.
 */
export interface RequestSlots {
  acquire(signal?: AbortSignal): Promise<(outcome: RequestOutcome) => void>;
}

export const AUTO_INITIAL = 4;
export const AUTO_MAX = 16;
/** Pause after a 429 without Retry-After. */
const DEFAULT_PAUSE_MS = 1000;
/** Slots added per success until the first 429: the limit triples per round trip, so 4 reaches 16 in two. */
const GROWTH = 2;
/** Once the gateway's limit is known, windows of successes (of `limit` each) before probing one slot above it. */
const PROBE_WINDOWS = 4;

/**
 * `concurrency: 'auto'`: find the gateway's limit on requests in flight and
 * stay at it. Starts at 4; each success adds two (image requests take seconds,
 * so each round trip at too few slots is time lost) until the first 429,
 * which sets the limit to what was in flight without it and pauses every
 * request for the Retry-After. From then on the limit grows by one only after
 * four windows of successes, so a gateway whose limit rises is found again at
 * the cost of one 429 (and one pause) now and then, not every round trip.
 */
export class AdaptiveSlots implements RequestSlots {
  private limit = AUTO_INITIAL;
  private active = 0;
  private pausedUntil = 0;
  private throttledOnce = false;
  /** Successes since the limit last grew, after the first 429. */
  private successes = 0;
  private readonly waiting: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly max = AUTO_MAX) {}

  /** The current limit, for progress output and tests. */
  get current(): number {
    return this.limit;
  }

  acquire(signal?: AbortSignal): Promise<(outcome: RequestOutcome) => void> {
    return new Promise((resolve, reject) => {
      const start = () => {
        signal?.removeEventListener('abort', abort);
        this.active++;
        let released = false;
        resolve((outcome) => {
          if (released) return;
          released = true;
          this.active--;
          this.record(outcome);
          this.next();
        });
      };
      const abort = () => {
        const index = this.waiting.indexOf(start);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(signal!.reason);
      };
      if (signal?.aborted) return reject(signal.reason);
      signal?.addEventListener('abort', abort, { once: true });
      this.waiting.push(start);
      this.next();
    });
  }

  private record(outcome: RequestOutcome): void {
    if (outcome.kind === 'ok') {
      if (!this.throttledOnce) this.limit = Math.min(this.max, this.limit + GROWTH);
      else if (++this.successes >= this.limit * PROBE_WINDOWS) {
        this.successes = 0;
        this.limit = Math.min(this.max, this.limit + 1);
      }
    } else if (outcome.kind === 'throttled') {
      this.throttledOnce = true;
      this.successes = 0;
      // What was in flight beside the refused request is what the gateway holds for us.
      this.limit = Math.min(this.limit, Math.max(1, this.active));
      this.pausedUntil = Math.max(this.pausedUntil, Date.now() + (outcome.retryAfterMs ?? DEFAULT_PAUSE_MS));
    }
  }

  private next(): void {
    const wait = this.pausedUntil - Date.now();
    if (wait > 0) {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.next();
      }, wait);
      return;
    }
    while (this.active < this.limit && this.waiting.length) this.waiting.shift()!();
  }
}
