// Client-side request limiter, venue-neutral: a venue's budgets (RateLimits in venue.ts) and one
// bounded FIFO queue per request class (e.g. 'orders', 'queries').
//
// A budget allows `limit` units in any sliding window of `windowMs`; each request costs the weight
// its class has in that budget (a class the budget does not list costs nothing there). A request
// starts once every budget that counts its class has room: so a venue counting "N per second"
// never sees N+1 in a second, Dzengi's 1200 weight per minute is never exceeded by orders and
// queries together, and a burst up to the limit still goes out at once.
//
// schedule(fn) calls fn synchronously when every budget has room and nothing that shares a budget
// with it is already waiting (no added latency, no overtaking), otherwise queues it in FIFO order,
// unless it is an order or a cancel the budgets could not start within maxQueueWaitMs behind the
// work already waiting: then it is refused at once with RateLimited naming its expected wait (a count-bounded queue would refuse
// a one-second burst at a high budget yet let an order wait 10 s at a low one). A full queue (a
// memory bound) also refuses at once. pause(ms) stops every class (used on a venue
// 429/418 with the venue's wait): nothing starts until it ends, since a request sent during the
// venue's pause is what turns a 429 into a 418 ban (hashkey.md, dzengi.md). Work that arrives
// during a pause queues and starts when it ends, unless it would wait longer than maxQueueWaitMs:
// then it is refused with RateLimited naming the venue's wait (an order minutes late is a stale
// order; the client had better decide). Urgent work (cancels) goes ahead of queued work of its
// class: it costs the same budget, so the venue sees no more requests, and pulling a resting order
// sooner only lowers the client's exposure.
//
// On a budget classes share (Apifiny's one budget, Dzengi's weight per minute), a class declared
// earlier (orders) is served first, and a later one (queries) takes a unit only beyond what the
// earlier one's waiting work needs there: an order's expected wait then counts only the work that
// really goes before it, and reads queued after it cannot push it back past that.
//
// The older per-class form, `{orders: {ratePerSecond, burst?, maxQueue}}`, is still accepted: each
// class becomes a budget of its own (`burst` units per `burst / ratePerSecond` seconds).

import type { RateBudget, RateLimits, RequestClass } from '../venue';
import { RateLimited } from '../venue';

export interface LimitClassOptions {
  /** Sustained requests per second. */
  ratePerSecond: number;
  /** Tokens available at once; default max(1, floor(ratePerSecond)). */
  burst?: number;
  /** Requests allowed to wait for a token (a memory bound); beyond that schedule() rejects with RateLimited. */
  maxQueue: number;
}

/**
 * Default longest wait in the queue, for the budgets or a venue-imposed pause (VenueMaxQueueWait). A FIX client typically gives
 * up on an order ack after a few seconds and may resend or cancel: longer than that, a queued order
 * is stale and an answer (rejected, retry after N s) serves it better. Short 429 waits (Zerocap's
 * and Apifiny's 1 s, Retry-After of a second or two) are waited out; HashKey's minute is not.
 */
export const DEFAULT_MAX_QUEUE_WAIT_MS = 5000;

/**
 * Default cap on requests waiting per class: a memory bound only. What decides whether a request
 * may queue is time: it is refused when the venue's budget could not start it within
 * maxQueueWaitMs, so at 10 orders/s about 50 wait; at the simulators' 200/s, a second's stall of
 * the process (GC, a slow disk) releasing 200 orders at once is absorbed instead of refused.
 */
export const DEFAULT_MAX_QUEUE = 1000;

/**
 * Classes refused when the budgets could not start them within maxQueueWaitMs: an order or a cancel
 * sent late is a stale one. A query answers whenever it runs, and the gateway's own reads (missing
 * fills, reconciliation, unknown outcomes) must run late rather than not at all: queries wait, bounded
 * by maxQueue only (a venue pause longer than maxQueueWaitMs still refuses them, as before).
 */
const STALE_WHEN_LATE: ReadonlySet<string> = new Set(['orders']);

export interface ScheduleOptions {
  /** Goes ahead of queued non-urgent work of its class (a cancel); still never during a pause. */
  urgent?: boolean;
}

export interface RateLimiterOptions {
  /**
   * Longest a request may wait in the queue, for the budgets or a venue-imposed pause (pause()); one
   * that would wait longer is refused with RateLimited. Default: the limits' maxQueueWaitMs, else
   * DEFAULT_MAX_QUEUE_WAIT_MS. 0 refuses everything during a pause.
   */
  maxQueueWaitMs?: number;
  /** Clock, ms. Default Date.now (jest modern fake timers fake it too). */
  now?: () => number;
  /** Request classes accepted with the budget form (default orders, queries, and every class a budget names). */
  classes?: readonly string[];
}

/** A budget of `perSecond` requests per second counting `classes` (weight 1 each). */
export function perSecondBudget(name: string, perSecond: number, classes: readonly RequestClass[]): RateBudget {
  const limit = Math.max(1, Math.floor(perSecond));
  return { name, limit, windowMs: (limit / perSecond) * 1000, weights: Object.fromEntries(classes.map((c) => [c, 1])) };
}

/** Two per-second budgets, `orders` and `queries`, each counting its own class (HashKey's shape). */
export function perSecondLimits(l: { ordersPerSecond: number; queriesPerSecond: number; maxQueue?: number }): RateLimits {
  return {
    budgets: [perSecondBudget('orders', l.ordersPerSecond, ['orders']), perSecondBudget('queries', l.queriesPerSecond, ['queries'])],
    maxQueue: l.maxQueue ?? DEFAULT_MAX_QUEUE,
  };
}

/** The problem with a budget list, or undefined. */
export function rateLimitsProblem(limits: RateLimits): string | undefined {
  if (!(Number.isInteger(limits.maxQueue) && limits.maxQueue >= 0)) return `maxQueue must be an integer >= 0, got ${limits.maxQueue}`;
  for (const b of limits.budgets) {
    if (!(b.limit > 0) || !Number.isFinite(b.limit)) return `budget ${b.name}: limit must be > 0, got ${b.limit}`;
    if (!(b.windowMs > 0) || !Number.isFinite(b.windowMs)) return `budget ${b.name}: windowMs must be > 0, got ${b.windowMs}`;
    for (const [cls, w] of Object.entries(b.weights)) {
      if (!(typeof w === 'number' && w >= 0 && w <= b.limit)) return `budget ${b.name}: weight of ${cls} must be 0..${b.limit}, got ${w}`;
    }
  }
  return undefined;
}

/**
 * The sessions.cfg overrides `VenueRateLimitOrders=N` / `VenueRateLimitQueries=N` applied to a
 * venue's budgets: each replaces the venue's budget named `orders` / `queries` (HashKey, Zerocap,
 * Coinut, Dzengi's orders/s) with N per second counting that class; where the venue has no budget
 * of that name (Dzengi queries, Apifiny) it adds one. Every other budget of the venue (Dzengi's
 * weight per minute, Apifiny's per-account budget) stays: an override never lifts a published limit
 * it does not name.
 */
export function applyRateLimitOverrides(limits: RateLimits, overrides: { ordersPerSecond?: number; queriesPerSecond?: number }): RateLimits {
  let budgets = [...limits.budgets];
  const put = (cls: RequestClass, perSecond: number | undefined) => {
    if (perSecond === undefined) return;
    const b = perSecondBudget(cls, perSecond, [cls]);
    const i = budgets.findIndex((x) => x.name === cls);
    if (i >= 0) budgets[i] = b;
    else budgets = [...budgets, b];
  };
  put('orders', overrides.ordersPerSecond);
  put('queries', overrides.queriesPerSecond);
  return { ...limits, budgets };
}

interface Waiter {
  /** Latest time the request may start and still meet maxQueueWaitMs. */
  deadline: number;
  urgent: boolean;
  fn: () => unknown;
  resolve: (value: any) => void;
  reject: (err: unknown) => void;
}

/** One budget's sliding window: the (time, weight) of every start still inside it, oldest first. */
class Window {
  private times: number[] = [];
  private weights: number[] = [];
  private head = 0;
  private used = 0;

  /** The classes this budget counts, with the weight of each. */
  readonly counted: { q: ClassQueue; weight: number }[] = [];

  constructor(readonly budget: RateBudget) {}

  private expire(now: number): void {
    const w = this.budget.windowMs;
    while (this.head < this.times.length && this.times[this.head] + w <= now) {
      this.used -= this.weights[this.head];
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.weights = this.weights.slice(this.head);
      this.head = 0;
    }
    if (this.head === this.times.length) this.used = 0; // no float drift once empty
  }

  /** ms until `weight` more units fit (0 = now). */
  waitMs(now: number, weight: number): number {
    this.expire(now);
    let over = this.used + weight - this.budget.limit;
    if (over <= 1e-9) return 0;
    for (let i = this.head; i < this.times.length; i++) {
      over -= this.weights[i];
      if (over <= 1e-9) return Math.max(0, this.times[i] + this.budget.windowMs - now);
    }
    return this.budget.windowMs; // more than the limit (work ahead reserved, see RateLimiter.startWaitMs): look again then
  }

  /**
   * ms from now until the last of `demand` (weights, in the order they would start) can start, none
   * before `from`, given the starts inside the window now: each starts once the oldest starts have
   * left the window far enough for it to fit, exactly as waitMs() lets them run one by one.
   */
  projectedStartMs(now: number, from: number, demand: readonly number[]): number {
    const sim = this.simulate(now);
    let t = Math.max(now, from);
    for (const w of demand) {
      t = sim.earliest(t, w);
      sim.take(t, w);
    }
    return t - now;
  }

  /** A copy of the starts inside the window now, to project further starts on (see SimulatedWindow). */
  simulate(now: number): SimulatedWindow {
    this.expire(now);
    return new SimulatedWindow(this.budget, this.times.slice(this.head), this.weights.slice(this.head), this.used);
  }

  take(now: number, weight: number): void {
    if (weight <= 0) return;
    this.times.push(now);
    this.weights.push(weight);
    this.used += weight;
  }
}

/** A window's starts, copied, with projected starts added in time order (RateLimiter.expectedStart). */
class SimulatedWindow {
  private old = 0;

  constructor(
    private readonly budget: RateBudget,
    private readonly times: number[],
    private readonly weights: number[],
    private used: number,
  ) {}

  /** The earliest time, not before t, at which `weight` more fits. */
  earliest(t: number, weight: number): number {
    if (weight <= 0) return t;
    const { limit, windowMs } = this.budget;
    while (this.old < this.times.length && this.times[this.old] + windowMs <= t) this.used -= this.weights[this.old++];
    while (this.used + weight - limit > 1e-9 && this.old < this.times.length) {
      t = Math.max(t, this.times[this.old] + windowMs);
      this.used -= this.weights[this.old++];
    }
    return t;
  }

  take(t: number, weight: number): void {
    if (weight <= 0) return;
    this.times.push(t);
    this.weights.push(weight);
    this.used += weight;
  }
}

class ClassQueue {
  private queue: Waiter[] = [];
  private head = 0;
  /** Urgent waiters (cancels), FIFO among themselves, served before `queue`. */
  private urgent: Waiter[] = [];
  /** The windows this class counts against, with its weight in each. */
  readonly costs: { window: Window; weight: number }[] = [];
  /** Classes sharing a budget with this one (itself included). */
  readonly sharing = new Set<ClassQueue>();

  constructor(
    readonly name: string,
    readonly maxQueue: number,
    /** Position in the drain order: a class served before another on a budget they share has a lower rank. */
    readonly rank: number,
  ) {}

  get length(): number {
    return this.queue.length - this.head + this.urgent.length;
  }

  get urgentLength(): number {
    return this.urgent.length;
  }

  take(now: number): void {
    for (const c of this.costs) c.window.take(now, c.weight);
  }

  push(w: Waiter): void {
    if (w.urgent) this.urgent.push(w);
    else this.queue.push(w);
  }

  shift(): Waiter | undefined {
    if (this.urgent.length > 0) return this.urgent.shift();
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
    const rest = [...this.urgent, ...this.queue.slice(this.head)];
    this.urgent = [];
    this.queue = [];
    this.head = 0;
    return rest;
  }

  /** Removes and returns the waiters whose deadline is before `t`, keeping the others in order. */
  takeExpiring(t: number): Waiter[] {
    const all = this.drainAll();
    const out: Waiter[] = [];
    for (const w of all) {
      if (w.deadline < t) out.push(w);
      else this.push(w);
    }
    return out;
  }
}

function isRateLimits(x: unknown): x is RateLimits {
  return typeof x === 'object' && x !== null && Array.isArray((x as RateLimits).budgets);
}

export class RateLimiter<C extends string = string> {
  private readonly classes = new Map<string, ClassQueue>();
  private pausedUntil = 0;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly maxQueueWaitMs: number;
  private readonly now: () => number;

  constructor(limits: RateLimits | Record<C, LimitClassOptions>, opts: RateLimiterOptions = {}) {
    this.maxQueueWaitMs = opts.maxQueueWaitMs ?? (isRateLimits(limits) ? limits.maxQueueWaitMs : undefined) ?? DEFAULT_MAX_QUEUE_WAIT_MS;
    if (!(this.maxQueueWaitMs >= 0 && Number.isFinite(this.maxQueueWaitMs))) throw new Error(`rate limiter: maxQueueWaitMs must be >= 0, got ${this.maxQueueWaitMs}`);
    this.now = opts.now ?? Date.now;
    let budgets: RateBudget[];
    const maxQueues = new Map<string, number>();
    let names: string[];
    if (isRateLimits(limits)) {
      const problem = rateLimitsProblem(limits);
      if (problem) throw new Error(`rate limiter: ${problem}`);
      budgets = [...limits.budgets];
      names = [...new Set([...(opts.classes ?? ['orders', 'queries']), ...budgets.flatMap((b) => Object.keys(b.weights))])];
      for (const n of names) maxQueues.set(n, limits.maxQueue);
    } else {
      budgets = [];
      names = Object.keys(limits);
      for (const name of names) {
        const o = (limits as Record<string, LimitClassOptions>)[name];
        if (!(o.ratePerSecond > 0)) throw new Error(`rate limiter ${name}: ratePerSecond must be > 0`);
        const burst = Math.max(1, Math.floor(o.burst ?? o.ratePerSecond));
        budgets.push({ name, limit: burst, windowMs: (burst / o.ratePerSecond) * 1000, weights: { [name]: 1 } });
        maxQueues.set(name, o.maxQueue);
      }
    }
    names.forEach((n, rank) => this.classes.set(n, new ClassQueue(n, maxQueues.get(n)!, rank)));
    for (const b of budgets) {
      const win = new Window(b);
      const counted: ClassQueue[] = [];
      for (const [cls, weight] of Object.entries(b.weights)) {
        const q = this.classes.get(cls)!;
        if (weight && weight > 0) {
          q.costs.push({ window: win, weight });
          win.counted.push({ q, weight });
          counted.push(q);
        }
      }
      for (const a of counted) for (const c of counted) a.sharing.add(c);
    }
    for (const q of this.classes.values()) q.sharing.add(q);
    if (isRateLimits(limits)) limits.watch?.({ queued: (cls) => this.queuedOf(cls) });
  }

  /**
   * Runs fn when `cls` may start (synchronously if it may now) and settles with its result. During
   * a venue-imposed pause it waits for the pause to end, or is refused if that is longer than
   * maxQueueWaitMs; a full queue refuses at once.
   */
  schedule<T>(cls: C, fn: () => T | Promise<T>, opts: ScheduleOptions = {}): Promise<T> {
    const c = this.cls(cls);
    if (this.closed) return Promise.reject(new RateLimited(`rate limiter closed (${cls})`, 0));
    const now = this.now();
    const pausedMs = this.pausedUntil - now;
    if (pausedMs <= 0 && !this.waiting(c) && this.startWaitMs(c, now) === 0) {
      c.take(now);
      return invoke(fn);
    }
    if (pausedMs > this.maxQueueWaitMs) return Promise.reject(this.pauseRefusal(cls, pausedMs));
    const maxQueue = c.maxQueue;
    if (c.length >= maxQueue) {
      const retryAfterMs = Math.ceil(Math.max(pausedMs, 0) + Math.max(this.startWaitMs(c, now), 1));
      return Promise.reject(
        new RateLimited(
          `rate limit queue full (${cls}: ${c.length} waiting, max ${maxQueue}); not sent, retry after ${seconds(retryAfterMs)} s`,
          retryAfterMs,
        ),
      );
    }
    const expected = STALE_WHEN_LATE.has(cls) ? this.expectedStart(c, now, opts.urgent === true) : { ms: 0, ahead: 0 };
    if (expected.ms > this.maxQueueWaitMs && expected.budget) {
      const b = expected.budget;
      const retryAfterMs = Math.max(1, expected.ms - this.maxQueueWaitMs);
      return Promise.reject(
        new RateLimited(
          `rate limit: ${cls} would start in ${seconds(expected.ms)} s (${expected.ahead} waiting for the venue's budget ${b.name}: ${b.limit} per ${b.windowMs / 1000} s), longer than the ${this.maxQueueWaitMs / 1000} s a request may wait; not sent, retry after ${seconds(retryAfterMs)} s`,
          Math.ceil(retryAfterMs / 1000) * 1000,
        ),
      );
    }
    return new Promise<T>((resolve, reject) => {
      c.push({ deadline: now + this.maxQueueWaitMs, urgent: opts.urgent === true, fn, resolve, reject });
      this.arm(now);
    });
  }

  /**
   * Stops every class for `ms` (extends, never shortens, a pause already running): nothing starts
   * before it ends. Queued work that would now wait past its maxQueueWaitMs is refused.
   */
  pause(ms: number): void {
    const now = this.now();
    this.pausedUntil = Math.max(this.pausedUntil, now + ms);
    const left = this.pausedUntil - now;
    for (const c of this.classes.values()) {
      for (const w of c.takeExpiring(this.pausedUntil)) w.reject(this.pauseRefusal(c.name, left));
    }
    this.arm(now);
  }

  /** Ends a pause early (an operator's decision, or a test). */
  resume(): void {
    this.pausedUntil = 0;
    this.arm(this.now());
  }

  /** ms left in the current pause, 0 when not paused. */
  pausedForMs(): number {
    return Math.max(0, this.pausedUntil - this.now());
  }

  queued(cls: C): number {
    return this.cls(cls).length;
  }

  /** Like queued(), 0 for a class this limiter does not have (for onlookers: RateLimits.watch). */
  queuedOf(cls: string): number {
    return this.classes.get(cls)?.length ?? 0;
  }

  /** Clears timers and fails whatever is queued. Further schedule() calls reject. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const c of this.classes.values()) {
      for (const w of c.drainAll()) w.reject(new RateLimited(`rate limiter closed (${c.name})`, 0));
    }
  }

  private pauseRefusal(cls: string, leftMs: number): RateLimited {
    const left = Math.ceil(leftMs);
    return new RateLimited(
      `venue rate limited us and asked to pause ${seconds(left)} s, longer than the ${this.maxQueueWaitMs / 1000} s a request may wait; not sent, retry after ${seconds(left)} s (${cls})`,
      left,
    );
  }

  private cls(name: string): ClassQueue {
    const c = this.classes.get(name);
    if (!c) throw new Error(`rate limiter: unknown class ${name}`);
    return c;
  }

  /**
   * When a request of class `c` queued now would start: after any pause, then behind the work
   * waiting on each budget it counts against that drain() serves before it (its own class, and
   * classes ranked before it; for urgent work, only the urgent work of its class and those
   * classes), the worst budget deciding. Work of a class ranked after it never takes a unit it
   * needs (startWaitMs), so it is not counted. O(waiting), and only on the queueing path.
   */
  private expectedStart(c: ClassQueue, now: number, urgent: boolean): { ms: number; ahead: number; budget?: RateBudget } {
    const pausedMs = Math.max(0, this.pausedUntil - now);
    let worst: { ms: number; ahead: number; budget?: RateBudget } = { ms: pausedMs, ahead: 0 };
    for (const { window, weight } of c.costs) {
      const demand: number[] = [];
      let ahead = 0;
      for (const { q, weight: wq } of window.counted) {
        if (q.rank > c.rank) continue;
        const n = q === c && urgent ? q.urgentLength : q.length;
        ahead += n;
        for (let i = 0; i < n; i++) demand.push(wq);
      }
      demand.push(weight);
      const ms = window.projectedStartMs(now, now + pausedMs, demand);
      if (ms > worst.ms || (ms === worst.ms && !worst.budget)) worst = { ms, ahead, budget: window.budget };
    }
    // Each budget alone under-estimates when there are two: a weight window that frees 30 units at
    // once still lets only 5 orders a second start. The work of its own class, started through
    // every budget it counts against together, decides the time; the worst budget alone names it.
    if (c.costs.length > 1) worst = { ...worst, ms: Math.max(worst.ms, this.jointStartMs(c, now, now + pausedMs, urgent)) };
    return worst;
  }

  /** ms until a request of `c` queued now starts, its own class's waiting work (urgent: the urgent only) going first, all its budgets together. */
  private jointStartMs(c: ClassQueue, now: number, from: number, urgent: boolean): number {
    const sims = c.costs.map(({ window, weight }) => ({ sim: window.simulate(now), weight }));
    const n = (urgent ? c.urgentLength : c.length) + 1;
    let t = Math.max(now, from);
    for (let i = 0; i < n; i++) {
      for (let moved = true; moved; ) {
        moved = false;
        for (const { sim, weight } of sims) {
          const at = sim.earliest(t, weight);
          if (at > t) {
            t = at;
            moved = true;
          }
        }
      }
      for (const { sim, weight } of sims) sim.take(t, weight);
    }
    return t - now;
  }

  /**
   * ms until the head of `c` may start: every budget it counts against has room for it on top of
   * what the waiting work of classes ranked before it needs there. Without that reserve, reads
   * queued after an order took a shared budget's units (Dzengi's weight per minute) while the order
   * waited for its own budget (orders per second), and it started a minute later, not seconds.
   */
  private startWaitMs(c: ClassQueue, now: number): number {
    let wait = 0;
    for (const { window, weight } of c.costs) {
      let reserved = 0;
      for (const { q, weight: wq } of window.counted) if (q.rank < c.rank) reserved += q.length * wq;
      wait = Math.max(wait, window.waitMs(now, weight + reserved));
    }
    return wait;
  }

  /** True when something sharing a budget with `c` is already waiting (a new request must not overtake it). */
  private waiting(c: ClassQueue): boolean {
    for (const s of c.sharing) if (s.length > 0) return true;
    return false;
  }

  /** (Re)sets the one timer for when the earliest head of queue can run. */
  private arm(now: number): void {
    let delay = Infinity;
    for (const c of this.classes.values()) if (c.length > 0) delay = Math.min(delay, this.startWaitMs(c, now));
    if (delay === Infinity) return;
    delay = Math.max(delay, this.pausedUntil - now, 0);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain();
    }, Math.ceil(delay));
  }

  private drain(): void {
    const now = this.now();
    if (this.pausedUntil > now) {
      this.arm(now);
      return;
    }
    // Classes in their declared order (orders first where a venue lists them first); each class
    // FIFO; a head that must wait leaves the rest of its class waiting too.
    let progressed = true;
    while (progressed) {
      progressed = false;
      for (const c of this.classes.values()) {
        if (c.length > 0 && this.startWaitMs(c, now) === 0) {
          const w = c.shift()!;
          c.take(now);
          invoke(w.fn).then(w.resolve, w.reject);
          progressed = true;
        }
      }
    }
    this.arm(now);
  }
}

/** ms as whole seconds, rounded up (a retry sooner would hit the pause). */
function seconds(ms: number): number {
  return Math.ceil(ms / 1000);
}

function invoke<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err);
  }
}
