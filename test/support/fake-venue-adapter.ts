// A scriptable VenueAdapter for gateway-level tests (no sockets): an in-memory venue by default
// (orders by client order id, or by venue order id where the capabilities say the venue has no
// client order id; create → new, cancel → canceled, query → the order or OrderNotFound),
// and per call a script: answer with a value, fail with an error, or hold the call until the test
// releases it. Every call is recorded; stream events and stream state are emitted by the test.
//
//   fake.script('cancelOrder', { fail: new OutcomeUnknown('timeout') });
//   const held = fake.script('placeOrder', 'hold');   ...   (await held.arrived).resolve(order)
import {
  CancelResult,
  DuplicateOrder,
  Instrument,
  OrderEvent,
  OrderNotFound,
  OrderRef,
  PlaceOrderRequest,
  StreamState,
  VenueAdapter,
  VenueCapabilities,
  VenueOrder,
} from '../../src/venues/venue';

export type VenueOperation = 'start' | 'instruments' | 'placeOrder' | 'cancelOrder' | 'getOrder' | 'openOrders' | 'recentOrders' | 'trackOrders';

export interface VenueCall {
  op: VenueOperation;
  arg?: unknown;
}

/** What one scripted call does: run the default venue (and then maybe fail), answer, fail, or hold. */
export type Scripted =
  | 'hold'
  | 'default'
  | { answer: unknown }
  | { fail: Error }
  /** Perform the default behaviour (the venue state changes), then fail: "5xx after". */
  | { performThenFail: Error };

export interface HeldCall {
  op: VenueOperation;
  arg: unknown;
  resolve(value: unknown): void;
  reject(err: Error): void;
  /** Releases the call to the default venue behaviour. */
  proceed(): void;
}

/** A pending script entry: `arrived` resolves when a held call comes in. */
export interface ScriptHandle {
  arrived: Promise<HeldCall>;
}

export const FAKE_CAPABILITIES: VenueCapabilities = {
  orderTypes: ['limit', 'market'],
  timeInForce: { limit: ['GTC', 'IOC', 'FOK'], market: ['IOC', 'FOK'] },
  postOnly: true,
  asyncCancel: true,
  cancel: true,
  cancelableOrderTypes: ['limit', 'market'],
  clientOrderId: { kind: 'string', maxLength: 36 },
  refusesReusedClientOrderId: false,
  cancelByClientOrderId: false,
  orderUpdates: 'stream',
  absenceProofMs: 300,
};

export const FAKE_INSTRUMENTS: Instrument[] = [{ symbol: 'BTCUSDT', tickSize: '0.01', stepSize: '0.00001', minQty: '0.00001' }];

export class FakeVenueAdapter implements VenueAdapter {
  readonly name = 'fake';
  capabilities: VenueCapabilities;
  /** The venue's orders by client order id, or venue order id when it has none (the default behaviour reads and writes them). */
  readonly orders = new Map<string, VenueOrder>();
  readonly calls: VenueCall[] = [];
  private readonly scripts = new Map<VenueOperation, { what: Scripted; held?: (h: HeldCall) => void }[]>();
  private readonly eventListeners: ((e: OrderEvent) => void)[] = [];
  private readonly stateListeners: ((s: StreamState) => void)[] = [];
  private nextVenueId = 1000;
  private waiters: { pred: () => boolean; resolve: () => void }[] = [];

  constructor(capabilities: Partial<VenueCapabilities> = {}) {
    this.capabilities = { ...FAKE_CAPABILITIES, ...capabilities };
  }

  /** Scripts the next calls of `op` (in order); calls beyond the script use the default venue. */
  script(op: VenueOperation, ...what: Scripted[]): ScriptHandle {
    const q = this.scripts.get(op) ?? [];
    let held: (h: HeldCall) => void = () => undefined;
    const arrived = new Promise<HeldCall>((resolve) => (held = resolve));
    for (const w of what) q.push(w === 'hold' ? { what: w, held } : { what: w });
    this.scripts.set(op, q);
    return { arrived };
  }

  calledTimes(op: VenueOperation): number {
    return this.calls.filter((c) => c.op === op).length;
  }

  /** Resolves once `op` has been called `n` times in all. */
  whenCalled(op: VenueOperation, n = 1, timeoutMs = 5000): Promise<void> {
    return this.when(() => this.calledTimes(op) >= n, timeoutMs, `${op} called ${n} time(s); calls: ${this.calls.map((c) => c.op).join(', ')}`);
  }

  when(pred: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`fake venue: ${what} not met within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        pred,
        resolve: () => {
          clearTimeout(t);
          resolve();
        },
      });
    });
  }

  emit(event: OrderEvent): void {
    for (const l of this.eventListeners) l(event);
  }

  setStreamState(state: StreamState): void {
    for (const l of this.stateListeners) l(state);
  }

  /** Sets the venue's view of an order (merged into what it has). */
  setOrder(clientOrderId: string, change: Partial<VenueOrder>): VenueOrder {
    const cur = this.orders.get(clientOrderId);
    const o = { ...(cur ?? this.newVenueOrder({ clientOrderId, symbol: 'BTCUSDT', side: 'buy', type: 'limit', quantity: '1', price: '100', timeInForce: 'GTC' })), ...change, updateTime: Date.now() };
    this.orders.set(clientOrderId, o);
    return o;
  }

  // ------------------------------------------------------------------------------- VenueAdapter

  start(): Promise<void> {
    return this.call('start', undefined, async () => undefined);
  }

  async stop(): Promise<void> {
    /* nothing to stop */
  }

  instruments(): Promise<Instrument[]> {
    return this.call('instruments', undefined, async () => FAKE_INSTRUMENTS);
  }

  placeOrder(req: PlaceOrderRequest): Promise<VenueOrder> {
    return this.call('placeOrder', req, async () => {
      if (this.capabilities.refusesReusedClientOrderId && req.clientOrderId !== undefined && this.orders.has(req.clientOrderId)) {
        throw new DuplicateOrder(`fake: client order id ${req.clientOrderId} already used`, '-1141', 'Duplicate order');
      }
      const o = this.newVenueOrder(req);
      this.orders.set(req.clientOrderId ?? o.venueOrderId, o);
      return { ...o };
    });
  }

  /** The venue's order a ref names: by venue order id first, then by client order id. */
  find(ref: OrderRef): VenueOrder | undefined {
    if (ref.venueOrderId !== undefined) {
      for (const o of this.orders.values()) if (o.venueOrderId === ref.venueOrderId) return o;
    }
    return ref.clientOrderId !== undefined ? this.orders.get(ref.clientOrderId) : undefined;
  }

  cancelOrder(ref: OrderRef): Promise<CancelResult> {
    return this.call('cancelOrder', ref, async () => {
      const o = this.find(ref);
      if (!o || ['filled', 'canceled', 'rejected', 'expired'].includes(o.status)) throw new OrderNotFound(`fake: no open order ${ref.clientOrderId ?? ref.venueOrderId}`, '-2011', 'Unknown order');
      o.status = 'canceled';
      o.rawStatus = 'CANCELED';
      o.updateTime = Date.now();
      return { status: 'canceled', order: { ...o } };
    });
  }

  getOrder(ref: OrderRef): Promise<VenueOrder> {
    return this.call('getOrder', ref, async () => {
      const o = this.find(ref);
      if (!o) throw new OrderNotFound(`fake: no order ${ref.clientOrderId ?? ref.venueOrderId}`, '-2013', 'Order does not exist');
      return { ...o, fills: o.fills?.slice() };
    });
  }

  openOrders(): Promise<VenueOrder[]> {
    return this.call('openOrders', undefined, async () =>
      [...this.orders.values()].filter((o) => !['filled', 'canceled', 'rejected', 'expired'].includes(o.status)).map((o) => ({ ...o })),
    );
  }

  /** Orders on `symbol` created at or after `sinceMs` (what a venue without client order ids offers). */
  recentOrders(symbol: string, sinceMs: number): Promise<VenueOrder[]> {
    return this.call('recentOrders', { symbol, sinceMs }, async () =>
      [...this.orders.values()].filter((o) => o.symbol === symbol && (o.createdAt ?? o.updateTime) >= sinceMs).map((o) => ({ ...o })),
    );
  }

  /** Refs the gateway said are its own (trackOrders), in call order. */
  readonly tracked: OrderRef[] = [];

  trackOrders(refs: OrderRef[]): void {
    this.calls.push({ op: 'trackOrders', arg: refs });
    this.tracked.push(...refs);
    this.wake();
  }

  /** venue-format hook: `<tag>.<sequence>`. */
  clientOrderIdFor(sessionTag: string, sequence: number): string {
    return `${sessionTag}.${sequence}`;
  }

  onEvent(listener: (event: OrderEvent) => void): void {
    this.eventListeners.push(listener);
  }

  onStreamState(listener: (state: StreamState) => void): void {
    this.stateListeners.push(listener);
  }

  // ------------------------------------------------------------------------------- internals

  private newVenueOrder(req: PlaceOrderRequest): VenueOrder {
    const now = Date.now();
    return {
      clientOrderId: this.capabilities.clientOrderId.kind === 'none' ? '' : (req.clientOrderId ?? ''),
      venueOrderId: String(this.nextVenueId++),
      symbol: req.symbol,
      side: req.side,
      type: req.type,
      quantity: req.quantity,
      price: req.price,
      timeInForce: req.timeInForce,
      status: 'new',
      rawStatus: 'NEW',
      filledQty: '0',
      avgPrice: '0',
      updateTime: now,
      createdAt: now,
      fills: [],
    };
  }

  private call<T>(op: VenueOperation, arg: unknown, byDefault: () => Promise<T>): Promise<T> {
    this.calls.push({ op, arg });
    const next = this.scripts.get(op)?.shift();
    const p = this.perform(op, arg, next, byDefault);
    this.wake();
    return p;
  }

  private perform<T>(op: VenueOperation, arg: unknown, next: { what: Scripted; held?: (h: HeldCall) => void } | undefined, byDefault: () => Promise<T>): Promise<T> {
    const what = next?.what ?? 'default';
    if (what === 'default') return byDefault();
    if (what === 'hold') {
      return new Promise<T>((resolve, reject) => {
        next!.held!({ op, arg, resolve: (v) => resolve(v as T), reject, proceed: () => byDefault().then(resolve, reject) });
      });
    }
    if ('answer' in what) return Promise.resolve(what.answer as T);
    if ('fail' in what) return Promise.reject(what.fail);
    return byDefault().then(() => Promise.reject(what.performThenFail));
  }

  private wake(): void {
    const ready = this.waiters.filter((w) => w.pred());
    this.waiters = this.waiters.filter((w) => !w.pred());
    for (const w of ready) w.resolve();
  }
}
