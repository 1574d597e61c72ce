// Watches one gateway session's venue at the gateway/adapter boundary: the adapter is wrapped
// (every call timed, failures counted by error class, stream state followed), its rate limiters
// report their queues through RateLimits.watch, and the gateway says when it reconciled. Nothing
// in the venue folders changes, and the gateway sees the same VenueAdapter contract.
import type { GatewayObserver } from '../gateway/gateway-observer';
import {
  AuthenticationFailed,
  CancelResult,
  DuplicateOrder,
  Instrument,
  OrderEvent,
  OrderNotFound,
  OrderRef,
  OrderRejected,
  OutcomeUnknown,
  PlaceOrderRequest,
  RateLimited,
  RateLimitQueue,
  RateLimits,
  StreamState,
  VenueAdapter,
  VenueCapabilities,
  VenueError,
  VenueOrder,
} from '../venues/venue';
import { CounterCell, HistogramCell } from './hot-metrics';
import type { GatewayMetrics } from './metrics';

/** Most specific first: the label is the first class the error is an instance of. */
const ERROR_CLASSES: ReadonlyArray<[new (...args: never[]) => Error, string]> = [
  [DuplicateOrder, 'DuplicateOrder'],
  [OrderRejected, 'OrderRejected'],
  [OrderNotFound, 'OrderNotFound'],
  [RateLimited, 'RateLimited'],
  [AuthenticationFailed, 'AuthenticationFailed'],
  [OutcomeUnknown, 'OutcomeUnknown'],
  [VenueError, 'VenueError'],
];

/** The error-hierarchy class an adapter failure belongs to (`Error` when it is not a VenueError). */
export function venueErrorClass(err: unknown): string {
  for (const [cls, name] of ERROR_CLASSES) if (err instanceof cls) return name;
  return 'Error';
}

export type VenueOperation = 'start' | 'instruments' | 'place_order' | 'cancel_order' | 'get_order' | 'open_orders' | 'recent_orders';

/** One operation's latency cell and (lazily) its error cells. */
class OperationCells {
  readonly latency: HistogramCell;
  private readonly errors = new Map<string, CounterCell>();

  constructor(
    private readonly m: GatewayMetrics,
    private readonly venue: string,
    private readonly operation: VenueOperation,
  ) {
    this.latency = m.venueRequestDuration.cell({ venue, operation });
  }

  failed(err: unknown): void {
    const cls = venueErrorClass(err);
    let c = this.errors.get(cls);
    if (!c) this.errors.set(cls, (c = this.m.venueErrors.cell({ venue: this.venue, operation: this.operation, class: cls })));
    c.n++;
  }
}

export interface VenueStatus {
  session: string;
  venue: string;
  environment: string;
  /** start() has succeeded (and stop() not been called). */
  started: boolean;
  /** undefined until the adapter reports a state. */
  stream?: StreamState;
  /** ms since epoch of the last stream state change. */
  streamSince?: number;
  /** ms since epoch of the last finished reconciliation. */
  lastReconciliationAt?: number;
  queued: { orders: number; queries: number };
  /** Why start() last failed, while not started. */
  lastError?: string;
  ready: boolean;
}

export class VenueMonitor {
  private started = false;
  private stream?: StreamState;
  private streamSince?: number;
  private connects = 0;
  private lastReconciliationAt?: number;
  private lastError?: string;
  private readonly queues: RateLimitQueue[] = [];
  private readonly reconnects: CounterCell;
  private readonly reconciliations: CounterCell;
  private readonly resolvedFound: CounterCell;
  private readonly resolvedAbsent: CounterCell;
  private readonly ops = new Map<VenueOperation, OperationCells>();

  constructor(
    private readonly m: GatewayMetrics,
    readonly session: string,
    readonly venue: string,
    readonly environment: string,
  ) {
    this.reconnects = m.streamReconnects.cell({ session, venue });
    this.reconciliations = m.reconciliations.cell({ session, venue });
    this.resolvedFound = m.unknownOutcomesResolved.cell({ session, venue, outcome: 'found' });
    this.resolvedAbsent = m.unknownOutcomesResolved.cell({ session, venue, outcome: 'absent' });
  }

  /** The limits with a watch that collects each limiter built from them. */
  watchRateLimits(limits: RateLimits): RateLimits {
    return { ...limits, watch: (q) => this.queues.push(q) };
  }

  readonly gatewayObserver: GatewayObserver = {
    reconciled: () => {
      this.lastReconciliationAt = Date.now();
      this.reconciliations.n++;
    },
    unknownOutcomeResolved: (outcome) => (outcome === 'found' ? this.resolvedFound : this.resolvedAbsent).n++,
  };

  /** The adapter, every call observed. */
  wrap(adapter: VenueAdapter): VenueAdapter {
    return new InstrumentedVenue(adapter, this);
  }

  get ready(): boolean {
    return this.started && this.stream === 'connected';
  }

  status(): VenueStatus {
    const queued = { orders: 0, queries: 0 };
    for (const q of this.queues) {
      queued.orders += q.queued('orders');
      queued.queries += q.queued('queries');
    }
    return {
      session: this.session,
      venue: this.venue,
      environment: this.environment,
      started: this.started,
      stream: this.stream,
      streamSince: this.streamSince,
      lastReconciliationAt: this.lastReconciliationAt,
      queued,
      lastError: this.started ? undefined : this.lastError,
      ready: this.ready,
    };
  }

  /** @internal (InstrumentedVenue) */
  operation(op: VenueOperation): OperationCells {
    let c = this.ops.get(op);
    if (!c) this.ops.set(op, (c = new OperationCells(this.m, this.venue, op)));
    return c;
  }

  /** @internal */
  onStarted(ok: boolean, err?: unknown): void {
    this.started = ok;
    if (!ok && err !== undefined) this.lastError = (err as Error)?.message ?? String(err);
  }

  /** @internal */
  onStreamState(s: StreamState): void {
    if (s === 'connected' && this.stream !== 'connected' && this.connects++ > 0) this.reconnects.n++;
    if (s !== this.stream) this.streamSince = Date.now();
    this.stream = s;
  }
}

/** Times `call` into the operation's histogram and counts its failure by class. */
function timed<T>(cells: OperationCells, call: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  let p: Promise<T>;
  try {
    p = call();
  } catch (err) {
    p = Promise.reject(err);
  }
  return p.then(
    (v) => {
      cells.latency.observe((performance.now() - t0) / 1000);
      return v;
    },
    (err) => {
      cells.latency.observe((performance.now() - t0) / 1000);
      cells.failed(err);
      throw err;
    },
  );
}

/** A VenueAdapter that forwards every call to the real one and tells the monitor what happened. */
class InstrumentedVenue implements VenueAdapter {
  readonly name: string;
  readonly capabilities: VenueCapabilities;
  readonly clientOrderIdFor?: (sessionTag: string, sequence: number) => string;
  readonly recentOrders?: (symbol: string, sinceMs: number) => Promise<VenueOrder[]>;
  readonly trackOrders?: (refs: OrderRef[]) => void;
  private readonly place: OperationCells;
  private readonly cancel: OperationCells;
  private readonly get: OperationCells;

  constructor(
    private readonly inner: VenueAdapter,
    private readonly monitor: VenueMonitor,
  ) {
    this.name = inner.name;
    this.capabilities = inner.capabilities;
    this.place = monitor.operation('place_order');
    this.cancel = monitor.operation('cancel_order');
    this.get = monitor.operation('get_order');
    // Optional capabilities stay optional: the gateway tests for their presence.
    if (inner.clientOrderIdFor) this.clientOrderIdFor = (tag, seq) => inner.clientOrderIdFor!(tag, seq);
    if (inner.recentOrders) {
      const cells = monitor.operation('recent_orders');
      this.recentOrders = (symbol, since) => timed(cells, () => inner.recentOrders!(symbol, since));
    }
    if (inner.trackOrders) this.trackOrders = (refs) => inner.trackOrders!(refs);
    inner.onStreamState((s) => monitor.onStreamState(s));
  }

  async start(): Promise<void> {
    try {
      await timed(this.monitor.operation('start'), () => this.inner.start());
      this.monitor.onStarted(true);
    } catch (err) {
      this.monitor.onStarted(false, err);
      throw err;
    }
  }

  stop(): Promise<void> {
    this.monitor.onStarted(false);
    return this.inner.stop();
  }

  instruments(): Promise<Instrument[]> {
    return timed(this.monitor.operation('instruments'), () => this.inner.instruments());
  }

  placeOrder(req: PlaceOrderRequest): Promise<VenueOrder> {
    return timed(this.place, () => this.inner.placeOrder(req));
  }

  cancelOrder(ref: OrderRef): Promise<CancelResult> {
    return timed(this.cancel, () => this.inner.cancelOrder(ref));
  }

  getOrder(ref: OrderRef): Promise<VenueOrder> {
    return timed(this.get, () => this.inner.getOrder(ref));
  }

  openOrders(): Promise<VenueOrder[]> {
    return timed(this.monitor.operation('open_orders'), () => this.inner.openOrders());
  }

  onEvent(listener: (event: OrderEvent) => void): void {
    this.inner.onEvent(listener);
  }

  onStreamState(listener: (state: StreamState) => void): void {
    this.inner.onStreamState(listener);
  }
}
