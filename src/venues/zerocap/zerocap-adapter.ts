// Zerocap DMA behind the one VenueAdapter interface: REST client (create, fetch, fetch_orders) +
// order stream (order and trade pushes → OrderEvent). No FIX knowledge here.
//
// What Zerocap cannot do, declared rather than faked: no cancel endpoint (capabilities.cancel is
// false and cancelOrder refuses with OrderRejected 'unsupported'), limit fill-or-kill orders only,
// no lookup by client order id (getOrder without a venue id searches fetch_orders), and the stream
// may not carry client_order_id (events get it from what the adapter learnt at create time).

import {
  CancelResult,
  Instrument,
  OrderEvent,
  OrderNotFound,
  OrderRef,
  OrderRejected,
  OutcomeUnknown,
  PlaceOrderRequest,
  StreamState,
  TERMINAL_STATUSES,
  VenueAdapter,
  VenueCapabilities,
  VenueConfig,
  VenueOrder,
} from '../venue';
import {
  ZEROCAP_CAPABILITIES,
  ZEROCAP_CLIENT_ORDER_ID_MAX_LENGTH,
  ZEROCAP_DEFAULTS,
  ZEROCAP_SEARCH_MARGIN_MS,
  ZEROCAP_TIMESTAMP_WINDOW_MS,
  ZEROCAP_VENUE_NAME,
} from './zerocap-constants';
import { eventsFromZerocapOrder, fillFromZerocapTrade, orderFromZerocap, orderIdOfZerocapTrade } from './zerocap-mapping';
import { silentLogger, ZerocapLogger, ZerocapRestClient } from './zerocap-rest-client';
import { ZerocapOrderSearch } from './zerocap-order-search';
import { ZerocapStream, ZerocapStreamOptions } from './zerocap-stream';

type Json = Record<string, unknown>;

export interface ZerocapAdapterOptions {
  /** Stream timings (ping, pong timeout, back-off); defaults follow zerocap.md. */
  stream?: Omit<ZerocapStreamOptions, 'wsUrl' | 'apiKey' | 'apiSecret' | 'logger'>;
  /** Connections for creates; queries have their own pool of maxQuerySockets. Defaults ZEROCAP_DEFAULTS. */
  maxSockets?: number;
  maxQuerySockets?: number;
  /** How far back getOrder searches fetch_orders for an order known only by client id; default a day. */
  searchLookbackMs?: number;
  /** fetch_orders rows per page and pages read when searching by client id; defaults ZEROCAP_DEFAULTS. */
  searchPageLimit?: number;
  searchMaxPages?: number;
  /** Searches by client id (scans of fetch_orders) in flight at once; default ZEROCAP_DEFAULTS. */
  maxConcurrentSearches?: number;
  now?: () => number;
}

/** pino-compatible: a logger with child() gets a `venue` binding. */
type MaybeChildLogger = ZerocapLogger & { child?: (bindings: object) => ZerocapLogger };

/** What has been reported of one order, so each push yields only what is new. */
interface Tracked {
  clientOrderId: string;
  acknowledged: boolean;
  fillIds: Set<string>;
  terminal: boolean;
}

/** Finished orders remembered (late duplicate pushes stay quiet); the oldest are forgotten beyond this. */
const MAX_TRACKED = 10_000;

export class ZerocapAdapter implements VenueAdapter {
  readonly name = ZEROCAP_VENUE_NAME;
  readonly capabilities: VenueCapabilities = ZEROCAP_CAPABILITIES;
  /**
   * How long a request stays executable after we sent it: the ±30 s timestamp window. An order not
   * found this long after an unknown outcome can no longer appear (proof of absence).
   */
  readonly requestValidityWindowMs = ZEROCAP_TIMESTAMP_WINDOW_MS;

  /** Exposed for tests and diagnostics; the gateway uses the interface only. */
  readonly rest: ZerocapRestClient;
  private readonly stream: ZerocapStream;
  private readonly log: ZerocapLogger;
  private readonly now: () => number;
  private readonly searchLookbackMs: number;
  private readonly searchPageLimit: number;
  private readonly searchMaxPages: number;
  private readonly search: ZerocapOrderSearch;
  private readonly eventListeners: ((e: OrderEvent) => void)[] = [];
  private readonly tracked = new Map<string, Tracked>();
  /** Pushes for venue ids not known yet, held while a create is in flight (its reply names the id). */
  private readonly early = new Map<string, { kind: 'order' | 'trade'; data: Json }[]>();
  private createsInFlight = 0;
  private instrumentList: Instrument[] | undefined;
  private started = false;

  constructor(config: VenueConfig, logger?: MaybeChildLogger, options: ZerocapAdapterOptions = {}) {
    this.log = logger?.child ? logger.child({ venue: ZEROCAP_VENUE_NAME }) : (logger ?? silentLogger);
    this.now = options.now ?? Date.now;
    this.searchLookbackMs = options.searchLookbackMs ?? ZEROCAP_DEFAULTS.searchLookbackMs;
    this.searchPageLimit = options.searchPageLimit ?? ZEROCAP_DEFAULTS.fetchOrdersPageLimit;
    this.searchMaxPages = options.searchMaxPages ?? ZEROCAP_DEFAULTS.fetchOrdersMaxPages;
    // The config holds the api secret: it goes to the signers only, never to a log.
    this.rest = new ZerocapRestClient({
      restUrl: config.restUrl,
      apiKey: config.apiKey,
      apiSecret: config.apiSecret,
      requestTimeoutMs: config.requestTimeoutMs,
      rateLimits: config.rateLimits,
      maxSockets: options.maxSockets,
      maxQuerySockets: options.maxQuerySockets,
      logger: this.log,
      now: this.now,
    });
    this.search = new ZerocapOrderSearch(this.rest, {
      pageLimit: this.searchPageLimit,
      maxPages: this.searchMaxPages,
      maxConcurrentScans: options.maxConcurrentSearches ?? ZEROCAP_DEFAULTS.maxConcurrentSearches,
    });
    this.stream = new ZerocapStream({
      ...(options.stream ?? {}),
      wsUrl: config.wsUrl,
      apiKey: config.apiKey,
      apiSecret: config.apiSecret,
      logger: this.log,
      // Signed with the venue's time as the REST client measures it (get_time after a refusal).
      now: () => this.rest.venueNow(),
      onAuthRefused: () => this.rest.resyncClock(),
    });
    this.stream.onOrder((d) => this.onOrderPush(d));
    this.stream.onTrade((d) => this.onTradePush(d));
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.instrumentList = await this.rest.instruments();
    await this.stream.start();
    this.started = true;
    this.log.info({ instruments: this.instrumentList.length }, 'zerocap adapter started');
  }

  async stop(): Promise<void> {
    this.started = false;
    await this.stream.stop();
    this.rest.close();
  }

  async instruments(): Promise<Instrument[]> {
    if (!this.instrumentList) this.instrumentList = await this.rest.instruments();
    return this.instrumentList;
  }

  async placeOrder(req: PlaceOrderRequest): Promise<VenueOrder> {
    const max = ZEROCAP_CLIENT_ORDER_ID_MAX_LENGTH;
    if (req.clientOrderId === undefined || req.clientOrderId.length === 0 || req.clientOrderId.length > max) {
      throw new OrderRejected('invalid_order', `client order id must be 1..${max} characters`);
    }
    this.createsInFlight++;
    let order: VenueOrder | undefined;
    try {
      order = await this.rest.createOrder(req);
      this.track(order.venueOrderId, req.clientOrderId);
      return order;
    } finally {
      this.createsInFlight--;
      // Replay what the stream said about this order before the reply; once no create is in
      // flight, nothing can claim the rest: let it through with what it carries.
      if (order !== undefined) this.replayEarly(order.venueOrderId);
      if (this.createsInFlight === 0) for (const id of [...this.early.keys()]) this.replayEarly(id);
    }
  }

  /** Zerocap has no cancel endpoint: refused, and the order is untouched. */
  cancelOrder(ref: OrderRef): Promise<CancelResult> {
    return Promise.reject(
      new OrderRejected('unsupported', 'Zerocap has no cancel endpoint: orders cannot be canceled', undefined, `order ${ref.venueOrderId ?? ref.clientOrderId}`),
    );
  }

  /**
   * By venue id through fetch_order; without one (the create's outcome is unknown) by client order
   * id through fetch_orders: with the gateway's `sentBetween`, only the window where the order can
   * exist at the venue (zerocapSearchWindow), oldest first, in a scan shared with the lookups
   * waiting at the same time (ZerocapOrderSearch); without it, newest first within
   * searchLookbackMs. Two matches → OutcomeUnknown: never a guess.
   */
  async getOrder(ref: OrderRef): Promise<VenueOrder> {
    if (ref.venueOrderId) {
      const order = await this.rest.fetchOrder(ref.venueOrderId, ref.clientOrderId ?? '');
      this.track(order.venueOrderId, order.clientOrderId || (ref.clientOrderId ?? ''));
      return order;
    }
    if (ref.sentBetween !== undefined && ref.clientOrderId) {
      const found = await this.search.find({ clientOrderId: ref.clientOrderId, symbol: ref.symbol, ...zerocapSearchWindow(ref.sentBetween, this.rest.signedOffsetRangeMs()) });
      this.track(found.venueOrderId, ref.clientOrderId);
      return found;
    }
    const { orders: rows, complete } = await this.rest.fetchOrderPages(
      {
        symbol: ref.symbol,
        start_datetime: this.now() - this.searchLookbackMs,
        sort_order: 'desc',
        limit: this.searchPageLimit,
      },
      this.searchMaxPages,
    );
    const matches = ref.clientOrderId ? rows.filter((o) => o.clientOrderId === ref.clientOrderId) : [];
    if (matches.length === 0) {
      // Only a search that read every row the venue has proves the order absent.
      if (!complete) throw new OutcomeUnknown(`Zerocap: no order with client_order_id ${ref.clientOrderId} in the newest ${rows.length} rows of fetch_orders (more not read)`);
      throw new OrderNotFound(`Zerocap: no order with client_order_id ${ref.clientOrderId} in fetch_orders`);
    }
    if (matches.length > 1) {
      throw new OutcomeUnknown(
        `Zerocap: ${matches.length} orders carry client_order_id ${ref.clientOrderId} (${matches.map((o) => o.venueOrderId).join(', ')}): not guessing`,
      );
    }
    this.track(matches[0].venueOrderId, ref.clientOrderId ?? '');
    return matches[0];
  }

  /** Orders the venue still keeps `open` (only ever the ones a quote did not close at once). */
  async openOrders(): Promise<VenueOrder[]> {
    const rows = await this.rest.fetchAllOrders({ status: 'open', sort_order: 'asc' });
    for (const o of rows) if (o.clientOrderId) this.track(o.venueOrderId, o.clientOrderId);
    return rows.filter((o) => !TERMINAL_STATUSES.has(o.status));
  }

  /** VenueAdapter.recentOrders: fetch_orders of the symbol created since `sinceMs`, open or finished. */
  async recentOrders(symbol: string, sinceMs: number): Promise<VenueOrder[]> {
    const rows = await this.rest.fetchAllOrders({ symbol, start_datetime: sinceMs, sort_order: 'asc' });
    return rows.filter((o) => (o.createdAt ?? o.updateTime) >= sinceMs);
  }

  onEvent(listener: (event: OrderEvent) => void): void {
    this.eventListeners.push(listener);
  }

  onStreamState(listener: (state: StreamState) => void): void {
    this.stream.onState(listener);
  }

  // ------------------------------------------------------------------------------------ stream

  private track(venueOrderId: string, clientOrderId: string): Tracked {
    let t = this.tracked.get(venueOrderId);
    if (t === undefined) {
      t = { clientOrderId, acknowledged: false, fillIds: new Set(), terminal: false };
      this.tracked.set(venueOrderId, t);
      this.forgetOldest();
    } else if (!t.clientOrderId && clientOrderId) {
      t.clientOrderId = clientOrderId;
    }
    return t;
  }

  private forgetOldest(): void {
    if (this.tracked.size <= MAX_TRACKED) return;
    for (const [id, t] of this.tracked) {
      if (this.tracked.size <= MAX_TRACKED) break;
      if (t.terminal) this.tracked.delete(id);
    }
  }

  /** True when the push must wait for a create reply that may name its order. */
  private holdEarly(venueOrderId: string, kind: 'order' | 'trade', data: Json): boolean {
    if (this.tracked.has(venueOrderId) || this.createsInFlight === 0) return false;
    let list = this.early.get(venueOrderId);
    if (list === undefined) this.early.set(venueOrderId, (list = []));
    list.push({ kind, data });
    return true;
  }

  private replayEarly(venueOrderId: string): void {
    const list = this.early.get(venueOrderId);
    if (list === undefined) return;
    this.early.delete(venueOrderId);
    for (const p of list) {
      if (p.kind === 'order') this.onOrderPush(p.data, true);
      else this.onTradePush(p.data, true);
    }
  }

  private onOrderPush(data: Json, replay = false): void {
    const venueOrderId = String(data.id ?? '');
    if (venueOrderId === '') return;
    if (!replay && this.holdEarly(venueOrderId, 'order', data)) return;
    const t = this.tracked.get(venueOrderId);
    const order = orderFromZerocap(data, t?.clientOrderId);
    const tr = this.track(venueOrderId, order.clientOrderId);
    const events = eventsFromZerocapOrder(order, tr, 'stream');
    for (const e of events) this.note(tr, e);
    if (TERMINAL_STATUSES.has(order.status)) tr.terminal = true;
    this.emit(events);
  }

  private onTradePush(data: Json, replay = false): void {
    const venueOrderId = orderIdOfZerocapTrade(data);
    const fill = fillFromZerocapTrade(data);
    if (venueOrderId === undefined || fill === undefined) return;
    if (!replay && this.holdEarly(venueOrderId, 'trade', data)) return;
    const tr = this.track(venueOrderId, this.tracked.get(venueOrderId)?.clientOrderId ?? '');
    if (tr.fillIds.has(fill.fillId)) return;
    const base = { clientOrderId: tr.clientOrderId, venueOrderId, rawStatus: 'trade', time: fill.time || this.now(), source: 'stream' as const };
    const events: OrderEvent[] = [];
    if (!tr.acknowledged) events.push({ ...base, kind: 'acknowledged', cumQty: '0' });
    events.push({ ...base, kind: 'fill', fill });
    for (const e of events) this.note(tr, e);
    this.emit(events);
  }

  private note(t: Tracked, e: OrderEvent): void {
    if (e.kind === 'acknowledged' || e.kind === 'rejected') t.acknowledged = true;
    if (e.kind === 'fill') {
      t.acknowledged = true;
      t.fillIds.add(e.fill.fillId);
    }
  }

  private emit(events: OrderEvent[]): void {
    for (const e of events) {
      for (const l of this.eventListeners) {
        try {
          l(e);
        } catch (err) {
          this.log.error({ error: (err as Error)?.name, message: String((err as Error)?.message ?? '') }, 'zerocap event listener threw');
        }
      }
    }
  }
}

/**
 * Where, in venue time, an order whose request we sent within `sent` (our clock) can have been
 * created. We sign with our estimate of the venue's clock (our clock + an offset, measured on
 * get_time; `offsets`: every offset signed with so far), and the venue takes a request only while
 * that timestamp (floored to the second) is within ±30 s of its own clock; a request no longer in
 * that window cannot execute. So the venue's createdAt lies within 30 s of our send time shifted by
 * the offset in use then, whatever its true clock. The margin covers the floored second and the
 * venue's time to execute after its check.
 */
export function zerocapSearchWindow(sent: { from: number; to: number }, offsets: { lowest: number; highest: number } = { lowest: 0, highest: 0 }): { from: number; to: number } {
  const slack = ZEROCAP_TIMESTAMP_WINDOW_MS + ZEROCAP_SEARCH_MARGIN_MS;
  return { from: sent.from + offsets.lowest - slack, to: sent.to + offsets.highest + slack };
}
