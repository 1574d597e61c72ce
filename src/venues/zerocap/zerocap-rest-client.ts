// Zerocap REST over the venue-neutral HttpJsonClient: JSON bodies, the three auth headers signed
// fresh per attempt, every request through the rate-limit class of its endpoint. Replies leave as
// unified types or unified errors.

import { HttpJsonClient, HttpJsonResponse, HttpMethod, HttpRequestError } from '../common/http-json-client';
import { RateLimiter } from '../common/rate-limiter';
import { Instrument, OrderRejected, OutcomeUnknown, PlaceOrderRequest, RateLimited, RateLimits, VenueError, VenueOrder } from '../venue';
import { zerocapAuthHeaders } from './zerocap-auth';
import { ZEROCAP_DEFAULTS, ZEROCAP_PATHS, ZEROCAP_RATE_LIMITS } from './zerocap-constants';
import {
  instrumentsFromZerocap,
  orderFromZerocap,
  parseZerocapJson,
  zerocapCreateBody,
  zerocapErrorFromReply,
  ZerocapRequestKind,
} from './zerocap-mapping';

/** The pino methods we use; pino loggers satisfy it. */
export interface ZerocapLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = () => undefined;
export const silentLogger: ZerocapLogger = { debug: noop, info: noop, warn: noop, error: noop };

export interface ZerocapRestClientOptions {
  /** The REST base exactly as zerocap.md lists it, path included (…/v2). */
  restUrl: string;
  apiKey: string;
  apiSecret: string;
  /** A request with no reply after this long counts as OutcomeUnknown. Default 5000. */
  requestTimeoutMs?: number;
  /** The limits to keep to, complete; default ours (none are published). */
  rateLimits?: RateLimits;
  /** Connections for create_order (its own pool). Default ZEROCAP_DEFAULTS.maxSockets. */
  maxSockets?: number;
  /** Connections for every other request (queries, searches). Default ZEROCAP_DEFAULTS.maxQuerySockets. */
  maxQuerySockets?: number;
  logger?: ZerocapLogger;
  /** Clock for the signed timestamp, ms. */
  now?: () => number;
}

/** fetch_orders filters, as the SDK names them (all optional). Times in ms. */
export interface ZerocapOrderFilter {
  symbol?: string;
  start_datetime?: number;
  end_datetime?: number;
  page?: number;
  limit?: number;
  /** Comma-separated venue ids. */
  ids?: string;
  status?: string;
  sort_order?: 'asc' | 'desc';
  order_type?: string;
  side?: string;
}

export interface ZerocapOrderPage {
  orders: VenueOrder[];
  total: number;
  page: number;
}

type LimitClass = 'orders' | 'queries';

/** Errors on a reused keep-alive socket that a read may safely retry once. */

export class ZerocapRestClient {
  readonly limiter: RateLimiter<LimitClass>;
  /**
   * Two pools: creates never wait for a socket behind queries. After a burst of timeouts the
   * searches for those orders can hold every query socket for their whole timeout, and a create
   * waiting in the agent past its deadline is rejected unsent (issue 10's soak). A cap on queries
   * below one shared pool would leave creates competing for the rest; separate agents make it
   * structural, and a query's timed-out sockets never touch the creates' kept-alive ones.
   */
  private readonly orderHttp: HttpJsonClient;
  private readonly queryHttp: HttpJsonClient;
  private readonly log: ZerocapLogger;
  private readonly now: () => number;
  private readonly timeoutMs: number;
  private readonly apiKey: string;
  private readonly apiSecret: string;

  constructor(opts: ZerocapRestClientOptions) {
    this.apiKey = opts.apiKey;
    this.apiSecret = opts.apiSecret;
    this.log = opts.logger ?? silentLogger;
    this.now = opts.now ?? Date.now;
    this.timeoutMs = opts.requestTimeoutMs ?? ZEROCAP_DEFAULTS.requestTimeoutMs;
    this.limiter = new RateLimiter<LimitClass>(opts.rateLimits ?? ZEROCAP_RATE_LIMITS);
    this.orderHttp = new HttpJsonClient({ baseUrl: opts.restUrl, maxSockets: opts.maxSockets ?? ZEROCAP_DEFAULTS.maxSockets, timeoutMs: this.timeoutMs });
    this.queryHttp = new HttpJsonClient({ baseUrl: opts.restUrl, maxSockets: opts.maxQuerySockets ?? ZEROCAP_DEFAULTS.maxQuerySockets, timeoutMs: this.timeoutMs });
  }

  /** POST /orders/create_order. The reply is the order, normally already closed (FOK). */
  async createOrder(req: PlaceOrderRequest): Promise<VenueOrder> {
    const body = zerocapCreateBody(req);
    const reply = await this.request('POST', ZEROCAP_PATHS.createOrder, body, 'orders', 'create');
    return orderFromZerocap(asObject(reply, 'create order'), req.clientOrderId);
  }

  /** GET /orders/fetch_order?id=… (venue id only: there is no lookup by client_order_id). */
  async fetchOrder(venueOrderId: string, knownClientOrderId?: string): Promise<VenueOrder> {
    const reply = await this.request('GET', `${ZEROCAP_PATHS.fetchOrder}?id=${encodeURIComponent(venueOrderId)}`, undefined, 'queries', 'query');
    return orderFromZerocap(asObject(reply, 'fetch order'), knownClientOrderId);
  }

  /** POST /orders/fetch_orders with filters: one page. */
  async fetchOrders(filter: ZerocapOrderFilter = {}): Promise<ZerocapOrderPage> {
    const reply = asObject(await this.request('POST', ZEROCAP_PATHS.fetchOrders, { ...filter }, 'queries', 'other'), 'fetch orders');
    const list = reply.order_list;
    if (!Array.isArray(list)) throw new OutcomeUnknown('Zerocap fetch_orders reply has no order_list');
    return {
      orders: list.map((o) => orderFromZerocap(asObject(o, 'fetch orders row'))),
      total: Number(reply.total ?? list.length),
      page: Number(reply.page ?? filter.page ?? 1),
    };
  }

  /** Every page of fetch_orders for a filter, up to maxPages. */
  async fetchAllOrders(filter: ZerocapOrderFilter, maxPages: number = ZEROCAP_DEFAULTS.fetchOrdersMaxPages): Promise<VenueOrder[]> {
    return (await this.fetchOrderPages(filter, maxPages)).orders;
  }

  /**
   * The pages of fetch_orders for a filter, up to maxPages; `complete` is false when the venue has
   * more rows than were read (what was not read proves nothing absent).
   */
  async fetchOrderPages(filter: ZerocapOrderFilter, maxPages: number = ZEROCAP_DEFAULTS.fetchOrdersMaxPages): Promise<{ orders: VenueOrder[]; complete: boolean }> {
    const limit = filter.limit ?? ZEROCAP_DEFAULTS.fetchOrdersPageLimit;
    const out: VenueOrder[] = [];
    for (let page = 1; page <= maxPages; page++) {
      const p = await this.fetchOrders({ ...filter, limit, page });
      out.push(...p.orders);
      if (p.orders.length < limit || out.length >= p.total) return { orders: out, complete: true };
    }
    return { orders: out, complete: false };
  }

  /** GET /orders/get_instruments. */
  async instruments(): Promise<Instrument[]> {
    return instrumentsFromZerocap(await this.request('GET', ZEROCAP_PATHS.instruments, undefined, 'queries', 'other'));
  }

  /** Frees the sockets and fails anything still queued. */
  close(): void {
    this.limiter.close();
    this.orderHttp.close();
    this.queryHttp.close();
  }

  // ------------------------------------------------------------------------------------ transport

  private request(method: HttpMethod, path: string, body: object | undefined, cls: LimitClass, kind: ZerocapRequestKind): Promise<unknown> {
    const http = cls === 'orders' ? this.orderHttp : this.queryHttp;
    return this.limiter.schedule(cls, () => this.send(http, method, path, body, kind, method === 'GET' || kind !== 'create'));
  }

  private async send(http: HttpJsonClient, method: HttpMethod, path: string, body: object | undefined, kind: ZerocapRequestKind, idempotent: boolean): Promise<unknown> {
    const started = this.now();
    // Signed per attempt; the headers never go to a log (they hold the signature).
    const headers: Record<string, string> = zerocapAuthHeaders(this.apiKey, this.apiSecret, started);
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: HttpJsonResponse;
    try {
      // Queries are POSTs too (fetch_orders) but change nothing: the client may retry them.
      res = await http.request({ method, path, headers, body: body === undefined ? undefined : JSON.stringify(body), idempotent });
    } catch (err) {
      throw this.networkError(err, method, path, started);
    }
    const parsed = parseBody(res.body);
    if (res.status >= 200 && res.status < 300) {
      this.log.debug({ method, path: pathOnly(path), status: res.status, ms: this.now() - started }, 'zerocap request');
      return parsed;
    }
    const err = zerocapErrorFromReply(res.status, parsed, res.headers['retry-after'], kind, this.now());
    if (err instanceof RateLimited) {
      this.limiter.pause(err.retryAfterMs);
      this.log.warn({ method, path: pathOnly(path), status: res.status, retryAfterMs: err.retryAfterMs }, 'zerocap rate limited: pausing');
    } else {
      this.log.info({ method, path: pathOnly(path), status: res.status, code: err.code, text: err.venueText, error: err.name }, 'zerocap request failed');
    }
    throw err;
  }

  /** Not sent → a plain rejection (nothing reached the venue); otherwise the outcome is unknown. */
  private networkError(err: unknown, method: HttpMethod, path: string, started: number): VenueError {
    const code = errorCode(err);
    const sent = !(err instanceof HttpRequestError) || err.sent;
    this.log.warn({ method, path: pathOnly(path), code, sent, ms: this.now() - started }, 'zerocap request got no reply');
    if (!sent) return new OrderRejected('other', `Zerocap unreachable (${code}): request not sent`, code);
    if (code === 'ETIMEDOUT') return new OutcomeUnknown(`Zerocap request timed out after ${this.timeoutMs} ms: outcome unknown`, code);
    return new OutcomeUnknown(`Zerocap connection lost before the reply (${code}): outcome unknown`, code);
  }
}

function pathOnly(path: string): string {
  const q = path.indexOf('?');
  return q < 0 ? path : path.slice(0, q);
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' ? code : 'UNKNOWN';
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return parseZerocapJson(text);
  } catch {
    return text;
  }
}

function asObject(body: unknown, what: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new OutcomeUnknown(`Zerocap ${what} reply is not an object`);
  return body as Record<string, unknown>;
}
