// A wire-faithful Apifiny Connect simulator (2021 JWT generation; ../shared/venues/apifiny.md):
// the REST paths under `/ac/v2/<EXCHANGE>` and the co-located `/ac/v2`, JSON bodies and query
// strings, the `signature: <JWT>` header with its digest and exp checks, the `{result, error}`
// envelope, client-chosen order ids and their rule, PENDING_SUBMIT → SUBMITTED → FILLED /
// PART_FILLED (final) / CANCELLED / REJECTED, and the order stream at `/ac/ws/v2[/<EXCHANGE>]/order`
// pushing each status change with server `{"ping": n}` heartbeats. Orders go to the shared
// MatchingEngine; HTTP, routes, rate limits, faults and /__sim/ come from SimHttpServer.
//
// From apifiny.md: paths and parameters; digest = SHA-256 of the body / query string as sent and
// none on a GET without parameters or on the WS; the venue in the URL must match `venue` (131130);
// order id rule (327978), duplicate id (327722), embedded timestamp checked (327834); cancel
// refused while PENDING_SUBMIT (328026), on a final order (327802), while a cancel is under way
// (328010); unknown order 327706; 20 requests/s per account (131114); order objects as `result`
// arrays; pushes `{logTimestamp, payload}` with decimals as JSON numbers; `filledCumulativeQuantity`
// with `lastFilled*` per fill and no fill id; PART_FILLED final.
//
// Where apifiny.md is silent we do what the venue most plausibly does, and say so:
// - Venue errors answer HTTP 200 with the envelope (the docs show only the envelope); a rate
//   limit answers 429 with 131114; an IP block (ban fault) 403; 5xx answers carry a plain body.
// - Auth: no/garbled token, wrong HMAC, expired exp or unknown key id → 196634 "token error";
//   digest not matching the bytes sent → 2097162 "signature error"; the request's accountId not
//   the token's → 2097163 "permission denied". exp is read as seconds (a ms exp is far future).
// - Parameter errors (missing/invalid field) use 131082 (0x02000A) "parameter error": apifiny.md
//   lists no such code; it is our stand-in in the request-level 0x0200xx family.
// - Everything the exchange itself checks (unknown symbol, tick/step/minimum, post-only that would
//   take) is accepted as PENDING_SUBMIT and then REJECTED, as an aggregator forwarding the order
//   does. The embedded timestamp must be within a day of now (how close is unconfirmed).
// - A MARKET order runs as IOC whatever TIF it carries; MARKET exists only on the six exchanges
//   apifiny.md names, and a MARKET BUY needs `total`.
// - PENDING_SUBMIT lasts `pendingSubmitMs` (default 20 ms); a cancel is confirmed after
//   `cancelConfirmDelayMs` (default 0: the reply already shows CANCELLED); the order stays SUBMITTED
//   in the reply meanwhile. An IOC remainder with no fill ends CANCELLED, with fills PART_FILLED.
// - Order objects name the sub-account `STA-<EXCHANGE>_<digits>` (the docs' `STA-VENUE1_00000001`).

import type { IncomingMessage } from 'node:http';
import Decimal from 'decimal.js';
import type { WebSocket } from 'ws';
import { sha256Hex, verifyApifinyJwt } from './apifiny-auth';
import { APIFINY_CODES, APIFINY_MARKET_ORDER_EXCHANGES, APIFINY_PATHS, APIFINY_STATUS, APIFINY_TIF } from './apifiny-constants';
import { apifinyAccountDigits, parseApifinyOrderId } from './apifiny-order-id';
import { SimControlTarget } from '../sim/control-api';
import { FaultInjector, StreamOutbox } from '../sim/fault-injector';
import { EngineEvent, MatchingEngine, SimFill, SimOrder } from '../sim/matching-engine';
import { jsonObjectBody } from '../sim/sim-json';
import { SimAuthResult, SimHttpRequest, SimHttpServer, SimReply, SimRoute, SimUpgradeDecision } from '../sim/sim-http-server';
import { DEFAULT_SIM_INSTRUMENTS, NOOP_LOGGER, PerKeyRateLimiter, RunningSimulator, SimLogger, SimulatorOptions } from '../sim/simulator';

export interface ApifinySimulatorOptions extends SimulatorOptions {
  /** The exchange this simulator routes to; default BINANCE. */
  exchange?: string;
  /** Account id per credential (same order); default STA-00000001, STA-00000002, ... */
  accountIds?: string[];
  /** How long a new order stays PENDING_SUBMIT; default 20 ms. */
  pendingSubmitMs?: number;
}

export interface RunningApifinySimulator extends RunningSimulator {
  exchange: string;
  /** The co-located style: `http://h:p/ac/v2` and `ws://h:p/ac/ws/v2/order` (exchange not in the path). */
  colocatedRestUrl: string;
  colocatedWsUrl: string;
  accountIds: string[];
}

const PUBLISHED = { ordersPerSecond: 20, queriesPerSecond: 20 };
const DEFAULT_PENDING_SUBMIT_MS = 20;
const DEFAULT_PING_INTERVAL_MS = 30_000;
const ORDER_ID_MAX_SKEW_MS = 24 * 3600_000;
const PARAMETER_ERROR = 131082;

interface Credential {
  secretKeyId: string;
  secret: string;
  accountId: string;
}

interface Authed {
  cred: Credential;
}

type Route = SimRoute<Authed>;

/** A decimal to be written as a bare JSON number (pushes and order objects carry numbers). */
class RawNumber {
  constructor(readonly text: string) {}
  toJSON(): string {
    return `\u0000N${this.text}\u0000`;
  }
}

const n = (s: string | undefined): RawNumber | null => (s === undefined ? null : new RawNumber(new Decimal(s).toFixed()));

/** JSON with RawNumber values written as numbers. */
export function apifinyWireJson(value: unknown): string {
  return JSON.stringify(value).replace(/"\\u0000N(-?[0-9.]+)\\u0000"/g, '$1');
}

const ok = (result: unknown): SimReply => ({ status: 200, body: apifinyWireJson({ result, error: null }), contentType: 'application/json' });
const fail = (code: number, message: string, status = 200): SimReply => ({ status, body: apifinyWireJson({ result: null, error: { code, message } }), contentType: 'application/json' });
const paramError = (what: string): SimReply => fail(PARAMETER_ERROR, `parameter error: ${what}`);

interface OrderRecord {
  orderId: string;
  accountId: string;
  symbol: string;
  side: 'BUY' | 'SELL';
  type: 'LIMIT' | 'MARKET';
  tif: number;
  limitPrice?: string;
  quantity: string;
  total?: string;
  status: string;
  cum: string;
  avg?: string;
  createdAt: number;
  updatedAt: number;
  cancelledUpdatedAt?: number;
  filledUpdatedAt?: number;
  lastFill?: SimFill;
  cancelRequested: boolean;
  /** Fills with the cumulative quantity after each. */
  fills: { fill: SimFill; cum: string }[];
}

interface StreamClient {
  ws: WebSocket;
  accountId: string;
}

class ApifinySimulator {
  readonly engine: MatchingEngine;
  readonly faults = new FaultInjector();
  readonly http: SimHttpServer<Authed>;
  readonly exchange: string;
  readonly accountIds: string[];
  private readonly clock: () => number;
  private readonly log: SimLogger;
  private readonly limiter: PerKeyRateLimiter;
  private readonly creds = new Map<string, Credential>();
  private readonly orders = new Map<string, OrderRecord>();
  private readonly clients = new Set<StreamClient>();
  private readonly outboxes = new Map<string, StreamOutbox<string>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private pingTimer: NodeJS.Timeout | undefined;
  private pendingSubmitMs: number;
  private cancelConfirmDelayMs: number;
  private pingIntervalMs: number;

  constructor(opts: ApifinySimulatorOptions) {
    // The clockSkew fault moves the venue's clock: the token's exp check, currentTimeMillis, Date headers.
    this.clock = this.faults.venueClock(opts.clock ?? Date.now);
    this.log = opts.logger ?? NOOP_LOGGER;
    this.exchange = (opts.exchange ?? 'BINANCE').toUpperCase();
    this.pendingSubmitMs = opts.pendingSubmitMs ?? DEFAULT_PENDING_SUBMIT_MS;
    this.cancelConfirmDelayMs = opts.cancelConfirmDelayMs ?? 0;
    this.pingIntervalMs = opts.streamPingIntervalMs ?? DEFAULT_PING_INTERVAL_MS;
    this.engine = new MatchingEngine({ instruments: opts.instruments ?? DEFAULT_SIM_INSTRUMENTS, clock: this.clock });
    this.limiter = new PerKeyRateLimiter(opts.rateLimits ?? PUBLISHED);
    this.accountIds = opts.credentials.map((_, i) => opts.accountIds?.[i] ?? `STA-${String(i + 1).padStart(8, '0')}`);
    opts.credentials.forEach((c, i) => this.creds.set(c.apiKey, { secretKeyId: c.apiKey, secret: c.apiSecret, accountId: this.accountIds[i] }));
    this.engine.onEvent((e) => this.onEngineEvent(e));
    this.faults.onDropStreams(() => this.http.dropWebSockets());
    const control: SimControlTarget = {
      name: 'apifiny',
      engine: this.engine,
      faults: this.faults,
      settingKeys: ['rateLimits', 'pendingSubmitMs', 'cancelConfirmDelayMs', 'streamPingIntervalMs'],
      configure: (s) => this.configure(s),
      health: () => ({ exchange: this.exchange, streams: this.clients.size }),
    };
    this.http = new SimHttpServer<Authed>({
      routes: this.routes(),
      authenticate: (req) => this.authenticate(req),
      rateKey: (a) => a.cred.accountId,
      replies: {
        noRoute: () => ({ status: 404, body: 'Not Found' }),
        rateLimited: fail(APIFINY_CODES.requestTooOften, 'Request too often', 429),
        banned: { status: 403, body: 'Forbidden: too many errors' },
        internalError: (status) => ({ status, body: status === 502 ? 'Bad Gateway' : 'Internal Server Error' }),
      },
      control,
      limiter: this.limiter,
      upgrade: (req, path) => this.upgrade(req, path),
      logger: this.log,
      clock: this.clock,
    });
    this.restartPings();
  }

  // ---- routes --------------------------------------------------------------------------------

  private routes(): Map<string, Route> {
    const routes = new Map<string, Route>();
    for (const prefix of [`/ac/v2/${this.exchange}`, '/ac/v2']) {
      const signed = (operation: Route['operation'], handle: (req: SimHttpRequest, a: Authed) => SimReply): Route => ({
        signed: true,
        operation,
        // One budget for every endpoint: 20 requests/s per account.
        rate: 'orders',
        handle: (req, auth) => handle(req, auth!),
      });
      routes.set(`POST ${prefix}${APIFINY_PATHS.newOrder}`, signed('create', (r, a) => this.newOrder(r, a)));
      routes.set(`POST ${prefix}${APIFINY_PATHS.cancelOrder}`, signed('cancel', (r, a) => this.cancelOrder(r, a)));
      routes.set(`GET ${prefix}${APIFINY_PATHS.queryOrderInfo}`, signed('query', (r, a) => this.queryOrderInfo(r, a)));
      routes.set(`GET ${prefix}${APIFINY_PATHS.listOpenOrder}`, signed('openOrders', (r, a) => this.listOpenOrder(r, a)));
      routes.set(`GET ${prefix}${APIFINY_PATHS.listFilledOrder}`, signed('query', (r, a) => this.listFilledOrder(r, a)));
      routes.set(`GET ${prefix}${APIFINY_PATHS.currentTimeMillis}`, { signed: false, handle: () => ok(this.clock()) });
      routes.set(`GET ${prefix}${APIFINY_PATHS.listSymbolInfo}`, { signed: false, operation: 'instruments', handle: (r) => this.listSymbolInfo(r, prefix) });
    }
    return routes;
  }

  // ---- auth ----------------------------------------------------------------------------------

  private authenticate(req: SimHttpRequest): SimAuthResult<Authed> {
    const refuse = (reply: SimReply): SimAuthResult<Authed> => ({ ok: false, reply });
    const token = req.headers['signature'];
    if (typeof token !== 'string' || token === '') return refuse(fail(APIFINY_CODES.tokenError, 'token error: no signature header'));
    const check = verifyApifinyJwt(token, (id) => this.creds.get(id)?.secret, this.clock());
    if (!check.ok) return refuse(fail(APIFINY_CODES.tokenError, `token error: ${check.detail}`));
    const cred = this.creds.get(String(check.claims.secretKeyId))!;
    if (check.claims.accountId !== cred.accountId) return refuse(fail(APIFINY_CODES.accountNotFound, "account doesn't exist"));
    const signedBytes = req.method === 'GET' ? req.rawQuery : req.body;
    const digest = check.claims.digest;
    if (signedBytes === '') {
      if (digest !== undefined && digest !== null && digest !== sha256Hex('')) return refuse(fail(APIFINY_CODES.signatureError, 'signature error: digest of an empty request'));
    } else if (digest !== sha256Hex(signedBytes)) {
      return refuse(fail(APIFINY_CODES.signatureError, 'signature error: digest does not match the request'));
    }
    return { ok: true, auth: { cred } };
  }

  /** The request's accountId and venue: the token's account, this exchange, and the URL's exchange. */
  private checkScope(req: SimHttpRequest, a: Authed, params: { accountId?: unknown; venue?: unknown }): SimReply | undefined {
    if (params.accountId === undefined) return paramError('accountId is required');
    if (params.accountId !== a.cred.accountId) return fail(APIFINY_CODES.permissionDenied, 'permission denied');
    if (params.venue === undefined) return paramError('venue is required');
    if (String(params.venue).toUpperCase() !== this.exchange) return fail(APIFINY_CODES.venueMismatch, 'venue does not match the request url');
    return undefined;
  }

  // ---- endpoints -----------------------------------------------------------------------------

  private newOrder(req: SimHttpRequest, a: Authed): SimReply {
    const body = jsonObjectBody(req.body);
    if (body === undefined) return paramError('body is not a JSON object');
    const scope = this.checkScope(req, a, body);
    if (scope) return scope;
    const info = body.orderInfo as Record<string, unknown> | undefined;
    if (typeof info !== 'object' || info === null) return paramError('orderInfo is required');
    const now = this.clock();
    let orderId = body.orderId === undefined || body.orderId === null ? undefined : String(body.orderId);
    if (orderId === undefined) {
      // Optional: the venue makes one by the same rule (the SDKs' `acct + ms + 3 random digits`).
      orderId = apifinyAccountDigits(a.cred.accountId) + String(now) + String(100 + Math.floor(Math.random() * 900));
    } else {
      const parsed = parseApifinyOrderId(orderId, a.cred.accountId);
      if (!parsed.ok) return fail(APIFINY_CODES.orderIdRule, `order id rule error: ${parsed.problem}`);
      if (Math.abs(parsed.parts.ms - now) > ORDER_ID_MAX_SKEW_MS) return fail(APIFINY_CODES.timestampError, 'timestamp error');
    }
    if (this.orders.has(orderId)) return fail(APIFINY_CODES.duplicateOrderId, 'original orderId duplicate');
    const symbol = info.symbol === undefined ? '' : String(info.symbol);
    if (symbol === '') return paramError('orderInfo.symbol is required');
    const type = String(info.orderType ?? '');
    if (type !== 'LIMIT' && type !== 'MARKET') return paramError('orderInfo.orderType must be LIMIT or MARKET');
    if (type === 'MARKET' && !APIFINY_MARKET_ORDER_EXCHANGES.has(this.exchange)) return paramError(`MARKET orders are not supported on ${this.exchange}`);
    const side = String(info.orderSide ?? '');
    if (side !== 'BUY' && side !== 'SELL') return paramError('orderInfo.orderSide must be BUY or SELL');
    // Numbers arrive as their text (jsonObjectBody); the docs send an integer, SDK samples a string.
    const tif = Number(info.timeInForce ?? APIFINY_TIF.GTC);
    if (tif === APIFINY_TIF.GTD) return paramError('timeInForce 2 (GTD) is not supported');
    if (tif !== APIFINY_TIF.GTC && tif !== APIFINY_TIF.IOC && tif !== APIFINY_TIF.POST_ONLY) return paramError('timeInForce must be 1, 3 or 7');
    const decimalOf = (v: unknown): string | undefined => (v === undefined || v === null || !/^\d+(\.\d+)?$/.test(String(v)) ? undefined : String(v));
    const quantity = decimalOf(info.quantity);
    const limitPrice = decimalOf(info.limitPrice);
    const total = decimalOf(info.total);
    if (type === 'LIMIT' && limitPrice === undefined) return paramError('orderInfo.limitPrice is required for LIMIT');
    if (type === 'MARKET' && side === 'BUY') {
      if (total === undefined) return paramError('orderInfo.total is required for a MARKET BUY');
    } else if (quantity === undefined) return paramError('orderInfo.quantity is required');
    const rec: OrderRecord = {
      orderId,
      accountId: a.cred.accountId,
      symbol,
      side,
      type,
      tif,
      limitPrice: type === 'LIMIT' ? limitPrice : undefined,
      quantity: quantity ?? '0',
      total,
      status: APIFINY_STATUS.pendingSubmit,
      cum: '0',
      createdAt: now,
      updatedAt: now,
      cancelRequested: false,
      fills: [],
    };
    this.orders.set(orderId, rec);
    this.push(rec);
    this.later(this.pendingSubmitMs, () => this.submit(rec));
    return ok([this.orderJson(rec)]);
  }

  /** The exchange takes the order: SUBMITTED (and fills) or REJECTED. */
  private submit(rec: OrderRecord): void {
    const placed = this.engine.place({
      account: rec.accountId,
      clientOrderId: rec.orderId,
      symbol: rec.symbol,
      side: rec.side === 'BUY' ? 'buy' : 'sell',
      type: rec.type === 'LIMIT' ? 'limit' : 'market',
      ...(rec.type === 'MARKET' && rec.side === 'BUY' ? { quoteQty: rec.total } : { qty: rec.quantity }),
      price: rec.limitPrice,
      timeInForce: rec.type === 'MARKET' || rec.tif === APIFINY_TIF.IOC ? 'IOC' : 'GTC',
      postOnly: rec.tif === APIFINY_TIF.POST_ONLY,
    });
    if (!placed.ok) {
      this.log.info({ orderId: rec.orderId, failure: placed.failure }, 'apifiny sim: exchange rejected the order');
      this.setStatus(rec, APIFINY_STATUS.rejected);
    }
  }

  private onEngineEvent(e: EngineEvent): void {
    const rec = this.orders.get(e.order.clientOrderId);
    if (rec === undefined || rec.accountId !== e.order.account) return;
    const o: SimOrder = e.order;
    switch (e.type) {
      case 'accepted':
        this.setStatus(rec, APIFINY_STATUS.submitted);
        return;
      case 'fill': {
        rec.cum = o.cumQty;
        rec.avg = o.avgPrice;
        rec.lastFill = e.fill;
        rec.filledUpdatedAt = e.fill.time;
        rec.fills.push({ fill: e.fill, cum: o.cumQty });
        this.setStatus(rec, o.status === 'filled' ? APIFINY_STATUS.filled : APIFINY_STATUS.submitted);
        return;
      }
      case 'canceled':
      case 'expired':
        this.setStatus(rec, new Decimal(o.cumQty).gt(0) ? APIFINY_STATUS.partFilled : APIFINY_STATUS.cancelled);
        return;
      case 'rejected':
        this.setStatus(rec, APIFINY_STATUS.rejected);
        return;
    }
  }

  private setStatus(rec: OrderRecord, status: string): void {
    rec.status = status;
    rec.updatedAt = this.clock();
    this.push(rec);
  }

  private cancelOrder(req: SimHttpRequest, a: Authed): SimReply {
    const body = jsonObjectBody(req.body);
    if (body === undefined) return paramError('body is not a JSON object');
    const scope = this.checkScope(req, a, body);
    if (scope) return scope;
    const rec = this.find(a, body.orderId);
    if (rec === undefined) return fail(APIFINY_CODES.orderNotFound, "order doesn't exist");
    if (rec.status === APIFINY_STATUS.pendingSubmit) return fail(APIFINY_CODES.cancelPendingSubmit, 'cannot cancel order in PENDING_SUBMIT status');
    if (rec.status !== APIFINY_STATUS.submitted) return fail(APIFINY_CODES.cannotCancelInStatus, `cannot cancel order in ${rec.status} status`);
    if (rec.cancelRequested) return fail(APIFINY_CODES.beingCancelled, 'order is being cancelled');
    rec.cancelRequested = true;
    rec.cancelledUpdatedAt = this.clock();
    const cancel = () => this.engine.cancel(rec.accountId, { clientOrderId: rec.orderId });
    if (this.cancelConfirmDelayMs > 0) this.later(this.cancelConfirmDelayMs, cancel);
    else cancel();
    return ok([this.orderJson(rec)]);
  }

  private queryOrderInfo(req: SimHttpRequest, a: Authed): SimReply {
    const q = Object.fromEntries(req.query);
    const scope = this.checkScope(req, a, q);
    if (scope) return scope;
    if (!q.orderId) return paramError('orderId is required');
    const rec = this.find(a, q.orderId);
    return rec === undefined ? fail(APIFINY_CODES.orderNotFound, "order doesn't exist") : ok([this.orderJson(rec)]);
  }

  private listOpenOrder(req: SimHttpRequest, a: Authed): SimReply {
    const q = Object.fromEntries(req.query);
    const scope = this.checkScope(req, a, q);
    if (scope) return scope;
    const open = [...this.orders.values()].filter(
      (r) => r.accountId === a.cred.accountId && (r.status === APIFINY_STATUS.pendingSubmit || r.status === APIFINY_STATUS.submitted) && (!q.symbol || r.symbol === q.symbol),
    );
    return ok(open.map((r) => this.orderJson(r)));
  }

  /** One row per fill: the order object as it stood after that fill, with its lastFilled* fields. */
  private listFilledOrder(req: SimHttpRequest, a: Authed): SimReply {
    const q = Object.fromEntries(req.query);
    const scope = this.checkScope(req, a, q);
    if (scope) return scope;
    const limit = q.limit === undefined ? 500 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return paramError('limit must be 1..1000');
    const rows: unknown[] = [];
    for (const rec of this.orders.values()) {
      if (rec.accountId !== a.cred.accountId || (q.orderId && rec.orderId !== q.orderId) || (q.symbol && rec.symbol !== q.symbol)) continue;
      for (const { fill, cum } of rec.fills) rows.push(this.orderJson(rec, { fill, cum }));
    }
    return ok(rows.slice(-limit));
  }

  private listSymbolInfo(req: SimHttpRequest, prefix: string): SimReply {
    if (prefix === '/ac/v2') {
      const venue = req.query.get('venue');
      if (venue !== null && venue.toUpperCase() !== this.exchange) return fail(APIFINY_CODES.venueMismatch, 'venue does not match the request url');
    }
    return ok(
      this.engine.instruments().map((i) => ({
        symbol: i.symbol,
        baseAsset: i.baseAsset,
        baseAssetPrecision: decimals(i.stepSize),
        quoteAsset: i.quoteAsset,
        quotePrecision: decimals(i.tickSize),
        minPrice: n(i.tickSize),
        maxPrice: n('1000000'),
        minQuantity: n(i.minQty),
        maxQuantity: n('100000'),
        tickSize: n(i.tickSize),
        stepSize: n(i.stepSize),
        minNotional: n(i.minNotional ?? '0'),
        maxNotional: n('100000000'),
        status: 'enabled',
      })),
    );
  }

  private find(a: Authed, orderId: unknown): OrderRecord | undefined {
    const rec = orderId === undefined || orderId === null ? undefined : this.orders.get(String(orderId));
    return rec !== undefined && rec.accountId === a.cred.accountId ? rec : undefined;
  }

  // ---- wire shapes ---------------------------------------------------------------------------

  private orderJson(rec: OrderRecord, at?: { fill: SimFill; cum: string }): Record<string, unknown> {
    const cum = at ? at.cum : rec.cum;
    const last = at ? at.fill : rec.lastFill;
    const status = rec.status;
    const avg = at ? averageUpTo(rec, at.cum) : rec.avg;
    const final = status !== APIFINY_STATUS.pendingSubmit && status !== APIFINY_STATUS.submitted;
    const open = final || rec.quantity === '0' ? '0' : new Decimal(rec.quantity).minus(cum).toFixed();
    return {
      accountId: `${rec.accountId.split('-')[0]}-${this.exchange}_${apifinyAccountDigits(rec.accountId)}`,
      venue: this.exchange,
      orderId: rec.orderId,
      symbol: rec.symbol,
      orderType: rec.type,
      orderSide: rec.side,
      limitPrice: n(rec.limitPrice),
      quantity: n(rec.quantity),
      ...(rec.total !== undefined ? { total: n(rec.total) } : {}),
      filledAveragePrice: n(avg ?? '0'),
      filledCumulativeQuantity: n(cum),
      timeInForce: rec.tif,
      openQuantity: n(open),
      orderStatus: status,
      createdAt: rec.createdAt,
      updatedAt: at ? at.fill.time : rec.updatedAt,
      cancelledUpdatedAt: rec.cancelledUpdatedAt ?? null,
      filledUpdatedAt: at ? at.fill.time : (rec.filledUpdatedAt ?? null),
      ...(last
        ? {
            lastCommission: n(last.fee),
            lastCommissionCurrency: last.feeAsset,
            lastFilledQuantity: n(last.qty),
            lastFilledPrice: n(last.price),
            lastFilledCreatedAt: last.time,
            isTaker: !last.isMaker,
          }
        : {}),
    };
  }

  // ---- order stream --------------------------------------------------------------------------

  private upgrade(req: IncomingMessage, path: string): SimUpgradeDecision {
    if (path !== `/ac/ws/v2/${this.exchange}/order` && path !== '/ac/ws/v2/order') return { accept: false, status: 404 };
    const token = req.headers['signature'];
    if (typeof token !== 'string' || token === '') return { accept: false, status: 401, statusText: 'Unauthorized' };
    const check = verifyApifinyJwt(token, (id) => this.creds.get(id)?.secret, this.clock());
    if (!check.ok) return { accept: false, status: 401, statusText: 'Unauthorized' };
    const cred = this.creds.get(String(check.claims.secretKeyId))!;
    if (check.claims.accountId !== cred.accountId) return { accept: false, status: 403, statusText: 'Forbidden' };
    return { accept: true, onOpen: (ws) => this.onStream(ws, cred.accountId) };
  }

  private onStream(ws: WebSocket, accountId: string): void {
    const client: StreamClient = { ws, accountId };
    this.clients.add(client);
    ws.on('close', () => this.clients.delete(client));
    // `{"pong": n}` answers our ping; nothing else is expected from the client on this stream.
    ws.on('message', () => undefined);
  }

  private push(rec: OrderRecord): void {
    const frame = apifinyWireJson({ logTimestamp: this.clock(), payload: this.orderJson(rec) });
    this.outbox(rec.accountId).push([frame]);
  }

  private outbox(accountId: string): StreamOutbox<string> {
    let box = this.outboxes.get(accountId);
    if (box === undefined) {
      box = new StreamOutbox<string>(this.faults, (frames) => {
        for (const c of this.clients) if (c.accountId === accountId) for (const f of frames) c.ws.send(f);
      });
      this.outboxes.set(accountId, box);
    }
    return box;
  }

  private restartPings(): void {
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      const frame = JSON.stringify({ ping: this.clock() });
      for (const c of this.clients) c.ws.send(frame);
    }, this.pingIntervalMs);
    this.pingTimer.unref();
  }

  // ---- settings and lifecycle ----------------------------------------------------------------

  private later(ms: number, fn: () => void): void {
    if (ms <= 0) {
      fn();
      return;
    }
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  configure(s: Record<string, unknown>): void {
    const ms = (k: string, v: unknown, min: number): number => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw new Error(`${k} must be a number >= ${min}`);
      return v;
    };
    if (s.rateLimits !== undefined) {
      const r = s.rateLimits as Record<string, unknown>;
      this.limiter.setLimits({ ordersPerSecond: ms('rateLimits.ordersPerSecond', r?.ordersPerSecond, 1), queriesPerSecond: ms('rateLimits.queriesPerSecond', r?.queriesPerSecond, 1) });
    }
    if (s.pendingSubmitMs !== undefined) this.pendingSubmitMs = ms('pendingSubmitMs', s.pendingSubmitMs, 0);
    if (s.cancelConfirmDelayMs !== undefined) this.cancelConfirmDelayMs = ms('cancelConfirmDelayMs', s.cancelConfirmDelayMs, 0);
    if (s.streamPingIntervalMs !== undefined) {
      this.pingIntervalMs = ms('streamPingIntervalMs', s.streamPingIntervalMs, 1);
      this.restartPings();
    }
  }

  async close(): Promise<void> {
    clearInterval(this.pingTimer);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const b of this.outboxes.values()) b.close();
    await this.http.close();
  }
}

function decimals(unit: string): number {
  const i = unit.indexOf('.');
  return i < 0 ? 0 : unit.length - i - 1;
}

/** Average price of the fills up to (and including) the one that brought the cumulative to `cum`. */
function averageUpTo(rec: OrderRecord, cum: string): string {
  let qty = new Decimal(0);
  let quote = new Decimal(0);
  for (const f of rec.fills) {
    qty = qty.plus(f.fill.qty);
    quote = quote.plus(new Decimal(f.fill.qty).mul(f.fill.price));
    if (new Decimal(f.cum).gte(cum)) break;
  }
  return qty.isZero() ? '0' : quote.div(qty).toDecimalPlaces(12).toFixed();
}

/**
 * `restUrl` = `http://h:p/ac/v2/<EXCHANGE>`, `wsUrl` = `ws://h:p/ac/ws/v2/<EXCHANGE>/order`, as
 * apifiny.md lists the non-co-located style; the co-located style is served on the same port.
 */
export async function startApifinySimulator(opts: ApifinySimulatorOptions): Promise<RunningApifinySimulator> {
  const sim = new ApifinySimulator(opts);
  const host = opts.host ?? '127.0.0.1';
  const { port, urlHost } = await sim.http.listen(host, opts.port ?? 0);
  (opts.logger ?? NOOP_LOGGER).info({ port, host, exchange: sim.exchange }, 'Apifiny simulator listening');
  return {
    restUrl: `http://${urlHost}:${port}/ac/v2/${sim.exchange}`,
    wsUrl: `ws://${urlHost}:${port}/ac/ws/v2/${sim.exchange}/order`,
    colocatedRestUrl: `http://${urlHost}:${port}/ac/v2`,
    colocatedWsUrl: `ws://${urlHost}:${port}/ac/ws/v2/order`,
    exchange: sim.exchange,
    accountIds: sim.accountIds,
    port,
    engine: sim.engine,
    faults: sim.faults,
    close: () => sim.close(),
  };
}
