// Apifiny Connect REST over the venue-neutral HttpJsonClient: JSON POST bodies and GET query
// strings, each signed with a fresh JWT whose digest is the hash of exactly the bytes sent.
// Every request goes through one rate-limit class: the venue's budget is 20 requests/s per
// account, all endpoints together. Replies leave as unified types or unified errors.

import { HttpJsonClient, HttpJsonResponse, HttpMethod, HttpRequestError } from '../common/http-json-client';
import { RateLimiter } from '../common/rate-limiter';
import { ServerClock } from '../common/server-clock';
import { AuthenticationFailed, Instrument, OrderRejected, OutcomeUnknown, PlaceOrderRequest, RateLimited, RateLimits, RequestClass, VenueError, VenueFill, VenueOrder } from '../venue';
import { apifinyExp, apifinyQueryString, ApifinyCredentials, ApifinyParams, signApifinyBody, signApifinyQuery } from './apifiny-auth';
import { APIFINY_CODES, APIFINY_DEFAULTS, APIFINY_HEADERS, APIFINY_PATHS, APIFINY_RATE_LIMITS } from './apifiny-constants';
import {
  ApifinyMappingOptions,
  apifinyNewOrderBody,
  apifinyResultOrError,
  fillsFromApifinyFilledOrders,
  instrumentsFromApifinySymbols,
  orderFromApifinyResult,
  ordersFromApifinyResult,
  parseApifinyJson,
} from './apifiny-mapping';

export interface ApifinyLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = () => undefined;
export const silentApifinyLogger: ApifinyLogger = { debug: noop, info: noop, warn: noop, error: noop };

export interface ApifinyRestClientOptions {
  restUrl: string;
  credentials: ApifinyCredentials;
  /** The exchange every request names in `venue`. */
  exchange: string;
  /** True when the REST URL names the exchange (`…/ac/v2/BINANCE`); public calls then need no `venue`. */
  urlNamesExchange: boolean;
  requestTimeoutMs?: number;
  /** The limits to keep to, complete; default the published 20 requests/s per account. */
  rateLimits?: RateLimits;
  jwtLifetimeSeconds?: number;
  maxSockets?: number;
  mapping?: ApifinyMappingOptions;
  logger?: ApifinyLogger;
  /** Our clock, ms (the venue's measured offset is added to it for the JWT's exp). */
  now?: () => number;
  /** Periodic clock resync, ms (default ServerClock's 10 min). */
  clockResyncMs?: number;
}


export class ApifinyRestClient {
  readonly limiter: RateLimiter<RequestClass>;
  readonly jwtLifetimeSeconds: number;
  private readonly http: HttpJsonClient;
  private readonly log: ApifinyLogger;
  private readonly now: () => number;
  private readonly timeoutMs: number;
  private readonly creds: ApifinyCredentials;
  private readonly exchange: string;
  private readonly urlNamesExchange: boolean;
  private readonly mapping: ApifinyMappingOptions;
  /** The venue's time for the JWT's exp (our clock plus the measured offset). */
  private readonly clock: ServerClock;

  constructor(opts: ApifinyRestClientOptions) {
    this.creds = opts.credentials;
    this.exchange = opts.exchange;
    this.urlNamesExchange = opts.urlNamesExchange;
    this.mapping = opts.mapping ?? {};
    this.log = opts.logger ?? silentApifinyLogger;
    this.now = opts.now ?? Date.now;
    this.jwtLifetimeSeconds = opts.jwtLifetimeSeconds ?? APIFINY_DEFAULTS.jwtLifetimeSeconds;
    this.timeoutMs = opts.requestTimeoutMs ?? APIFINY_DEFAULTS.requestTimeoutMs;
    this.limiter = new RateLimiter<RequestClass>(opts.rateLimits ?? APIFINY_RATE_LIMITS);
    this.http = new HttpJsonClient({ baseUrl: opts.restUrl, maxSockets: opts.maxSockets ?? APIFINY_DEFAULTS.maxSockets, timeoutMs: this.timeoutMs });
    this.clock = new ServerClock(this.now, () => this.currentTimeMillis(), { resyncEveryMs: opts.clockResyncMs });
  }

  /** The venue's time as we estimate it, ms: what every exp (the stream's too) counts from. */
  venueNow(): number {
    return this.clock.now();
  }

  /** Measures the offset to the venue's clock (start-up; a refused stream upgrade). */
  async resyncClock(): Promise<void> {
    const before = this.clock.offsetMs;
    const offsetMs = await this.clock.sync();
    if (offsetMs !== before) this.log.info({ offsetMs, previousOffsetMs: before }, 'apifiny clock synchronised');
  }

  // ----------------------------------------------------------------------------------------- orders

  /** POST /order/newOrder: the reply's order is usually PENDING_SUBMIT. */
  async newOrder(req: PlaceOrderRequest): Promise<VenueOrder> {
    const body = apifinyNewOrderBody(req, this.creds.accountId, this.exchange);
    return orderFromApifinyResult(await this.post(APIFINY_PATHS.newOrder, body), this.mapping);
  }

  /** POST /order/cancelOrder: the reply is the order, often still SUBMITTED (CANCELLED is pushed later). */
  async cancelOrder(orderId: string): Promise<VenueOrder> {
    const body = { accountId: this.creds.accountId, venue: this.exchange, orderId };
    return orderFromApifinyResult(await this.post(APIFINY_PATHS.cancelOrder, body), this.mapping);
  }

  /** GET /order/queryOrderInfo?accountId&venue&orderId. */
  async queryOrderInfo(orderId: string): Promise<VenueOrder> {
    const result = await this.get(APIFINY_PATHS.queryOrderInfo, { accountId: this.creds.accountId, venue: this.exchange, orderId });
    return orderFromApifinyResult(result, this.mapping);
  }

  /** GET /order/listOpenOrder?accountId&venue (recovery). */
  async listOpenOrder(): Promise<VenueOrder[]> {
    return ordersFromApifinyResult(await this.get(APIFINY_PATHS.listOpenOrder, { accountId: this.creds.accountId, venue: this.exchange }), this.mapping);
  }

  /** GET /order/listFilledOrder?accountId&venue&orderId&limit: one row per fill of the order. */
  async listFilledOrder(orderId: string): Promise<VenueFill[]> {
    const result = await this.get(APIFINY_PATHS.listFilledOrder, {
      accountId: this.creds.accountId,
      venue: this.exchange,
      orderId,
      limit: APIFINY_DEFAULTS.filledOrderLimit,
    });
    return fillsFromApifinyFilledOrders(result, orderId);
  }

  // -------------------------------------------------------------------------------- reference data

  /** GET /utils/listSymbolInfo (the exchange in the URL, or `venue` for a co-located base). */
  async listSymbolInfo(): Promise<Instrument[]> {
    return instrumentsFromApifinySymbols(await this.get(APIFINY_PATHS.listSymbolInfo, this.urlNamesExchange ? {} : { venue: this.exchange }));
  }

  /** GET /utils/listCurrency: raw rows (currency precision, status); nothing in the gateway needs them yet. */
  async listCurrency(): Promise<unknown[]> {
    const r = await this.get(APIFINY_PATHS.listCurrency, this.urlNamesExchange ? {} : { venue: this.exchange });
    return Array.isArray(r) ? r : [];
  }

  /** GET /utils/currentTimeMillis → the venue clock, ms. */
  async currentTimeMillis(): Promise<number> {
    const t = Number(await this.get(APIFINY_PATHS.currentTimeMillis, {}));
    if (!Number.isFinite(t)) throw new OutcomeUnknown('Apifiny currentTimeMillis reply is not a number');
    return t;
  }

  close(): void {
    this.limiter.close();
    this.http.close();
  }

  // ------------------------------------------------------------------------------------ transport

  private post(path: string, body: object): Promise<unknown> {
    // Every POST is an order request (newOrder, cancelOrder, cancel all); every GET a query.
    // A cancel goes ahead of queued creates (same budget; rate-limiter.ts says why).
    return this.signed('POST', path, () => this.limiter.schedule('orders', () => this.send('POST', path, JSON.stringify(body)), { urgent: path === APIFINY_PATHS.cancelOrder }));
  }

  private get(path: string, params: ApifinyParams): Promise<unknown> {
    const attempt = () => this.limiter.schedule('queries', () => this.send('GET', path, apifinyQueryString(params)));
    // The clock endpoint is public (and is what a resync calls): no token to refuse.
    return path === APIFINY_PATHS.currentTimeMillis ? attempt() : this.signed('GET', path, attempt);
  }

  /**
   * 196634 "token error": the token was refused before anything ran (apifiny.md error table), and
   * the one claim that depends on the clock is exp: by a venue clock ahead of ours by more than the
   * token's life it has expired. Resync on currentTimeMillis and try once more; a second refusal
   * (a wrong key or secret also says "token error") is the answer. A venue clock behind ours is
   * not refused at all: the token carries no iat/nbf, only exp.
   */
  private signed(method: HttpMethod, path: string, attempt: () => Promise<unknown>): Promise<unknown> {
    return this.clock.signed(attempt, isTokenRefusal, {
      resynced: (offsetMs, previousOffsetMs) =>
        this.log.warn({ method, path, offsetMs, previousOffsetMs }, 'apifiny token refused: clock resynchronised, retrying once'),
      syncFailed: (err) => this.log.warn({ err: errorCode(err), error: (err as Error)?.name }, 'apifiny server time: resync failed'),
    });
  }

  /** POST: `payload` is the body; GET: the query string. Signed fresh per attempt. */
  private async send(method: HttpMethod, path: string, payload: string): Promise<unknown> {
    const started = this.now();
    // exp by the venue's clock: it is the venue that reads it.
    const exp = apifinyExp(this.clock.now(), this.jwtLifetimeSeconds);
    const signed = method === 'POST' ? signApifinyBody(this.creds, payload, exp) : signApifinyQuery(this.creds, payload, exp);
    const headers: Record<string, string> = { [APIFINY_HEADERS.signature]: signed.signature };
    if (method === 'POST') headers['content-type'] = 'application/json';
    let res: HttpJsonResponse;
    try {
      res = await this.http.request({
        method,
        path: method === 'GET' && payload !== '' ? `${path}?${payload}` : path,
        headers,
        ...(method === 'POST' ? { body: payload } : {}),
      });
    } catch (err) {
      throw this.networkError(err, method, path, started);
    }
    let body: unknown = res.body;
    try {
      body = res.body === '' ? undefined : parseApifinyJson(res.body);
    } catch {
      /* not JSON: kept as text */
    }
    const r = apifinyResultOrError(res.status, body);
    if ('result' in r) {
      this.log.debug({ method, path, status: res.status, ms: this.now() - started }, 'apifiny request');
      return r.result;
    }
    const err = r.error;
    if (err instanceof RateLimited) {
      this.limiter.pause(err.retryAfterMs);
      this.log.warn({ method, path, status: res.status, code: err.code, retryAfterMs: err.retryAfterMs }, 'apifiny rate limited: pausing');
    } else {
      this.log.info({ method, path, status: res.status, code: err.code, text: err.venueText, error: err.name }, 'apifiny request failed');
    }
    throw err;
  }

  private networkError(err: unknown, method: HttpMethod, path: string, started: number): VenueError {
    const code = errorCode(err);
    const sent = !(err instanceof HttpRequestError) || err.sent;
    this.log.warn({ method, path, code, sent, ms: this.now() - started }, 'apifiny request got no reply');
    if (!sent) return new OrderRejected('other', `Apifiny unreachable (${code}): request not sent`, code);
    if (code === 'ETIMEDOUT') return new OutcomeUnknown(`Apifiny request timed out after ${this.timeoutMs} ms: outcome unknown`, code);
    return new OutcomeUnknown(`Apifiny connection lost before the reply (${code}): outcome unknown`, code);
  }
}

/** The venue's "token error" (196634): the request was refused unread. */
function isTokenRefusal(err: unknown): boolean {
  return err instanceof AuthenticationFailed && err.code === String(APIFINY_CODES.tokenError);
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' ? code : 'UNKNOWN';
}
