// A wire-faithful HashKey Global spot simulator (see ../shared/venues/hashkey.md): the venue's
// REST paths, parameters, signature and error shapes over node:http, and its user data stream
// (listenKey, executionReport frames, JSON ping/pong) over `ws` on the same port. Orders go to the
// shared MatchingEngine; the HTTP server, route table, faults and the /__sim/ control API come
// from src/venues/sim (SimHttpServer): this file holds only HashKey's wire.
//
// Choices where hashkey.md leaves room (all documented here, once):
// - Error codes and messages follow the HashKey PRO error-code page and CCXT's HashKey map:
//     missing API key / unknown key  -> 401 {"code":"0102","msg":"Invalid APIKey"}
//     bad signature                  -> 401 {"code":"0001","msg":"Incorrect signature"}
//     missing / invalid field        -> 400 {"code":"0001","msg":"Required field '<name>' missing or invalid"}
//       (also used for quantity below minQty / notional below minNotional, with their own text)
//     missing symbol                 -> 400 {"code":-100012,"msg":"Parameter symbol [String] missing!"}
//       (a numeric code, exactly as the documented example)
//     timestamp outside recvWindow   -> 400 {"code":"-1021"} (also when more than 1000 ms ahead)
//     unknown symbol 0201, bad type 0206, bad price 0207, price / quantity precision 0209
//     post-only would take -1139, duplicate newClientOrderId -1141, FOK not fillable -1142
//       (these two also leave a REJECTED order, pushed on the stream and visible to queries)
//     order not found (query or cancel) -> 400 {"code":"0211","msg":"Order not found"}
//     cancel of a filled / canceled order -> 400 {"code":"-2011"}: CCXT classes -2011 as
//       OperationRejected (too late), unlike -2013 / -1143 / 0211 (not found), so the two differ.
//     rate limit -> 429 {"code":"0003","msg":"Rate limit exceeded"} + Retry-After: 60
//   The PRO page lists HTTP 400 for its auth codes too; we answer 401 (Binance-style), so an
//   adapter must classify by code, not by status.
// - The HTTP status of auth errors (401) and the 5xx bodies ({"code":"-1001","msg":"Internal error"})
//   are ours; the venue does not document them.
// - timeInForce per the v1.1 docs: LIMIT GTC|FOK, LIMIT_MAKER GTC, MARKET IOC|FOK. LIMIT+IOC is refused.
// - IOC / market remainders and FOK kills show as CANCELED, or PARTIALLY_CANCELED with fills
//   (hashkey.md's "assumed" note).
// - A cancel answers with the order still NEW / PARTIALLY_FILLED (CCXT's recorded example);
//   CANCELED / PARTIALLY_CANCELED follows on the stream after cancelConfirmDelayMs. The order is
//   canceled in the engine at once, so a query right after the reply already says CANCELED.
// - The events of one event-loop turn (a request's burst: NEW + fills; or several requests served
//   together) go out per account as one JSON array frame, after the REST replies of that turn.
//   Control setting streamFraming: "object" sends one plain object per frame instead.
// - newClientOrderId: at most 64 characters (the venue's limit is unconfirmed).
// - USER_STREAM endpoints are signed (timestamp + signature), as CCXT and Hummingbot do.

import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { SimControlTarget } from '../sim/control-api';
import { FaultInjector, StreamOutbox } from '../sim/fault-injector';
import { SimAuthResult, SimHttpRequest, SimHttpServer, SimReply, SimRoute, SimUpgradeDecision } from '../sim/sim-http-server';
import { EngineEvent, MatchingEngine, OrderCheckFailure, SimFill, SimOrder, SimTimeInForce } from '../sim/matching-engine';
import {
  DEFAULT_SIM_INSTRUMENTS,
  NOOP_LOGGER,
  PerKeyRateLimiter,
  RunningSimulator,
  SimLogger,
  SimulatorOptions,
} from '../sim/simulator';

export type { RunningSimulator, SimInstrument, SimulatorOptions } from '../sim/simulator';

const PUBLISHED_LIMITS = { ordersPerSecond: 10, queriesPerSecond: 2 };
const DEFAULT_PING_INTERVAL_MS = 30_000;
const DEFAULT_CANCEL_CONFIRM_DELAY_MS = 10;
const LISTEN_KEY_TTL_MS = 60 * 60_000;
const DEFAULT_RECV_WINDOW = 5000;
const MAX_RECV_WINDOW = 60_000;
const MAX_CLIENT_ORDER_ID = 64;
const STREAM_PATH = '/api/v1/ws/';
const EXCHANGE_ID = '301';

type HkCode = string | number;

type HkReply = SimReply;

function reply(body: unknown): HkReply {
  return { status: 200, body };
}

function error(status: number, code: HkCode, msg: string): HkReply {
  return { status, body: { code, msg } };
}

const fieldError = (name: string): HkReply => error(400, '0001', `Required field '${name}' missing or invalid`);
const INVALID_API_KEY = error(401, '0102', 'Invalid APIKey');
const BAD_SIGNATURE = error(401, '0001', 'Incorrect signature');
const RECV_WINDOW = error(400, '-1021', 'Timestamp for this request is outside of the recvWindow.');
const RATE_LIMITED: HkReply = { ...error(429, '0003', 'Rate limit exceeded'), headers: { 'retry-after': '60' } };
const BANNED: HkReply = { ...error(418, '0003', 'IP banned: requests continued after 429'), headers: { 'retry-after': '60' } };
const ORDER_NOT_FOUND = error(400, '0211', 'Order not found');
const INTERNAL = (status: number) => error(status, '-1001', 'Internal error');

interface Credential {
  apiKey: string;
  secret: string;
  accountId: string;
}

interface AuthedRequest {
  cred: Credential;
  params: URLSearchParams;
}

type Route = SimRoute<AuthedRequest>;

interface ListenKey {
  key: string;
  apiKey: string;
  expiresAt: number;
  sockets: Set<StreamClient>;
}

interface StreamClient {
  ws: WebSocket;
  listenKey: ListenKey;
  unansweredPings: number;
}

type StreamFraming = 'array' | 'object';

const ORDER_TYPES = new Set(['LIMIT', 'MARKET', 'LIMIT_MAKER']);
const ALLOWED_TIF: Record<string, readonly SimTimeInForce[]> = {
  LIMIT: ['GTC', 'FOK'],
  LIMIT_MAKER: ['GTC'],
  MARKET: ['IOC', 'FOK'],
};

// ---- wire mapping (pure) ----------------------------------------------------------------------

function statusWord(o: SimOrder): string {
  switch (o.status) {
    case 'new':
      return 'NEW';
    case 'partially_filled':
      return 'PARTIALLY_FILLED';
    case 'filled':
      return 'FILLED';
    case 'rejected':
      return 'REJECTED';
    case 'canceled':
    case 'expired':
      return o.cumQty === '0' ? 'CANCELED' : 'PARTIALLY_CANCELED';
  }
}

function typeWord(o: SimOrder): string {
  return o.postOnly ? 'LIMIT_MAKER' : o.type === 'limit' ? 'LIMIT' : 'MARKET';
}

const sideWord = (o: { side: string }): string => (o.side === 'buy' ? 'BUY' : 'SELL');

function executionReport(e: EngineEvent): Record<string, unknown> {
  const o = e.order;
  const f = e.type === 'fill' ? e.fill : undefined;
  return {
    e: 'executionReport',
    E: String(o.updatedAt),
    s: o.symbol,
    c: o.clientOrderId,
    S: sideWord(o),
    o: typeWord(o),
    f: o.timeInForce,
    q: o.qty,
    p: o.price ?? '0',
    X: statusWord(o),
    i: o.orderId,
    l: f?.qty ?? '0',
    z: o.cumQty,
    L: f?.price ?? '0',
    n: f?.fee ?? '0',
    N: f?.feeAsset ?? '',
    d: f?.tradeId ?? '0',
    V: o.avgPrice,
    Z: o.cumQuote,
    r: o.leavesQty,
    O: String(o.createdAt),
    m: f?.isMaker ?? false,
  };
}

function checkFailureReply(f: OrderCheckFailure): HkReply {
  switch (f.kind) {
    case 'unknown_symbol':
      return error(400, '0201', 'Instrument not found');
    case 'missing_price':
      return fieldError('price');
    case 'invalid_price':
      return error(400, '0207', 'Invalid price');
    case 'price_tick':
      return error(400, '0209', `Invalid price precision: tickSize is ${f.tickSize}`);
    case 'missing_qty':
    case 'invalid_qty':
      return fieldError('quantity');
    case 'qty_step':
      return error(400, '0209', `Invalid quantity precision: stepSize is ${f.stepSize}`);
    case 'min_qty':
      return error(400, '0001', `Order quantity below minQty ${f.minQty}`);
    case 'min_notional':
      return error(400, '0001', `Order notional below minNotional ${f.minNotional}`);
  }
}

/** `s` minus its `signature=` parameter (normally the last one), byte for byte otherwise. */
function withoutSignature(s: string): string {
  const i = s.lastIndexOf('signature=');
  if (i < 0) return s;
  if ((i === 0 || s[i - 1] === '&') && s.indexOf('&', i) < 0) return s.slice(0, Math.max(0, i - 1));
  return s
    .split('&')
    .filter((kv) => !kv.startsWith('signature='))
    .join('&');
}

/** Numeric-string order (19-digit ids): shorter is smaller, then lexicographic. */
function idCompare(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

function intParam(params: URLSearchParams, name: string): number | undefined | null {
  const v = params.get(name);
  if (v === null) return undefined;
  return /^\d{1,16}$/.test(v) ? Number(v) : null;
}

// ---- the simulator ----------------------------------------------------------------------------

class HashKeySimulator {
  readonly engine: MatchingEngine;
  readonly faults = new FaultInjector();
  readonly http: SimHttpServer<AuthedRequest>;
  private readonly clock: () => number;
  private readonly log: SimLogger;
  private readonly creds = new Map<string, Credential>();
  private readonly symbols: Set<string>;
  private readonly limiter: PerKeyRateLimiter;
  private readonly listenKeys = new Map<string, ListenKey>();
  private readonly outboxes = new Map<string, StreamOutbox<Record<string, unknown>>>();
  private batch = new Map<string, { report: Record<string, unknown>; delayMs: number }[]>();
  private batchScheduled = false;
  private pingTimer: NodeJS.Timeout | undefined;
  private readonly housekeeping: NodeJS.Timeout;
  private pingIntervalMs: number;
  private cancelConfirmDelayMs: number;
  private listenKeyTtlMs = LISTEN_KEY_TTL_MS;
  private framing: StreamFraming = 'array';
  private autoClientId = 0;
  readonly control: SimControlTarget;

  constructor(opts: SimulatorOptions) {
    const hostClock = opts.clock ?? Date.now;
    // The clockSkew fault moves the venue's clock (timestamp checks, the time endpoint).
    this.clock = () => hostClock() + this.faults.clockOffsetMs;
    this.log = opts.logger ?? NOOP_LOGGER;
    this.engine = new MatchingEngine({ instruments: opts.instruments ?? DEFAULT_SIM_INSTRUMENTS, clock: this.clock });
    this.symbols = new Set(this.engine.instruments().map((i) => i.symbol));
    this.limiter = new PerKeyRateLimiter(opts.rateLimits ?? PUBLISHED_LIMITS);
    this.pingIntervalMs = opts.streamPingIntervalMs ?? DEFAULT_PING_INTERVAL_MS;
    this.cancelConfirmDelayMs = opts.cancelConfirmDelayMs ?? DEFAULT_CANCEL_CONFIRM_DELAY_MS;
    opts.credentials.forEach((c, i) => {
      this.creds.set(c.apiKey, { apiKey: c.apiKey, secret: c.apiSecret, accountId: (1732885739589466112n + BigInt(i)).toString() });
    });

    this.engine.onEvent((e) => this.onEngineEvent(e));
    this.faults.onDropStreams(() => this.dropStreams());

    this.control = {
      name: 'hashkey',
      engine: this.engine,
      faults: this.faults,
      settingKeys: ['rateLimits', 'streamFraming', 'cancelConfirmDelayMs', 'streamPingIntervalMs', 'listenKeyTtlMs'],
      configure: (s) => this.configure(s),
      health: () => ({ listenKeys: this.listenKeys.size, streams: this.http.wss.clients.size }),
    };
    this.http = new SimHttpServer<AuthedRequest>({
      routes: this.routes(),
      authenticate: (req) => this.authenticate(req),
      rateKey: (a) => a.cred.apiKey,
      replies: {
        noRoute: (req) => error(404, '-1004', `Bad request: no endpoint ${req.method} ${req.path}`),
        rateLimited: RATE_LIMITED,
        banned: BANNED,
        internalError: INTERNAL,
      },
      control: this.control,
      limiter: this.limiter,
      upgrade: (req, path) => this.upgrade(req, path),
      logger: this.log,
    });
    this.restartPings();
    this.housekeeping = setInterval(() => this.expireListenKeys(), 1000);
    this.housekeeping.unref();
  }

  private routes(): Map<string, Route> {
    const signed = (operation: Route['operation'], rate: Route['rate'], handle: (r: AuthedRequest) => HkReply): Route => ({
      signed: true,
      operation,
      rate,
      handle: (_req, auth) => handle(auth!),
    });
    return new Map<string, Route>([
      ['GET /api/v1/exchangeInfo', { signed: false, operation: 'instruments', handle: () => this.exchangeInfo() }],
      ['GET /api/v1/time', { signed: false, handle: () => this.serverTime() }],
      ['GET /api/v1/ping', { signed: false, handle: () => reply({}) }],
      ['POST /api/v1.1/spot/order', signed('create', 'orders', (r) => this.createOrder(r, 'v1.1'))],
      ['POST /api/v1/spot/order', signed('create', 'orders', (r) => this.createOrder(r, 'v1'))],
      ['DELETE /api/v1/spot/order', signed('cancel', 'orders', (r) => this.cancelOrder(r))],
      ['GET /api/v1/spot/order', signed('query', 'queries', (r) => this.queryOrder(r))],
      ['GET /api/v1/spot/openOrders', signed('openOrders', 'queries', (r) => this.openOrders(r))],
      ['GET /api/v1/account/trades', signed('query', 'queries', (r) => this.accountTrades(r))],
      ['POST /api/v1/userDataStream', signed('listenKey', undefined, (r) => this.createListenKey(r))],
      ['PUT /api/v1/userDataStream', signed('listenKey', undefined, (r) => this.keepAliveListenKey(r))],
      ['DELETE /api/v1/userDataStream', signed('listenKey', undefined, (r) => this.closeListenKey(r))],
    ]);
  }

  // ---- HTTP ----------------------------------------------------------------------------------

  /**
   * API key, signature over query string + body exactly as sent (minus the signature parameter),
   * timestamp within recvWindow. Parameters come from the query string when it is non-empty,
   * otherwise from a form-urlencoded body: never both.
   */
  private authenticate(req: SimHttpRequest): SimAuthResult<AuthedRequest> {
    const refuse = (r: HkReply): SimAuthResult<AuthedRequest> => ({ ok: false, reply: r });
    const { rawQuery, body } = req;
    const apiKey = req.headers['x-hk-apikey'];
    const cred = typeof apiKey === 'string' ? this.creds.get(apiKey) : undefined;
    if (cred === undefined) return refuse(INVALID_API_KEY);
    const formBody = (req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded') ? body : '';
    const fromQuery = rawQuery !== '';
    const params = new URLSearchParams(fromQuery ? rawQuery : formBody);
    const signature = params.get('signature');
    if (signature === null || signature === '') return refuse(fieldError('signature'));
    const timestamp = intParam(params, 'timestamp');
    if (timestamp === undefined || timestamp === null) return refuse(fieldError('timestamp'));
    const recvWindow = intParam(params, 'recvWindow') ?? DEFAULT_RECV_WINDOW;
    if (recvWindow === null || recvWindow <= 0 || recvWindow > MAX_RECV_WINDOW) return refuse(fieldError('recvWindow'));
    const payload = fromQuery ? withoutSignature(rawQuery) + body : rawQuery + withoutSignature(body);
    const expected = createHmac('sha256', cred.secret).update(payload).digest('hex');
    if (signature.toLowerCase() !== expected) return refuse(BAD_SIGNATURE);
    const now = this.clock();
    if (timestamp > now + 1000 || now - timestamp > recvWindow) return refuse(RECV_WINDOW);
    return { ok: true, auth: { cred, params } };
  }

  // ---- endpoints -----------------------------------------------------------------------------

  exchangeInfo(): HkReply {
    const symbols = this.engine.instruments().map((i) => ({
      symbol: i.symbol,
      symbolName: i.symbol,
      status: 'TRADING',
      baseAsset: i.baseAsset,
      baseAssetName: i.baseAsset,
      baseAssetPrecision: i.stepSize,
      quoteAsset: i.quoteAsset,
      quoteAssetName: i.quoteAsset,
      quotePrecision: '0.00000001',
      retailAllowed: true,
      piAllowed: true,
      corporateAllowed: true,
      omnibusAllowed: true,
      icebergAllowed: false,
      isAggregate: false,
      allowMargin: false,
      filters: [
        { minPrice: i.tickSize, maxPrice: '100000000', tickSize: i.tickSize, filterType: 'PRICE_FILTER' },
        {
          minQty: i.minQty,
          maxQty: '100000000',
          stepSize: i.stepSize,
          marketOrderMinQty: i.minQty,
          marketOrderMaxQty: '100000000',
          filterType: 'LOT_SIZE',
        },
        { minNotional: i.minNotional ?? '0', filterType: 'MIN_NOTIONAL' },
      ],
    }));
    return reply({ timezone: 'UTC', serverTime: String(this.clock()), brokerFilters: [], symbols, options: [], contracts: [], coins: [] });
  }

  serverTime(): HkReply {
    return reply({ serverTime: this.clock() });
  }

  createOrder({ cred, params }: AuthedRequest, version: 'v1' | 'v1.1'): HkReply {
    const symbol = params.get('symbol');
    if (symbol === null || symbol === '') return error(400, -100012, 'Parameter symbol [String] missing!');
    if (!this.symbols.has(symbol)) return error(400, '0201', 'Instrument not found');
    const side = params.get('side');
    if (side !== 'BUY' && side !== 'SELL') return fieldError('side');
    const type = params.get('type');
    if (type === null) return fieldError('type');
    if (!ORDER_TYPES.has(type)) return error(400, '0206', 'Unsupported order type');
    const tif = (params.get('timeInForce') ?? (type === 'MARKET' ? 'IOC' : 'GTC')) as SimTimeInForce;
    if (!ALLOWED_TIF[type].includes(tif)) return fieldError('timeInForce');
    let clientOrderId = params.get('newClientOrderId');
    if (clientOrderId === null) clientOrderId = `${this.clock()}${String(this.autoClientId++ % 1000).padStart(3, '0')}`;
    if (clientOrderId === '' || clientOrderId.length > MAX_CLIENT_ORDER_ID) return fieldError('newClientOrderId');
    if (this.engine.findByClientOrderId(cred.apiKey, clientOrderId) !== undefined) return error(400, '-1141', 'Duplicate order');

    const quantity = params.get('quantity') ?? undefined;
    const amount = params.get('amount') ?? undefined;
    let qty: string | undefined = quantity;
    let quoteQty: string | undefined;
    if (type === 'MARKET') {
      if (version === 'v1' && side === 'BUY') {
        // Legacy v1: a market BUY's quantity is the quote amount to spend.
        qty = undefined;
        quoteQty = quantity;
        if (quoteQty === undefined) return fieldError('quantity');
      } else if (version === 'v1.1' && amount !== undefined) {
        if (quantity !== undefined) return fieldError('amount');
        qty = undefined;
        quoteQty = amount;
      }
    } else if (version === 'v1.1' && amount !== undefined) {
      return fieldError('amount');
    }

    const placed = this.engine.place({
      account: cred.apiKey,
      clientOrderId,
      symbol,
      side: side === 'BUY' ? 'buy' : 'sell',
      type: type === 'MARKET' ? 'market' : 'limit',
      qty,
      quoteQty,
      price: type === 'MARKET' ? undefined : (params.get('price') ?? undefined),
      timeInForce: tif,
      postOnly: type === 'LIMIT_MAKER',
    });
    if (!placed.ok) return checkFailureReply(placed.failure);
    const o = placed.order;
    if (o.rejectReason === 'post_only_would_take') return error(400, '-1139', 'Order would immediately match and take');
    if (o.rejectReason === 'fok_not_fillable') return error(400, '-1142', 'Order cannot be fully filled');
    return reply({
      accountId: cred.accountId,
      symbol: o.symbol,
      symbolName: o.symbol,
      clientOrderId: o.clientOrderId,
      orderId: o.orderId,
      transactTime: String(o.createdAt),
      price: o.price ?? '0',
      origQty: o.qty,
      executedQty: o.cumQty,
      status: statusWord(o),
      timeInForce: o.timeInForce,
      type: typeWord(o),
      side: sideWord(o),
      reqAmount: o.quoteQty ?? '0',
      concentration: '',
    });
  }

  cancelOrder({ cred, params }: AuthedRequest): HkReply {
    const orderId = params.get('orderId') ?? undefined;
    const clientOrderId = params.get('clientOrderId') ?? undefined;
    if (orderId === undefined && clientOrderId === undefined) return fieldError('orderId');
    const r = this.engine.cancel(cred.apiKey, orderId !== undefined ? { orderId } : { clientOrderId });
    if (!r.ok) return r.reason === 'not_found' ? ORDER_NOT_FOUND : error(400, '-2011', 'Order has been filled or canceled');
    const o = r.order;
    return reply({
      accountId: cred.accountId,
      symbol: o.symbol,
      clientOrderId: o.clientOrderId,
      orderId: o.orderId,
      transactTime: String(o.updatedAt),
      price: o.price ?? '0',
      origQty: o.qty,
      executedQty: o.cumQty,
      // The venue acknowledges with the status the order had; CANCELED follows on the stream.
      status: statusWord({ ...o, status: r.previousStatus }),
      timeInForce: o.timeInForce,
      type: typeWord(o),
      side: sideWord(o),
    });
  }

  queryOrder({ cred, params }: AuthedRequest): HkReply {
    const orderId = params.get('orderId') ?? undefined;
    const clientOrderId = params.get('origClientOrderId') ?? undefined;
    if (orderId === undefined && clientOrderId === undefined) return fieldError('orderId');
    const o = this.engine.get(cred.apiKey, orderId !== undefined ? { orderId } : { clientOrderId });
    return o === undefined ? ORDER_NOT_FOUND : reply(this.orderDetail(cred, o));
  }

  openOrders({ cred, params }: AuthedRequest): HkReply {
    const limit = intParam(params, 'limit') ?? 500;
    if (limit === null || limit < 1 || limit > 1000) return fieldError('limit');
    const side = params.get('side');
    if (side !== null && side !== 'BUY' && side !== 'SELL') return fieldError('side');
    const orders = this.engine
      .openOrders(cred.apiKey, params.get('symbol') ?? undefined)
      .filter((o) => side === null || sideWord(o) === side)
      .slice(0, limit);
    return reply(orders.map((o) => this.orderDetail(cred, o)));
  }

  accountTrades({ cred, params }: AuthedRequest): HkReply {
    const limit = intParam(params, 'limit') ?? 200;
    if (limit === null || limit < 1 || limit > 1000) return fieldError('limit');
    const startTime = intParam(params, 'startTime');
    const endTime = intParam(params, 'endTime');
    if (startTime === null || endTime === null) return fieldError(startTime === null ? 'startTime' : 'endTime');
    const fromId = params.get('fromId');
    const toId = params.get('toId');
    let fills = this.engine
      .accountFills(cred.apiKey, {
        orderId: params.get('orderId') ?? undefined,
        clientOrderId: params.get('clientOrderId') ?? undefined,
        symbol: params.get('symbol') ?? undefined,
      })
      .filter(
        (f) =>
          (startTime === undefined || f.time >= startTime) &&
          (endTime === undefined || f.time <= endTime) &&
          (fromId === null || idCompare(f.tradeId, fromId) >= 0) &&
          (toId === null || idCompare(f.tradeId, toId) <= 0),
      );
    // From fromId: the first `limit`; otherwise the latest `limit`.
    fills = fromId !== null ? fills.slice(0, limit) : fills.slice(-limit);
    return reply(fills.map((f) => this.tradeRecord(f)));
  }

  createListenKey({ cred }: AuthedRequest): HkReply {
    const key = randomBytes(32).toString('hex');
    this.listenKeys.set(key, { key, apiKey: cred.apiKey, expiresAt: Date.now() + this.listenKeyTtlMs, sockets: new Set() });
    return reply({ listenKey: key });
  }

  keepAliveListenKey({ cred, params }: AuthedRequest): HkReply {
    const lk = this.validListenKey(params.get('listenKey'), cred);
    if (lk === undefined) return fieldError('listenKey');
    lk.expiresAt = Date.now() + this.listenKeyTtlMs;
    return reply({});
  }

  closeListenKey({ cred, params }: AuthedRequest): HkReply {
    const lk = this.validListenKey(params.get('listenKey'), cred);
    if (lk === undefined) return fieldError('listenKey');
    this.removeListenKey(lk);
    return reply({});
  }

  private orderDetail(cred: Credential, o: SimOrder): Record<string, unknown> {
    const hasFee = o.fee !== '0';
    return {
      accountId: cred.accountId,
      exchangeId: EXCHANGE_ID,
      symbol: o.symbol,
      symbolName: o.symbol,
      clientOrderId: o.clientOrderId,
      orderId: o.orderId,
      price: o.price ?? '0',
      origQty: o.qty,
      executedQty: o.cumQty,
      cummulativeQuoteQty: o.cumQuote,
      cumulativeQuoteQty: o.cumQuote,
      avgPrice: o.avgPrice,
      status: statusWord(o),
      timeInForce: o.timeInForce,
      type: typeWord(o),
      side: sideWord(o),
      stopPrice: '0.0',
      icebergQty: '0.0',
      time: String(o.createdAt),
      updateTime: String(o.updatedAt),
      isWorking: true,
      reqAmount: o.quoteQty ?? '0',
      feeCoin: hasFee ? o.feeAsset : '',
      feeAmount: o.fee,
      sumFeeAmount: o.fee,
    };
  }

  private tradeRecord(f: SimFill): Record<string, unknown> {
    return {
      id: f.execId,
      clientOrderId: f.clientOrderId,
      ticketId: f.tradeId,
      symbol: f.symbol,
      symbolName: f.symbol,
      orderId: f.orderId,
      matchOrderId: '0',
      price: f.price,
      qty: f.qty,
      commission: f.fee,
      commissionAsset: f.feeAsset,
      time: String(f.time),
      isBuyer: f.side === 'buy',
      isMaker: f.isMaker,
      fee: { feeCoinId: f.feeAsset, feeCoinName: f.feeAsset, fee: f.fee },
      feeCoinId: f.feeAsset,
      feeAmount: f.fee,
      makerRebate: '0',
    };
  }

  // ---- user data stream ----------------------------------------------------------------------

  private validListenKey(key: string | null, cred: Credential): ListenKey | undefined {
    const lk = key === null ? undefined : this.listenKeys.get(key);
    return lk !== undefined && lk.apiKey === cred.apiKey && lk.expiresAt > Date.now() ? lk : undefined;
  }

  private upgrade(_req: IncomingMessage, path: string): SimUpgradeDecision {
    const lk = path.startsWith(STREAM_PATH) ? this.listenKeys.get(path.slice(STREAM_PATH.length)) : undefined;
    if (lk === undefined || lk.expiresAt <= Date.now()) return { accept: false, status: 401, statusText: 'Unauthorized' };
    return {
      accept: true,
      onOpen: (ws: WebSocket) => {
        const client: StreamClient = { ws, listenKey: lk, unansweredPings: 0 };
        lk.sockets.add(client);
        ws.on('message', (data) => this.onStreamMessage(client, data.toString()));
        ws.on('close', () => lk.sockets.delete(client));
      },
    };
  }

  private onStreamMessage(client: StreamClient, text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof msg !== 'object' || msg === null) return;
    const m = msg as Record<string, unknown>;
    if (m.ping !== undefined) client.ws.send(JSON.stringify({ pong: m.ping }));
    if (m.pong !== undefined) client.unansweredPings = 0;
  }

  /** Every interval: drop clients that left two pings unanswered, ping the others. */
  private pingAll(): void {
    for (const lk of this.listenKeys.values()) {
      for (const c of lk.sockets) {
        if (c.unansweredPings >= 2) {
          this.log.warn({ listenKey: lk.key.slice(0, 8) }, 'stream dropped after 2 unanswered pings');
          lk.sockets.delete(c);
          c.ws.terminate();
          continue;
        }
        c.unansweredPings++;
        c.ws.send(JSON.stringify({ ping: Date.now() }));
      }
    }
  }

  private restartPings(): void {
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => this.pingAll(), this.pingIntervalMs);
    this.pingTimer.unref();
  }

  private expireListenKeys(): void {
    const now = Date.now();
    for (const lk of this.listenKeys.values()) if (lk.expiresAt <= now) this.removeListenKey(lk);
  }

  private removeListenKey(lk: ListenKey): void {
    this.listenKeys.delete(lk.key);
    for (const c of lk.sockets) c.ws.close(1000, 'listenKey closed');
    lk.sockets.clear();
  }

  private hasStreams(apiKey: string): boolean {
    for (const lk of this.listenKeys.values()) if (lk.apiKey === apiKey && lk.sockets.size > 0) return true;
    return false;
  }

  dropStreams(): number {
    let n = 0;
    for (const lk of this.listenKeys.values()) {
      for (const c of lk.sockets) {
        c.ws.terminate();
        n++;
      }
      lk.sockets.clear();
    }
    return n;
  }

  /**
   * Collect the events made during one event-loop turn (one request's burst, or several requests
   * served in the same turn) and send them per account as one frame.
   */
  private onEngineEvent(e: EngineEvent): void {
    const account = e.order.account;
    if (!this.hasStreams(account)) return;
    let list = this.batch.get(account);
    if (list === undefined) {
      list = [];
      this.batch.set(account, list);
    }
    list.push({ report: executionReport(e), delayMs: e.type === 'canceled' ? this.cancelConfirmDelayMs : 0 });
    if (!this.batchScheduled) {
      this.batchScheduled = true;
      setImmediate(() => this.flushBatch());
    }
  }

  private flushBatch(): void {
    this.batchScheduled = false;
    const batch = this.batch;
    this.batch = new Map();
    for (const [account, items] of batch) {
      const outbox = this.outbox(account);
      let start = 0;
      for (let i = 1; i <= items.length; i++) {
        if (i === items.length || items[i].delayMs !== items[start].delayMs) {
          outbox.push(
            items.slice(start, i).map((x) => x.report),
            items[start].delayMs,
          );
          start = i;
        }
      }
    }
  }

  private outbox(account: string): StreamOutbox<Record<string, unknown>> {
    let box = this.outboxes.get(account);
    if (box === undefined) {
      box = new StreamOutbox(this.faults, (events) => this.deliver(account, events));
      this.outboxes.set(account, box);
    }
    return box;
  }

  private deliver(account: string, events: Record<string, unknown>[]): void {
    const frames = this.framing === 'array' ? [JSON.stringify(events)] : events.map((e) => JSON.stringify(e));
    for (const lk of this.listenKeys.values()) {
      if (lk.apiKey !== account) continue;
      for (const c of lk.sockets) for (const f of frames) c.ws.send(f);
    }
  }

  // ---- settings and lifecycle ----------------------------------------------------------------

  configure(s: Record<string, unknown>): void {
    const positiveMs = (k: string, v: unknown, min: number): number => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw new Error(`${k} must be a number >= ${min}`);
      return v;
    };
    if (s.rateLimits !== undefined) {
      const r = s.rateLimits as Record<string, unknown>;
      const ordersPerSecond = positiveMs('rateLimits.ordersPerSecond', r?.ordersPerSecond, 1);
      const queriesPerSecond = positiveMs('rateLimits.queriesPerSecond', r?.queriesPerSecond, 1);
      this.limiter.setLimits({ ordersPerSecond, queriesPerSecond });
    }
    if (s.streamFraming !== undefined) {
      if (s.streamFraming !== 'array' && s.streamFraming !== 'object') throw new Error('streamFraming must be "array" or "object"');
      this.framing = s.streamFraming;
    }
    if (s.cancelConfirmDelayMs !== undefined) this.cancelConfirmDelayMs = positiveMs('cancelConfirmDelayMs', s.cancelConfirmDelayMs, 0);
    if (s.listenKeyTtlMs !== undefined) this.listenKeyTtlMs = positiveMs('listenKeyTtlMs', s.listenKeyTtlMs, 1);
    if (s.streamPingIntervalMs !== undefined) {
      this.pingIntervalMs = positiveMs('streamPingIntervalMs', s.streamPingIntervalMs, 1);
      this.restartPings();
    }
  }

  async close(): Promise<void> {
    clearInterval(this.pingTimer);
    clearInterval(this.housekeeping);
    for (const box of this.outboxes.values()) box.close();
    this.listenKeys.clear();
    await this.http.close();
  }
}

export async function startHashKeySimulator(opts: SimulatorOptions): Promise<RunningSimulator> {
  const sim = new HashKeySimulator(opts);
  const host = opts.host ?? '127.0.0.1';
  const { port, urlHost } = await sim.http.listen(host, opts.port ?? 0);
  (opts.logger ?? NOOP_LOGGER).info({ port, host }, 'HashKey simulator listening');
  return {
    restUrl: `http://${urlHost}:${port}`,
    wsUrl: `ws://${urlHost}:${port}${STREAM_PATH.replace(/\/$/, '')}`,
    port,
    engine: sim.engine,
    faults: sim.faults,
    close: () => sim.close(),
  };
}
