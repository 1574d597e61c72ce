// The one boundary between the FIX side and the venues. Everything a venue adapter offers and
// every event it reports is expressed here in a venue-neutral model. Venue folders import only
// this file (and their own code); the FIX/gateway side imports only this file, never a venue.
//
// All prices and quantities are decimal strings, exactly as the venue sent them (or as the client
// sent them); arithmetic on them uses decimal.js, never JS numbers.

export type Side = 'buy' | 'sell';
export type OrderType = 'market' | 'limit';
/** GTC good till cancel, IOC immediate or cancel, FOK fill or kill, DAY/GTD only where a venue has them. */
export type TimeInForce = 'GTC' | 'IOC' | 'FOK' | 'DAY' | 'GTD';

/** Unified order status. `rawStatus` on orders and events keeps the venue's own word. */
export type OrderStatus =
  | 'pending_new'
  | 'new'
  | 'partially_filled'
  | 'filled'
  | 'pending_cancel'
  | 'canceled'
  | 'rejected'
  | 'expired';

export const TERMINAL_STATUSES: ReadonlySet<OrderStatus> = new Set(['filled', 'canceled', 'rejected', 'expired']);

export interface Instrument {
  /** Symbol as FIX clients send it in tag 55 (the venue's own spelling unless a venue says otherwise). */
  symbol: string;
  tickSize: string;
  stepSize: string;
  minQty?: string;
  maxQty?: string;
  minNotional?: string;
}

/**
 * How the venue names an order by the client's id, and so what the gateway allocates for each order
 * (the allocation and its durable counters live in the gateway's order book, never in a venue):
 * - `string`: any id of up to maxLength characters from [A-Za-z0-9-]; the gateway sends its own
 *   unique id (`<session prefix>-<counter base 36>`).
 * - `integer`: a decimal integer in [min, max]; the gateway allocates from a durable counter that
 *   wraps within the range and skips every value still held by an order in its book (live, or
 *   kept to answer status requests), so a value is never reused while it could name a live or
 *   reported order.
 * - `venue-format`: the adapter formats the id (VenueAdapter.clientOrderIdFor) from the session's
 *   tag and a durable sequence the gateway hands out.
 * - `none`: the venue has no client order id; the gateway maps ClOrdID to the venue order id from
 *   the create reply, and after an unknown outcome finds the order by content (recentOrders).
 */
export type ClientOrderIdScheme =
  | { kind: 'string'; maxLength: number }
  | { kind: 'integer'; min: number; max: number }
  | { kind: 'venue-format' }
  | { kind: 'none' };

/** How the venue reports our own orders' changes (OrderEvents). */
export type OrderUpdateChannel =
  /** The venue pushes them (a WebSocket stream). */
  | 'stream'
  /**
   * The venue has no own-order stream: the adapter polls (common/order-poller.ts) and needs to be
   * told which orders are ours (VenueAdapter.trackOrders).
   */
  | 'polled';

/** What a venue accepts; the gateway validates NewOrderSingle against it before calling the venue. */
export interface VenueCapabilities {
  orderTypes: readonly OrderType[];
  /** Allowed time in force per order type. */
  timeInForce: Readonly<Record<OrderType, readonly TimeInForce[]>>;
  postOnly: boolean;
  /** True when a cancel is acknowledged first and confirmed later (FIX 150=6 then 150=4). */
  asyncCancel: boolean;
  /**
   * True when the venue can cancel at all. False: every OrderCancelRequest gets 35=9 with
   * CxlRejReason 2 (0 when the order is already done), the order untouched.
   */
  cancel: boolean;
  /** The order types the venue can cancel (when `cancel`); a cancel of another type gets 35=9 102=2. */
  cancelableOrderTypes: readonly OrderType[];
  /** What the gateway allocates as the order's client order id at the venue. */
  clientOrderId: ClientOrderIdScheme;
  /**
   * True when the venue refuses a create whose client order id it already has (DuplicateOrder):
   * re-submitting a create of unknown outcome is then safe, and a duplicate refusal proves the
   * earlier attempt got through.
   */
  refusesReusedClientOrderId: boolean;
  /** True when cancelOrder works with our client order id alone (no venue order id needed). */
  cancelByClientOrderId: boolean;
  /** How own-order updates arrive. */
  orderUpdates: OrderUpdateChannel;
  /**
   * Proof of absence, ms: after an unknown outcome an order counts as absent only once the venue
   * has said "not found" for longer than this, the time a request we sent can still execute at
   * the venue (its recvWindow, timestamp window, token expiry, ...). A network error or 5xx
   * during the search never counts as "not found".
   */
  absenceProofMs: number;
  /**
   * The one exchange this session's orders route to, where the venue is an aggregator (Apifiny's
   * `venue`): a NewOrderSingle whose ExDestination (100) names another is rejected, naming this
   * one. Absent: the venue is the destination and ExDestination is not checked.
   */
  exDestination?: string;
}

/**
 * Fill ids starting with this prefix are the gateway's own (catch-up fills made up from a venue's
 * cumulative quantity, `cum:<qty>`). A venue fill id is passed through gatewayFillId before use,
 * so it can never fall into this namespace.
 */
export const SYNTHETIC_FILL_ID_PREFIX = 'cum:';
const FILL_ID_ESCAPE = '\\';

/**
 * The id under which the gateway records a venue's fill id: the venue's id itself, except that an
 * id starting with the reserved prefix (or with the escape character) gets the escape character
 * prepended. Injective, so distinct venue ids stay distinct, and never a synthetic id.
 */
export function gatewayFillId(venueFillId: string): string {
  return venueFillId.startsWith(SYNTHETIC_FILL_ID_PREFIX) || venueFillId.startsWith(FILL_ID_ESCAPE) ? FILL_ID_ESCAPE + venueFillId : venueFillId;
}

/**
 * What a request is, for rate limiting: `orders` = create and cancel, `queries` = everything else
 * (order and trade queries, open orders, instruments, stream keep-alives). Every venue client tags
 * each request with one.
 */
export type RequestClass = 'orders' | 'queries';

/**
 * One budget a venue publishes: at most `limit` units in any sliding window of `windowMs`; a
 * request of a class listed in `weights` costs that many units (classes not listed cost nothing
 * here). Examples: HashKey 10 orders/s {orders: 1}; Dzengi 1200 weight/min {orders: 1, queries: 1};
 * Apifiny 20 requests/s per account {orders: 1, queries: 1}.
 */
export interface RateBudget {
  /** For logs and RateLimited texts: `orders`, `queries`, `weight`, `account`, ... */
  name: string;
  limit: number;
  windowMs: number;
  weights: Readonly<Partial<Record<RequestClass, number>>>;
}

/**
 * A venue's request limits as a list of budgets, every one enforced (src/venues/common/rate-limiter.ts):
 * a request runs once every budget that counts its class has room. An empty list means none is
 * published and none is kept (the adapter still backs off on 429).
 */
export interface RateLimits {
  budgets: readonly RateBudget[];
  /** Requests allowed to wait (per class) in the adapter's queue, a memory bound (time, maxQueueWaitMs, is the usual one). */
  maxQueue: number;
  /**
   * Longest a request may wait unsent, behind the budgets or a pause the venue imposed (429/418 with
   * its wait), before it is refused with RateLimited (sessions.cfg VenueMaxQueueWait). Absent: DEFAULT_MAX_QUEUE_WAIT_MS.
   */
  maxQueueWaitMs?: number;
  /**
   * Called once with each limiter built from these limits, so an onlooker (the admin endpoint) can
   * read its queue when asked, at no cost per request. Absent: nobody watches.
   */
  watch?: (queue: RateLimitQueue) => void;
}

/** A rate limiter's queue as an onlooker sees it. */
export interface RateLimitQueue {
  /** Requests of that class waiting for budget (0 for a class the limiter does not know). */
  queued(cls: RequestClass): number;
}

export interface PlaceOrderRequest {
  /** The client order id the gateway allocated (capabilities.clientOrderId); absent when the scheme is `none`. */
  clientOrderId?: string;
  symbol: string;
  side: Side;
  type: OrderType;
  quantity: string;
  /** Limit price; absent for market orders. */
  price?: string;
  timeInForce: TimeInForce;
  postOnly?: boolean;
}

/** Identifies an order at the venue: by our client order id, and by the venue's id once known. */
export interface OrderRef {
  /** Absent on venues without client order ids. */
  clientOrderId?: string;
  venueOrderId?: string;
  symbol: string;
  /**
   * For a create of unknown outcome (no venueOrderId yet): the span, ms since epoch on the
   * gateway's clock, in which any request that could have created the order was sent. `from` is
   * when the order arrived (before any send), `to` a moment after the last send (when resolution
   * started). A venue that can only search its orders by time may search just around it (widened
   * by its clock skew and request validity window); absent, the adapter searches as it would
   * without. Other adapters may ignore it.
   */
  sentBetween?: { from: number; to: number };
}

export interface VenueFill {
  /** The venue's unique id of this execution (trade/ticket id); the dedupe key for ExecIDs. */
  fillId: string;
  qty: string;
  price: string;
  fee?: string;
  feeAsset?: string;
  /** ms since epoch */
  time: number;
}

/** A snapshot of an order as the venue reports it (REST create/query/open orders). */
export interface VenueOrder {
  /** Our client order id as the venue reports it; '' when the venue has none or does not say. */
  clientOrderId: string;
  venueOrderId: string;
  symbol: string;
  side: Side;
  type: OrderType;
  quantity: string;
  price?: string;
  timeInForce?: TimeInForce;
  status: OrderStatus;
  rawStatus: string;
  /** Cumulative executed quantity. */
  filledQty: string;
  avgPrice?: string;
  /** ms since epoch of the venue's last update. */
  updateTime: number;
  /** ms since epoch when the venue created the order, where it says (content matching needs it). */
  createdAt?: number;
  /** The executions of the order when the venue can list them (needed to report fills missed while disconnected). */
  fills?: VenueFill[];
  /** Venue reject code and text when status is rejected. */
  rejectCode?: string;
  rejectText?: string;
}

interface OrderEventBase {
  /** '' when the venue has no client order id or does not say. */
  clientOrderId: string;
  venueOrderId: string;
  /** The venue's own status word or event name. */
  rawStatus: string;
  /** ms since epoch, venue time when given. */
  time: number;
  /** Cumulative executed quantity after this event, when the venue says. */
  cumQty?: string;
  /** Where the event came from. */
  source: 'stream' | 'rest';
}

export type OrderEvent =
  | (OrderEventBase & { kind: 'acknowledged' })
  | (OrderEventBase & { kind: 'fill'; fill: VenueFill })
  | (OrderEventBase & { kind: 'pending_cancel' })
  /** `text`: the venue's reason, when it gives one (goes to Text 58). */
  | (OrderEventBase & { kind: 'canceled'; text?: string })
  | (OrderEventBase & { kind: 'expired'; text?: string })
  | (OrderEventBase & { kind: 'rejected'; code: string; text: string })
  /**
   * The venue's whole view of the order (what a poller sees): applied like a query result, any
   * number of times, so a repeat changes nothing and a later one repairs an earlier miss.
   */
  | (OrderEventBase & { kind: 'snapshot'; order: VenueOrder });

export type CancelResult =
  /** Cancel is accepted but not yet confirmed: a final `canceled` event will follow. */
  | { status: 'pending_cancel'; order?: VenueOrder }
  /** Cancel is done. */
  | { status: 'canceled'; order?: VenueOrder };

export type StreamState = 'connected' | 'disconnected';

export interface VenueAdapter {
  /** Short lowercase name, for logs only: the FIX side never branches on it. */
  readonly name: string;
  readonly capabilities: VenueCapabilities;

  /** Connect streams and load what the adapter needs. Resolves when ready to trade. */
  start(): Promise<void>;
  stop(): Promise<void>;

  instruments(): Promise<Instrument[]>;

  /**
   * Place an order. Resolves with the venue's view of it (status new, filled, ... ).
   * Rejects with OrderRejected / DuplicateOrder / RateLimited / AuthenticationFailed, or
   * OutcomeUnknown when the request may or may not have reached the venue (5xx, timeout,
   * dropped connection): the caller must then resolve the order through getOrder().
   */
  placeOrder(req: PlaceOrderRequest): Promise<VenueOrder>;

  /** Cancel. Rejects with OrderNotFound, OrderRejected (reason too_late / unsupported), OutcomeUnknown, ... */
  cancelOrder(ref: OrderRef): Promise<CancelResult>;

  /** Query one order, with its fills where the venue can list them. Rejects with OrderNotFound when the venue has no such order. */
  getOrder(ref: OrderRef): Promise<VenueOrder>;

  /** Every open order of the account (used to reconcile after a start or reconnect). */
  openOrders(): Promise<VenueOrder[]>;

  /** Order events from the venue's push stream (or the adapter's poller where the venue has none). */
  onEvent(listener: (event: OrderEvent) => void): void;

  /**
   * Stream connectivity; on every 'connected' the gateway reconciles open orders through REST.
   * A poller reports 'disconnected' when it cannot reach the venue and 'connected' when it can again.
   */
  onStreamState(listener: (state: StreamState) => void): void;

  /**
   * Required for clientOrderId `venue-format`: the venue's client order id for the session's tag
   * (digits/letters naming the session) and a durable sequence from the gateway: strictly
   * increasing across restarts and never below 1000 × the wall clock in ms (so `floor(seq / 1000)`
   * is a millisecond timestamp at or after now and `seq % 1000` a counter within it).
   */
  clientOrderIdFor?(sessionTag: string, sequence: number): string;

  /**
   * Required for clientOrderId `none`: the account's orders on `symbol` created at or after
   * `sinceMs` (venue time), open or finished, with createdAt where the venue says; the gateway
   * finds an order of unknown outcome among them by content.
   */
  recentOrders?(symbol: string, sinceMs: number): Promise<VenueOrder[]>;

  /**
   * Required for orderUpdates `polled` (and used by venues that must know which orders are ours):
   * these orders are the gateway's, follow them. The gateway calls it once the venue has started
   * with every open order it knows, and again whenever it learns an order's venue id. Refs carry
   * the venue order id where known.
   */
  trackOrders?(refs: OrderRef[]): void;
}

// ---------------------------------------------------------------------------------------------
// Errors, mapped once at the edge (in each venue's mapping code) from the venue's codes.

export type RejectReason =
  | 'unknown_symbol'
  | 'insufficient_funds'
  | 'invalid_order'
  | 'post_only_would_take'
  | 'duplicate'
  | 'too_late'
  | 'unsupported'
  /** A cancel the venue cannot take yet (the order is still being submitted): retry once it is acknowledged. */
  | 'not_yet_cancelable'
  /** A cancel of this order is already under way at the venue (FIX CxlRejReason 3). */
  | 'already_pending_cancel'
  | 'other';

export class VenueError extends Error {
  constructor(
    message: string,
    /** The venue's error code, as a string. */
    readonly code?: string,
    /** The venue's error text. */
    readonly venueText?: string,
    readonly httpStatus?: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The venue refused the request; nothing happened. */
export class OrderRejected extends VenueError {
  constructor(
    readonly reason: RejectReason,
    message: string,
    code?: string,
    venueText?: string,
    httpStatus?: number,
  ) {
    super(message, code, venueText, httpStatus);
  }
}

/** The client order id is already in use at the venue. */
export class DuplicateOrder extends OrderRejected {
  constructor(message: string, code?: string, venueText?: string, httpStatus?: number) {
    super('duplicate', message, code, venueText, httpStatus);
  }
}

export class OrderNotFound extends VenueError {}

export class RateLimited extends VenueError {
  constructor(
    message: string,
    /** How long the venue asks us to wait, in ms. */
    readonly retryAfterMs: number,
    code?: string,
    venueText?: string,
    httpStatus?: number,
  ) {
    super(message, code, venueText, httpStatus);
  }
}

export class AuthenticationFailed extends VenueError {}

/** The request may or may not have been executed (5xx, timeout, connection lost before the reply). */
export class OutcomeUnknown extends VenueError {}

/**
 * The adapter's own configuration, resolved by the gateway from sessions.cfg and the venue
 * registry (src/venues/registry.ts, src/wiring.ts). Secrets are already read.
 */
export interface VenueConfig {
  /** REST base URL exactly as the venue notes list it, path included (`https://dma-api.zerocap.com/v2`). */
  restUrl: string;
  /** Stream / WS base URL exactly as the venue notes list it, path included (`wss://api-adapter.dzengi.com/connect`). */
  wsUrl: string;
  apiKey: string;
  /** The HMAC/JWT secret. Where the venue has none (Coinut: the API key is the HMAC key) the API key itself. */
  apiSecret: string;
  /** The account the venue needs named in requests or logins: Apifiny `accountId` (`STA-…`), Coinut username. */
  account?: string;
  /**
   * The exchange an aggregator routes to (Apifiny `venue`, FIX ExDestination 100): needed when the
   * REST URL names none (a co-located host); must agree with the URL when both do.
   */
  exDestination?: string;
  /** Per-request timeout before a request counts as OutcomeUnknown. */
  requestTimeoutMs?: number;
  /**
   * The limits the adapter keeps to, complete: absent = the venue's published ones. The gateway
   * passes the venue's published budgets with sessions.cfg overrides applied (see
   * applyRateLimitOverrides), or the simulator's higher ones.
   */
  rateLimits?: RateLimits;
}
