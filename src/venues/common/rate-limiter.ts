// Client-side request limiter, venue-neutral: one token bucket and one bounded FIFO queue per
// request class (e.g. 'orders', 'queries').
//
// Each class holds `burst` tokens. Starting a request takes a token; the token comes back
// `burst / ratePerSecond` seconds after it was taken. That is a token bucket whose refill is tied
// to each use (a sliding window): no window of that length ever sees more than `burst` starts,
// so a venue counting "N per second" never sees N+1, while a burst of N still goes out at once.
//
// schedule(fn) calls fn synchronously when a token is free (no added latency), otherwise queues
// it in FIFO order; a full queue refuses at once with RateLimited. pause(ms) stops every class
// (used on a venue 429/418 with the venue's wait).

import { RateLimited } from '../venue';

export interface LimitClassOptions {
  /** Sustained requests per second. */
  ratePerSecond: number;
  /** Tokens available at once; default max(1, floor(ratePerSecond)). */
  burst?: number;
  /** Requests allowed to wait for a token; beyond that schedule() rejects with RateLimited. */
  maxQueue: number;
}

export interface RateLimiterOptions {
  /**
   * While paused, refuse new work and fail what is queued with RateLimited (default true): for
   * orders, an answer now beats a stale order a minute later. False: hold the queue until the
   * pause ends.
   */
  rejectWhilePaused?: boolean;
  /** Clock, ms. Default Date.now (jest modern fake timers fake it too). */
  now?: () => number;
}

interface Waiter {
  fn: () => unknown;
  resolve: (value: any) => void;
  reject: (err: unknown) => void;
}

class LimitClass {
  readonly capacity: number;
  readonly windowMs: number;
  /** Time each token was last taken, a ring in time order; slot `next` is the oldest. */
  private readonly takenAt: Float64Array;
  private next = 0;
  private queue: Waiter[] = [];
  private head = 0;
  timer: NodeJS.Timeout | undefined;

  constructor(
    readonly name: string,
    readonly opts: LimitClassOptions,
  ) {
    if (!(opts.ratePerSecond > 0)) throw new Error(`rate limiter ${name}: ratePerSecond must be > 0`);
    this.capacity = Math.max(1, Math.floor(opts.burst ?? opts.ratePerSecond));
    this.windowMs = (this.capacity / opts.ratePerSecond) * 1000;
    this.takenAt = new Float64Array(this.capacity).fill(-Infinity);
  }

  /** ms until a token is free (0 = now). */
  waitMs(now: number): number {
    return Math.max(0, this.takenAt[this.next] + this.windowMs - now);
  }

  take(now: number): void {
    this.takenAt[this.next] = now;
    this.next = (this.next + 1) % this.capacity;
  }

  get length(): number {
    return this.queue.length - this.head;
  }

  push(w: Waiter): void {
    this.queue.push(w);
  }

  shift(): Waiter | undefined {
    if (this.head >= this.queue.length) return undefined;
    const w = this.queue[this.head];
    this.queue[this.head++] = undefined as unknown as Waiter;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return w;
  }

  drainAll(): Waiter[] {
    const rest = this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    return rest;
  }
}

export class RateLimiter<C extends string = string> {
  private readonly classes = new Map<C, LimitClass>();
  private pausedUntil = 0;
  private closed = false;
  private readonly rejectWhilePaused: boolean;
  private readonly now: () => number;

  constructor(classes: Record<C, LimitClassOptions>, opts: RateLimiterOptions = {}) {
    for (const name of Object.keys(classes) as C[]) this.classes.set(name, new LimitClass(name, classes[name]));
    this.rejectWhilePaused = opts.rejectWhilePaused ?? true;
    this.now = opts.now ?? Date.now;
  }

  /** Runs fn when `cls` has a token (synchronously if one is free now) and settles with its result. */
  schedule<T>(cls: C, fn: () => T | Promise<T>): Promise<T> {
    const c = this.cls(cls);
    if (this.closed) return Promise.reject(new RateLimited(`rate limiter closed (${cls})`, 0));
    const now = this.now();
    const pausedMs = this.pausedUntil - now;
    if (pausedMs > 0 && this.rejectWhilePaused) {
      return Promise.reject(
        new RateLimited(`rate limit pause: venue asked to wait, ${Math.ceil(pausedMs)} ms left (${cls})`, Math.ceil(pausedMs)),
      );
    }
    if (pausedMs <= 0 && c.length === 0 && c.waitMs(now) === 0) {
      c.take(now);
      return invoke(fn);
    }
    if (c.length >= c.opts.maxQueue) {
      const retryAfterMs = Math.ceil(Math.max(pausedMs, 0) + (c.length / c.opts.ratePerSecond) * 1000);
      return Promise.reject(
        new RateLimited(`rate limit queue full (${cls}: ${c.length} waiting, max ${c.opts.maxQueue})`, retryAfterMs),
      );
    }
    return new Promise<T>((resolve, reject) => {
      c.push({ fn, resolve, reject });
      this.arm(c, now);
    });
  }

  /** Stops every class for `ms` (extends, never shortens, a pause already running). */
  pause(ms: number): void {
    const now = this.now();
    this.pausedUntil = Math.max(this.pausedUntil, now + ms);
    if (this.rejectWhilePaused) {
      for (const c of this.classes.values()) {
        if (c.timer) clearTimeout(c.timer);
        c.timer = undefined;
        const left = Math.ceil(this.pausedUntil - now);
        for (const w of c.drainAll()) {
          w.reject(new RateLimited(`rate limit pause: venue asked to wait, ${left} ms left (${c.name})`, left));
        }
      }
    } else {
      for (const c of this.classes.values()) this.arm(c, now);
    }
  }

  /** Ends a pause early (an operator's decision, or a test). */
  resume(): void {
    this.pausedUntil = 0;
    const now = this.now();
    for (const c of this.classes.values()) this.arm(c, now);
  }

  /** ms left in the current pause, 0 when not paused. */
  pausedForMs(): number {
    return Math.max(0, this.pausedUntil - this.now());
  }

  queued(cls: C): number {
    return this.cls(cls).length;
  }

  /** Clears timers and fails whatever is queued. Further schedule() calls reject. */
  close(): void {
    this.closed = true;
    for (const c of this.classes.values()) {
      if (c.timer) clearTimeout(c.timer);
      c.timer = undefined;
      for (const w of c.drainAll()) w.reject(new RateLimited(`rate limiter closed (${c.name})`, 0));
    }
  }

  private cls(name: C): LimitClass {
    const c = this.classes.get(name);
    if (!c) throw new Error(`rate limiter: unknown class ${name}`);
    return c;
  }

  /** (Re)sets the class timer for when its head of queue can run. */
  private arm(c: LimitClass, now: number): void {
    if (c.length === 0) return;
    const delay = Math.max(c.waitMs(now), this.pausedUntil - now, 0);
    if (c.timer) clearTimeout(c.timer);
    c.timer = setTimeout(() => {
      c.timer = undefined;
      this.drain(c);
    }, Math.ceil(delay));
  }

  private drain(c: LimitClass): void {
    const now = this.now();
    if (this.pausedUntil > now) {
      this.arm(c, now);
      return;
    }
    while (c.length > 0 && c.waitMs(now) === 0) {
      const w = c.shift()!;
      c.take(now);
      invoke(w.fn).then(w.resolve, w.reject);
    }
    this.arm(c, now);
  }
}

function invoke<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err);
  }
}
