// HashKey REST over axios: one keep-alive agent, every parameter in the query string (signed,
// `signature` last), statuses mapped here and never by axios, every request through the
// rate-limit class of its endpoint. Replies leave as unified types or unified errors.
//
// Latency: no interceptors, no redirects (axios then uses plain http instead of follow-redirects),
// no proxy lookup, no response transforms (we parse the text once, keeping 19-digit ids exact),
// and a request that finds a token runs synchronously.

import * as http from 'http';
import * as https from 'https';
import axios, { AxiosInstance, AxiosResponse, Method } from 'axios';
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
  rateLimits?: Partial<RateLimits>;
  maxSockets?: number;
  logger?: HashKeyLogger;
  mapping?: HashKeyMappingOptions;
  /** Clock for `timestamp`, ms. */
  now?: () => number;
}

/** Identifies an order for cancel / query: the venue id when known, else our client id. */
export interface HashKeyOrderRef {
  clientOrderId?: string;
  venueOrderId?: string;
  symbol?: string;
}

/** Errors before any byte could have reached the venue: nothing happened. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
/** Errors on a reused keep-alive socket that a GET may safely retry once. */
const STALE_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE']);

export class HashKeyRestClient {
  readonly limiter: RateLimiter<HashKeyLimitClass>;
  private readonly http: AxiosInstance;
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly log: HashKeyLogger;
  private readonly now: () => number;
  private readonly recvWindowMs: number;
  private readonly timeoutMs: number;
  private readonly mapping: HashKeyMappingOptions;
  private readonly apiKey: string;
  private readonly apiSecret: string;

  constructor(opts: HashKeyRestClientOptions) {
    this.apiKey = opts.apiKey;
    this.apiSecret = opts.apiSecret;
    this.log = opts.logger ?? silentLogger;
    this.now = opts.now ?? Date.now;
    this.recvWindowMs = opts.recvWindowMs ?? HASHKEY_DEFAULTS.recvWindowMs;
    this.timeoutMs = opts.requestTimeoutMs ?? HASHKEY_DEFAULTS.requestTimeoutMs;
    this.mapping = opts.mapping ?? {};
    const limits: RateLimits = { ...HASHKEY_RATE_LIMITS, ...(opts.rateLimits ?? {}) };
    this.limiter = new RateLimiter<HashKeyLimitClass>({
      orders: { ratePerSecond: limits.ordersPerSecond, maxQueue: limits.maxQueue },
      queries: { ratePerSecond: limits.queriesPerSecond, maxQueue: limits.maxQueue },
    });
    const agentOpts = { keepAlive: true, maxSockets: opts.maxSockets ?? HASHKEY_DEFAULTS.maxSockets, scheduling: 'lifo' as const };
    this.httpAgent = new http.Agent(agentOpts);
    this.httpsAgent = new https.Agent(agentOpts);
    this.http = axios.create({
      baseURL: opts.restUrl.replace(/\/+$/, ''),
      timeout: this.timeoutMs,
      httpAgent: this.httpAgent,
      httpsAgent: this.httpsAgent,
      validateStatus: () => true,
      maxRedirects: 0,
      proxy: false,
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      transitional: { clarifyTimeoutError: true, silentJSONParsing: true, forcedJSONParsing: false },
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
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  // ------------------------------------------------------------------------------------ transport

  private request(method: Method, path: string, params: HashKeyParams, cls: HashKeyLimitClass, signed: boolean): Promise<unknown> {
    return this.limiter.schedule(cls, () => this.send(method, path, params, signed));
  }

  private async send(method: Method, path: string, params: HashKeyParams, signed: boolean, mayRetry = method === 'GET'): Promise<unknown> {
    const started = this.now();
    // Fresh timestamp + signature per attempt; the query never goes to a log (it holds the signature).
    const query = signed
      ? buildSignedQuery(this.apiSecret, params, started, this.recvWindowMs).query
      : encodeHashKeyParams(params);
    let res: AxiosResponse<string>;
    try {
      res = await this.http.request<string>({
        method,
        url: query ? `${path}?${query}` : path,
        headers: signed ? { [HASHKEY_HEADERS.apiKey]: this.apiKey } : undefined,
      });
    } catch (err) {
      const code = errorCode(err);
      if (mayRetry && code !== undefined && STALE_SOCKET_CODES.has(code)) {
        // A GET changes nothing: retry once on a socket the server closed under us.
        this.log.debug({ method, path, code }, 'hashkey request retried after a stale socket');
        return this.send(method, path, params, signed, false);
      }
      throw this.networkError(err, method, path, started);
    }
    return this.handleReply(res, method, path, started);
  }

  private handleReply(res: AxiosResponse<string>, method: Method, path: string, started: number): unknown {
    const body = parseBody(res.data);
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

  /** Maps a transport failure; the axios error (which holds the signed URL and headers) is dropped. */
  private networkError(err: unknown, method: Method, path: string, started: number): VenueError {
    const code = errorCode(err) ?? 'UNKNOWN';
    const ms = this.now() - started;
    this.log.warn({ method, path, code, ms }, 'hashkey request got no reply');
    if (NOT_SENT_CODES.has(code)) {
      return new OrderRejected('other', `HashKey unreachable (${code}): request not sent`, code);
    }
    if (code === 'ETIMEDOUT' || code === 'ECONNABORTED') {
      return new OutcomeUnknown(`HashKey request timed out after ${this.timeoutMs} ms: outcome unknown`, code);
    }
    return new OutcomeUnknown(`HashKey connection lost before the reply (${code}): outcome unknown`, code);
  }
}

function requestKind(method: Method, path: string): HashKeyRequestKind {
  if (path === HASHKEY_PATHS.createOrder) return 'create';
  if (path === HASHKEY_PATHS.cancelOrder && String(method).toUpperCase() === 'DELETE') return 'cancel';
  return 'query';
}

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown }; message?: unknown };
  if (typeof e?.code === 'string' && e.code !== 'ERR_BAD_RESPONSE' && e.code !== 'ERR_NETWORK') return e.code;
  if (typeof e?.cause?.code === 'string') return e.cause.code;
  if (typeof e?.message === 'string' && /socket hang up/i.test(e.message)) return 'ECONNRESET';
  return typeof e?.code === 'string' ? e.code : undefined;
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
