// Zerocap DMA venue facts as data: hosts, paths, headers, the timestamp window, status words and
// the error shapes. Source: ../shared/venues/zerocap.md (the official `zerocap_api` SDK and
// docs.zerocap.com). Where zerocap.md marks a fact unconfirmed, the choice made here says so.
// Nothing here does I/O.

import type { OrderStatus, RateLimits, VenueCapabilities } from '../venue';
import { DEFAULT_MAX_QUEUE } from '../common/rate-limiter';

export const ZEROCAP_VENUE_NAME = 'zerocap';

/**
 * Base URLs exactly as zerocap.md lists them, path included: REST paths below hang off `restUrl`
 * (`<restUrl>/orders/create_order`), and the stream connects to `wsUrl` itself.
 */
export const ZEROCAP_ENVIRONMENTS = {
  production: { restUrl: 'https://dma-api.zerocap.com/v2', wsUrl: 'wss://dma-ws.zerocap.com/v2' },
  sandbox: { restUrl: 'https://sandbox-api.zerocap.com/v2', wsUrl: 'wss://sandbox-ws.zerocap.com/v2' },
  /** Older SDKs only; the current test environment is `sandbox`. */
  uat: { restUrl: 'https://dma-uat-api.defi.wiki/v2', wsUrl: 'wss://dma-uat-ws.defi.wiki/v2' },
} as const;

export type ZerocapEnvironment = keyof typeof ZEROCAP_ENVIRONMENTS;

/** Paths under the REST base (which already ends in /v2). */
export const ZEROCAP_PATHS = {
  createOrder: '/orders/create_order',
  fetchOrder: '/orders/fetch_order',
  fetchOrders: '/orders/fetch_orders',
  instruments: '/orders/get_instruments',
  serverTime: '/systems/get_time',
} as const;

/** Every REST request and the WS upgrade carry these three headers. */
export const ZEROCAP_HEADERS = { apiKey: 'api-key', timestamp: 'timestamp', signature: 'signature' } as const;

/**
 * The signed timestamp must be within 30 s of Zerocap's clock (docs.zerocap.com/docs/authentication).
 * It is also the venue's request validity window: a request not executed 30 s after its timestamp
 * can no longer execute, which is what proof of absence after an unknown outcome waits for.
 */
export const ZEROCAP_TIMESTAMP_WINDOW_MS = 30_000;

/**
 * Added on both sides of the window searched for an order of unknown outcome (send time ± the
 * timestamp window): the signed timestamp is floored to the second, and the venue executes a
 * moment after checking it. Our choice.
 */
export const ZEROCAP_SEARCH_MARGIN_MS = 5_000;

export const ZEROCAP_DEFAULTS = {
  requestTimeoutMs: 5_000,
  /** The SDK pings every 5 s. */
  streamPingIntervalMs: 5_000,
  /** fetch_orders page size (the SDK default). */
  fetchOrdersPageLimit: 500,
  /** Pages read when searching an order by client_order_id. */
  fetchOrdersMaxPages: 10,
  /** How far back a search by client_order_id looks (ms). Our choice: a day. */
  searchLookbackMs: 24 * 60 * 60_000,
  /** Connections for creates. */
  maxSockets: 64,
  /** Connections for queries (a pool of their own: they can never hold the creates' sockets). */
  maxQuerySockets: 16,
  /**
   * Searches by client_order_id in flight at once (each a scan of fetch_orders pages, one after
   * another); lookups beyond wait and share the next scan of their symbol.
   */
  maxConcurrentSearches: 2,
} as const;

/**
 * No limits are published (zerocap.md: unknown). Our choice: modest, and the adapter backs off on
 * 429. The simulator enforces the same numbers unless told otherwise.
 */
export const ZEROCAP_RATE_LIMITS: RateLimits = {
  budgets: [
    { name: 'orders', limit: 10, windowMs: 1000, weights: { orders: 1 } },
    { name: 'queries', limit: 10, windowMs: 1000, weights: { queries: 1 } },
  ],
  maxQueue: DEFAULT_MAX_QUEUE,
};
/** The same numbers in the simulators' two-class form. */
export const ZEROCAP_SIM_RATE_LIMITS = { ordersPerSecond: 10, queriesPerSecond: 10 } as const;

/** Wait after a 429 without Retry-After (unpublished; our choice). */
export const ZEROCAP_RATE_LIMIT_WAIT_MS = 10_000;

export const ZEROCAP_CLIENT_ORDER_ID_MAX_LENGTH = 36;

export const ZEROCAP_CAPABILITIES: VenueCapabilities = {
  // Market orders are unconfirmed for the current API (zerocap.md): limit only.
  orderTypes: ['limit'],
  // No time-in-force field: every order behaves fill-or-kill against Zerocap's quote.
  timeInForce: { limit: ['FOK'], market: [] },
  postOnly: false,
  asyncCancel: false,
  // No cancel endpoint exists.
  cancel: false,
  cancelableOrderTypes: [],
  // Length rules are unconfirmed; older SDKs generated UUIDs (36 characters). Our choice.
  clientOrderId: { kind: 'string', maxLength: ZEROCAP_CLIENT_ORDER_ID_MAX_LENGTH },
  // client_order_id uniqueness unconfirmed; no cancel endpoint.
  refusesReusedClientOrderId: false,
  cancelByClientOrderId: false,
  // `order` (and `trade`) subscriptions on the WebSocket.
  orderUpdates: 'stream',
  // The timestamp may be up to 30 s off the server's either way: a request stamped 30 s ahead
  // stays acceptable until 60 s after the server received it.
  absenceProofMs: 2 * ZEROCAP_TIMESTAMP_WINDOW_MS,
};

/** Status words. Only `open` and `closed` are confirmed; the CCXT-style others are likely. */
export const ZEROCAP_STATUS = {
  open: 'open',
  closed: 'closed',
  canceled: 'canceled',
  cancelled: 'cancelled',
  expired: 'expired',
  rejected: 'rejected',
} as const;

/** Words whose unified status does not depend on quantities (`open` / `closed` do). */
export const ZEROCAP_FIXED_STATUS: Readonly<Record<string, OrderStatus>> = {
  canceled: 'canceled',
  cancelled: 'canceled',
  expired: 'expired',
  rejected: 'rejected',
};

/** WS messages, exactly as zerocap.md quotes them. */
export const ZEROCAP_WS = {
  connected: 'Successfully connected.',
  ping: { type: 'message', message: 'ping' },
  pong: 'pong',
  subscribeOrders: { type: 'order' },
  subscribeTrades: { type: 'trade' },
  /** Ack text: `<type> Subscription successful.` */
  subscribed: (type: string) => `${type} Subscription successful.`,
} as const;

// Error shapes. REST: "non-200 + text" is all zerocap.md confirms; the simulator answers the WS
// error object's fields, {"error_code": "<http-like code>", "error_message": "..."}, and the mapping
// reads that, {code, msg|message}, {detail} or plain text. Classes follow the HTTP status; the
// message refines a 400 (see ZEROCAP_REJECT_TEXT).

/** Texts (lower-cased substrings) of a 4xx create reply → reject reason. First match wins. */
export const ZEROCAP_REJECT_TEXT: readonly (readonly [string, 'unknown_symbol' | 'insufficient_funds' | 'invalid_order'])[] = [
  ['symbol', 'unknown_symbol'],
  ['instrument', 'unknown_symbol'],
  ['insufficient', 'insufficient_funds'],
  ['balance', 'insufficient_funds'],
  ['credit', 'insufficient_funds'],
  ['risk', 'insufficient_funds'],
];
