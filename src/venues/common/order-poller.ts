// A venue-neutral poller for venues without an own-order stream (capabilities.orderUpdates
// 'polled'): it turns open-order lists and single-order queries into the same OrderEvents a
// stream would, as `snapshot` events (the venue's whole view of the order, fills listed one per
// venue trade at its own price, applied idempotently by the gateway).
//
// - Which orders: only the ones it is told are ours (track(), fed by the adapter's trackOrders,
//   which the gateway calls at start-up with its open orders and whenever it learns an order's
//   venue id). An order stops being followed once the venue reports it terminal.
// - When: while any order is followed, a pass at least every `intervalMs` (≤ 2 s); no order, no
//   polling. Passes never overlap: the next is scheduled when one ends.
// - A pass: per symbol with followed orders, the open orders of that symbol; an order whose
//   status or executed quantity changed (or that left the list) is queried on its own (getOrder
//   lists its fills) and emitted as a snapshot. Unchanged orders cost nothing more.
// - Budget: every call is charged the weight the venue gives it (weightOf) against the venue's
//   published weight per minute (a sliding minute); a pass stops where the budget ends and the
//   rest waits for the next, which starts with the symbol this one could not reach (so with more
//   symbols than one pass can afford, every symbol is still polled in turn). A RateLimited answer pauses polling for the time the venue asks.
// - State: 'connected' once a pass reached the venue, 'disconnected' when a call fails on the
//   network / 5xx (retried with back-off); the next successful pass reports 'connected' again,
//   which makes the gateway reconcile. RateLimited and a refused query change nothing.
import Decimal from 'decimal.js';
import { AuthenticationFailed, OrderEvent, OrderNotFound, OrderRef, OrderRejected, RateLimited, StreamState, TERMINAL_STATUSES, VenueOrder } from '../venue';
import { BackoffOptions, backoffDelay } from './backoff';

/** What the poller needs from a venue. */
export interface PolledVenue {
  /** Open orders of one symbol. */
  openOrders(symbol: string): Promise<VenueOrder[]>;
  /** One order (by venue order id and symbol), with its fills. */
  getOrder(ref: OrderRef): Promise<VenueOrder>;
  /** The request weight of a call, as the venue publishes it. */
  weightOf(call: 'openOrders' | 'getOrder'): number;
}

export interface OrderPollerOptions {
  /** Time between passes while an order is followed; at most 2000 (default 1000). */
  intervalMs?: number;
  /** The venue's published request weight per minute this poller may use (a function when it is learnt at start). */
  weightPerMinute: number | (() => number);
  /** Back-off after a failed pass (network, 5xx). */
  backoff?: BackoffOptions;
  now?: () => number;
  log?: (obj: object, msg: string) => void;
}

interface Followed {
  ref: OrderRef & { venueOrderId: string };
  /** What was last emitted: status and executed quantity. */
  last?: { status: string; filledQty: string };
}

const MAX_INTERVAL_MS = 2_000;
const WINDOW_MS = 60_000;

export class OrderPoller {
  private readonly followed = new Map<string, Followed>();
  private readonly eventListeners: ((e: OrderEvent) => void)[] = [];
  private readonly stateListeners: ((s: StreamState) => void)[] = [];
  private readonly intervalMs: number;
  private readonly backoff: BackoffOptions;
  private readonly now: () => number;
  /** Weights charged in the last minute: [time, weight]. */
  private spent: [number, number][] = [];
  private state: StreamState | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private failures = 0;
  private pausedUntil = 0;
  private started = false;
  /** The symbol a pass stopped at for lack of budget: the next pass starts with it. */
  private resumeSymbol: string | undefined;

  constructor(
    private readonly venue: PolledVenue,
    private readonly opts: OrderPollerOptions,
  ) {
    this.intervalMs = Math.min(MAX_INTERVAL_MS, opts.intervalMs ?? 1_000);
    this.backoff = opts.backoff ?? { initialMs: 500, maxMs: 10_000, jitter: 0.2 };
    this.now = opts.now ?? Date.now;
  }

  onEvent(listener: (e: OrderEvent) => void): void {
    this.eventListeners.push(listener);
  }

  onState(listener: (s: StreamState) => void): void {
    this.stateListeners.push(listener);
  }

  /** Starts polling (reports 'connected' now: the caller has just reached the venue). */
  start(): void {
    this.started = true;
    this.setState('connected');
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    if (this.state === 'connected') this.setState('disconnected');
  }

  /** These orders are ours: follow them (refs without a venue order id cannot be polled and are ignored). */
  track(refs: OrderRef[]): void {
    for (const r of refs) {
      if (!r.venueOrderId || this.followed.has(r.venueOrderId)) continue;
      this.followed.set(r.venueOrderId, { ref: { ...r, venueOrderId: r.venueOrderId } });
    }
    if (this.followed.size > 0 && this.started && !this.timer && !this.running) this.schedule(0);
  }

  /** Venue order ids followed now (tests, diagnostics). */
  get following(): string[] {
    return [...this.followed.keys()];
  }

  /** Weight charged in the last minute. */
  get weightUsed(): number {
    this.prune();
    return this.spent.reduce((s, [, w]) => s + w, 0);
  }

  /** One pass now (tests); resolves when it is done. Never overlaps a running pass. */
  pollOnce(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  // ------------------------------------------------------------------------------------ loop

  private schedule(ms: number): void {
    if (!this.started || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.pollOnce().then(() => {
        if (this.followed.size === 0) return; // idle until track()
        const wait = Math.max(this.nextDelay(), this.pausedUntil - this.now());
        this.schedule(wait);
      });
    }, ms);
    this.timer.unref?.();
  }

  private nextDelay(): number {
    return this.failures > 0 ? Math.max(this.intervalMs, backoffDelay(this.failures - 1, this.backoff)) : this.intervalMs;
  }

  private async pass(): Promise<void> {
    if (this.followed.size === 0 || this.now() < this.pausedUntil) return;
    try {
      const bySymbol = new Map<string, Followed[]>();
      for (const f of this.followed.values()) {
        const list = bySymbol.get(f.ref.symbol) ?? [];
        list.push(f);
        bySymbol.set(f.ref.symbol, list);
      }
      const symbols = [...bySymbol.keys()];
      const first = this.resumeSymbol === undefined ? 0 : Math.max(0, symbols.indexOf(this.resumeSymbol));
      for (const symbol of [...symbols.slice(first), ...symbols.slice(0, first)]) {
        const orders = bySymbol.get(symbol)!;
        this.resumeSymbol = symbol;
        if (!this.charge('openOrders')) return;
        const open = new Map((await this.venue.openOrders(symbol)).map((o) => [o.venueOrderId, o]));
        for (const f of orders) {
          const listed = open.get(f.ref.venueOrderId);
          if (listed && f.last && listed.status === f.last.status && sameQty(listed.filledQty, f.last.filledQty)) continue;
          if (!this.charge('getOrder')) return;
          await this.query(f);
        }
      }
      this.resumeSymbol = undefined;
      this.failures = 0;
      this.setState('connected');
    } catch (err) {
      if (err instanceof RateLimited) {
        this.pausedUntil = this.now() + err.retryAfterMs;
        this.opts.log?.({ retryAfterMs: err.retryAfterMs }, 'order poller rate limited: pausing');
        return;
      }
      this.failures += 1;
      this.opts.log?.({ err: (err as Error).message, failures: this.failures }, 'order poller cannot reach the venue');
      this.setState('disconnected');
    }
  }

  private async query(f: Followed): Promise<void> {
    let order: VenueOrder;
    try {
      order = await this.venue.getOrder(f.ref);
    } catch (err) {
      // The venue refused the query (not a connectivity problem): leave the order for the next pass.
      if (err instanceof OrderNotFound || err instanceof OrderRejected || err instanceof AuthenticationFailed) {
        this.opts.log?.({ venueOrderId: f.ref.venueOrderId, err: (err as Error).message }, 'order poller query refused');
        return;
      }
      throw err;
    }
    f.last = { status: order.status, filledQty: order.filledQty };
    if (TERMINAL_STATUSES.has(order.status)) this.followed.delete(f.ref.venueOrderId);
    const event: OrderEvent = {
      kind: 'snapshot',
      order,
      clientOrderId: order.clientOrderId || f.ref.clientOrderId || '',
      venueOrderId: order.venueOrderId,
      rawStatus: order.rawStatus,
      time: order.updateTime,
      cumQty: order.filledQty,
      source: 'rest',
    };
    for (const l of this.eventListeners) {
      try {
        l(event);
      } catch (err) {
        this.opts.log?.({ err: (err as Error).message }, 'order poller listener threw');
      }
    }
  }

  /** Charges a call's weight if the minute's budget has room; false leaves the call for later. */
  private charge(call: 'openOrders' | 'getOrder'): boolean {
    const w = this.venue.weightOf(call);
    const budget = typeof this.opts.weightPerMinute === 'function' ? this.opts.weightPerMinute() : this.opts.weightPerMinute;
    if (this.weightUsed + w > budget) return false;
    this.spent.push([this.now(), w]);
    return true;
  }

  private prune(): void {
    const from = this.now() - WINDOW_MS;
    while (this.spent.length > 0 && this.spent[0][0] <= from) this.spent.shift();
  }

  private setState(s: StreamState): void {
    if (this.state === s) return;
    this.state = s;
    for (const l of this.stateListeners) {
      try {
        l(s);
      } catch (err) {
        this.opts.log?.({ err: (err as Error).message }, 'order poller state listener threw');
      }
    }
  }
}

function sameQty(a: string, b: string): boolean {
  try {
    return new Decimal(a).abs().eq(new Decimal(b).abs());
  } catch {
    return false;
  }
}
