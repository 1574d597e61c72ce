// Dzengi REST over the venue-neutral HttpJsonClient: signed requests with X-MBX-APIKEY, GET and
// DELETE parameters in the query string, POST parameters in a form body (as CCXT sends them), the
// string signed being the string sent. Every request through the rate-limit class of its
// endpoint. Replies leave as unified types (decimals exact) or unified errors.

import { HttpJsonClient, HttpJsonResponse, HttpMethod, HttpRequestError } from '../common/http-json-client';
import { RateLimiter } from '../common/rate-limiter';
import { ServerClock } from '../common/server-clock';
import { Instrument, OrderRejected, OutcomeUnknown, PlaceOrderRequest, RateLimited, RateLimits, VenueError, VenueOrder } from '../venue';
import { buildDzengiSignedParams, DzengiParams, encodeDzengiParams } from './dzengi-auth';
import { DZENGI_DEFAULTS, DZENGI_HEADERS, DZENGI_PATHS, DZENGI_RATE_LIMITS, DzengiPublishedLimits } from './dzengi-constants';
import {
  DzengiTrade,
  dzengiErrorFromReply,
  dzengiOrderParams,
  instrumentsFromDzengiExchangeInfo,
  isDzengiErrorBody,
  limitsFromDzengiExchangeInfo,
  orderFromDzengi,
  parseDzengiJson,
  tradesFromDzengi,
} from './dzengi-mapping';

/** The pino methods we use; pino loggers satisfy it. */
export interface DzengiLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = () => undefined;
export const silentDzengiLogger: DzengiLogger = { debug: noop, info: noop, warn: noop, error: noop };

export type DzengiLimitClass = 'orders' | 'queries';

export interface DzengiRestClientOptions {
  restUrl: string;
  apiKey: string;
  apiSecret: string;
  /** A request with no reply after this long counts as OutcomeUnknown. Default 5000. */
  requestTimeoutMs?: number;
  /** Sent with every signed request; the venue allows at most 60000. Default 5000. */
  recvWindowMs?: number;
  /** The limits to keep to, complete; default the published ones. */
  rateLimits?: RateLimits;
  maxSockets?: number;
  logger?: DzengiLogger;
  /** Clock for `timestamp`, ms. */
  now?: () => number;
}

/** A Dzengi order is named by its venue id and symbol (fetchOrder and cancel need both). */
export interface DzengiOrderKey {
  venueOrderId: string;
  symbol: string;
}

export interface DzengiTradesQuery {
  symbol: string;
  startTime?: number;
  endTime?: number;
  limit?: number;
}

export interface DzengiExchangeInfo {
  instruments: Instrument[];
  limits: DzengiPublishedLimits;
  serverTime?: number;
}

/** Errors on a reused keep-alive socket that a GET may safely retry once. */
const FORM = 'application/x-www-form-urlencoded';

export class DzengiRestClient {
  readonly limiter: RateLimiter<DzengiLimitClass>;
  readonly recvWindowMs: number;
  private readonly http: HttpJsonClient;
  private readonly log: DzengiLogger;
  private readonly now: () => number;
  private readonly timeoutMs: number;
  private readonly apiKey: string;
  private readonly apiSecret: string;
  /** The venue's time for signed timestamps (our clock plus the measured offset). */
  private readonly clock: ServerClock;

  constructor(opts: DzengiRestClientOptions) {
    this.apiKey = opts.apiKey;
    this.apiSecret = opts.apiSecret;
    this.log = opts.logger ?? silentDzengiLogger;
    this.now = opts.now ?? Date.now;
    this.recvWindowMs = opts.recvWindowMs ?? DZENGI_DEFAULTS.recvWindowMs;
    this.timeoutMs = opts.requestTimeoutMs ?? DZENGI_DEFAULTS.requestTimeoutMs;
    this.limiter = new RateLimiter<DzengiLimitClass>(opts.rateLimits ?? DZENGI_RATE_LIMITS);
    this.clock = new ServerClock(this.now, () => this.serverTime());
    this.http = new HttpJsonClient({
      baseUrl: opts.restUrl,
      maxSockets: opts.maxSockets ?? DZENGI_DEFAULTS.maxSockets,
      timeoutMs: this.timeoutMs,
      redactQueryKeys: ['signature'],
    });
  }

  // ----------------------------------------------------------------------------------------- orders

  /**
   * POST /api/v2/order. The reply carries no client id: the returned order gets `clientOrderId`
   * (ours, kept on our side) so the caller can tie the venue id to it.
   */
  async createOrder(req: PlaceOrderRequest): Promise<VenueOrder> {
    const body = await this.request('POST', DZENGI_PATHS.order, dzengiOrderParams(req), 'orders', true);
    return orderFromDzengi(asObject(body, 'create order'), req.clientOrderId);
  }

  /** DELETE /api/v2/order?symbol&orderId. The venue answers with the order already CANCELED. */
  async cancelOrder(key: DzengiOrderKey): Promise<VenueOrder> {
    const body = await this.request('DELETE', DZENGI_PATHS.order, { symbol: key.symbol, orderId: key.venueOrderId }, 'orders', true);
    return orderFromDzengi(asObject(body, 'cancel order'));
  }

  /** GET /api/v2/fetchOrder?symbol&orderId (the symbol is required). */
  async fetchOrder(key: DzengiOrderKey): Promise<VenueOrder> {
    const body = await this.request('GET', DZENGI_PATHS.fetchOrder, { symbol: key.symbol, orderId: key.venueOrderId }, 'queries', true);
    return orderFromDzengi(asObject(body, 'fetch order'));
  }

  /** GET /api/v2/openOrders[?symbol]. Without a symbol the venue's call is expensive: pass one when known. */
  async openOrders(symbol?: string): Promise<VenueOrder[]> {
    const body = await this.request('GET', DZENGI_PATHS.openOrders, { symbol }, 'queries', true);
    if (!Array.isArray(body)) throw new OutcomeUnknown('Dzengi openOrders reply is not an array');
    return body.map((row) => orderFromDzengi(asObject(row, 'open order')));
  }

  /** GET /api/v2/myTrades?symbol[&startTime&endTime&limit]: own fills, one per venue trade. */
  async myTrades(q: DzengiTradesQuery): Promise<DzengiTrade[]> {
    const params: DzengiParams = { symbol: q.symbol, startTime: q.startTime, endTime: q.endTime, limit: q.limit ?? DZENGI_DEFAULTS.myTradesLimit };
    const body = await this.request('GET', DZENGI_PATHS.myTrades, params, 'queries', true);
    if (!Array.isArray(body)) throw new OutcomeUnknown('Dzengi myTrades reply is not an array');
    return tradesFromDzengi(body);
  }

  // -------------------------------------------------------------------------------- reference data

  /** GET /api/v2/exchangeInfo (public): spot instruments and the published limits. */
  async exchangeInfo(): Promise<DzengiExchangeInfo> {
    const body = await this.request('GET', DZENGI_PATHS.exchangeInfo, {}, 'queries', false);
    const serverTime = Number((body as { serverTime?: unknown })?.serverTime);
    return {
      instruments: instrumentsFromDzengiExchangeInfo(body),
      limits: limitsFromDzengiExchangeInfo(body),
      ...(Number.isFinite(serverTime) ? { serverTime } : {}),
    };
  }

  /** GET /api/v2/time (public) → the venue clock, ms. */
  async serverTime(): Promise<number> {
    const body = asObject(await this.request('GET', DZENGI_PATHS.time, {}, 'queries', false), 'time');
    const t = Number(body.serverTime);
    if (!Number.isFinite(t)) throw new OutcomeUnknown('Dzengi time reply has no serverTime');
    return t;
  }

  /** Frees the sockets and fails anything still queued. */
  close(): void {
    this.limiter.close();
    this.http.close();
  }

  // ------------------------------------------------------------------------------------ transport

  private request(method: HttpMethod, path: string, params: DzengiParams, cls: DzengiLimitClass, signed: boolean): Promise<unknown> {
    // A cancel goes ahead of queued creates (same budget; rate-limiter.ts says why).
    const attempt = () => this.limiter.schedule(cls, () => this.send(method, path, params, signed), { urgent: method === 'DELETE' && path === DZENGI_PATHS.order });
    if (!signed) return attempt();
    // -1021 "timestamp outside recvWindow" / "your time is ahead of server": nothing was done
    // (dzengi.md: "resync clock, retry"): resync on GET /api/v2/time, try once more.
    return this.clock.signed(attempt, (err) => err instanceof VenueError && err.code === '-1021', {
      resynced: (offsetMs, previousOffsetMs) =>
        this.log.warn({ method, path, offsetMs, previousOffsetMs }, 'dzengi timestamp outside recvWindow: clock resynchronised, retrying once'),
      syncFailed: (err) => this.log.warn({ err: (err as Error).message }, 'dzengi server time: resync failed'),
    });
  }

  private async send(method: HttpMethod, path: string, params: DzengiParams, signed: boolean): Promise<unknown> {
    const started = this.now();
    // Fresh timestamp + signature per attempt; the signed string never goes to a log.
    const encoded = signed ? buildDzengiSignedParams(this.apiSecret, params, this.clock.now(), this.recvWindowMs).query : encodeDzengiParams(params);
    const inBody = method === 'POST';
    const headers: Record<string, string> = {};
    if (signed) headers[DZENGI_HEADERS.apiKey] = this.apiKey;
    if (inBody) headers['content-type'] = FORM;
    let res: HttpJsonResponse;
    try {
      res = await this.http.request({
        method,
        path: !inBody && encoded ? `${path}?${encoded}` : path,
        headers,
        ...(inBody ? { body: encoded } : {}),
      });
    } catch (err) {
      throw this.networkError(err, method, path, started);
    }
    return this.handleReply(res, method, path, started);
  }

  private handleReply(res: HttpJsonResponse, method: HttpMethod, path: string, started: number): unknown {
    const body = parseBody(res.body);
    if (res.status >= 200 && res.status < 300 && !isDzengiErrorBody(body)) {
      this.log.debug({ method, path, status: res.status, ms: this.now() - started }, 'dzengi request');
      return body;
    }
    const err = dzengiErrorFromReply(res.status, body, res.headers?.['retry-after'], this.now());
    if (err instanceof RateLimited) {
      // The weight budget is per account / IP: stop every class, not only this one.
      this.limiter.pause(err.retryAfterMs);
      this.log.warn({ method, path, status: res.status, code: err.code, retryAfterMs: err.retryAfterMs }, 'dzengi rate limited: pausing');
    } else {
      this.log.info(
        { method, path, status: res.status, code: err.code, text: err.venueText, error: err.name, ms: this.now() - started },
        'dzengi request failed',
      );
    }
    throw err;
  }

  /** A transport failure: not sent → a plain rejection, else the outcome is unknown (dzengi.md's 5xx rule). */
  private networkError(err: unknown, method: HttpMethod, path: string, started: number): VenueError {
    const code = errorCode(err);
    const sent = !(err instanceof HttpRequestError) || err.sent;
    this.log.warn({ method, path, code, sent, ms: this.now() - started }, 'dzengi request got no reply');
    if (!sent) return new OrderRejected('other', `Dzengi unreachable (${code}): request not sent`, code);
    if (code === 'ETIMEDOUT') return new OutcomeUnknown(`Dzengi request timed out after ${this.timeoutMs} ms: outcome unknown`, code);
    return new OutcomeUnknown(`Dzengi connection lost before the reply (${code}): outcome unknown`, code);
  }
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' ? code : 'UNKNOWN';
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return parseDzengiJson(text);
  } catch {
    return text;
  }
}

function asObject(body: unknown, what: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new OutcomeUnknown(`Dzengi ${what} reply is not an object`);
  }
  return body as Record<string, unknown>;
}
