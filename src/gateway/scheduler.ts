// The gateway's timers and its one retry loop (exponential back-off from venues/common/backoff.ts).
// Everything scheduled here ends at close(): pending timers are cleared, sleeps resolve at once and
// retry loops stop, so a closing gateway never calls the venue or the order book again. A failure
// of anything run here goes to `onError`: never an unhandled rejection.
import { Backoff, BackoffOptions } from '../venues/common/backoff';

export type RetryStep = () => Promise<'done' | 'retry'>;

export class Scheduler {
  private closed = false;
  private readonly timers = new Map<NodeJS.Timeout, () => void>();

  constructor(private readonly onError: (what: string, err: unknown) => void) {}

  get isClosed(): boolean {
    return this.closed;
  }

  /** Runs `fn` after `ms` (not after close); a failure is reported as `what`. */
  later(what: string, fn: () => Promise<void> | void, ms: number): void {
    if (this.closed) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.run(what, fn);
    }, ms);
    this.timers.set(t, () => undefined);
  }

  /** Runs `fn` now without waiting for it; a failure is reported as `what`. */
  run(what: string, fn: () => Promise<void> | void): void {
    try {
      const p = fn();
      if (p) p.catch((err) => this.onError(what, err));
    } catch (err) {
      this.onError(what, err);
    }
  }

  /** Resolves after `ms`, or at once when the scheduler closes (callers then see isClosed). */
  sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.set(t, resolve);
    });
  }

  /**
   * Calls `step` until it says 'done', sleeping a growing back-off between calls. Resolves true
   * when done, false when the scheduler closed first. An exception from `step` ends the loop (the
   * step decides what is worth retrying).
   */
  async retry(step: RetryStep, backoff: BackoffOptions): Promise<boolean> {
    const delays = new Backoff(backoff);
    while (!this.closed) {
      if ((await step()) === 'done') return true;
      await this.sleep(delays.next());
    }
    return false;
  }

  close(): void {
    this.closed = true;
    for (const [t, wake] of this.timers) {
      clearTimeout(t);
      wake();
    }
    this.timers.clear();
  }
}

/** Back-off for venue queries (an order's state, an unknown outcome): 100 ms doubling to 5 s. */
export const QUERY_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 5_000, jitter: 0.2 };
/** Back-off for bringing the venue up: 500 ms doubling to 30 s. */
export const START_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000, jitter: 0.2 };
