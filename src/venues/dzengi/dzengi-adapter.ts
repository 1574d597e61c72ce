// Dzengi.com spot behind the VenueAdapter interface, as far as venue.ts allows today. No FIX
// knowledge here.
//
// Dzengi has no client order id and no own-order stream:
// - The venue order id (UUID) is the handle: cancel and getOrder need `venueOrderId` (and the
//   symbol); a ref with only our client id is refused (OrderRejected 'unsupported'), never
//   answered "not found" — the venue cannot look an order up by our id, so "not found" would be a
//   guess. The create reply is the one moment our id and the venue id meet: placeOrder returns
//   the order with our clientOrderId; every later snapshot carries clientOrderId ''.
// - No events are pushed: the venue-neutral poller (common/order-poller.ts) follows the orders the
//   gateway says are ours (trackOrders) through openOrders(symbol) and getOrder() (one fill per
//   venue trade from myTrades) and emits snapshot events. Its weight: half the published
//   REQUEST_WEIGHT per minute (the other half is left to orders and the gateway's own queries).
// - onStreamState is the poller's: 'connected' once start() has reached the venue (so the gateway
//   reconciles), 'disconnected' while polls cannot reach it, 'connected' again when they can.

import Decimal from 'decimal.js';
import {
  CancelResult,
  Instrument,
  OrderEvent,
  OrderRef,
  OrderRejected,
  PlaceOrderRequest,
  StreamState,
  VenueAdapter,
  VenueCapabilities,
  VenueConfig,
  VenueFill,
  VenueOrder,
} from '../venue';
import { DZENGI_CAPABILITIES, DZENGI_DEFAULTS, DZENGI_PUBLISHED_LIMITS, DZENGI_RECV_WINDOW, DZENGI_VENUE_NAME, DzengiPublishedLimits, dzengiAbsenceProofMs } from './dzengi-constants';
import { DzengiTrade, fillsForOrder } from './dzengi-mapping';
import { DzengiLogger, DzengiRestClient, silentDzengiLogger } from './dzengi-rest-client';
import { OrderPoller } from '../common/order-poller';

export interface DzengiAdapterOptions {
  /** Sent with every signed request (≤ 60000); it is also how long a sent request stays executable. Default 5000. */
  recvWindowMs?: number;
  maxSockets?: number;
  /** Time between polls while an order is live (≤ 2000; default 1000). */
  pollIntervalMs?: number;
}

/** Request weight of the calls the poller makes (getOrder = fetchOrder + myTrades). */
export const DZENGI_POLL_WEIGHTS = { openOrders: 1, getOrder: 2 } as const;
/** Share of the published weight per minute the poller may use. */
const POLL_WEIGHT_SHARE = 0.5;

/** pino-compatible: a logger with child() gets a `venue` binding. */
type MaybeChildLogger = DzengiLogger & { child?: (bindings: object) => DzengiLogger };

/** A fill found in myTrades, with the venue order it belongs to. */
export interface DzengiOrderFill {
  venueOrderId: string;
  symbol: string;
  fill: VenueFill;
}

/** How far before an order's own time its trades are looked for (venue and our clocks differ). */
const TRADES_LOOKBACK_MS = 60_000;

export class DzengiAdapter implements VenueAdapter {
  readonly name = DZENGI_VENUE_NAME;
  readonly capabilities: VenueCapabilities;
  /**
   * How long a request we sent can still execute at the venue: it is refused once
   * serverTime − timestamp > recvWindow. After an unknown outcome, "not found" proves absence only
   * when it has lasted longer than this (plus clock skew). Not in venue.ts yet.
   */
  readonly requestValidityMs: number;

  /** Exposed for tests and diagnostics; the gateway uses the interface only. */
  readonly rest: DzengiRestClient;
  private readonly log: DzengiLogger;
  private readonly poller: OrderPoller;
  private instrumentList: Instrument[] | undefined;
  private published: DzengiPublishedLimits = DZENGI_PUBLISHED_LIMITS;
  private started = false;
  private readonly myTradesPageSize: number;

  constructor(config: VenueConfig, logger?: MaybeChildLogger, options: DzengiAdapterOptions = {}) {
    this.log = logger?.child ? logger.child({ venue: DZENGI_VENUE_NAME }) : (logger ?? silentDzengiLogger);
    const recvWindowMs = options.recvWindowMs ?? DZENGI_RECV_WINDOW.defaultMs;
    if (!(recvWindowMs > 0 && recvWindowMs <= DZENGI_RECV_WINDOW.maxMs)) {
      throw new Error(`Dzengi recvWindow must be 1..${DZENGI_RECV_WINDOW.maxMs} ms, got ${recvWindowMs}`);
    }
    this.requestValidityMs = recvWindowMs;
    this.myTradesPageSize = DZENGI_DEFAULTS.myTradesLimit;
    this.capabilities = { ...DZENGI_CAPABILITIES, absenceProofMs: dzengiAbsenceProofMs(recvWindowMs) };
    // The config holds the api secret: it goes to the signer only, never to a log.
    this.rest = new DzengiRestClient({
      restUrl: config.restUrl,
      apiKey: config.apiKey,
      apiSecret: config.apiSecret,
      requestTimeoutMs: config.requestTimeoutMs,
      rateLimits: config.rateLimits,
      recvWindowMs,
      maxSockets: options.maxSockets,
      logger: this.log,
    });
    this.poller = new OrderPoller(
      {
        openOrders: (symbol) => this.rest.openOrders(symbol),
        getOrder: (ref) => this.getOrder(ref),
        weightOf: (call) => DZENGI_POLL_WEIGHTS[call],
      },
      {
        intervalMs: options.pollIntervalMs,
        // Read at every check: start() replaces the documented budget with the published one.
        weightPerMinute: () => this.published.requestWeightPerMinute * POLL_WEIGHT_SHARE,
        log: (obj, msg) => this.log.warn(obj, msg),
      },
    );
  }

  /** The venue's budgets as its exchangeInfo published them at start (documented values before). */
  get publishedLimits(): DzengiPublishedLimits {
    return this.published;
  }

  async start(): Promise<void> {
    if (this.started) return;
    const info = await this.rest.exchangeInfo();
    this.instrumentList = info.instruments;
    this.published = info.limits;
    this.started = true;
    this.log.info({ instruments: info.instruments.length, limits: info.limits }, 'dzengi adapter started');
    this.poller.start();
  }

  async stop(): Promise<void> {
    this.started = false;
    await this.poller.stop();
    this.rest.close();
  }

  /** VenueAdapter.trackOrders: the gateway's orders, followed by the poller. */
  trackOrders(refs: OrderRef[]): void {
    this.poller.track(refs);
  }

  async instruments(): Promise<Instrument[]> {
    if (!this.instrumentList) this.instrumentList = (await this.rest.exchangeInfo()).instruments;
    return this.instrumentList;
  }

  /**
   * Places the order (no client id goes to the venue). The reply's venue id is the handle from now
   * on. When it executed at once (market / crossing limit), its fills are read from myTrades so
   * each carries the venue trade id and its own price (the reply's fills have no ids); if that read
   * fails the order is returned without fills and a later getOrder() supplies them.
   */
  async placeOrder(req: PlaceOrderRequest): Promise<VenueOrder> {
    const order = await this.rest.createOrder(req);
    if (!isZero(order.filledQty)) {
      try {
        order.fills = await this.orderFills(order);
      } catch (err) {
        this.log.warn({ venueOrderId: order.venueOrderId, error: (err as Error)?.name }, 'dzengi fills of a new order not read yet');
      }
    }
    return order;
  }

  /** DELETE → CANCELED at once (LIMIT only; other types → OrderRejected 'unsupported'). */
  async cancelOrder(ref: OrderRef): Promise<CancelResult> {
    const order = await this.rest.cancelOrder(dzengiKey(ref, 'cancel'));
    if (order.status === 'canceled' || order.status === 'expired') return { status: 'canceled', order };
    if (order.status === 'pending_cancel' || order.status === 'new' || order.status === 'partially_filled') return { status: 'pending_cancel', order };
    throw new OrderRejected('too_late', `Dzengi: order already ${order.rawStatus}`, order.rawStatus, order.rawStatus);
  }

  /** fetchOrder (symbol required) with its fills from myTrades, one per venue trade. */
  async getOrder(ref: OrderRef): Promise<VenueOrder> {
    const order = await this.rest.fetchOrder(dzengiKey(ref, 'query'));
    order.clientOrderId = ref.clientOrderId ?? '';
    order.fills = isZero(order.filledQty) ? [] : await this.orderFills(order);
    return order;
  }

  /** Every open order of the account (no symbol: the venue's expensive form; see openOrdersFor). */
  openOrders(): Promise<VenueOrder[]> {
    return this.rest.openOrders();
  }

  /** Open orders of one symbol: the cheap form a poller should use per active symbol. */
  openOrdersFor(symbol: string): Promise<VenueOrder[]> {
    return this.rest.openOrders(symbol);
  }

  /** Own trades of one symbol since `sinceMs` (venue time), one fill per venue trade, oldest first. */
  async trades(symbol: string, sinceMs?: number): Promise<DzengiOrderFill[]> {
    const rows = await this.tradesSince(symbol, sinceMs);
    return rows.map((t) => ({ venueOrderId: t.venueOrderId, symbol: t.symbol, fill: t.fill }));
  }

  /**
   * VenueAdapter.recentOrders (Dzengi has no client order id: the gateway finds an order of unknown
   * outcome by content among these): the symbol's open orders, plus every order with an own trade
   * since `sinceMs` (fetchOrder each: executed orders leave the open list), created at or after
   * `sinceMs`. An order canceled or expired without any trade cannot be listed by Dzengi; it
   * executed nothing, so the gateway then proves it absent after absenceProofMs.
   */
  async recentOrders(symbol: string, sinceMs: number): Promise<VenueOrder[]> {
    const open = await this.rest.openOrders(symbol);
    const trades = await this.tradesSince(symbol, sinceMs);
    const listed = new Set(open.map((o) => o.venueOrderId));
    const traded = [...new Set(trades.map((t) => t.venueOrderId))].filter((id) => !listed.has(id));
    const done: VenueOrder[] = [];
    for (const id of traded) {
      const o = await this.rest.fetchOrder({ venueOrderId: id, symbol });
      o.fills = fillsForOrder(trades, id);
      done.push(o);
    }
    return [...open, ...done].filter((o) => (o.createdAt ?? o.updateTime) >= sinceMs);
  }

  /** The poller's snapshot events (Dzengi itself pushes nothing). */
  onEvent(listener: (event: OrderEvent) => void): void {
    this.poller.onEvent(listener);
  }

  onStreamState(listener: (state: StreamState) => void): void {
    this.poller.onState(listener);
  }

  /**
   * The order's fills from myTrades, from a minute before the order's time: on the two paths that
   * call this, that time is its creation (create reply transactTime, fetchOrder timestamp).
   */
  private async orderFills(order: VenueOrder): Promise<VenueFill[]> {
    const since = order.updateTime > 0 ? order.updateTime - TRADES_LOOKBACK_MS : undefined;
    return fillsForOrder(await this.tradesSince(order.symbol, since), order.venueOrderId);
  }

  /**
   * Own trades of `symbol` from `startTime`, every page: myTrades answers at most one page of rows
   * from startTime, so on a busy account an order's later trades lie beyond the first page (they
   * were never reported, or an executed order of unknown outcome was not found). Pages follow by
   * time (inclusive, rows seen deduplicated by trade id). Without a startTime the venue gives only
   * its latest page.
   */
  private async tradesSince(symbol: string, startTime: number | undefined): Promise<DzengiTrade[]> {
    const out: DzengiTrade[] = [];
    const seen = new Set<string>();
    let from = startTime;
    for (;;) {
      const page = await this.rest.myTrades({ symbol, startTime: from, limit: this.myTradesPageSize });
      for (const t of page) {
        if (seen.has(t.fill.fillId)) continue;
        seen.add(t.fill.fillId);
        out.push(t);
      }
      if (from === undefined || page.length < this.myTradesPageSize) return out;
      const last = Math.max(...page.map((t) => t.fill.time));
      if (last <= from) {
        // A whole page within one millisecond: time cannot page further; go on after it.
        this.log.warn({ symbol, time: from }, 'dzengi myTrades: a full page within one ms; later rows of that ms may be missed');
        from += 1;
      } else from = last;
    }
  }
}

/** The venue id and symbol a cancel / query needs; without the venue id Dzengi cannot find the order. */
function dzengiKey(ref: OrderRef, what: 'cancel' | 'query'): { venueOrderId: string; symbol: string } {
  if (!ref.venueOrderId) {
    throw new OrderRejected(
      'unsupported',
      `Dzengi has no client order id: cannot ${what} an order before its venue order id is known (find it by content)`,
    );
  }
  return { venueOrderId: ref.venueOrderId, symbol: ref.symbol };
}

function isZero(v: string): boolean {
  try {
    return new Decimal(v || '0').isZero();
  } catch {
    return false;
  }
}
