// Coinut spot behind the VenueAdapter interface, as far as venue.ts allows today. No FIX knowledge.
//
// - Trading runs over the WebSocket (CoinutWsClient); queries fall back to REST `POST /` while the
//   WS is down (the only thing the WS cannot serve then); creates and cancels wait for the
//   reconnect up to the request timeout, then are refused with nothing sent.
// - Client order ids: the gateway passes the decimal text of an integer in 1..16777215 that it
//   allocated (durably, per account); anything else is refused before sending. The venue does not
//   enforce uniqueness, so this adapter never invents ids and keeps no durable state.
// - No single-order query: getOrder reads user_open_orders for the instrument plus trade_history
//   (fills, one per trans_id at its own price). An order absent from both is not proof of absence
//   until `unknownOutcomeAbsenceMs` has passed since its request (see there). For an order this
//   adapter sent, trade_history is read back to its send time (however many trades came since:
//   under load a lookup may come minutes and thousands of fills later); deeper than the bounded
//   page limit, the search fails without claiming absence. Concurrent lookups of one instrument
//   share a search that has not been sent yet.
// - Coinut pushes every order event to every connection of the account, so two sessions on one
//   account see each other's events. Events are matched by venue order id first: only orders this
//   adapter placed, queried or canceled, or the gateway named through trackOrders (its open orders
//   after a restart), are reported; an event of an order whose create is still unanswered is
//   adopted by its client order id.
// - FIX Symbol is the venue's instrument name (BTCUSDT); every request uses its inst_id.

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
  VenueAdapter,
  VenueCapabilities,
  VenueConfig,
  VenueError,
  VenueOrder,
} from '../venue';
import { RateLimiter } from '../common/rate-limiter';
import type { WsLogger } from '../common/reconnecting-websocket';
import type { BackoffOptions } from '../common/backoff';
import {
  COINUT_CAPABILITIES,
  COINUT_CLIENT_ORD_ID_MAX,
  COINUT_CLIENT_ORD_ID_MIN,
  COINUT_DEFAULTS,
  COINUT_ORDER_EVENT_REPLIES,
  COINUT_RATE_LIMITS,
  COINUT_REPLIES,
  COINUT_REQUESTS,
  COINUT_SIDES,
  COINUT_VENUE_NAME,
} from './coinut-constants';
import {
  clientOrdIdText,
  CoinutInstrumentMap,
  CoinutJson,
  coinutRejectReason,
  CoinutTrade,
  errorForStatus,
  instrumentsFromInstList,
  isOk,
  openOrderRows,
  orderEventFrom,
  orderFromNewOrderReply,
  orderFromOpenOrder,
  orderFromTrades,
  parseClientOrdId,
  reasonsOf,
  toInstrument,
  tradesFromHistory,
  uniqueTrades,
  withFills,
} from './coinut-mapping';
import { CoinutNotConnected, CoinutRequestOptions, CoinutWsClient } from './coinut-ws-client';

export interface CoinutAdapterOptions {
  heartbeatIntervalMs?: number;
  heartbeatTimeoutMs?: number;
  backoff?: BackoffOptions;
  /** First WS nonce (tests). */
  nonceStart?: number;
  /** Pages of trade_history read at most per query. */
  tradeHistoryMaxPages?: number;
}

type MaybeChildLogger = WsLogger & { child?: (bindings: object) => WsLogger };
type LimitClass = 'orders' | 'queries';

const noop = () => undefined;
const SILENT: WsLogger = { debug: noop, info: noop, warn: noop, error: noop };
/** Orders remembered (for events and for rebuilding a canceled order without fills). */
const MAX_KNOWN_ORDERS = 100_000;
/** Pause between attempts of a create/cancel refused by a link that is going down. */
const RECONNECT_POLL_MS = 25;

export class CoinutAdapter implements VenueAdapter {
  readonly name = COINUT_VENUE_NAME;
  readonly capabilities: VenueCapabilities;
  /** Client order ids are integers in this range, as decimal text (capabilities.clientOrderId says the same). */
  readonly clientOrderIdRange = { min: COINUT_CLIENT_ORD_ID_MIN, max: COINUT_CLIENT_ORD_ID_MAX } as const;
  /**
   * How long after an unknown-outcome request an order missing from user_open_orders and
   * trade_history counts as absent. Coinut requests carry no expiry (no recvWindow, no timestamp),
   * so a request the venue has read can execute whenever the venue gets to it. On a timeout the
   * client drops the link, so nothing more is read from it; what had been read is processed in
   * the venue's normal latency. The window is therefore the request timeout (the request may have
   * been read at its very end) plus the same again for the venue to process it and list the
   * result: 2 × requestTimeoutMs (10 s by default), counted from the moment the request was sent.
   */
  readonly unknownOutcomeAbsenceMs: number;

  /**
   * How long a create or cancel offered while the WebSocket is reconnecting waits for it before
   * being refused (nothing sent): the request timeout. Queries go over REST meanwhile.
   */
  private readonly reconnectWaitMs: number;

  /** Exposed for tests and diagnostics; the gateway uses the interface only. */
  readonly ws: CoinutWsClient;
  private readonly log: WsLogger;
  private readonly limiter: RateLimiter<LimitClass>;
  private readonly maxPages: number;
  private readonly eventListeners: ((e: OrderEvent) => void)[] = [];
  private readonly stateListeners: ((s: StreamState) => void)[] = [];
  private instrumentMap = new CoinutInstrumentMap([]);
  /** Venue order ids of this adapter's orders → the last VenueOrder seen. */
  private readonly known = new Map<string, VenueOrder | undefined>();
  /** Client order ids of creates sent and not yet answered (their events are adopted). */
  private readonly unanswered = new Set<string>();
  /** When this adapter sent an order's create: by `c:<client id>` and `v:<venue id>` (trade search bound). */
  private readonly sentAt = new Map<string, number>();
  /** trade_history searches of an instrument queued and not yet sent: a lookup may join one that reaches back far enough. */
  private readonly queuedSearches = new Map<number, { bound: number | undefined; result: Promise<CoinutTrade[]> }[]>();
  private started = false;

  constructor(config: VenueConfig, logger?: MaybeChildLogger, options: CoinutAdapterOptions = {}) {
    this.log = logger?.child ? logger.child({ venue: COINUT_VENUE_NAME }) : (logger ?? SILENT);
    if (!config.account) throw new Error('Coinut needs VenueAccount: the Coinut username');
    if (!config.apiKey) throw new Error('Coinut needs VenueApiKey: the API key (it is also the HMAC key)');
    if (config.apiSecret && config.apiSecret !== config.apiKey) {
      throw new Error('Coinut has no separate API secret: VenueApiSecret, when given, must be the API key itself');
    }
    const timeoutMs = config.requestTimeoutMs ?? COINUT_DEFAULTS.requestTimeoutMs;
    this.unknownOutcomeAbsenceMs = 2 * timeoutMs;
    this.reconnectWaitMs = timeoutMs;
    this.capabilities = { ...COINUT_CAPABILITIES, absenceProofMs: this.unknownOutcomeAbsenceMs };
    this.maxPages = options.tradeHistoryMaxPages ?? COINUT_DEFAULTS.tradeHistoryMaxPages;
    this.limiter = new RateLimiter<LimitClass>(config.rateLimits ?? COINUT_RATE_LIMITS);
    // The API key is secret material: it goes to the signer only.
    this.ws = new CoinutWsClient({
      wsUrl: config.wsUrl,
      restUrl: config.restUrl,
      username: config.account,
      apiKey: config.apiKey,
      requestTimeoutMs: timeoutMs,
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      heartbeatTimeoutMs: options.heartbeatTimeoutMs,
      backoff: options.backoff,
      nonceStart: options.nonceStart,
      logger: this.log,
    });
    this.ws.onOrderEvent((m, at) => this.onVenueEvent(m, at));
    this.ws.onState((s) => this.emitState(s));
  }

  async start(): Promise<void> {
    if (this.started) return;
    await this.ws.start();
    await this.loadInstruments();
    this.started = true;
    this.log.info({ instruments: this.instrumentMap.list().length }, 'coinut adapter started');
  }

  async stop(): Promise<void> {
    this.started = false;
    this.limiter.close();
    await this.ws.stop();
  }

  async instruments(): Promise<Instrument[]> {
    if (this.instrumentMap.list().length === 0) await this.loadInstruments();
    return this.instrumentMap.list().map(toInstrument);
  }

  /** The inst_id of a FIX Symbol (undefined when the venue does not list it). */
  instId(symbol: string): number | undefined {
    return this.instrumentMap.instId(symbol);
  }

  async placeOrder(req: PlaceOrderRequest): Promise<VenueOrder> {
    const cid = parseClientOrdId(req.clientOrderId ?? '');
    if (cid === undefined) {
      throw new OrderRejected(
        'invalid_order',
        `Coinut client order ids are integers ${COINUT_CLIENT_ORD_ID_MIN}..${COINUT_CLIENT_ORD_ID_MAX}, got ${JSON.stringify(req.clientOrderId)}`,
      );
    }
    const instId = this.requireInstId(req.symbol);
    const cidText = String(cid);
    // Key order as the wiki's example; no price = market order.
    const body: Record<string, unknown> = { request: COINUT_REQUESTS.newOrder, inst_id: instId };
    if (req.type === 'limit') body.price = req.price;
    body.qty = req.quantity;
    body.client_ord_id = cid;
    body.side = req.side === 'buy' ? COINUT_SIDES.buy : COINUT_SIDES.sell;
    this.unanswered.add(cidText);
    this.noteSent(`c:${cidText}`, Date.now());
    let messages: CoinutJson[];
    try {
      messages = await this.orderRequest(body, {
        accepts: (m) =>
          m.reply === COINUT_REQUESTS.newOrder ||
          (typeof m.reply === 'string' && COINUT_ORDER_EVENT_REPLIES.has(m.reply) && orderClientId(m) === cidText),
      });
    } catch (err) {
      // After an unknown outcome the order's events are still ours when they come.
      if (!(err instanceof OutcomeUnknown)) this.unanswered.delete(cidText);
      throw err;
    }
    this.unanswered.delete(cidText);
    const order = orderFromNewOrderReply({ ...req, clientOrderId: cidText }, messages, Date.now());
    if (order === undefined) throw errorForStatus(messages[0] ?? {}, COINUT_REQUESTS.newOrder);
    const sent = this.sentAt.get(`c:${cidText}`);
    if (sent !== undefined) this.noteSent(`v:${order.venueOrderId}`, sent);
    this.remember(order);
    if (order.status === 'rejected') {
      const reasons = reasonsOf(messages.find((m) => m.reply === COINUT_REPLIES.orderRejected) ?? {});
      throw new OrderRejected(coinutRejectReason(reasons), `Coinut rejected the order: ${order.rejectText}`, order.rejectCode, order.rejectText);
    }
    return order;
  }

  /** cancel_order needs inst_id + order_id; without the venue id, it is looked up in the open orders by client id. */
  async cancelOrder(ref: OrderRef): Promise<CancelResult> {
    const instId = this.requireInstId(ref.symbol);
    let venueOrderId = ref.venueOrderId;
    if (!venueOrderId) {
      const row = ref.clientOrderId === undefined ? undefined : (await this.openRows(instId)).find((r) => clientOrdIdText(r.client_ord_id) === ref.clientOrderId);
      if (row === undefined) throw new OrderNotFound(`Coinut: no open order with client_ord_id ${ref.clientOrderId}`);
      venueOrderId = String(row.order_id);
    }
    this.track(venueOrderId);
    const id = venueOrderId;
    const messages = await this.orderRequest(
      { request: COINUT_REQUESTS.cancelOrder, inst_id: instId, order_id: Number(id) },
      { accepts: (m) => m.reply === COINUT_REPLIES.cancelOrder && (m.order_id === undefined || String(m.order_id) === id) },
    );
    const reply = messages[0];
    if (reply === undefined || !isOk(reply)) throw errorForStatus(reply ?? {}, COINUT_REQUESTS.cancelOrder);
    const before = this.known.get(id);
    return before ? { status: 'canceled', order: { ...before, status: 'canceled', rawStatus: COINUT_REPLIES.cancelOrder } } : { status: 'canceled' };
  }

  /**
   * user_open_orders of the instrument, then trade_history for the order's fills. Found open → its
   * state with fills; not open but traded → filled, or canceled with its fills; neither → the last
   * state this adapter saw turned canceled, else OrderNotFound (see unknownOutcomeAbsenceMs).
   */
  async getOrder(ref: OrderRef): Promise<VenueOrder> {
    const instId = this.requireInstId(ref.symbol);
    const rows = await this.openRows(instId);
    const row = rows.find((r) => (ref.venueOrderId ? String(r.order_id) === ref.venueOrderId : clientOrdIdText(r.client_ord_id) === ref.clientOrderId));
    const venueOrderId = ref.venueOrderId ?? (row ? String(row.order_id) : undefined);
    const matches = (t: CoinutTrade) => (venueOrderId ? t.venueOrderId === venueOrderId : t.clientOrderId === ref.clientOrderId);
    const trades = (await this.trades(instId, this.searchBound(ref, venueOrderId))).filter(matches);
    let order: VenueOrder | undefined;
    if (row !== undefined) order = withFills(orderFromOpenOrder(row, ref.symbol), trades);
    else {
      // Without a venue id, trades of the client id may span orders (ids are not unique at the venue): take the newest order's.
      const newest = trades.length > 0 ? trades.reduce((a, b) => (Number(b.fill.fillId) > Number(a.fill.fillId) ? b : a)).venueOrderId : undefined;
      order = orderFromTrades(
        trades.filter((t) => t.venueOrderId === newest),
        ref.symbol,
        ref.clientOrderId ?? '',
      );
    }
    if (order === undefined && venueOrderId !== undefined) {
      const last = this.known.get(venueOrderId);
      if (last !== undefined) order = { ...last, status: last.type === 'market' ? 'expired' : 'canceled', rawStatus: 'absent from user_open_orders', fills: [] };
    }
    if (order === undefined) {
      throw new OrderNotFound(`Coinut: order ${ref.venueOrderId ?? 'with client_ord_id ' + ref.clientOrderId} is neither open nor traded`);
    }
    order.clientOrderId = ref.clientOrderId || order.clientOrderId;
    const sent = ref.clientOrderId ? this.sentAt.get(`c:${ref.clientOrderId}`) : undefined;
    if (sent !== undefined) this.noteSent(`v:${order.venueOrderId}`, sent);
    this.remember(order);
    return order;
  }

  /** Open orders of every listed instrument (one user_open_orders per instrument). */
  async openOrders(): Promise<VenueOrder[]> {
    const out: VenueOrder[] = [];
    for (const inst of this.instrumentMap.list()) {
      for (const row of await this.openRows(inst.instId)) out.push(orderFromOpenOrder(row, inst.symbol));
    }
    return out;
  }

  /**
   * The gateway's own orders (after a restart this adapter has seen none of them): their events
   * are reported from now on. By venue order id; a ref without one is adopted by its client order
   * id when its first event comes, as an unanswered create's is.
   */
  trackOrders(refs: OrderRef[]): void {
    for (const r of refs) {
      if (r.venueOrderId) this.track(r.venueOrderId);
      else if (r.clientOrderId) this.unanswered.add(r.clientOrderId);
    }
  }

  onEvent(listener: (event: OrderEvent) => void): void {
    this.eventListeners.push(listener);
  }

  onStreamState(listener: (state: StreamState) => void): void {
    this.stateListeners.push(listener);
  }

  // ------------------------------------------------------------------------------------- internals

  private async loadInstruments(): Promise<void> {
    const [reply] = await this.query({ request: COINUT_REQUESTS.instruments, sec_type: 'SPOT' });
    if (reply === undefined || !isOk(reply)) throw errorForStatus(reply ?? {}, COINUT_REQUESTS.instruments);
    this.instrumentMap = new CoinutInstrumentMap(instrumentsFromInstList(reply));
  }

  private requireInstId(symbol: string): number {
    const id = this.instrumentMap.instId(symbol);
    if (id === undefined) throw new OrderRejected('unknown_symbol', `Coinut lists no instrument ${symbol}`);
    return id;
  }

  /**
   * A create or cancel over the WS. While the link is down or going down it waits for the
   * reconnect, up to reconnectWaitMs, and tries again: CoinutNotConnected means the frame was not
   * handed to a socket, so nothing reached the venue and sending it now cannot place it twice.
   */
  private async orderRequest(body: Record<string, unknown>, opts: CoinutRequestOptions): Promise<CoinutJson[]> {
    const deadline = Date.now() + this.reconnectWaitMs;
    for (;;) {
      await this.ws.whenConnected(deadline - Date.now());
      try {
        return await this.limiter.schedule('orders', () => this.ws.request(body, opts));
      } catch (err) {
        if (!(err instanceof CoinutNotConnected) || Date.now() >= deadline) throw err;
        // A link terminated but not yet closed still reads as connected: give the close a moment.
        await new Promise((r) => setTimeout(r, RECONNECT_POLL_MS));
      }
    }
  }

  /** A query over the WS, or over REST while the WS is down. */
  private query(body: Record<string, unknown>, onSending?: () => void): Promise<CoinutJson[]> {
    return this.limiter.schedule('queries', async () => {
      onSending?.();
      if (!this.ws.connected) return this.ws.rest(body);
      try {
        return await this.ws.request(body);
      } catch (err) {
        // The link went down between the check and the send: nothing was sent, REST can serve it.
        if (err instanceof CoinutNotConnected) return this.ws.rest(body);
        throw err;
      }
    });
  }

  private async openRows(instId: number): Promise<CoinutJson[]> {
    const [reply] = await this.query({ request: COINUT_REQUESTS.openOrders, inst_id: instId });
    if (reply === undefined || !isOk(reply)) throw errorForStatus(reply ?? {}, COINUT_REQUESTS.openOrders);
    return openOrderRows(reply);
  }

  /**
   * trade_history of the instrument, newest first: back to `bound` (ms, venue time) when given,
   * else up to maxPages pages. A search queued and not yet sent that reaches back at least as far
   * serves this one too (it reads the venue after this call, so it proves as much).
   */
  private trades(instId: number, bound: number | undefined): Promise<CoinutTrade[]> {
    const queued = this.queuedSearches.get(instId) ?? [];
    const join = queued.find((q) => (q.bound === undefined ? bound === undefined : bound !== undefined && q.bound <= bound));
    if (join !== undefined) return join.result;
    const entry = { bound, result: undefined as unknown as Promise<CoinutTrade[]> };
    const leaveQueue = () => {
      const list = this.queuedSearches.get(instId);
      const i = list?.indexOf(entry) ?? -1;
      if (i >= 0) list!.splice(i, 1);
      if (list?.length === 0) this.queuedSearches.delete(instId);
    };
    entry.result = this.searchTrades(instId, bound, leaveQueue).finally(leaveQueue);
    queued.push(entry);
    this.queuedSearches.set(instId, queued);
    return entry.result;
  }

  private async searchTrades(instId: number, bound: number | undefined, onFirstPageSent: () => void): Promise<CoinutTrade[]> {
    const limit = COINUT_DEFAULTS.tradeHistoryPageSize;
    const maxPages = bound === undefined ? this.maxPages : COINUT_DEFAULTS.tradeHistoryBoundedMaxPages;
    const out: CoinutTrade[] = [];
    for (let page = 0; page < maxPages; page++) {
      const [reply] = await this.query({ request: COINUT_REQUESTS.tradeHistory, inst_id: instId, start: page * limit, limit }, page === 0 ? onFirstPageSent : undefined);
      if (reply === undefined || !isOk(reply)) throw errorForStatus(reply ?? {}, COINUT_REQUESTS.tradeHistory);
      const rows = tradesFromHistory(reply);
      out.push(...rows);
      if (rows.length < limit) return uniqueTrades(out);
      // Rows without a timestamp (0) say nothing about how far back the page reaches.
      const times = rows.map((r) => r.fill.time).filter((t) => t > 0);
      if (bound !== undefined && times.length > 0 && Math.min(...times) < bound) return uniqueTrades(out);
    }
    // Truncated: without a bound that is the documented window; with one, nothing may be concluded.
    if (bound === undefined) return uniqueTrades(out);
    throw new VenueError(`Coinut trade_history: more than ${maxPages} pages since the order was sent; its absence is not proven`);
  }

  /** How far back an order's trades can be: before its create was sent, allowing for the venue's clock. */
  private searchBound(ref: OrderRef, venueOrderId: string | undefined): number | undefined {
    const sent = (venueOrderId ? this.sentAt.get(`v:${venueOrderId}`) : undefined) ?? (ref.clientOrderId ? this.sentAt.get(`c:${ref.clientOrderId}`) : undefined);
    return sent === undefined ? undefined : sent - COINUT_DEFAULTS.tradeHistoryClockMarginMs;
  }

  private noteSent(key: string, at: number): void {
    if (!this.sentAt.has(key)) this.sentAt.set(key, at);
    while (this.sentAt.size > 2 * MAX_KNOWN_ORDERS) this.sentAt.delete(this.sentAt.keys().next().value as string);
  }

  private track(venueOrderId: string): void {
    if (!this.known.has(venueOrderId)) this.known.set(venueOrderId, undefined);
    this.trim();
  }

  private remember(order: VenueOrder): void {
    this.known.delete(order.venueOrderId); // re-insert: newest last
    this.known.set(order.venueOrderId, { ...order, fills: undefined });
    this.trim();
  }

  private trim(): void {
    while (this.known.size > MAX_KNOWN_ORDERS) this.known.delete(this.known.keys().next().value as string);
  }

  /** Venue id first; an unknown id is ours only when its client id belongs to an unanswered create. */
  private onVenueEvent(m: CoinutJson, receivedAt: number): void {
    const event = orderEventFrom(m, receivedAt);
    if (event === undefined) return;
    if (!this.known.has(event.venueOrderId)) {
      if (!this.unanswered.has(event.clientOrderId)) {
        this.log.debug({ venueOrderId: event.venueOrderId }, 'coinut event of another session ignored');
        return;
      }
      this.track(event.venueOrderId);
    }
    for (const l of this.eventListeners) {
      try {
        l(event);
      } catch (err) {
        this.log.error({ error: (err as Error)?.name, message: String((err as Error)?.message ?? '') }, 'coinut event listener threw');
      }
    }
  }

  private emitState(s: StreamState): void {
    for (const l of this.stateListeners) {
      try {
        l(s);
      } catch (err) {
        this.log.error({ error: (err as Error)?.name }, 'coinut state listener threw');
      }
    }
  }
}

function orderClientId(m: CoinutJson): string {
  const o = m.reply === COINUT_REPLIES.orderFilled && typeof m.order === 'object' && m.order !== null ? (m.order as CoinutJson) : m;
  return clientOrdIdText(o.client_ord_id);
}
