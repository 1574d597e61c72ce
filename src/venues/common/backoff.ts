// Exponential back-off with jitter and a cap. Venue-neutral and pure: the random source is
// injected, so delays are reproducible in tests.

export interface BackoffOptions {
  /** Delay before the first retry, ms. */
  initialMs: number;
  /** No delay exceeds this, jitter included. */
  maxMs: number;
  /** Growth per attempt; default 2. */
  factor?: number;
  /**
   * Share of the delay that is random, 0..1; default 0.5 ("equal jitter": between half and all
   * of the exponential delay). 0 = no jitter, 1 = "full jitter" (anywhere in 0..delay).
   */
  jitter?: number;
}

/**
 * Delay before retry number `attempt` (0-based): min(maxMs, initialMs * factor^attempt), of which
 * the `jitter` share is scaled by `random()` ∈ [0, 1).
 */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const factor = opts.factor ?? 2;
  const jitter = Math.min(1, Math.max(0, opts.jitter ?? 0.5));
  const n = Math.max(0, Math.floor(attempt));
  // Cap before exponentiating far: factor^n overflows to Infinity for large n, min() handles it.
  const base = Math.min(opts.maxMs, opts.initialMs * Math.pow(factor, n));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(base * (1 - jitter) + base * jitter * r);
}

/** Stateful helper around backoffDelay: next() grows, reset() after a success. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly opts: BackoffOptions,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay for the next retry; each call counts as one more attempt. */
  next(): number {
    return backoffDelay(this.attempt++, this.opts, this.random);
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
