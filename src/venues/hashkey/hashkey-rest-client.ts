// HashKey REST over the venue-neutral HttpJsonClient (node:http, one keep-alive pool): every
// parameter in the query string (signed, `signature` last), statuses mapped here, every request
// through the rate-limit class of its endpoint. Replies leave as unified types or unified errors.
//
// Latency: no redirects, no proxy lookup, the reply text parsed once here (keeping 19-digit ids
// exact), and a request that finds a token runs synchronously.

import { HttpJsonClient, HttpJsonResponse, HttpMethod, HttpRequestError } from '../common/http-json-client';
import {
  Instrument,
  OrderRejected,
  OutcomeUnknown,
  PlaceOrderRequest,
  RateLimited,
  RateLimits,
  VenueError,
  VenueFill,
  VenueOrder,
} from '../venue';
import { RateLimiter } from '../common/rate-limiter';
import { ServerClock } from '../common/server-clock';
import { buildSignedQuery, encodeHashKeyParams, HashKeyParams } from './hashkey-auth';
import {
  HASHKEY_DEFAULTS,
  HASHKEY_HEADERS,
  HASHKEY_PATHS,
  HASHKEY_RATE_LIMITS,
  HashKeyLimitClass,
} from './hashkey-constants';
import {
  fillsFromHashKeyTrades,
  hashKeyErrorFromReply,
  hashKeyOrderParams,
  HashKeyMappingOptions,
  HashKeyRequestKind,
  instrumentsFromExchangeInfo,
  isHashKeyErrorBody,
  orderFromHashKey,
  parseHashKeyJson,
} from './hashkey-mapping';

/** The pino methods we use; pino loggers satisfy it. */
export interface HashKeyLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = () => undefined;
export const silentLogger: HashKeyLogger = { debug: noop, info: noop, warn: noop, error: noop };

export interface HashKeyRestClientOptions {
  restUrl: string;
  apiKey: string;
  apiSecret: string;
  /** A request with no reply after this long counts as OutcomeUnknown. Default 5000. */
  requestTimeoutMs?: number;
  recvWindowMs?: number;
  /** Overrides of the published limits (the simulator allows more). */
  /** The limits to keep to, complete; default the published ones. */
  rateLimits?: RateLimits;
  maxSockets?: number;
  logger?: HashKeyLogger;
  mapping?: HashKeyMappingOptions;
  /** Clock for `timestamp`, ms (the venue's offset is added to it). */
  now?: () => number;
  /** How often the offset to the venue's time is measured again, ms (default 10 min). */
  clockResyncMs?: number;
}

/** Identifies an order for cancel / query: the venue id when known, else our client id. */
export interface HashKeyOrderRef {
  clientOrderId?: string;
  venueOrderId?: string;
  symbol?: string;
}

/** Errors on a reused keep-alive socket that a GET may safely retry once. */

export class HashKeyRestClient {
  readonly limiter: RateLimiter<HashKeyLimitClass>;
  private readonly http: HttpJsonClient;
  private readonly log: HashKeyLogger;
  private readonly now: () => number;
  private readonly recvWindowMs: number;
  private readonly timeoutMs: number;
  private readonly mapping: HashKeyMappingOptions;
  private readonly apiKey: string;
  private readonly apiSecret: string;
  /** The venue's time for signed timestamps (our clock plus the measured offset). */
  private readonly clock: ServerClock;

  constructor(opts: HashKeyRestClientOptions) {
    this.apiKey = opts.apiKey;
    this.apiSecret = opts.apiSecret;
    this.log = opts.logger ?? silentLogger;
    this.now = opts.now ?? Date.now;
    this.recvWindowMs = opts.recvWindowMs ?? HASHKEY_DEFAULTS.recvWindowMs;
    this.timeoutMs = opts.requestTimeoutMs ?? HASHKEY_DEFAULTS.requestTimeoutMs;
    this.mapping = opts.mapping ?? {};
    this.limiter = new RateLimiter<HashKeyLimitClass>(opts.rateLimits ?? HASHKEY_RATE_LIMITS);
    this.clock = new ServerClock(this.now, () => this.serverTime(), { resyncEveryMs: opts.clockResyncMs });
    this.http = new HttpJsonClient({
      baseUrl: opts.restUrl,
      maxSockets: opts.maxSockets ?? HASHKEY_DEFAULTS.maxSockets,
      timeoutMs: this.timeoutMs,
      redactQueryKeys: ['signature'],
    });
  }

  // ----------------------------------------------------------------------------------------- orders

  /** POST /api/v1.1/spot/order. */
  async createOrder(req: PlaceOrderRequest): Promise<VenueOrder> {
    const params = hashKeyOrderParams(req);
    const body = await this.request('POST', HASHKEY_PATHS.createOrder, params, 'orders', true);
    return orderFromHashKey(asObject(body, 'create order'), this.mapping);
  }

  /** DELETE /api/v1/spot/order by orderId when known, else clientOrderId. The reply may still say NEW. */
  async cancelOrder(ref: HashKeyOrderRef): Promise<VenueOrder> {
    const params: HashKeyParams = ref.venueOrderId ? { orderId: ref.venueOrderId } : { clientOrderId: requireId(ref) };
    const body = await this.request('DELETE', HASHKEY_PATHS.cancelOrder, params, 'orders', true);
    return orderFromHashKey(asObject(body, 'cancel order'), this.mapping);
  }

  /** GET /api/v1/spot/order by orderId when known, else origClientOrderId. */
  async getOrder(ref: HashKeyOrderRef): Promise<VenueOrder> {
    const params: HashKeyParams = ref.venueOrderId ? { orderId: ref.venueOrderId } : { origClientOrderId: requireId(ref) };
    const body = await this.request('GET', HASHKEY_PATHS.getOrder, params, 'queries', true);
    return orderFromHashKey(asObject(body, 'query order'), this.mapping);
  }

  /** GET /api/v1/spot/openOrders, paging with fromOrderId while full pages come back. */
  async openOrders(symbol?: string): Promise<VenueOrder[]> {
    const limit = HASHKEY_DEFAULTS.openOrdersPageLimit;
    const byId = new Map<string, VenueOrder>();
    let fromOrderId: string | undefined;
    for (let page = 0; page < 100; page++) {
      const body = await this.request('GET', HASHKEY_PATHS.openOrders, { symbol, fromOrderId, limit }, 'queries', true);
      if (!Array.isArray(body)) throw new OutcomeUnknown('HashKey openOrders reply is not an array');
      let added = 0;
      for (const row of body) {
        const o = orderFromHashKey(asObject(row, 'open order'), this.mapping);
        if (!byId.has(o.venueOrderId)) added++;
        byId.set(o.venueOrderId, o);
      }
      // The paging direction of fromOrderId is not documented: stop on a short page or no progress.
      if (body.length < limit || added === 0) break;
      fromOrderId = String((body[body.length - 1] as Record<string, unknown>).orderId);
    }
    return [...byId.values()];
  }

  /** GET /api/v1/account/trades for one order (Hummingbot filters by clientOrderId); fills keyed on ticketId. */
  async orderTrades(ref: HashKeyOrderRef): Promise<VenueFill[]> {
    const params: HashKeyParams = { symbol: ref.symbol, clientOrderId: ref.clientOrderId, limit: 1000 };
    const body = await this.request('GET', HASHKEY_PATHS.accountTrades, params, 'queries', true);
    return fillsFromHashKeyTrades(body, { orderId: ref.venueOrderId, clientOrderId: ref.clientOrderId });
  }

  // -------------------------------------------------------------------------------- reference data

  /** GET /api/v1/exchangeInfo (public). */
  async exchangeInfo(): Promise<Instrument[]> {
    const body = await this.request('GET', HASHKEY_PATHS.exchangeInfo, {}, 'queries', false);
    return instrumentsFromExchangeInfo(body);
  }

  // ----------------------------------------------------------------------------- user data stream

  /** POST /api/v1/userDataStream (signed, as CCXT and Hummingbot do). */
  async createListenKey(): Promise<string> {
    const body = asObject(await this.request('POST', HASHKEY_PATHS.userDataStream, {}, 'queries', true), 'listenKey');
    if (typeof body.listenKey !== 'string' || body.listenKey === '') {
      throw new OutcomeUnknown('HashKey userDataStream reply has no listenKey');
    }
    return body.listenKey;
  }

  /** PUT /api/v1/userDataStream?listenKey=… (every 30 min; a key lives 60). */
  async keepAliveListenKey(listenKey: string): Promise<void> {
    await this.request('PUT', HASHKEY_PATHS.userDataStream, { listenKey }, 'queries', true);
  }

  async deleteListenKey(listenKey: string): Promise<void> {
    await this.request('DELETE', HASHKEY_PATHS.userDataStream, { listenKey }, 'queries', true);
  }

  /** Frees the sockets and fails anything still queued. */
  close(): void {
    this.limiter.close();
    this.http.close();
  }

  // ------------------------------------------------------------------------------------ transport

  private async request(method: HttpMethod, path: string, params: HashKeyParams, cls: HashKeyLimitClass, signed: boolean): Promise<unknown> {
    // A cancel goes ahead of queued creates (same budget; rate-limiter.ts says why).
    const attempt = () => this.limiter.schedule(cls, () => this.send(method, path, params, signed), { urgent: path === HASHKEY_PATHS.cancelOrder });
    if (!signed) return attempt();
    // -1021: our timestamp is outside recvWindow by the venue's clock, and nothing was done
    // (hashkey.md: "resync clock"; a refused create was not placed): resync, try once more.
    return this.clock.signed(attempt, isTimestampRefusal, {
      resynced: (offsetMs, previousOffsetMs) =>
        this.log.warn({ method, path, offsetMs, previousOffsetMs }, 'hashkey timestamp outside recvWindow: clock resynchronised, retrying once'),
      syncFailed: (err) => this.log.warn({ err: errorCode(err) }, 'hashkey server time: resync failed'),
    });
  }

  /** GET /api/v1/time: the venue's time, ms. */
  private async serverTime(): Promise<number> {
    const body = asObject(await this.limiter.schedule('queries', () => this.send('GET', HASHKEY_PATHS.serverTime, {}, false)), 'server time');
    const t = Number(body.serverTime);
    if (!Number.isFinite(t)) throw new VenueError(`HashKey server time: no serverTime in the reply`);
    return t;
  }

  private async send(method: HttpMethod, path: string, params: HashKeyParams, signed: boolean): Promise<unknown> {
    const started = this.now();
    // Fresh timestamp + signature per attempt; the query never goes to a log (it holds the signature).
    const query = signed
      ? buildSignedQuery(this.apiSecret, params, this.clock.now(), this.recvWindowMs).query
      : encodeHashKeyParams(params);
    let res: HttpJsonResponse;
    try {
      res = await this.http.request({
        method,
        path: query ? `${path}?${query}` : path,
        headers: signed ? { [HASHKEY_HEADERS.apiKey]: this.apiKey } : undefined,
      });
    } catch (err) {
      throw this.networkError(err, method, path, started);
    }
    return this.handleReply(res, method, path, started);
  }

  private handleReply(res: HttpJsonResponse, method: HttpMethod, path: string, started: number): unknown {
    const body = parseBody(res.body);
    if (res.status >= 200 && res.status < 300 && !isHashKeyErrorBody(body)) {
      this.log.debug({ method, path, status: res.status, ms: this.now() - started }, 'hashkey request');
      return body;
    }
    const err = hashKeyErrorFromReply(res.status, body, res.headers?.['retry-after'], this.now(), requestKind(method, path));
    if (err instanceof RateLimited) {
      // The venue's wait applies to the whole key: stop every class, not only this one.
      this.limiter.pause(err.retryAfterMs);
      this.log.warn({ method, path, status: res.status, code: err.code, retryAfterMs: err.retryAfterMs }, 'hashkey rate limited: pausing');
    } else {
      this.log.info(
        { method, path, status: res.status, code: err.code, text: err.venueText, error: err.name, ms: this.now() - started },
        'hashkey request failed',
      );
    }
    throw err;
  }

  /** Maps a transport failure: not sent → a plain rejection, else the outcome is unknown. Only the code is kept. */
  private networkError(err: unknown, method: HttpMethod, path: string, started: number): VenueError {
    const code = errorCode(err);
    const sent = !(err instanceof HttpRequestError) || err.sent;
    const ms = this.now() - started;
    this.log.warn({ method, path, code, sent, ms }, 'hashkey request got no reply');
    if (!sent) {
      return new OrderRejected('other', `HashKey unreachable (${code}): request not sent`, code);
    }
    if (code === 'ETIMEDOUT') {
      return new OutcomeUnknown(`HashKey request timed out after ${this.timeoutMs} ms: outcome unknown`, code);
    }
    return new OutcomeUnknown(`HashKey connection lost before the reply (${code}): outcome unknown`, code);
  }
}

function requestKind(method: HttpMethod, path: string): HashKeyRequestKind {
  if (path === HASHKEY_PATHS.createOrder) return 'create';
  if (path === HASHKEY_PATHS.cancelOrder && method === 'DELETE') return 'cancel';
  return 'query';
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' ? code : 'UNKNOWN';
}

function parseBody(data: unknown): unknown {
  if (typeof data !== 'string') return data;
  if (data === '') return undefined;
  try {
    return parseHashKeyJson(data);
  } catch {
    return data;
  }
}

function asObject(body: unknown, what: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new OutcomeUnknown(`HashKey ${what} reply is not an object`);
  }
  return body as Record<string, unknown>;
}

function requireId(ref: HashKeyOrderRef): string {
  if (!ref.clientOrderId) throw new OrderRejected('invalid_order', 'order reference has neither venueOrderId nor clientOrderId');
  return ref.clientOrderId;
}

/** The venue's "timestamp outside recvWindow" (-1021): a refusal of ours, nothing done. */
function isTimestampRefusal(err: unknown): boolean {
  return err instanceof VenueError && err.code === '-1021';
}
