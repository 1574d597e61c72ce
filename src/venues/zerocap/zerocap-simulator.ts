// A wire-faithful Zerocap DMA simulator (see ../shared/venues/zerocap.md) on the shared
// SimHttpServer and MatchingEngine: REST under /v2 (create_order, fetch_order, fetch_orders,
// get_instruments, get_time), the three auth headers with the ±30 s timestamp window, and the WS
// stream on /v2 (same headers at the upgrade, `order` / `trade` subscriptions, ping → pong).
//
// Every order is fill-or-kill against the synthetic market maker, as Zerocap's are: it closes in
// the same request, filled or not. Through /__sim/config a test can make orders rest instead
// (`restNextOrders: n` or `restAllOrders: true`): they stay `open` until /__sim/trade fills them,
// or until `restingOrderTtlMs` closes them unfilled. `rejectNextOrders: n` makes the next n creates
// fail the venue's risk check (400 "Insufficient balance", nothing placed): an order the gateway
// cannot reject locally, for tests of the venue's own rejects.
//
// Choices where zerocap.md is silent (documented here, once):
// - REST errors: the HTTP status with the WS error object's fields, {"error_code":"<status>",
//   "error_message":"..."}; a 5xx answers plain text "Internal Server Error".
//     unknown / missing api-key, bad signature  → 401 Unauthorized / Invalid signature
//     timestamp missing, not a number, or more than 30 s from our clock (either way) → 401 "Request expired"
//     body not a JSON object, bad side / type / amount / price / client_order_id → 400 "Invalid <field>"
//     unknown symbol → 400 "Invalid symbol: <symbol>"; fetch_order of an unknown id → 404 "Order not found"
//     amount × price above the account's risk limit (/__sim/config maxOrderNotional; none by
//     default; Zerocap has per-account risk, GET /orders/get_risk) → 400 "Risk limit exceeded: ..."
//     rate limit → 429 "Too Many Requests" with Retry-After: 1
// - A limit order that cannot be filled whole at its price answers 200 with status `closed`,
//   filled 0 and error_message "Order could not be filled at the limit price" (the FOK kill).
// - `client_order_id` is echoed but not required to be unique (its rules are unconfirmed); at most 64 characters.
// - Fees are 0, as in every example (Zerocap quotes all-in prices).
// - Orders and trades have UUID ids. REST numbers are JSON numbers; on the WS, `fee` and `remaining`
//   are strings, as zerocap.md warns. Order pushes omit client_order_id (the documented example
//   does): correlate on `id`.
// - Stream per order and request: `open` (when accepted), one trade push per fill, then the order
//   again in its state after the request (`closed` with its trades). A FOK kill pushes only `closed`.
// - The WS upgrade with bad headers succeeds, then sends the documented 401 error and closes (1008).
//   A link that sends nothing for streamIdleTimeoutMs (default 60 s; unconfirmed) is closed.
// - `price` subscriptions are acknowledged; the simulator publishes no prices.
// - get_instruments: a list of CCXT-style markets (shape unconfirmed); get_time: {"timestamp": ms}.

import { createHmac, randomUUID } from 'node:crypto';
import Decimal from 'decimal.js';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { SimControlTarget } from '../sim/control-api';
import { FaultInjector, StreamOutbox } from '../sim/fault-injector';
import { EngineEvent, MatchingEngine, OrderCheckFailure, SimFill, SimOrder } from '../sim/matching-engine';
import { SimAuthResult, SimHttpRequest, SimHttpServer, SimReply, SimRoute, SimUpgradeDecision } from '../sim/sim-http-server';
import { jsonObjectBody, JsonNumber, parseJsonNumbersAsText, stringifyWithNumbers } from '../sim/sim-json';
import { NOOP_LOGGER, PerKeyRateLimiter, RunningSimulator, SimInstrument, SimLogger, SimulatorOptions } from '../sim/simulator';
import { ZEROCAP_PATHS, ZEROCAP_SIM_RATE_LIMITS, ZEROCAP_TIMESTAMP_WINDOW_MS, ZEROCAP_WS } from './zerocap-constants';

export type { RunningSimulator, SimulatorOptions } from '../sim/simulator';

/** The REST and WS path prefix: the base URLs end in /v2. */
const BASE_PATH = '/v2';
const MAX_CLIENT_ORDER_ID = 64;
const MAX_PAGE_LIMIT = 1000;
const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
const NOT_FILLED = 'Order could not be filled at the limit price';
const INSUFFICIENT_BALANCE = 'Insufficient balance';

/** Zerocap trades quote pairs like these; symbols are spelled with the slash. */
export const ZEROCAP_SIM_INSTRUMENTS: readonly SimInstrument[] = [
  { symbol: 'BTC/USD', baseAsset: 'BTC', quoteAsset: 'USD', tickSize: '0.01', stepSize: '0.00001', minQty: '0.00001', referencePrice: '60000' },
  { symbol: 'ETH/USD', baseAsset: 'ETH', quoteAsset: 'USD', tickSize: '0.01', stepSize: '0.0001', minQty: '0.0001', referencePrice: '3000' },
  { symbol: 'USDT/AUD', baseAsset: 'USDT', quoteAsset: 'AUD', tickSize: '0.00001', stepSize: '0.01', minQty: '1', referencePrice: '1.5' },
];

interface Credential {
  apiKey: string;
  secret: string;
}

interface StreamClient {
  ws: WebSocket;
  apiKey: string;
  orders: boolean;
  trades: boolean;
  lastSeen: number;
}

type Frame = { channel: 'order' | 'trade'; text: string };
type Json = Record<string, unknown>;

const json = (status: number, body: unknown): SimReply => ({ status, body: stringifyWithNumbers(body), contentType: 'application/json' });
const ok = (body: unknown): SimReply => json(200, body);
const fail = (status: number, message: string): SimReply => json(status, { error_code: String(status), error_message: message });
const invalid = (field: string): SimReply => fail(400, `Invalid ${field}`);

const UNAUTHORIZED = fail(401, 'Unauthorized');
const BAD_SIGNATURE = fail(401, 'Invalid signature');
const EXPIRED = fail(401, 'Request expired');
const NOT_FOUND = fail(404, 'Order not found');
const RATE_LIMITED: SimReply = { ...fail(429, 'Too Many Requests'), headers: { 'retry-after': '1' } };
const BANNED: SimReply = { ...fail(418, 'Banned'), headers: { 'retry-after': '60' } };
const INTERNAL = (status: number): SimReply => ({ status, body: 'Internal Server Error' });

const num = (v: string | undefined): JsonNumber => new JsonNumber(v === undefined || v === '' ? '0' : v);
const DECIMAL = /^(?:\d+\.?\d*|\.\d+)$/;

function checkFailureReply(f: OrderCheckFailure, symbol: string): SimReply {
  switch (f.kind) {
    case 'unknown_symbol':
      return fail(400, `Invalid symbol: ${symbol}`);
    case 'missing_price':
    case 'invalid_price':
      return invalid('price');
    case 'price_tick':
      return fail(400, `Invalid price: tick size is ${f.tickSize}`);
    case 'missing_qty':
    case 'invalid_qty':
      return invalid('amount');
    case 'qty_step':
      return fail(400, `Invalid amount: step size is ${f.stepSize}`);
    case 'min_qty':
      return fail(400, `Invalid amount: below minimum ${f.minQty}`);
    case 'min_notional':
      return fail(400, `Invalid amount: notional below minimum ${f.minNotional}`);
  }
}

/** Engine status → Zerocap's two confirmed words. */
function statusWord(o: SimOrder): 'open' | 'closed' {
  return o.status === 'new' || o.status === 'partially_filled' ? 'open' : 'closed';
}

function intField(v: unknown, fallback: number): number | null {
  if (v === undefined || v === null || v === '') return fallback;
  const s = String(v);
  return /^\d{1,15}$/.test(s) ? Number(s) : null;
}

class ZerocapSimulator {
  readonly engine: MatchingEngine;
  readonly faults = new FaultInjector();
  readonly http: SimHttpServer<Credential>;
  readonly control: SimControlTarget;
  private readonly clock: () => number;
  private readonly log: SimLogger;
  private readonly creds = new Map<string, Credential>();
  private readonly limiter: PerKeyRateLimiter;
  /** Engine order id ↔ our UUID; trade id → UUID. */
  private readonly uuidOf = new Map<string, string>();
  private readonly engineIdOf = new Map<string, string>();
  private readonly tradeUuidOf = new Map<string, string>();
  /** Each account's order UUIDs, oldest first (fetch_orders). */
  private readonly accountOrders = new Map<string, string[]>();
  private readonly clients = new Set<StreamClient>();
  private readonly outboxes = new Map<string, StreamOutbox<Frame>>();
  private readonly ttlTimers = new Set<NodeJS.Timeout>();
  private readonly housekeeping: NodeJS.Timeout;
  private batch = new Map<string, EngineEvent[]>();
  private batchScheduled = false;
  private restNextOrders = 0;
  private restAllOrders = false;
  private rejectNextOrders = 0;
  private restingOrderTtlMs = 0;
  /** Largest amount × price an order may have ('0': no limit). */
  private maxOrderNotional = new Decimal(0);
  private idleTimeoutMs = DEFAULT_IDLE_TIMEOUT_MS;

  constructor(opts: SimulatorOptions) {
    // The clockSkew fault moves the venue's clock: the ±30 s timestamp check, get_time, Date headers.
    this.clock = this.faults.venueClock(opts.clock ?? Date.now);
    this.log = opts.logger ?? NOOP_LOGGER;
    this.engine = new MatchingEngine({
      instruments: opts.instruments ?? ZEROCAP_SIM_INSTRUMENTS,
      clock: this.clock,
      takerFeeRate: '0',
      makerFeeRate: '0',
    });
    this.limiter = new PerKeyRateLimiter(opts.rateLimits ?? ZEROCAP_SIM_RATE_LIMITS);
    for (const c of opts.credentials) this.creds.set(c.apiKey, { apiKey: c.apiKey, secret: c.apiSecret });
    this.engine.onEvent((e) => this.onEngineEvent(e));

    this.control = {
      name: 'zerocap',
      engine: this.engine,
      faults: this.faults,
      settingKeys: ['rateLimits', 'restNextOrders', 'restAllOrders', 'rejectNextOrders', 'restingOrderTtlMs', 'streamIdleTimeoutMs', 'maxOrderNotional'],
      configure: (s) => this.configure(s),
      health: () => ({ streams: this.clients.size, restNextOrders: this.restNextOrders, restAllOrders: this.restAllOrders }),
      // Orders and trades are UUIDs on the wire: /__sim/ shows those, so tests compare them with FIX 37.
      wireIds: {
        orderId: (engineOrderId) => this.uuidOf.get(engineOrderId) ?? engineOrderId,
        tradeId: (engineTradeId) => this.tradeUuid(engineTradeId),
      },
    };
    this.http = new SimHttpServer<Credential>({
      routes: this.routes(),
      authenticate: (req) => this.authenticate(req.headers),
      rateKey: (c) => c.apiKey,
      replies: { noRoute: () => fail(404, 'Not Found'), rateLimited: RATE_LIMITED, banned: BANNED, internalError: INTERNAL },
      control: this.control,
      limiter: this.limiter,
      upgrade: (req, path) => this.upgrade(req, path),
      logger: this.log,
      clock: this.clock,
    });
    this.faults.onDropStreams(() => this.http.dropWebSockets());
    this.housekeeping = setInterval(() => this.dropIdleStreams(), 1000);
    this.housekeeping.unref();
  }

  private routes(): Map<string, SimRoute<Credential>> {
    const p = (path: string) => BASE_PATH + path;
    return new Map<string, SimRoute<Credential>>([
      [`POST ${p(ZEROCAP_PATHS.createOrder)}`, { signed: true, operation: 'create', rate: 'orders', handle: (r, c) => this.createOrder(r, c!) }],
      [`GET ${p(ZEROCAP_PATHS.fetchOrder)}`, { signed: true, operation: 'query', rate: 'queries', handle: (r, c) => this.fetchOrder(r, c!) }],
      [`POST ${p(ZEROCAP_PATHS.fetchOrders)}`, { signed: true, operation: 'openOrders', rate: 'queries', handle: (r, c) => this.fetchOrders(r, c!) }],
      [`GET ${p(ZEROCAP_PATHS.instruments)}`, { signed: true, operation: 'instruments', rate: 'queries', handle: () => this.instruments() }],
      [`GET ${p(ZEROCAP_PATHS.serverTime)}`, { signed: true, rate: 'queries', handle: () => ok({ timestamp: new JsonNumber(String(this.clock())) }) }],
    ]);
  }

  // ---- auth ----------------------------------------------------------------------------------

  /** api-key known, signature = hex HMAC-SHA256(secret, timestamp header as sent), timestamp within ±30 s. */
  private authenticate(headers: IncomingMessage['headers']): SimAuthResult<Credential> {
    const apiKey = headers['api-key'];
    const cred = typeof apiKey === 'string' ? this.creds.get(apiKey) : undefined;
    if (cred === undefined) return { ok: false, reply: UNAUTHORIZED };
    const timestamp = headers['timestamp'];
    const signature = headers['signature'];
    if (typeof signature !== 'string' || signature === '') return { ok: false, reply: BAD_SIGNATURE };
    // Decimal timestamps are allowed (docs.zerocap.com); the signature covers the string as sent.
    if (typeof timestamp !== 'string' || !/^\d{1,12}(\.\d+)?$/.test(timestamp)) return { ok: false, reply: EXPIRED };
    const expected = createHmac('sha256', cred.secret).update(timestamp).digest('hex');
    if (signature.toLowerCase() !== expected) return { ok: false, reply: BAD_SIGNATURE };
    if (Math.abs(this.clock() - Number(timestamp) * 1000) > ZEROCAP_TIMESTAMP_WINDOW_MS) return { ok: false, reply: EXPIRED };
    return { ok: true, auth: cred };
  }

  // ---- endpoints -----------------------------------------------------------------------------

  private createOrder(req: SimHttpRequest, cred: Credential): SimReply {
    const b = jsonObjectBody(req.body);
    if (b === undefined) return invalid('request body');
    const symbol = b.symbol;
    if (typeof symbol !== 'string' || symbol === '') return invalid('symbol');
    if (this.engine.instrument(symbol) === undefined) return fail(400, `Invalid symbol: ${symbol}`);
    const side = b.side;
    if (side !== 'buy' && side !== 'sell') return invalid('side');
    const type = b.type ?? 'limit';
    if (type !== 'limit' && type !== 'market') return invalid('type');
    const amount = b.amount;
    if (typeof amount !== 'string' || !DECIMAL.test(amount)) return invalid('amount');
    const price = b.price ?? '0';
    if (typeof price !== 'string' || !DECIMAL.test(price)) return invalid('price');
    const clientOrderId = b.client_order_id ?? '';
    if (typeof clientOrderId !== 'string' || clientOrderId.length > MAX_CLIENT_ORDER_ID) return invalid('client_order_id');

    if (this.rejectNextOrders > 0) {
      this.rejectNextOrders--;
      return fail(400, INSUFFICIENT_BALANCE);
    }
    if (type === 'limit' && !this.maxOrderNotional.isZero()) {
      const notional = new Decimal(amount).times(price);
      if (notional.gt(this.maxOrderNotional)) {
        return fail(400, `Risk limit exceeded: order notional ${notional.toFixed()} above ${this.maxOrderNotional.toFixed()}`);
      }
    }
    const rest = type === 'limit' && (this.restAllOrders || this.restNextOrders > 0);
    if (rest && !this.restAllOrders) this.restNextOrders--;
    const placed = this.engine.place({
      account: cred.apiKey,
      clientOrderId,
      symbol,
      side,
      type,
      qty: amount,
      price: type === 'limit' ? price : undefined,
      timeInForce: rest ? 'GTC' : 'FOK',
    });
    if (!placed.ok) return checkFailureReply(placed.failure, symbol);
    const o = placed.order;
    if (o.resting && this.restingOrderTtlMs > 0) this.scheduleTtl(o);
    return ok(this.orderObject(o, 'rest'));
  }

  private fetchOrder(req: SimHttpRequest, cred: Credential): SimReply {
    const id = req.query.get('id');
    if (id === null || id === '') return invalid('id');
    const o = this.orderByUuid(cred.apiKey, id);
    return o === undefined ? NOT_FOUND : ok(this.orderObject(o, 'rest'));
  }

  private fetchOrders(req: SimHttpRequest, cred: Credential): SimReply {
    const b = req.body.trim() === '' ? {} : jsonObjectBody(req.body);
    if (b === undefined) return invalid('request body');
    const page = intField(b.page, 1);
    const limit = intField(b.limit, 500);
    const start = intField(b.start_datetime, 0);
    const end = intField(b.end_datetime, 0);
    if (page === null || page < 1) return invalid('page');
    if (limit === null || limit < 1 || limit > MAX_PAGE_LIMIT) return invalid('limit');
    if (start === null) return invalid('start_datetime');
    if (end === null) return invalid('end_datetime');
    const sortOrder = b.sort_order ?? 'desc';
    if (sortOrder !== 'asc' && sortOrder !== 'desc') return invalid('sort_order');
    const str = (v: unknown): string => (typeof v === 'string' ? v : '');
    const symbol = str(b.symbol);
    const status = str(b.status);
    const orderType = str(b.order_type);
    const side = str(b.side);
    const ids = str(b.ids) === '' ? undefined : new Set(str(b.ids).split(',').map((s) => s.trim()));
    const matches: SimOrder[] = [];
    for (const uuid of this.accountOrders.get(cred.apiKey) ?? []) {
      if (ids !== undefined && !ids.has(uuid)) continue;
      const o = this.orderByUuid(cred.apiKey, uuid);
      if (o === undefined) continue;
      if (symbol !== '' && o.symbol !== symbol) continue;
      if (status !== '' && statusWord(o) !== status) continue;
      if (orderType !== '' && o.type !== orderType) continue;
      if (side !== '' && o.side !== side) continue;
      if (start > 0 && o.createdAt < start) continue;
      if (end > 0 && o.createdAt > end) continue;
      matches.push(o);
    }
    if (sortOrder === 'desc') matches.reverse();
    const pageRows = matches.slice((page - 1) * limit, page * limit);
    return ok({ order_list: pageRows.map((o) => this.orderObject(o, 'rest')), status: 'success', total: matches.length, page });
  }

  private instruments(): SimReply {
    return ok(
      this.engine.instruments().map((i) => ({
        symbol: i.symbol,
        base: i.baseAsset,
        quote: i.quoteAsset,
        active: true,
        precision: { price: num(i.tickSize), amount: num(i.stepSize) },
        limits: { amount: { min: num(i.minQty), max: null }, cost: { min: i.minNotional === undefined ? null : num(i.minNotional) } },
      })),
    );
  }

  // ---- wire objects --------------------------------------------------------------------------

  private uuid(engineId: string, account: string): string {
    let id = this.uuidOf.get(engineId);
    if (id === undefined) {
      id = randomUUID();
      this.uuidOf.set(engineId, id);
      this.engineIdOf.set(id, engineId);
      let list = this.accountOrders.get(account);
      if (list === undefined) this.accountOrders.set(account, (list = []));
      list.push(id);
    }
    return id;
  }

  private tradeUuid(tradeId: string): string {
    let id = this.tradeUuidOf.get(tradeId);
    if (id === undefined) this.tradeUuidOf.set(tradeId, (id = randomUUID()));
    return id;
  }

  private orderByUuid(account: string, uuid: string): SimOrder | undefined {
    const engineId = this.engineIdOf.get(uuid);
    return engineId === undefined ? undefined : this.engine.get(account, { orderId: engineId });
  }

  private tradeObject(f: SimFill, orderUuid: string, o: SimOrder): Json {
    return {
      id: this.tradeUuid(f.tradeId),
      timestamp: new JsonNumber(String(f.time)),
      symbol: f.symbol,
      order: orderUuid,
      type: o.type,
      side: f.side,
      taker_or_maker: f.isMaker ? 'maker' : 'taker',
      price: num(f.price),
      amount: num(f.qty),
      cost: num(f.quoteQty),
      order_from: 'coinroutes',
      fee: num(f.fee),
      counterparty: 'zerocap',
    };
  }

  /** The order object: REST ('rest') with client_order_id and numbers; the stream's ('ws') without it, fee and remaining as strings. */
  private orderObject(o: SimOrder, form: 'rest' | 'ws', fills: SimFill[] = this.engine.fills(o.orderId)): Json {
    const id = this.uuid(o.orderId, o.account);
    const remaining = statusWord(o) === 'open' ? o.leavesQty : '0';
    const lastTrade = fills.length > 0 ? fills[fills.length - 1].time : o.createdAt;
    const obj: Json = {
      id,
      timestamp: new JsonNumber(String(o.createdAt)),
      last_trade_timestamp: new JsonNumber(String(lastTrade)),
      status: statusWord(o),
      symbol: o.symbol,
      type: o.type,
      time_in_force: 'FOK',
      side: o.side,
      price: num(o.price),
      average: num(o.avgPrice),
      amount: num(o.qty),
      filled: num(o.cumQty),
      remaining: form === 'ws' ? remaining : num(remaining),
      cost: num(o.cumQuote),
      fee: form === 'ws' ? o.fee : num(o.fee),
      error_message: o.rejectReason === 'fok_not_fillable' ? NOT_FILLED : '',
      client_order_id: form === 'rest' ? o.clientOrderId : undefined,
      trades: fills.map((f) => this.tradeObject(f, id, o)),
    };
    return obj;
  }

  // ---- resting orders (test control only) ----------------------------------------------------

  private scheduleTtl(o: SimOrder): void {
    const t = setTimeout(() => {
      this.ttlTimers.delete(t);
      // Closed unfilled (or with what filled so far): the venue ends it, nobody canceled.
      this.engine.expire(o.account, { orderId: o.orderId });
    }, this.restingOrderTtlMs);
    this.ttlTimers.add(t);
  }

  // ---- stream --------------------------------------------------------------------------------

  private upgrade(req: IncomingMessage, path: string): SimUpgradeDecision {
    if (path !== BASE_PATH && path !== BASE_PATH + '/') return { accept: false, status: 404 };
    const auth = this.authenticate(req.headers);
    return {
      accept: true,
      onOpen: (ws: WebSocket) => {
        if (!auth.ok) {
          ws.send(JSON.stringify({ type: 'error', error_code: '401', error_message: 'Unauthorized' }));
          ws.close(1008, 'Unauthorized');
          return;
        }
        const client: StreamClient = { ws, apiKey: auth.auth.apiKey, orders: false, trades: false, lastSeen: Date.now() };
        this.clients.add(client);
        ws.on('message', (data) => this.onStreamMessage(client, data.toString()));
        ws.on('close', () => this.clients.delete(client));
        ws.send(JSON.stringify({ type: 'message', message: ZEROCAP_WS.connected }));
      },
    };
  }

  private onStreamMessage(client: StreamClient, text: string): void {
    client.lastSeen = Date.now();
    let m: Json | undefined;
    try {
      const v = parseJsonNumbersAsText(text);
      m = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
    } catch {
      m = undefined;
    }
    const send = (o: unknown) => client.ws.send(JSON.stringify(o));
    if (m?.type === 'message' && m.message === 'ping') return send({ type: 'message', message: ZEROCAP_WS.pong });
    if (m?.type === 'order' || m?.type === 'trade' || (m?.type === 'price' && typeof m.symbol === 'string')) {
      if (m.type === 'order') client.orders = true;
      if (m.type === 'trade') client.trades = true;
      return send({ type: 'message', message: ZEROCAP_WS.subscribed(m.type) });
    }
    send({ type: 'error', error_code: '400', error_message: 'invalid message' });
  }

  private dropIdleStreams(): void {
    const now = Date.now();
    for (const c of this.clients) {
      if (now - c.lastSeen > this.idleTimeoutMs) {
        this.log.warn({ idleMs: now - c.lastSeen }, 'zerocap stream idle: closed');
        this.clients.delete(c);
        c.ws.terminate();
      }
    }
  }

  /** Events of one event-loop turn are turned into pushes together (see the header for the order). */
  private onEngineEvent(e: EngineEvent): void {
    const account = e.order.account;
    this.uuid(e.order.orderId, account);
    let list = this.batch.get(account);
    if (list === undefined) this.batch.set(account, (list = []));
    list.push(e);
    if (!this.batchScheduled) {
      this.batchScheduled = true;
      setImmediate(() => this.flushBatch());
    }
  }

  private flushBatch(): void {
    this.batchScheduled = false;
    const batch = this.batch;
    this.batch = new Map();
    for (const [account, events] of batch) {
      if (![...this.clients].some((c) => c.apiKey === account)) continue;
      const frames: Frame[] = [];
      const byOrder = new Map<string, EngineEvent[]>();
      for (const e of events) {
        let l = byOrder.get(e.order.orderId);
        if (l === undefined) byOrder.set(e.order.orderId, (l = []));
        l.push(e);
      }
      for (const [orderId, list] of byOrder) {
        const orderFrame = (o: SimOrder, fills?: SimFill[]): Frame => ({
          channel: 'order',
          text: stringifyWithNumbers({ type: 'order', data: this.orderObject(o, 'ws', fills) }),
        });
        const accepted = list.find((e) => e.type === 'accepted');
        // The `open` push as the order stood when accepted: nothing filled, no trades yet.
        if (accepted !== undefined) frames.push(orderFrame(accepted.order, []));
        const now = this.engine.get(account, { orderId }) ?? list[list.length - 1].order;
        const orderUuid = this.uuid(orderId, account);
        for (const e of list) {
          if (e.type !== 'fill') continue;
          const t = this.tradeObject(e.fill, orderUuid, e.order);
          frames.push({
            channel: 'trade',
            text: stringifyWithNumbers({
              type: 'trade',
              data: {
                id: t.id,
                timestamp: String(e.fill.time),
                symbol: t.symbol,
                order: t.order,
                type: t.type,
                side: t.side,
                takerOrMaker: t.taker_or_maker,
                price: t.price,
                amount: t.amount,
                cost: t.cost,
                orderFrom: t.order_from,
                counterparty: t.counterparty,
              },
            }),
          });
        }
        if (list.some((e) => e.type !== 'accepted')) frames.push(orderFrame(now));
      }
      this.outbox(account).push(frames);
    }
  }

  private outbox(account: string): StreamOutbox<Frame> {
    let box = this.outboxes.get(account);
    if (box === undefined) {
      box = new StreamOutbox<Frame>(this.faults, (frames) => this.deliver(account, frames));
      this.outboxes.set(account, box);
    }
    return box;
  }

  private deliver(account: string, frames: Frame[]): void {
    for (const c of this.clients) {
      if (c.apiKey !== account) continue;
      for (const f of frames) if (f.channel === 'order' ? c.orders : c.trades) c.ws.send(f.text);
    }
  }

  // ---- settings and lifecycle ----------------------------------------------------------------

  configure(s: Record<string, unknown>): void {
    const number = (k: string, v: unknown, min: number): number => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw new Error(`${k} must be a number >= ${min}`);
      return v;
    };
    if (s.rateLimits !== undefined) {
      const r = s.rateLimits as Record<string, unknown>;
      this.limiter.setLimits({
        ordersPerSecond: number('rateLimits.ordersPerSecond', r?.ordersPerSecond, 1),
        queriesPerSecond: number('rateLimits.queriesPerSecond', r?.queriesPerSecond, 1),
      });
    }
    if (s.restNextOrders !== undefined) {
      const n = number('restNextOrders', s.restNextOrders, 0);
      if (!Number.isInteger(n)) throw new Error('restNextOrders must be an integer');
      this.restNextOrders = n;
    }
    if (s.rejectNextOrders !== undefined) {
      const n = number('rejectNextOrders', s.rejectNextOrders, 0);
      if (!Number.isInteger(n)) throw new Error('rejectNextOrders must be an integer');
      this.rejectNextOrders = n;
    }
    if (s.restAllOrders !== undefined) {
      if (typeof s.restAllOrders !== 'boolean') throw new Error('restAllOrders must be true or false');
      this.restAllOrders = s.restAllOrders;
    }
    if (s.restingOrderTtlMs !== undefined) this.restingOrderTtlMs = number('restingOrderTtlMs', s.restingOrderTtlMs, 0);
    if (s.maxOrderNotional !== undefined) {
      if (typeof s.maxOrderNotional !== 'string' || !DECIMAL.test(s.maxOrderNotional)) throw new Error('maxOrderNotional must be a decimal string');
      this.maxOrderNotional = new Decimal(s.maxOrderNotional);
    }
    if (s.streamIdleTimeoutMs !== undefined) this.idleTimeoutMs = number('streamIdleTimeoutMs', s.streamIdleTimeoutMs, 1);
  }

  async close(): Promise<void> {
    clearInterval(this.housekeeping);
    for (const t of this.ttlTimers) clearTimeout(t);
    this.ttlTimers.clear();
    for (const box of this.outboxes.values()) box.close();
    this.clients.clear();
    await this.http.close();
  }
}

export async function startZerocapSimulator(opts: SimulatorOptions): Promise<RunningSimulator> {
  const sim = new ZerocapSimulator(opts);
  const { port, urlHost } = await sim.http.listen(opts.host ?? '127.0.0.1', opts.port ?? 0);
  (opts.logger ?? NOOP_LOGGER).info({ port }, 'Zerocap simulator listening');
  return {
    // The base URLs end in /v2, exactly as zerocap.md lists the venue's.
    restUrl: `http://${urlHost}:${port}${BASE_PATH}`,
    wsUrl: `ws://${urlHost}:${port}${BASE_PATH}`,
    port,
    engine: sim.engine,
    faults: sim.faults,
    close: () => sim.close(),
  };
}
