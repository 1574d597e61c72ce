// Zerocap REST over the venue-neutral HttpJsonClient: JSON bodies, the three auth headers signed
// fresh per attempt, every request through the rate-limit class of its endpoint. Replies leave as
// unified types or unified errors.

import { HttpJsonClient, HttpJsonResponse, HttpMethod, HttpRequestError } from '../common/http-json-client';
import { RateLimiter } from '../common/rate-limiter';
import { ServerClock } from '../common/server-clock';
import { AuthenticationFailed, Instrument, OrderRejected, OutcomeUnknown, PlaceOrderRequest, RateLimited, RateLimits, VenueError, VenueOrder } from '../venue';
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
  /** Clock for the signed timestamp, ms (the venue's measured offset is added to it). */
  now?: () => number;
  /** Periodic clock resync, ms (default ServerClock's 10 min). */
  clockResyncMs?: number;
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
  /** The venue's time for the signed timestamp (our clock plus the measured offset). */
  private readonly clock: ServerClock;

  constructor(opts: ZerocapRestClientOptions) {
    this.apiKey = opts.apiKey;
    this.apiSecret = opts.apiSecret;
    this.log = opts.logger ?? silentLogger;
    this.now = opts.now ?? Date.now;
    this.timeoutMs = opts.requestTimeoutMs ?? ZEROCAP_DEFAULTS.requestTimeoutMs;
    this.limiter = new RateLimiter<LimitClass>(opts.rateLimits ?? ZEROCAP_RATE_LIMITS);
    this.orderHttp = new HttpJsonClient({ baseUrl: opts.restUrl, maxSockets: opts.maxSockets ?? ZEROCAP_DEFAULTS.maxSockets, timeoutMs: this.timeoutMs });
    this.queryHttp = new HttpJsonClient({ baseUrl: opts.restUrl, maxSockets: opts.maxQuerySockets ?? ZEROCAP_DEFAULTS.maxQuerySockets, timeoutMs: this.timeoutMs });
    this.clock = new ServerClock(this.now, () => this.serverTime(), { resyncEveryMs: opts.clockResyncMs });
  }

  /** The venue's time as we estimate it, ms: what the stream's upgrade headers are signed with. */
  venueNow(): number {
    return this.clock.now();
  }
  /** The range of offsets (venue − our clock, ms) this client has signed with: ServerClock's. */
  signedOffsetRangeMs(): { lowest: number; highest: number } {
    return { lowest: this.clock.lowestOffsetMs, highest: this.clock.highestOffsetMs };
  }


  /** Measures the offset to the venue's clock again (the stream's upgrade was refused). */
  async resyncClock(): Promise<void> {
    const before = this.clock.offsetMs;
    const offsetMs = await this.clock.sync();
    this.log.warn({ offsetMs, previousOffsetMs: before }, 'zerocap clock resynchronised');
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
    // Pages are offsets into a list that grows while it is read: newest first, an order placed
    // between two reads slides the rows already read onto the next page. Each order counts once
    // (where first read, with the state read last), or one order looks like two under one id.
    const byId = new Map<string, VenueOrder>();
    let read = 0;
    for (let page = 1; page <= maxPages; page++) {
      const p = await this.fetchOrders({ ...filter, limit, page });
      for (const o of p.orders) byId.set(o.venueOrderId, o);
      read += p.orders.length;
      if (p.orders.length < limit || read >= p.total) return { orders: [...byId.values()], complete: true };
    }
    return { orders: [...byId.values()], complete: false };
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
    const attempt = () => this.limiter.schedule(cls, () => this.send(http, method, path, body, kind, method === 'GET' || kind !== 'create'));
    // 401 "Request expired": our timestamp is outside the venue's ±30 s by its clock, and the
    // request was refused before it ran (zerocap.md "Authentication"; a refused create placed
    // nothing): resync on get_time, try once more.
    return this.clock.signed(attempt, isTimestampRefusal, {
      resynced: (offsetMs, previousOffsetMs) =>
        this.log.warn({ method, path: pathOnly(path), offsetMs, previousOffsetMs }, 'zerocap timestamp expired: clock resynchronised, retrying once'),
      syncFailed: (err) => this.log.warn({ err: errorCode(err), error: (err as Error)?.name }, 'zerocap server time: resync failed'),
    });
  }

  /**
   * `GET <base>/systems/get_time` (off the base, not off /orders): the venue's time, ms. It is
   * signed like every call (zerocap.md), so with our clock outside the window it is refused too;
   * then the refusal's own `Date` header (RFC 9110: a server with a clock sends one; whole
   * seconds, so +500 ms for the middle of that second) is the venue's time: coarse, but well
   * inside ±30 s, and the next periodic resync reads get_time exactly.
   */
  private async serverTime(): Promise<number> {
    return this.limiter.schedule('queries', async () => {
      const headers = zerocapAuthHeaders(this.apiKey, this.apiSecret, this.clock.now());
      let res: HttpJsonResponse;
      try {
        res = await this.queryHttp.request({ method: 'GET', path: ZEROCAP_PATHS.serverTime, headers, idempotent: true });
      } catch (err) {
        throw this.networkError(err, 'GET', ZEROCAP_PATHS.serverTime, this.now());
      }
      const parsed = parseBody(res.body);
      if (res.status >= 200 && res.status < 300) {
        const t = Number((parsed as Record<string, unknown> | undefined)?.timestamp);
        if (!Number.isFinite(t) || t <= 0) throw new OutcomeUnknown('Zerocap get_time reply has no timestamp');
        return t < 1e12 ? t * 1000 : t; // ms as the venue's other timestamps; seconds tolerated
      }
      const err = zerocapErrorFromReply(res.status, parsed, res.headers['retry-after'], 'other', this.now());
      const date = Date.parse(String(res.headers['date'] ?? ''));
      if (isTimestampRefusal(err) && Number.isFinite(date)) return date + 500;
      throw err;
    });
  }

  private async send(http: HttpJsonClient, method: HttpMethod, path: string, body: object | undefined, kind: ZerocapRequestKind, idempotent: boolean): Promise<unknown> {
    const started = this.now();
    // Signed per attempt with the venue's time; the headers never go to a log (they hold the signature).
    const headers: Record<string, string> = zerocapAuthHeaders(this.apiKey, this.apiSecret, this.clock.now());
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

/** The venue's "Request expired" (401): our timestamp outside its window; nothing ran. */
function isTimestampRefusal(err: unknown): boolean {
  return err instanceof AuthenticationFailed && /expired/i.test(err.venueText ?? '');
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
