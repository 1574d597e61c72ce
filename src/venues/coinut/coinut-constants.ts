// Coinut venue facts as data: URLs, request and reply names, status words, reject reasons, ranges.
// Source: ../shared/venues/coinut.md (the official GitHub wiki, Coinut's Python/Go/Node
// libraries, gocryptotrader's Coinut adapter). Nothing here does I/O.
//
// What sets Coinut apart: trading runs over one WebSocket where requests and replies are matched
// by an integer `nonce` (1..16777215); client order ids are integers in the same range and are not
// unique-enforced by the venue; every trading call names the instrument by its integer `inst_id`;
// there is no single-order query; order events go to every connection of the account; times are
// Unix microseconds.

import type { OrderStatus, RateLimits, RejectReason, VenueCapabilities } from '../venue';
import { DEFAULT_MAX_QUEUE } from '../common/rate-limiter';

export const COINUT_VENUE_NAME = 'coinut';

/**
 * Exactly as coinut.md lists them. Production only: no sandbox is documented (new accounts get
 * free LTC for testing). REST is a single endpoint (`POST /`).
 */
export const COINUT_ENVIRONMENTS = {
  production: {
    restUrl: 'https://api.coinut.com',
    wsUrl: 'wss://wsapi.coinut.com',
  },
} as const;

export type CoinutEnvironment = keyof typeof COINUT_ENVIRONMENTS;

/** Regional WS hosts named in a gocryptotrader comment (**unconfirmed**); not used by default. */
export const COINUT_REGIONAL_WS_URLS = ['wss://wsapi-as.coinut.com', 'wss://wsapi-na.coinut.com', 'wss://wsapi-eu.coinut.com'] as const;

/** The one REST path: every request is `POST /` with `"request"` in the JSON body. */
export const COINUT_REST_PATH = '/';

export const COINUT_HEADERS = { user: 'X-USER', signature: 'X-SIGNATURE' } as const;

/** Nonces and client order ids share the documented range [1, 16777215] (2^24 − 1). */
export const COINUT_NONCE_MIN = 1;
export const COINUT_NONCE_MAX = 16_777_215;
export const COINUT_CLIENT_ORD_ID_MIN = 1;
export const COINUT_CLIENT_ORD_ID_MAX = 16_777_215;

/** Request names (the `"request"` field). */
export const COINUT_REQUESTS = {
  login: 'login',
  heartbeat: 'hb',
  instruments: 'inst_list',
  newOrder: 'new_order',
  newOrders: 'new_orders',
  cancelOrder: 'cancel_order',
  cancelOrders: 'cancel_orders',
  openOrders: 'user_open_orders',
  tradeHistory: 'trade_history',
  balance: 'user_balance',
} as const;

export type CoinutRequestName = (typeof COINUT_REQUESTS)[keyof typeof COINUT_REQUESTS];

/** Reply names (the `"reply"` field). Order events reuse the order reply names. */
export const COINUT_REPLIES = {
  login: 'login',
  heartbeat: 'hb',
  instruments: 'inst_list',
  orderAccepted: 'order_accepted',
  orderFilled: 'order_filled',
  orderRejected: 'order_rejected',
  cancelOrder: 'cancel_order',
  cancelOrders: 'cancel_orders',
  openOrders: 'user_open_orders',
  tradeHistory: 'trade_history',
  balance: 'user_balance',
} as const;

export const COINUT_ORDER_EVENT_REPLIES: ReadonlySet<string> = new Set([
  COINUT_REPLIES.orderAccepted,
  COINUT_REPLIES.orderFilled,
  COINUT_REPLIES.orderRejected,
]);

/** `status` is an array; success is `["OK"]`, anything else is an error code word. */
export const COINUT_STATUS_OK = 'OK';

/**
 * Error status words. INVALID_ORDER_ID is from the batch-cancel example; the others are our
 * wording where coinut.md is silent (the simulator uses them; the client treats any non-OK status
 * as an error carrying that word).
 */
export const COINUT_STATUS_WORDS = {
  ok: 'OK',
  invalidOrderId: 'INVALID_ORDER_ID',
  /** Our wording (unconfirmed): login refused (bad HMAC, unknown user, stale timestamp). */
  authFailed: 'AUTHENTICATION_FAILED',
  /** Our wording (unconfirmed): a request before login on a connection. */
  notLoggedIn: 'NOT_LOGGED_IN',
  /** Our wording (unconfirmed): a nonce out of range or still in use on this connection. */
  invalidNonce: 'INVALID_NONCE',
  /** Our wording (unconfirmed): a malformed request. */
  invalidRequest: 'INVALID_REQUEST',
  /** Our wording (unconfirmed): too many requests. */
  rateLimited: 'RATE_LIMITED',
  invalidInstrument: 'INVALID_INSTRUMENT',
} as const;

/** Order reject reasons (`reasons[]` of `order_rejected`), the wiki's complete list. */
export const COINUT_REJECT_REASONS = [
  'UNKNOWN_ERROR',
  'INVALID_INSTRUMENT',
  'INST_EXPIRED',
  'INVALID_PRICE',
  'INVALID_QUANTITY',
  'NOT_ENOUGH_BALANCE',
  // Sic: the list's spelling. The wiki's prose spells it NOT_ENOUGH_LIQUIDITY: both are accepted.
  'NOT_ENOUGH_LIQUIDTY',
  'INVALID_CLIENT_ORD_ID',
  'TRADE_DISABLED',
] as const;

/** The two spellings of the liquidity reason. The simulator sends the list's. */
export const COINUT_NOT_ENOUGH_LIQUIDITY_SPELLINGS = ['NOT_ENOUGH_LIQUIDTY', 'NOT_ENOUGH_LIQUIDITY'] as const;

/** reasons[] word → unified reject reason; an unknown word is 'other'. */
export const COINUT_REJECT_REASON_MAP: Readonly<Record<string, RejectReason>> = {
  UNKNOWN_ERROR: 'other',
  INVALID_INSTRUMENT: 'unknown_symbol',
  INST_EXPIRED: 'unknown_symbol',
  INVALID_PRICE: 'invalid_order',
  INVALID_QUANTITY: 'invalid_order',
  NOT_ENOUGH_BALANCE: 'insufficient_funds',
  NOT_ENOUGH_LIQUIDTY: 'other',
  NOT_ENOUGH_LIQUIDITY: 'other',
  INVALID_CLIENT_ORD_ID: 'invalid_order',
  TRADE_DISABLED: 'other',
};

/** Reply/event name → the status an order has after it (order_filled depends on open_qty). */
export const COINUT_EVENT_STATUS: Readonly<Record<string, OrderStatus>> = {
  order_accepted: 'new',
  order_rejected: 'rejected',
  cancel_order: 'canceled',
};

export const COINUT_SIDES = { buy: 'BUY', sell: 'SELL' } as const;

/** Coinut timestamps are Unix microseconds. */
export const COINUT_MICROS_PER_MS = 1000;

/**
 * inst_list gives price precision (`decimal_places`) only. Quantity precision and minimums are not
 * published; this step (satoshi, 8 decimals) is our assumption and the venue's INVALID_QUANTITY
 * reject is the authority.
 */
export const COINUT_DEFAULT_QTY_STEP = '0.00000001';

export const COINUT_DEFAULTS = {
  /** Reply deadline per request before it counts as an unknown outcome. */
  requestTimeoutMs: 5_000,
  /** hb period: coinut.md suggests 5-10 s, Coinut's Node sample sends one a second after each reply. */
  heartbeatIntervalMs: 5_000,
  /** A link silent this long (about three missed hb replies) is dropped and reconnected. */
  heartbeatTimeoutMs: 15_000,
  /** trade_history page size: the documented default (the maximum is not documented). */
  tradeHistoryPageSize: 100,
  /** Pages read at most when looking for one order's fills (100 × 20 = the last 2,000 trades). */
  tradeHistoryMaxPages: 20,
  /**
   * Venue clock ahead of ours by up to this much: a search for an order's trades goes back to
   * this long before we sent its create.
   */
  tradeHistoryClockMarginMs: 60_000,
  /** Pages read at most when the search is bounded by the order's send time (100 × 1,000 trades). */
  tradeHistoryBoundedMaxPages: 1_000,
} as const;

/**
 * Not documented (**unconfirmed**); gocryptotrader throttles WS sends to one per 33 ms (~30/s).
 * We split those 30/s between orders and queries so the sum stays at that pace.
 */
export const COINUT_RATE_LIMITS: RateLimits = {
  budgets: [
    { name: 'orders', limit: 20, windowMs: 1000, weights: { orders: 1 } },
    { name: 'queries', limit: 10, windowMs: 1000, weights: { queries: 1 } },
  ],
  maxQueue: DEFAULT_MAX_QUEUE,
};

export const COINUT_CAPABILITIES: VenueCapabilities = {
  orderTypes: ['market', 'limit'],
  // No time-in-force field exists: a limit order rests until filled or canceled (GTC); a market
  // order fills what it can and the rest is rejected at once (IOC).
  timeInForce: { limit: ['GTC'], market: ['IOC'] },
  postOnly: false,
  // cancel_order answers once the order is off the book.
  asyncCancel: false,
  cancel: true,
  cancelableOrderTypes: ['limit', 'market'],
  // client_ord_id is an integer in 1..16777215 that the gateway allocates (durably, never reused
  // while an order could hold it).
  clientOrderId: { kind: 'integer', min: COINUT_CLIENT_ORD_ID_MIN, max: COINUT_CLIENT_ORD_ID_MAX },
  // client_ord_id is not unique-enforced; cancel needs the exchange order_id.
  refusesReusedClientOrderId: false,
  cancelByClientOrderId: false,
  // order_accepted / order_filled / order_rejected pushed on the same WebSocket.
  orderUpdates: 'stream',
  // Requests carry no expiry: 2 × the default request timeout (the adapter declares its own; see
  // CoinutAdapter.unknownOutcomeAbsenceMs).
  absenceProofMs: 2 * COINUT_DEFAULTS.requestTimeoutMs,
};
