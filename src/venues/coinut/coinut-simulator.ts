// A wire-faithful Coinut simulator (see ../shared/venues/coinut.md) on the shared MatchingEngine
// and SimHttpServer: the WebSocket at the root path with the API-key login HMAC, nonce-matched
// replies, `hb`, `inst_list`, `new_order`, `cancel_order`, `user_open_orders`, `trade_history`,
// order events pushed to every connection of the account, and the REST `POST /` endpoint
// (X-USER + X-SIGNATURE over the body) with the same messages.
//
// From coinut.md: request/reply names and field names; status ["OK"]; login HMAC over
// `username|ts|nonce`; nonce and client_ord_id in [1, 16777215]; side BUY/SELL case-sensitive;
// price omitted → market order (fills what it can, the rest rejected NOT_ENOUGH_LIQUIDTY, the
// list's spelling); limit orders rest (GTC); no order_accepted for market orders; one order_filled
// per fill with commission, open_qty after the fill and trans_id; reject reasons; times in µs;
// client_ord_id not unique-enforced; cancel by inst_id + order_id; replies may be JSON arrays;
// order_accepted goes to every connection of the user.
//
// Where coinut.md is silent we do what the venue most plausibly does, and say so:
// - A reply is one frame: a single message as an object, several (fills, then order_accepted for a
//   resting rest or order_rejected for a market order's rest) as one array, as gocryptotrader
//   reads them. Every order event (not only order_accepted) goes to every connection of the
//   account, as the same messages with the requester's nonce; fills made later by other traders
//   carry no nonce (they answer no request); several at once go out as one array.
// - Error replies are `{"nonce","reply":<request>,"status":["<WORD>"]}` with our words:
//   AUTHENTICATION_FAILED (bad login HMAC, unknown user, timestamp more than 60 s off; REST: 401),
//   NOT_LOGGED_IN, INVALID_NONCE (out of range, or still outstanding on this connection),
//   INVALID_REQUEST, RATE_LIMITED; INVALID_ORDER_ID for a cancel of an order not open (the batch
//   cancel's word). The login nonce is exempt from the range check: the wiki's own login example
//   uses 67130554.
// - A rejected order still gets an order_id and trans_id (the wiki's order_rejected has both).
// - Price precision = decimal_places; more decimals → INVALID_PRICE; quantity precision 8
//   decimals → INVALID_QUANTITY otherwise.
// - trade_history is newest first; `start` skips that many, `limit` ≤ 100 (default 100).
// - Balances are unlimited unless set (POST /__sim/config {"balances":{"USDT":"100"}}): an order
//   needing more than the balance of what it spends is rejected NOT_ENOUGH_BALANCE.
// - WS faults: error5xxBefore drops the connection without executing; error5xxAfter and
//   dropConnectionAfter execute, push the events to the other connections and drop this one;
//   timeoutAfter executes and never answers; rateLimit429 / ban418 answer RATE_LIMITED.
// - Rate limits are not documented: none are enforced.

import type { IncomingMessage } from 'node:http';
import Decimal from 'decimal.js';
import type { WebSocket } from 'ws';
import { coinutLoginHmacMatches, coinutRestSignatureMatches } from './coinut-auth';
import {
  COINUT_CLIENT_ORD_ID_MAX,
  COINUT_HEADERS,
  COINUT_NONCE_MAX,
  COINUT_NONCE_MIN,
  COINUT_REPLIES,
  COINUT_REQUESTS,
  COINUT_STATUS_WORDS,
} from './coinut-constants';
import { SimControlTarget } from '../sim/control-api';
import { FaultInjector, FaultOperation, RequestFault, StreamOutbox } from '../sim/fault-injector';
import { MatchingEngine, OrderCheckFailure, PlaceResult, SimFill, SimOrder } from '../sim/matching-engine';
import { jsonObjectBody } from '../sim/sim-json';
import { SimAuthResult, SimHttpRequest, SimHttpServer, SimReply, SimUpgradeDecision } from '../sim/sim-http-server';
import { NOOP_LOGGER, PerKeyRateLimiter, RunningSimulator, SimInstrument, SimLogger, SimulatorOptions } from '../sim/simulator';

type Json = Record<string, unknown>;
type Operation = Exclude<FaultOperation, 'any'>;

export interface CoinutSimInstrument extends SimInstrument {
  instId: number;
}

/** A Coinut login: the API key is the HMAC key; `apiSecret`, when given, is ignored (there is none). */
export interface CoinutSimCredential {
  apiKey: string;
  apiSecret?: string;
  /** Default `user<N>` (N = position in the list, from 1). */
  username?: string;
}

export interface CoinutSimulatorOptions extends Omit<SimulatorOptions, 'credentials' | 'instruments'> {
  credentials: CoinutSimCredential[];
  instruments?: CoinutSimInstrument[];
}

export interface CoinutRunningSimulator extends RunningSimulator {
  instId(symbol: string): number | undefined;
  /** Open WS connections of a user (logged in). */
  connections(username: string): number;
}

const QTY_DECIMALS = 8;
const STEP = '0.00000001';
// How far a login timestamp may be from our clock: unconfirmed at Coinut (coinut.md "roughly right").
const LOGIN_SKEW_S = 60;
const DEFAULT_HISTORY_LIMIT = 100;
const MAX_HISTORY_LIMIT = 100;

export const DEFAULT_COINUT_SIM_INSTRUMENTS: readonly CoinutSimInstrument[] = [
  { instId: 1, symbol: 'LTCBTC', baseAsset: 'LTC', quoteAsset: 'BTC', tickSize: '0.00001', stepSize: STEP, minQty: STEP, referencePrice: '0.0012', liquidity: { levelQty: '100' } },
  { instId: 2, symbol: 'BTCUSDT', baseAsset: 'BTC', quoteAsset: 'USDT', tickSize: '0.01', stepSize: STEP, minQty: STEP, referencePrice: '60000', liquidity: { levelQty: '10' } },
  { instId: 3, symbol: 'ETHUSDT', baseAsset: 'ETH', quoteAsset: 'USDT', tickSize: '0.01', stepSize: STEP, minQty: STEP, referencePrice: '3000', liquidity: { levelQty: '100' } },
];

const OPERATIONS: Readonly<Record<string, Operation>> = {
  [COINUT_REQUESTS.newOrder]: 'create',
  [COINUT_REQUESTS.cancelOrder]: 'cancel',
  [COINUT_REQUESTS.openOrders]: 'openOrders',
  [COINUT_REQUESTS.tradeHistory]: 'query',
  [COINUT_REQUESTS.instruments]: 'instruments',
};

const PUBLIC_REQUESTS: ReadonlySet<string> = new Set([COINUT_REQUESTS.heartbeat, COINUT_REQUESTS.instruments, COINUT_REQUESTS.login]);

const sideWord = (side: string): string => (side === 'buy' ? 'BUY' : 'SELL');
const micros = (ms: number): number => ms * 1000;
const decimalsOf = (s: string): number => (s.includes('.') ? s.length - s.indexOf('.') - 1 : 0);
const PLAIN = /^\d+(\.\d+)?$/;

function errorReply(nonce: unknown, request: string, word: string): Json {
  return { nonce: nonce === undefined ? undefined : Number(nonce), reply: request, status: [word] };
}

/** One message as an object, several as an array (one frame either way). */
function frame(messages: Json[]): string {
  return JSON.stringify(messages.length === 1 ? messages[0] : messages);
}

interface Conn {
  ws: WebSocket;
  username?: string;
  /** Nonces of this connection whose replies are still being produced. */
  outstanding: Set<number>;
}

/** What one request produced: the reply, and the order events every other connection gets. */
interface Outcome {
  reply: Json[];
  events: Json[];
}

class CoinutSimulator {
  readonly engine: MatchingEngine;
  readonly faults = new FaultInjector();
  readonly http: SimHttpServer<string>;
  readonly control: SimControlTarget;
  private readonly clock: () => number;
  private readonly log: SimLogger;
  private readonly keys = new Map<string, string>(); // username → API key
  private readonly bySymbol = new Map<string, CoinutSimInstrument>();
  private readonly byId = new Map<number, CoinutSimInstrument>();
  private readonly conns = new Map<string, Set<Conn>>();
  private readonly outboxes = new Map<string, StreamOutbox<Json>>();
  private readonly transIds = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private transSeq: number;
  /** Events of the operation running now (they become its reply); undefined = push them. */
  private collecting: Json[] | undefined;
  private replyDelayMs = 0;
  private balances = new Map<string, Decimal>();
  /** Pushes gathered during the current tick, per account (one frame for a burst). */
  private pendingPush: Map<string, Json[]> | undefined;

  constructor(opts: CoinutSimulatorOptions) {
    // The clockSkew fault moves the venue's clock: the login timestamp check, Date headers.
    this.clock = this.faults.venueClock(opts.clock ?? Date.now);
    this.log = opts.logger ?? NOOP_LOGGER;
    const instruments = opts.instruments ?? DEFAULT_COINUT_SIM_INSTRUMENTS;
    for (const i of instruments) {
      this.bySymbol.set(i.symbol, i);
      this.byId.set(i.instId, i);
    }
    // Order ids from the engine, trans ids from our counter: both plain JSON integers below 2^53
    // and increasing across restarts (clock-seeded), as the venue's are.
    this.engine = new MatchingEngine({ instruments, clock: this.clock, firstId: String(Math.floor(this.clock() / 1000) * 1000) });
    this.transSeq = Math.floor(this.clock() / 1000);
    opts.credentials.forEach((c, i) => this.keys.set(c.username ?? `user${i + 1}`, c.apiKey));
    this.engine.onEvent((e) => {
      const msgs: Json[] = [];
      if (e.type === 'fill') msgs.push(this.filledMessage(e.order, e.fill));
      else if (e.type === 'expired') msgs.push(this.rejectedMessage(e.order, ['NOT_ENOUGH_LIQUIDTY']));
      // accepted: sent after the matching, once the order rests; canceled: the cancel reply says it.
      if (msgs.length === 0) return;
      if (this.collecting !== undefined) this.collecting.push(...msgs);
      else this.pushLater(e.order.account, msgs);
    });
    this.faults.onDropStreams(() => this.http.dropWebSockets());
    this.control = {
      name: 'coinut',
      engine: this.engine,
      faults: this.faults,
      settingKeys: ['replyDelayMs', 'balances'],
      configure: (s) => this.configure(s),
      health: () => ({ webSockets: this.http.wss.clients.size }),
    };
    this.http = new SimHttpServer<string>({
      routes: new Map([
        [
          'POST /',
          {
            signed: true,
            operation: (req: SimHttpRequest) => OPERATIONS[String(jsonObjectBody(req.body)?.request ?? '')],
            handle: (req: SimHttpRequest, username: string | undefined) => this.restRequest(req, username!),
          },
        ],
      ]),
      authenticate: (req) => this.authenticateRest(req),
      rateKey: (username) => username,
      replies: {
        noRoute: () => ({ status: 404, body: 'Not Found' }),
        rateLimited: { status: 429, body: { status: [COINUT_STATUS_WORDS.rateLimited] } },
        banned: { status: 418, body: { status: [COINUT_STATUS_WORDS.rateLimited] } },
        internalError: (status) => ({ status, body: 'Internal Server Error' }),
      },
      control: this.control,
      limiter: new PerKeyRateLimiter({ ordersPerSecond: 1e9, queriesPerSecond: 1e9 }),
      upgrade: (req, path) => this.upgrade(req, path),
      logger: this.log,
      clock: this.clock,
    });
  }

  instId(symbol: string): number | undefined {
    return this.bySymbol.get(symbol)?.instId;
  }

  connections(username: string): number {
    return this.conns.get(username)?.size ?? 0;
  }

  // ---- REST ----------------------------------------------------------------------------------

  private authenticateRest(req: SimHttpRequest): SimAuthResult<string> {
    const user = req.headers[COINUT_HEADERS.user.toLowerCase()];
    const sig = req.headers[COINUT_HEADERS.signature.toLowerCase()];
    const key = typeof user === 'string' ? this.keys.get(user) : undefined;
    if (key === undefined || typeof sig !== 'string' || !coinutRestSignatureMatches(key, req.body, sig)) {
      return { ok: false, reply: { status: 401, body: { status: [COINUT_STATUS_WORDS.authFailed] } } };
    }
    return { ok: true, auth: user as string };
  }

  private restRequest(req: SimHttpRequest, username: string): SimReply {
    const body = jsonObjectBody(req.body);
    if (body === undefined) return { status: 400, body: { status: [COINUT_STATUS_WORDS.invalidRequest] } };
    const request = String(body.request ?? '');
    if (request === COINUT_REQUESTS.login) return { status: 200, body: errorReply(body.nonce, request, COINUT_STATUS_WORDS.invalidRequest) };
    const out = this.execute(username, request, body);
    this.pushNow(username, out.events);
    return { status: 200, body: out.reply.length === 1 ? out.reply[0] : out.reply };
  }

  // ---- WebSocket -----------------------------------------------------------------------------

  private upgrade(_req: IncomingMessage, path: string): SimUpgradeDecision {
    if (path !== '/' && path !== '') return { accept: false, status: 404 };
    return { accept: true, onOpen: (ws) => this.onSocket(ws) };
  }

  private onSocket(ws: WebSocket): void {
    const conn: Conn = { ws, outstanding: new Set() };
    ws.on('close', () => {
      if (conn.username !== undefined) this.conns.get(conn.username)?.delete(conn);
    });
    ws.on('message', (data) => this.onWsMessage(conn, String(data)));
  }

  private onWsMessage(conn: Conn, text: string): void {
    const msg = jsonObjectBody(text);
    if (msg === undefined) {
      this.send(conn, [{ reply: 'error', status: [COINUT_STATUS_WORDS.invalidRequest] }]);
      return;
    }
    const request = String(msg.request ?? '');
    const nonceText = msg.nonce === undefined ? '' : String(msg.nonce);
    const nonce = /^\d{1,16}$/.test(nonceText) ? Number(nonceText) : NaN;
    const inRange = nonce >= COINUT_NONCE_MIN && nonce <= COINUT_NONCE_MAX;
    if (!Number.isSafeInteger(nonce) || (!inRange && request !== COINUT_REQUESTS.login) || conn.outstanding.has(nonce)) {
      this.send(conn, [errorReply(Number.isNaN(nonce) ? undefined : nonce, request, COINUT_STATUS_WORDS.invalidNonce)]);
      return;
    }
    conn.outstanding.add(nonce);
    const run = () => {
      conn.outstanding.delete(nonce);
      if (conn.ws.readyState !== conn.ws.OPEN) return;
      this.serveWs(conn, request, msg, nonce);
    };
    if (this.replyDelayMs <= 0) return run();
    const t = setTimeout(() => {
      this.timers.delete(t);
      run();
    }, this.replyDelayMs);
    this.timers.add(t);
  }

  private serveWs(conn: Conn, request: string, msg: Json, nonce: number): void {
    if (request === COINUT_REQUESTS.login) return this.login(conn, msg, nonce);
    if (conn.username === undefined && !PUBLIC_REQUESTS.has(request)) {
      return this.send(conn, [errorReply(nonce, request, COINUT_STATUS_WORDS.notLoggedIn)]);
    }
    const op = OPERATIONS[request];
    const fault: RequestFault | undefined = op === undefined ? undefined : this.faults.takeRequestFault(op);
    if (fault !== undefined) this.log.info({ fault, request }, 'simulator fault fired');
    if (fault?.kind === 'error5xxBefore') return conn.ws.terminate();
    if (fault?.kind === 'rateLimit429' || fault?.kind === 'ban418') return this.send(conn, [errorReply(nonce, request, COINUT_STATUS_WORDS.rateLimited)]);
    const out = this.execute(conn.username ?? '', request, { ...msg, nonce });
    if (conn.username !== undefined) this.pushNow(conn.username, out.events, conn);
    if (fault === undefined) return this.send(conn, out.reply);
    if (fault.kind === 'timeoutAfter') return; // executed, never answered
    conn.ws.terminate(); // error5xxAfter / dropConnectionAfter: executed, the link dies before the reply
  }

  private login(conn: Conn, msg: Json, nonce: number): void {
    const username = String(msg.username ?? '');
    const key = this.keys.get(username);
    const ts = Number(msg.timestamp);
    const fresh = Number.isFinite(ts) && Math.abs(ts - Math.floor(this.clock() / 1000)) <= LOGIN_SKEW_S;
    const hmac = typeof msg.hmac_sha256 === 'string' ? msg.hmac_sha256 : '';
    if (key === undefined || !fresh || !coinutLoginHmacMatches(key, username, ts, nonce, hmac)) {
      return this.send(conn, [errorReply(nonce, COINUT_REPLIES.login, COINUT_STATUS_WORDS.authFailed)]);
    }
    if (conn.username !== username) {
      if (conn.username !== undefined) this.conns.get(conn.username)?.delete(conn);
      conn.username = username;
      let set = this.conns.get(username);
      if (set === undefined) this.conns.set(username, (set = new Set()));
      set.add(conn);
    }
    this.send(conn, [
      {
        api_key: key,
        nonce,
        reply: COINUT_REPLIES.login,
        session_id: `${username}-${this.clock()}`,
        status: ['OK'],
        username,
        products_enabled: ['SPOT'],
      },
    ]);
  }

  private send(conn: Conn, messages: Json[]): void {
    if (messages.length > 0 && conn.ws.readyState === conn.ws.OPEN) conn.ws.send(frame(messages));
  }

  /** The events of a request, to every other connection of the account, at once. */
  private pushNow(username: string, events: Json[], except?: Conn): void {
    if (events.length === 0) return;
    for (const c of this.conns.get(username) ?? []) if (c !== except) this.send(c, events);
  }

  /** Events nobody asked for (fills by other traders): batched per tick, through the stream faults. */
  private pushLater(username: string, events: Json[]): void {
    let box = this.outboxes.get(username);
    if (box === undefined) {
      box = new StreamOutbox<Json>(this.faults, (batch) => this.pushNow(username, batch));
      this.outboxes.set(username, box);
    }
    const pending = (this.pendingPush ??= new Map());
    const list = pending.get(username);
    if (list !== undefined) return void list.push(...events);
    pending.set(username, [...events]);
    queueMicrotask(() => {
      const batch = this.pendingPush?.get(username) ?? [];
      this.pendingPush?.delete(username);
      box!.push(batch);
    });
  }

  // ---- requests ------------------------------------------------------------------------------

  private execute(username: string, request: string, msg: Json): Outcome {
    const nonce = Number(msg.nonce);
    switch (request) {
      case COINUT_REQUESTS.heartbeat:
        return { reply: [{ nonce, reply: COINUT_REPLIES.heartbeat, status: ['OK'] }], events: [] };
      case COINUT_REQUESTS.instruments:
        return { reply: [this.instList(nonce)], events: [] };
      case COINUT_REQUESTS.newOrder:
        return this.newOrder(username, msg, nonce);
      case COINUT_REQUESTS.cancelOrder:
        return { reply: [this.cancelOrder(username, msg, nonce)], events: [] };
      case COINUT_REQUESTS.openOrders:
        return { reply: [this.openOrders(username, msg, nonce)], events: [] };
      case COINUT_REQUESTS.tradeHistory:
        return { reply: [this.tradeHistory(username, msg, nonce)], events: [] };
      default:
        return { reply: [errorReply(nonce, request, COINUT_STATUS_WORDS.invalidRequest)], events: [] };
    }
  }

  private instList(nonce: number): Json {
    const spot: Record<string, Json[]> = {};
    for (const i of this.bySymbol.values()) {
      spot[i.symbol] = [{ base: i.baseAsset, quote: i.quoteAsset, inst_id: i.instId, decimal_places: decimalsOf(i.tickSize) }];
    }
    return { SPOT: spot, nonce, reply: COINUT_REPLIES.instruments, status: ['OK'] };
  }

  private newOrder(username: string, msg: Json, nonce: number): Outcome {
    const inst = this.byId.get(Number(msg.inst_id));
    const qty = msg.qty === undefined ? '' : String(msg.qty);
    const price = msg.price === undefined ? undefined : String(msg.price);
    const cidText = msg.client_ord_id === undefined ? undefined : String(msg.client_ord_id);
    const side = String(msg.side ?? '');
    const reject = (reason: string): Outcome => {
      const m = this.rejectedMessage(
        {
          orderId: String(++this.transSeq),
          clientOrderId: cidText ?? '',
          symbol: inst?.symbol ?? '',
          side: side === 'SELL' ? 'sell' : 'buy',
          qty,
          price,
          cumQty: '0',
          updatedAt: this.clock(),
        },
        [reason],
        nonce,
        msg.inst_id,
      );
      return { reply: [m], events: [m] };
    };
    if (side !== 'BUY' && side !== 'SELL') return { reply: [errorReply(nonce, COINUT_REQUESTS.newOrder, COINUT_STATUS_WORDS.invalidRequest)], events: [] };
    if (cidText !== undefined && !(/^\d{1,8}$/.test(cidText) && Number(cidText) >= 1 && Number(cidText) <= COINUT_CLIENT_ORD_ID_MAX)) {
      return reject('INVALID_CLIENT_ORD_ID');
    }
    if (inst === undefined) return reject('INVALID_INSTRUMENT');
    if (!PLAIN.test(qty) || decimalsOf(qty) > QTY_DECIMALS || new Decimal(qty).isZero()) return reject('INVALID_QUANTITY');
    if (price !== undefined && (!PLAIN.test(price) || decimalsOf(price) > decimalsOf(inst.tickSize) || new Decimal(price).isZero())) {
      return reject('INVALID_PRICE');
    }
    if (!this.affordable(inst, side, qty, price)) return reject('NOT_ENOUGH_BALANCE');

    const events: Json[] = [];
    this.collecting = events;
    let result: PlaceResult;
    try {
      result = this.engine.place({
        account: username,
        clientOrderId: cidText === undefined ? '' : String(Number(cidText)),
        symbol: inst.symbol,
        side: side === 'BUY' ? 'buy' : 'sell',
        type: price === undefined ? 'market' : 'limit',
        qty,
        price,
        timeInForce: price === undefined ? 'IOC' : 'GTC',
      });
    } finally {
      this.collecting = undefined;
    }
    if (!result.ok) return reject(reasonFor(result.failure));
    const order = result.order;
    if (order.resting) events.push(this.acceptedMessage(order));
    for (const e of events) e.nonce = nonce;
    return { reply: events, events };
  }

  private affordable(inst: CoinutSimInstrument, side: string, qty: string, price: string | undefined): boolean {
    const asset = side === 'BUY' ? inst.quoteAsset! : inst.baseAsset!;
    const balance = this.balances.get(asset);
    if (balance === undefined) return true;
    const need = side === 'BUY' ? new Decimal(qty).times(price ?? inst.referencePrice) : new Decimal(qty);
    return need.lte(balance);
  }

  private cancelOrder(username: string, msg: Json, nonce: number): Json {
    const orderId = msg.order_id === undefined ? '' : String(msg.order_id);
    const inst = this.byId.get(Number(msg.inst_id));
    const invalid = { nonce, reply: COINUT_REPLIES.cancelOrder, order_id: Number(orderId) || orderId, status: [COINUT_STATUS_WORDS.invalidOrderId] };
    if (inst === undefined || !/^\d+$/.test(orderId)) return invalid;
    const o = this.engine.get(username, { orderId });
    if (o === undefined || o.symbol !== inst.symbol) return invalid;
    this.collecting = [];
    const r = this.engine.cancel(username, { orderId });
    this.collecting = undefined;
    if (!r.ok) return invalid;
    const reply: Json = { nonce, reply: COINUT_REPLIES.cancelOrder, order_id: Number(orderId), status: ['OK'], trans_id: ++this.transSeq };
    if (r.order.clientOrderId !== '') reply.client_ord_id = Number(r.order.clientOrderId);
    return reply;
  }

  private openOrders(username: string, msg: Json, nonce: number): Json {
    const inst = this.byId.get(Number(msg.inst_id));
    if (inst === undefined) return errorReply(nonce, COINUT_REPLIES.openOrders, COINUT_STATUS_WORDS.invalidInstrument);
    const orders = this.engine.openOrders(username, inst.symbol).map((o) => ({
      order_id: Number(o.orderId),
      open_qty: new Decimal(o.qty).minus(o.cumQty).toFixed(),
      price: o.price,
      inst_id: inst.instId,
      ...(o.clientOrderId !== '' ? { client_ord_id: Number(o.clientOrderId) } : {}),
      timestamp: micros(o.createdAt),
      qty: o.qty,
      side: sideWord(o.side),
    }));
    return { nonce, reply: COINUT_REPLIES.openOrders, status: ['OK'], orders };
  }

  private tradeHistory(username: string, msg: Json, nonce: number): Json {
    const inst = this.byId.get(Number(msg.inst_id));
    if (inst === undefined) return errorReply(nonce, COINUT_REPLIES.tradeHistory, COINUT_STATUS_WORDS.invalidInstrument);
    const start = msg.start === undefined ? 0 : Number(msg.start);
    const limit = msg.limit === undefined ? DEFAULT_HISTORY_LIMIT : Number(msg.limit);
    if (!(Number.isInteger(start) && start >= 0 && Number.isInteger(limit) && limit >= 1 && limit <= MAX_HISTORY_LIMIT)) {
      return errorReply(nonce, COINUT_REPLIES.tradeHistory, COINUT_STATUS_WORDS.invalidRequest);
    }
    const fills = this.engine.accountFills(username, { symbol: inst.symbol });
    const newestFirst = fills.slice().reverse();
    const trades = newestFirst.slice(start, start + limit).map((f) => {
      const m = this.filledMessage(this.orderAtFill(username, f), f);
      delete m.nonce;
      delete m.reply;
      delete m.status;
      return m;
    });
    return { nonce, reply: COINUT_REPLIES.tradeHistory, status: ['OK'], total_number: fills.length, trades };
  }

  /** The order as it stood right after fill `f` (cumQty through f). */
  private orderAtFill(username: string, f: SimFill): SimOrder {
    const o = this.engine.get(username, { orderId: f.orderId })!;
    let cum = new Decimal(0);
    for (const x of this.engine.fills(f.orderId)) {
      cum = cum.plus(x.qty);
      if (x.execId === f.execId) break;
    }
    return { ...o, cumQty: cum.toFixed() };
  }

  // ---- messages ------------------------------------------------------------------------------

  private transIdFor(f: SimFill): number {
    let id = this.transIds.get(f.execId);
    if (id === undefined) this.transIds.set(f.execId, (id = ++this.transSeq));
    return id;
  }

  private filledMessage(o: SimOrder, f: SimFill): Json {
    const inst = this.bySymbol.get(o.symbol)!;
    return {
      commission: { amount: f.fee, currency: f.feeAsset },
      fill_price: f.price,
      fill_qty: f.qty,
      nonce: undefined,
      order: {
        ...(o.clientOrderId !== '' ? { client_ord_id: Number(o.clientOrderId) } : {}),
        inst_id: inst.instId,
        open_qty: new Decimal(o.qty).minus(o.cumQty).toFixed(),
        order_id: Number(o.orderId),
        ...(o.price !== undefined ? { price: o.price } : {}),
        qty: o.qty,
        side: sideWord(o.side),
        timestamp: micros(o.createdAt),
      },
      reply: COINUT_REPLIES.orderFilled,
      status: ['OK'],
      timestamp: micros(f.time),
      trans_id: this.transIdFor(f),
    };
  }

  private acceptedMessage(o: SimOrder): Json {
    return {
      nonce: undefined,
      status: ['OK'],
      order_id: Number(o.orderId),
      open_qty: new Decimal(o.qty).minus(o.cumQty).toFixed(),
      inst_id: this.bySymbol.get(o.symbol)!.instId,
      qty: o.qty,
      ...(o.clientOrderId !== '' ? { client_ord_id: Number(o.clientOrderId) } : {}),
      order_price: o.price,
      reply: COINUT_REPLIES.orderAccepted,
      side: sideWord(o.side),
      trans_id: ++this.transSeq,
    };
  }

  private rejectedMessage(
    o: Pick<SimOrder, 'orderId' | 'clientOrderId' | 'symbol' | 'side' | 'qty' | 'price' | 'cumQty' | 'updatedAt'>,
    reasons: string[],
    nonce?: number,
    rawInstId?: unknown,
  ): Json {
    const instId = this.bySymbol.get(o.symbol)?.instId ?? Number(rawInstId);
    return {
      nonce,
      status: ['OK'],
      order_id: Number(o.orderId),
      open_qty: PLAIN.test(o.qty) ? new Decimal(o.qty).minus(o.cumQty).toFixed() : o.qty,
      ...(o.price !== undefined ? { price: o.price } : {}),
      inst_id: Number.isFinite(instId) ? instId : undefined,
      reasons,
      ...(o.clientOrderId !== '' && /^\d+$/.test(o.clientOrderId) ? { client_ord_id: Number(o.clientOrderId) } : {}),
      timestamp: micros(o.updatedAt),
      reply: COINUT_REPLIES.orderRejected,
      qty: o.qty,
      side: sideWord(o.side),
      trans_id: ++this.transSeq,
    };
  }

  // ---- settings and lifecycle ----------------------------------------------------------------

  configure(s: Record<string, unknown>): void {
    if (s.replyDelayMs !== undefined) {
      const v = s.replyDelayMs;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error('replyDelayMs must be a number >= 0');
      this.replyDelayMs = v;
    }
    if (s.balances !== undefined) {
      const b = s.balances;
      if (typeof b !== 'object' || b === null || Array.isArray(b)) throw new Error('balances must be an object of asset → decimal string');
      const next = new Map<string, Decimal>();
      for (const [asset, amount] of Object.entries(b)) {
        if (typeof amount !== 'string' || !PLAIN.test(amount)) throw new Error(`balances.${asset} must be a decimal string`);
        next.set(asset, new Decimal(amount));
      }
      this.balances = next;
    }
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const box of this.outboxes.values()) box.close();
    await this.http.close();
  }
}

function reasonFor(f: OrderCheckFailure): string {
  switch (f.kind) {
    case 'unknown_symbol':
      return 'INVALID_INSTRUMENT';
    case 'missing_price':
    case 'invalid_price':
    case 'price_tick':
      return 'INVALID_PRICE';
    default:
      return 'INVALID_QUANTITY';
  }
}

/** `restUrl` and `wsUrl` have no path, as coinut.md lists them (`POST /`, WS at the root). */
export async function startCoinutSimulator(opts: CoinutSimulatorOptions): Promise<CoinutRunningSimulator> {
  const sim = new CoinutSimulator(opts);
  const host = opts.host ?? '127.0.0.1';
  const { port, urlHost } = await sim.http.listen(host, opts.port ?? 0);
  (opts.logger ?? NOOP_LOGGER).info({ port, host }, 'Coinut simulator listening');
  return {
    restUrl: `http://${urlHost}:${port}`,
    wsUrl: `ws://${urlHost}:${port}`,
    port,
    engine: sim.engine,
    faults: sim.faults,
    instId: (symbol) => sim.instId(symbol),
    connections: (username) => sim.connections(username),
    close: () => sim.close(),
  };
}
