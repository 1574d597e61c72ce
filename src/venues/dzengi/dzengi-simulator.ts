// A wire-faithful Dzengi.com simulator (see ../shared/venues/dzengi.md): the venue's v2 REST
// paths, form/query parameters, X-MBX-APIKEY + HMAC signature and recvWindow checks, order JSON,
// statuses and `{code, msg}` errors over node:http, on the shared MatchingEngine and the shared
// SimHttpServer (routes, auth hook, rate limits, faults, /__sim/ control). Dzengi has no client
// order id and no push stream for own orders: orders are known by their UUID `orderId` only and
// their state is read by polling. The WS `/connect` endpoint answers pings (the venue closes a
// connection not pinged for 30 s) and carries no order events.
//
// From dzengi.md: paths; signature over query + body exactly as sent, `/` as %2F; recvWindow
// default 5000, max 60000, accepted when timestamp < serverTime + 1000 and serverTime - timestamp
// <= recvWindow; the query wins over the body on a duplicate key; UUID-shaped orderId; executedQty
// negative on SELL; create / cancel / openOrders / fetchOrder field names; statuses incl. CREATED
// in fetchOrder and EXPIRED for IOC/FOK; cancel only for LIMIT orders ("FIELD_VALIDATION_ERROR
// Cancel is available only for LIMIT order"); error codes; excess quantity decimals rounded down
// and excess price decimals rounded up; exchangeInfo rateLimits 1200 weight/min, 10 orders/s.
//
// Where dzengi.md is silent we do what a Binance-style API does, and say so:
// - totalParams with both a query and a body is their plain concatenation (Binance's rule).
// - Codes/messages: unknown API key 401 -2015, missing key 401 -2014, bad signature 400 -1022,
//   missing parameter 400 -1102, bad value 400 -1100, unknown parameter 400 -1104, filter
//   failure 400 -1013, unknown symbol 400 -1121, cancel of a closed order 400 -2011, unknown
//   order 400 -2013, rate limit 429 -1003 (+ Retry-After), 5xx {"code":-1000}.
// - recvWindow above 60000 → 400 -1128 (dzengi.md lists no dedicated code).
// - newOrderRespType defaults to ACK (CCXT: "we change it from 'ACK' by default").
// - A FOK order that cannot fill completely answers 200 with status EXPIRED and nothing executed.
// - MARKET orders run fill-or-kill (the venue's market replies say FOK): a timeInForce other
//   than FOK on a MARKET order is -1128; its price, if sent, is ignored.
// - LIMIT without timeInForce → -1102 (Binance requires it; CCXT always sends it).
// - myTrades needs a symbol, returns the most recent `limit` (default 500, max 1000) trades, or
//   the first `limit` from startTime; qty is positive, side in isBuyer.
// - The weight budget (1200/min, every endpoint weight 1) is enforced as 10 orders/s + 20
//   queries/s per key, the framework's per-second windows.

import type { IncomingMessage } from 'node:http';
import Decimal from 'decimal.js';
import type { WebSocket } from 'ws';
import { hmacSha256HexMatches, withoutSignatureParam } from '../common/hmac-signing';
import { SimControlTarget } from '../sim/control-api';
import { FaultInjector } from '../sim/fault-injector';
import { MatchingEngine, OrderCheckFailure, SimFill, SimOrder, SimTimeInForce } from '../sim/matching-engine';
import { SimAuthResult, SimHttpRequest, SimHttpServer, SimReply, SimRoute, SimUpgradeDecision } from '../sim/sim-http-server';
import { NOOP_LOGGER, PerKeyRateLimiter, RunningSimulator, SimInstrument, SimLogger, SimulatorOptions } from '../sim/simulator';
import { DZENGI_PATHS, DZENGI_RECV_WINDOW } from './dzengi-constants';

export type { RunningSimulator, SimInstrument, SimulatorOptions } from '../sim/simulator';

export const DEFAULT_DZENGI_SIM_INSTRUMENTS: readonly SimInstrument[] = [
  { symbol: 'BTC/USD', baseAsset: 'BTC', quoteAsset: 'USD', tickSize: '0.01', stepSize: '0.0001', minQty: '0.0001', minNotional: '5', referencePrice: '60000' },
  { symbol: 'ETH/USD', baseAsset: 'ETH', quoteAsset: 'USD', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '5', referencePrice: '3000' },
  { symbol: 'LTC/BTC', baseAsset: 'LTC', quoteAsset: 'BTC', tickSize: '0.000001', stepSize: '0.01', minQty: '0.01', referencePrice: '0.0012' },
];

const PUBLISHED = { ordersPerSecond: 10, queriesPerSecond: 20 };
/** The venue closes a WS connection not pinged for this long. */
const WS_IDLE_CLOSE_MS = 30_000;
const DEFAULT_TRADES_LIMIT = 500;
const MAX_TRADES_LIMIT = 1000;

const ORDER_PARAMS = new Set(['symbol', 'side', 'type', 'quantity', 'price', 'timeInForce', 'newOrderRespType', 'recvWindow', 'timestamp', 'signature']);
/** Leverage / CFD parameters: real on the venue, not simulated for spot symbols. */
const LEVERAGE_PARAMS = new Set([
  'accountId',
  'leverage',
  'takeProfit',
  'stopLoss',
  'guaranteedStopLoss',
  'trailingStopLoss',
  'profitDistance',
  'stopDistance',
  'expireTimestamp',
]);

type Code = number;

function ok(body: unknown): SimReply {
  return { status: 200, body };
}

function error(status: number, code: Code, msg: string): SimReply {
  return { status, body: { code, msg } };
}

const missing = (name: string): SimReply => error(400, -1102, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`);
const illegal = (name: string, legal?: string): SimReply =>
  error(400, -1100, `Illegal characters found in parameter '${name}'${legal ? `; legal range is '${legal}'` : ''}.`);
const INVALID_SYMBOL = error(400, -1121, 'Invalid symbol.');
const ORDER_NOT_FOUND = error(400, -2013, 'Order does not exist.');
const RATE_LIMITED: SimReply = { ...error(429, -1003, 'Too many requests; current limit is 1200 request weight per 1 MINUTE.'), headers: { 'retry-after': '60' } };
const BANNED: SimReply = { ...error(418, -1003, 'Way too many requests; IP banned.'), headers: { 'retry-after': '120' } };
const INTERNAL = (status: number): SimReply => error(status, -1000, 'An unknown error occured while processing the request.');
const CANCEL_LIMIT_ONLY = error(400, -1128, 'FIELD_VALIDATION_ERROR Cancel is available only for LIMIT order');

interface Credential {
  apiKey: string;
  secret: string;
  accountId: string;
}

interface AuthedRequest {
  cred: Credential;
  /** Query and body parameters merged; the query wins on a duplicate key. */
  params: Map<string, string>;
}

type Route = SimRoute<AuthedRequest>;

// ---- wire mapping (pure) ----------------------------------------------------------------------

/** Engine ids are numeric; the venue's are UUID-shaped: the id's hex, 32 digits, 8-4-4-4-12. */
export function uuidFromEngineId(id: string): string {
  const hex = BigInt(id).toString(16).padStart(32, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function engineIdFromUuid(uuid: string): string | undefined {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(uuid)) return undefined;
  return BigInt('0x' + uuid.replace(/-/g, '')).toString();
}

/** The venue writes quantities with a decimal point ("40.0", "0.0"). */
function withPoint(s: string): string {
  return s.includes('.') ? s : s + '.0';
}

/** executedQty is negative on SELL orders (CCXT: "positive for BUY, negative for SELL"). */
function signedExecuted(o: SimOrder): string {
  const q = withPoint(o.cumQty);
  return o.side === 'sell' && !new Decimal(o.cumQty).isZero() ? '-' + q : q;
}

function statusWord(o: SimOrder): string {
  switch (o.status) {
    case 'new':
      return 'NEW';
    case 'partially_filled':
      return 'PARTIALLY_FILLED';
    case 'filled':
      return 'FILLED';
    case 'canceled':
      return 'CANCELED';
    case 'expired':
      return 'EXPIRED';
    case 'rejected':
      // Only FOK-not-fillable reaches here (no post-only on Dzengi): Binance-style EXPIRED.
      return 'EXPIRED';
  }
}

const sideWord = (o: { side: string }): string => (o.side === 'buy' ? 'BUY' : 'SELL');
const typeWord = (o: SimOrder): string => (o.type === 'limit' ? 'LIMIT' : 'MARKET');
const priceOf = (o: SimOrder): string => o.price ?? (o.avgPrice === '0' ? '0' : o.avgPrice);

function fillJson(f: SimFill): Record<string, string> {
  return { price: f.price, qty: withPoint(f.qty), commission: f.fee, commissionAsset: f.feeAsset };
}

/** Create / cancel reply shape (newOrderRespType RESULT). */
function resultJson(o: SimOrder): Record<string, unknown> {
  return {
    symbol: o.symbol,
    orderId: uuidFromEngineId(o.orderId),
    transactTime: String(o.updatedAt),
    price: priceOf(o),
    origQty: withPoint(o.qty),
    executedQty: signedExecuted(o),
    status: statusWord(o),
    timeInForce: o.timeInForce,
    type: typeWord(o),
    side: sideWord(o),
  };
}

/** openOrders row shape. */
function openOrderJson(o: SimOrder): Record<string, unknown> {
  return {
    symbol: o.symbol,
    orderId: uuidFromEngineId(o.orderId),
    price: priceOf(o),
    origQty: withPoint(o.qty),
    executedQty: signedExecuted(o),
    status: statusWord(o),
    timeInForce: o.timeInForce,
    type: typeWord(o),
    side: sideWord(o),
    time: String(o.createdAt),
    updateTime: String(o.updatedAt),
    leverage: false,
    working: o.resting,
  };
}

/** fetchOrder shape: other field names (quantity, timeInForceType, timestamp), no executedQty, an open order CREATED. */
function fetchOrderJson(o: SimOrder, accountId: string, fills: SimFill[]): Record<string, unknown> {
  return {
    accountId,
    orderId: uuidFromEngineId(o.orderId),
    symbol: o.symbol,
    quantity: withPoint(o.qty),
    price: priceOf(o),
    timestamp: String(o.createdAt),
    status: o.status === 'new' ? 'CREATED' : statusWord(o),
    type: typeWord(o),
    timeInForceType: o.timeInForce,
    side: sideWord(o),
    fills: fills.map(fillJson),
  };
}

function myTradeJson(f: SimFill): Record<string, unknown> {
  const buyer = f.side === 'buy';
  return {
    symbol: f.symbol,
    id: f.execId,
    orderId: uuidFromEngineId(f.orderId),
    price: f.price,
    qty: withPoint(f.qty),
    commission: f.fee,
    commissionAsset: f.feeAsset,
    time: String(f.time),
    buyer,
    maker: f.isMaker,
    isBuyer: buyer,
    isMaker: f.isMaker,
  };
}

function checkFailureReply(f: OrderCheckFailure): SimReply {
  switch (f.kind) {
    case 'unknown_symbol':
      return INVALID_SYMBOL;
    case 'missing_price':
      return missing('price');
    case 'invalid_price':
      return error(400, -1030, 'You mentioned an invalid value for the price parameter.');
    case 'price_tick':
      return error(400, -1013, `Filter failure: PRICE_FILTER (tickSize ${f.tickSize})`);
    case 'missing_qty':
      return missing('quantity');
    case 'invalid_qty':
      return illegal('quantity');
    case 'qty_step':
      return error(400, -1013, `Filter failure: LOT_SIZE (stepSize ${f.stepSize})`);
    case 'min_qty':
      return error(400, -1013, `Filter failure: LOT_SIZE (minQty ${f.minQty})`);
    case 'min_notional':
      return error(400, -1013, `Filter failure: MIN_NOTIONAL (minNotional ${f.minNotional})`);
  }
}

/** Excess decimals: quantity rounded down to the step, price up to the tick (dzengi.md, seed). */
function roundTo(value: string, unit: string, mode: Decimal.Rounding): string | undefined {
  if (!/^\d+(\.\d+)?$/.test(value)) return undefined;
  const u = new Decimal(unit);
  return new Decimal(value).div(u).toDecimalPlaces(0, mode).times(u).toFixed();
}

function intParam(v: string | undefined): number | undefined | null {
  if (v === undefined) return undefined;
  return /^\d{1,16}$/.test(v) ? Number(v) : null;
}

// ---- the simulator ----------------------------------------------------------------------------

class DzengiSimulator {
  readonly engine: MatchingEngine;
  readonly faults = new FaultInjector();
  readonly http: SimHttpServer<AuthedRequest>;
  readonly control: SimControlTarget;
  private readonly clock: () => number;
  private readonly log: SimLogger;
  private readonly creds = new Map<string, Credential>();
  private readonly limiter: PerKeyRateLimiter;
  /** What the limiter enforces, published in exchangeInfo. */
  private limits: { ordersPerSecond: number; queriesPerSecond: number };
  private readonly sockets = new Map<WebSocket, NodeJS.Timeout>();

  constructor(opts: SimulatorOptions) {
    const hostClock = opts.clock ?? Date.now;
    // The clockSkew fault moves the venue's clock (timestamp checks, the time endpoint).
    this.clock = () => hostClock() + this.faults.clockOffsetMs;
    this.log = opts.logger ?? NOOP_LOGGER;
    this.engine = new MatchingEngine({ instruments: opts.instruments ?? DEFAULT_DZENGI_SIM_INSTRUMENTS, clock: this.clock });
    this.limits = opts.rateLimits ?? PUBLISHED;
    this.limiter = new PerKeyRateLimiter(this.limits);
    opts.credentials.forEach((c, i) => {
      this.creds.set(c.apiKey, { apiKey: c.apiKey, secret: c.apiSecret, accountId: (109698017413125316n + BigInt(i)).toString() });
    });
    this.faults.onDropStreams(() => this.http.dropWebSockets());
    this.control = {
      name: 'dzengi',
      engine: this.engine,
      faults: this.faults,
      settingKeys: ['rateLimits'],
      configure: (s) => this.configure(s),
      health: () => ({ webSockets: this.http.wss.clients.size }),
    };
    this.http = new SimHttpServer<AuthedRequest>({
      routes: this.routes(),
      authenticate: (req) => this.authenticate(req),
      rateKey: (a) => a.cred.apiKey,
      replies: {
        noRoute: () => ({ status: 404, body: 'Not Found' }),
        rateLimited: RATE_LIMITED,
        banned: BANNED,
        internalError: INTERNAL,
      },
      control: this.control,
      limiter: this.limiter,
      upgrade: (req, path) => this.upgrade(req, path),
      logger: this.log,
    });
  }

  private routes(): Map<string, Route> {
    const signed = (operation: Route['operation'], rate: Route['rate'], handle: (r: AuthedRequest) => SimReply): Route => ({
      signed: true,
      operation,
      rate,
      handle: (_req, auth) => handle(auth!),
    });
    return new Map<string, Route>([
      [`GET ${DZENGI_PATHS.time}`, { signed: false, handle: () => ok({ serverTime: this.clock() }) }],
      [`GET ${DZENGI_PATHS.exchangeInfo}`, { signed: false, operation: 'instruments', handle: () => this.exchangeInfo() }],
      [`POST ${DZENGI_PATHS.order}`, signed('create', 'orders', (r) => this.createOrder(r))],
      [`DELETE ${DZENGI_PATHS.order}`, signed('cancel', 'orders', (r) => this.cancelOrder(r))],
      [`GET ${DZENGI_PATHS.fetchOrder}`, signed('query', 'queries', (r) => this.fetchOrder(r))],
      [`GET ${DZENGI_PATHS.openOrders}`, signed('openOrders', 'queries', (r) => this.openOrders(r))],
      [`GET ${DZENGI_PATHS.myTrades}`, signed('query', 'queries', (r) => this.myTrades(r))],
    ]);
  }

  // ---- auth ----------------------------------------------------------------------------------

  /**
   * API key; signature over (query minus signature) + (body minus signature), exactly as sent;
   * timestamp within recvWindow of the venue clock. Parameters: the query's and a form body's,
   * the query's value winning on a duplicate key.
   */
  private authenticate(req: SimHttpRequest): SimAuthResult<AuthedRequest> {
    const refuse = (reply: SimReply): SimAuthResult<AuthedRequest> => ({ ok: false, reply });
    const apiKey = req.headers['x-mbx-apikey'];
    if (typeof apiKey !== 'string' || apiKey === '') return refuse(error(401, -2014, 'API-key format invalid.'));
    const cred = this.creds.get(apiKey);
    if (cred === undefined) return refuse(error(401, -2015, 'Invalid API-key, IP, or permissions for action.'));
    const isForm = (req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded');
    const body = isForm ? req.body : '';
    const params = new Map<string, string>();
    for (const [k, v] of new URLSearchParams(body)) params.set(k, v);
    for (const [k, v] of new URLSearchParams(req.rawQuery)) params.set(k, v);
    const signature = params.get('signature');
    if (signature === undefined || signature === '') return refuse(missing('signature'));
    const timestamp = intParam(params.get('timestamp'));
    if (timestamp === undefined) return refuse(missing('timestamp'));
    if (timestamp === null) return refuse(illegal('timestamp'));
    const recvWindow = intParam(params.get('recvWindow')) ?? DZENGI_RECV_WINDOW.defaultMs;
    if (recvWindow === null || recvWindow <= 0) return refuse(illegal('recvWindow'));
    if (recvWindow > DZENGI_RECV_WINDOW.maxMs) return refuse(error(400, -1128, `recvWindow must be less than or equal to ${DZENGI_RECV_WINDOW.maxMs}.`));
    const payload = withoutSignatureParam(req.rawQuery) + withoutSignatureParam(body);
    if (!hmacSha256HexMatches(cred.secret, payload, signature)) return refuse(error(400, -1022, 'Signature for this request is not valid.'));
    const now = this.clock();
    if (timestamp >= now + DZENGI_RECV_WINDOW.aheadToleranceMs) return refuse(error(400, -1021, 'your time is ahead of server'));
    if (now - timestamp > recvWindow) return refuse(error(400, -1021, 'Timestamp for this request is outside of the recvWindow.'));
    return { ok: true, auth: { cred, params } };
  }

  // ---- endpoints -----------------------------------------------------------------------------

  private exchangeInfo(): SimReply {
    const limits = this.limits;
    const symbols = this.engine.instruments().map((i) => ({
      symbol: i.symbol,
      name: i.symbol,
      status: 'TRADING',
      baseAsset: i.baseAsset,
      baseAssetPrecision: String(decimals(i.stepSize)),
      quoteAsset: i.quoteAsset,
      quoteAssetId: i.quoteAsset,
      quotePrecision: String(decimals(i.tickSize)),
      orderTypes: ['LIMIT', 'MARKET'],
      filters: [
        { filterType: 'LOT_SIZE', minQty: i.minQty, maxQty: '1000000', stepSize: i.stepSize },
        ...(i.minNotional !== undefined ? [{ filterType: 'MIN_NOTIONAL', minNotional: i.minNotional }] : []),
      ],
      marketModes: ['REGULAR'],
      marketType: 'SPOT',
      tickSize: i.tickSize,
      exchangeFee: '0.2',
      assetType: 'CRYPTOCURRENCY',
    }));
    return ok({
      timezone: 'UTC',
      serverTime: String(this.clock()),
      rateLimits: [
        { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: '1', limit: String(limits.queriesPerSecond * 60) },
        { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: '1', limit: String(limits.ordersPerSecond) },
        { rateLimitType: 'ORDERS', interval: 'DAY', intervalNum: '1', limit: '864000' },
      ],
      exchangeFilters: [],
      symbols,
    });
  }

  private createOrder({ cred, params }: AuthedRequest): SimReply {
    for (const k of params.keys()) {
      if (LEVERAGE_PARAMS.has(k)) return error(400, -1128, `Combination of parameters invalid: '${k}' is for leverage orders only`);
      if (!ORDER_PARAMS.has(k)) return error(400, -1104, `Not all sent parameters were read; unknown parameter '${k}'.`);
    }
    const symbol = params.get('symbol');
    if (!symbol) return missing('symbol');
    const inst = this.engine.instrument(symbol);
    if (inst === undefined) return INVALID_SYMBOL;
    const side = params.get('side');
    if (!side) return missing('side');
    if (side !== 'BUY' && side !== 'SELL') return illegal('side', 'BUY, SELL');
    const type = params.get('type');
    if (!type) return missing('type');
    if (type !== 'LIMIT' && type !== 'MARKET') {
      return type === 'STOP' ? error(400, -1128, 'Combination of parameters invalid: STOP orders are not simulated') : illegal('type', 'LIMIT, MARKET, STOP');
    }
    const respType = params.get('newOrderRespType') ?? 'ACK';
    if (respType !== 'ACK' && respType !== 'RESULT' && respType !== 'FULL') return illegal('newOrderRespType', 'ACK, RESULT, FULL');
    const rawQty = params.get('quantity');
    if (!rawQty) return missing('quantity');
    const qty = roundTo(rawQty, inst.stepSize, Decimal.ROUND_DOWN);
    if (qty === undefined) return illegal('quantity');
    // Rounded down to nothing: below the lot size, not a malformed number.
    if (new Decimal(qty).isZero()) return error(400, -1013, `Filter failure: LOT_SIZE (minQty ${inst.minQty})`);
    let tif: SimTimeInForce;
    let price: string | undefined;
    const rawTif = params.get('timeInForce');
    if (type === 'LIMIT') {
      if (!rawTif) return missing('timeInForce');
      if (rawTif !== 'GTC' && rawTif !== 'IOC' && rawTif !== 'FOK') return illegal('timeInForce', 'GTC, IOC, FOK');
      tif = rawTif;
      const rawPrice = params.get('price');
      if (!rawPrice) return missing('price');
      price = roundTo(rawPrice, inst.tickSize, Decimal.ROUND_UP);
      if (price === undefined) return error(400, -1030, 'You mentioned an invalid value for the price parameter.');
    } else {
      if (rawTif !== undefined && rawTif !== 'FOK') return error(400, -1128, 'Combination of parameters invalid: MARKET orders are FOK');
      tif = 'FOK';
    }
    const placed = this.engine.place({
      account: cred.apiKey,
      clientOrderId: '',
      symbol,
      side: side === 'BUY' ? 'buy' : 'sell',
      type: type === 'LIMIT' ? 'limit' : 'market',
      qty,
      price,
      timeInForce: tif,
    });
    if (!placed.ok) return checkFailureReply(placed.failure);
    const o = placed.order;
    if (respType === 'ACK') return ok({ symbol: o.symbol, orderId: uuidFromEngineId(o.orderId), transactTime: String(o.updatedAt) });
    const result = resultJson(o);
    if (respType === 'FULL') result.fills = this.engine.fills(o.orderId).map(fillJson);
    return ok(result);
  }

  private cancelOrder({ cred, params }: AuthedRequest): SimReply {
    const found = this.findOrder(cred, params);
    if ('reply' in found) return found.reply;
    const o = found.order;
    if (o.type !== 'limit') return CANCEL_LIMIT_ONLY;
    const r = this.engine.cancel(cred.apiKey, { orderId: o.orderId });
    if (!r.ok) return r.reason === 'not_found' ? ORDER_NOT_FOUND : error(400, -2011, `Cancel rejected: order is ${statusWord(r.order)}.`);
    return ok(resultJson(r.order));
  }

  private fetchOrder({ cred, params }: AuthedRequest): SimReply {
    const found = this.findOrder(cred, params);
    if ('reply' in found) return found.reply;
    return ok(fetchOrderJson(found.order, cred.accountId, this.engine.fills(found.order.orderId)));
  }

  /** symbol and orderId are both required; an order of another symbol or account does not exist. */
  private findOrder(cred: Credential, params: Map<string, string>): { order: SimOrder } | { reply: SimReply } {
    const symbol = params.get('symbol');
    if (!symbol) return { reply: missing('symbol') };
    if (this.engine.instrument(symbol) === undefined) return { reply: INVALID_SYMBOL };
    const orderId = params.get('orderId');
    if (!orderId) return { reply: missing('orderId') };
    const engineId = engineIdFromUuid(orderId);
    const o = engineId === undefined ? undefined : this.engine.get(cred.apiKey, { orderId: engineId });
    if (o === undefined || o.symbol !== symbol) return { reply: ORDER_NOT_FOUND };
    return { order: o };
  }

  private openOrders({ cred, params }: AuthedRequest): SimReply {
    const symbol = params.get('symbol') || undefined;
    if (symbol !== undefined && this.engine.instrument(symbol) === undefined) return INVALID_SYMBOL;
    return ok(this.engine.openOrders(cred.apiKey, symbol).map(openOrderJson));
  }

  private myTrades({ cred, params }: AuthedRequest): SimReply {
    const symbol = params.get('symbol');
    if (!symbol) return missing('symbol');
    if (this.engine.instrument(symbol) === undefined) return INVALID_SYMBOL;
    const startTime = intParam(params.get('startTime'));
    const endTime = intParam(params.get('endTime'));
    const limit = intParam(params.get('limit')) ?? DEFAULT_TRADES_LIMIT;
    if (startTime === null) return illegal('startTime');
    if (endTime === null) return illegal('endTime');
    if (limit === null || limit < 1 || limit > MAX_TRADES_LIMIT) return illegal('limit', `1..${MAX_TRADES_LIMIT}`);
    const fills = this.engine
      .accountFills(cred.apiKey, { symbol })
      .filter((f) => (startTime === undefined || f.time >= startTime) && (endTime === undefined || f.time <= endTime));
    const page = startTime !== undefined ? fills.slice(0, limit) : fills.slice(-limit);
    return ok(page.map(myTradeJson));
  }

  // ---- WebSocket (/connect): pings only, no own-order events -----------------------------------

  private upgrade(_req: IncomingMessage, path: string): SimUpgradeDecision {
    if (path !== '/connect') return { accept: false, status: 404 };
    return { accept: true, onOpen: (ws) => this.onSocket(ws) };
  }

  private onSocket(ws: WebSocket): void {
    const idle = (): NodeJS.Timeout => setTimeout(() => ws.close(1000, 'not pinged for 30 s'), WS_IDLE_CLOSE_MS);
    this.sockets.set(ws, idle());
    const alive = (): void => {
      clearTimeout(this.sockets.get(ws));
      this.sockets.set(ws, idle());
    };
    ws.on('ping', alive);
    ws.on('close', () => {
      clearTimeout(this.sockets.get(ws));
      this.sockets.delete(ws);
    });
    ws.on('message', (data) => {
      let msg: { destination?: unknown; correlationId?: unknown };
      try {
        msg = JSON.parse(String(data));
      } catch {
        return;
      }
      const correlationId = msg.correlationId === undefined ? undefined : String(msg.correlationId);
      if (msg.destination === 'ping') {
        alive();
        ws.send(JSON.stringify({ status: 'OK', destination: 'ping', correlationId, payload: {} }));
        return;
      }
      // Market-data and request/response destinations are not simulated.
      ws.send(JSON.stringify({ status: 'NOT_FOUND', destination: msg.destination, correlationId, payload: { message: 'destination not simulated' } }));
    });
  }

  // ---- settings and lifecycle ----------------------------------------------------------------

  configure(s: Record<string, unknown>): void {
    if (s.rateLimits !== undefined) {
      const r = s.rateLimits as Record<string, unknown>;
      const n = (k: string, v: unknown): number => {
        if (typeof v !== 'number' || !Number.isFinite(v) || v < 1) throw new Error(`rateLimits.${k} must be a number >= 1`);
        return v;
      };
      this.limits = { ordersPerSecond: n('ordersPerSecond', r?.ordersPerSecond), queriesPerSecond: n('queriesPerSecond', r?.queriesPerSecond) };
      this.limiter.setLimits(this.limits);
    }
  }

  async close(): Promise<void> {
    for (const t of this.sockets.values()) clearTimeout(t);
    this.sockets.clear();
    await this.http.close();
  }
}

function decimals(unit: string): number {
  const i = unit.indexOf('.');
  return i < 0 ? 0 : unit.length - i - 1;
}

/** `restUrl` has no path (the client adds /api/v2/...); `wsUrl` is `/connect`, as dzengi.md lists them. */
export async function startDzengiSimulator(opts: SimulatorOptions): Promise<RunningSimulator> {
  const sim = new DzengiSimulator(opts);
  const host = opts.host ?? '127.0.0.1';
  const { port, urlHost } = await sim.http.listen(host, opts.port ?? 0);
  (opts.logger ?? NOOP_LOGGER).info({ port, host }, 'Dzengi simulator listening');
  return {
    restUrl: `http://${urlHost}:${port}`,
    wsUrl: `ws://${urlHost}:${port}/connect`,
    port,
    engine: sim.engine,
    faults: sim.faults,
    close: () => sim.close(),
  };
}
