// Request nonces for one Coinut connection. Pure: no clock, no I/O.
//
// Every request carries an integer nonce in [1, 16777215] that the reply echoes, so a nonce must
// never be reused while a reply to it may still come. The allocator counts up from a start value,
// wraps from the top of the range to the bottom, and skips every value still in flight. A value is
// in flight from take() until release(); a request that timed out stays in flight (its late reply
// could still arrive) until the connection it was sent on is gone, when releaseAll() frees every
// value at once (replies never cross connections).
//
// Counting up, not random (Coinut's own libraries pick random values), because the REST section
// asks for a monotonically increasing nonce against replay; whether the server enforces that is
// unconfirmed, and a counter satisfies both readings until it wraps.

import { COINUT_NONCE_MAX, COINUT_NONCE_MIN } from './coinut-constants';

export interface NonceAllocatorOptions {
  /** First value handed out (clamped into the range). Default: the range's minimum. */
  start?: number;
  min?: number;
  max?: number;
}

export class NonceExhausted extends Error {
  override readonly name = 'NonceExhausted';
}

export class CoinutNonceAllocator {
  readonly min: number;
  readonly max: number;
  private next: number;
  private readonly inFlight = new Set<number>();

  constructor(opts: NonceAllocatorOptions = {}) {
    this.min = opts.min ?? COINUT_NONCE_MIN;
    this.max = opts.max ?? COINUT_NONCE_MAX;
    if (!(Number.isInteger(this.min) && Number.isInteger(this.max) && this.min >= 1 && this.max >= this.min)) {
      throw new Error(`nonce range must be integers 1 <= min <= max, got ${this.min}..${this.max}`);
    }
    const start = opts.start ?? this.min;
    this.next = Number.isInteger(start) && start >= this.min && start <= this.max ? start : this.min;
  }

  /** The next free value; throws NonceExhausted when every value of the range is in flight. */
  take(): number {
    const size = this.max - this.min + 1;
    if (this.inFlight.size >= size) throw new NonceExhausted(`all ${size} nonces are awaiting replies`);
    let n = this.next;
    while (this.inFlight.has(n)) n = n === this.max ? this.min : n + 1;
    this.inFlight.add(n);
    this.next = n === this.max ? this.min : n + 1;
    return n;
  }

  /** The reply to `n` has arrived (or can no longer arrive): `n` may be handed out again. */
  release(n: number): void {
    this.inFlight.delete(n);
  }

  /** The connection is gone: no reply to any outstanding nonce can arrive any more. */
  releaseAll(): void {
    this.inFlight.clear();
  }

  isInFlight(n: number): boolean {
    return this.inFlight.has(n);
  }

  get outstanding(): number {
    return this.inFlight.size;
  }
}
