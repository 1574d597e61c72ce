// Dzengi.com (formerly Currency.com) venue facts as data: hosts, paths, limits, status words and
// the error-code map. Source: ../shared/venues/dzengi.md (the venue's REST/WS general
// information pages, CCXT `dzengi`/`currencycom`, three SDKs). Nothing here does I/O.
//
// What sets Dzengi apart: no client order id on create (the venue's UUID `orderId` is the only
// handle), no push stream for own orders (state is polled), symbols with `/` (`BTC/USD`) that are
// percent-encoded in the signed string and on the wire, a signed (negative for SELL) executedQty.

import type { OrderStatus, RateLimits, RejectReason, VenueCapabilities } from '../venue';
import { DEFAULT_MAX_QUEUE } from '../common/rate-limiter';

export const DZENGI_VENUE_NAME = 'dzengi';

/**
 * Base URLs exactly as dzengi.md lists them: REST with no path (paths below start `/api/v2`), WS
 * with its `/connect` path. The demo environment supports only the v1 API (changelog July 2021),
 * so the v2 paths this adapter uses do not work there.
 */
export const DZENGI_ENVIRONMENTS = {
  production: {
    restUrl: 'https://api-adapter.dzengi.com',
    wsUrl: 'wss://api-adapter.dzengi.com/connect',
  },
  sandbox: {
    restUrl: 'https://demo-api-adapter.dzengi.com',
    wsUrl: 'wss://demo-api-adapter.dzengi.com/connect',
  },
} as const;

export type DzengiEnvironment = keyof typeof DZENGI_ENVIRONMENTS;

export const DZENGI_PATHS = {
  /** POST create (form body), DELETE cancel (query). */
  order: '/api/v2/order',
  /** GET one order; the symbol is required. */
  fetchOrder: '/api/v2/fetchOrder',
  openOrders: '/api/v2/openOrders',
  myTrades: '/api/v2/myTrades',
  exchangeInfo: '/api/v2/exchangeInfo',
  /** `{"serverTime": ms}` (CCXT fetchTime). */
  time: '/api/v2/time',
} as const;

export const DZENGI_HEADERS = { apiKey: 'X-MBX-APIKEY' } as const;

export const DZENGI_RECV_WINDOW = {
  /** Used when the request carries none. */
  defaultMs: 5_000,
  /** The venue refuses a larger recvWindow. */
  maxMs: 60_000,
  /** Accepted when `timestamp < serverTime + 1000`. */
  aheadToleranceMs: 1_000,
} as const;

/** `rateLimits` of exchangeInfo (CCXT sample, 2022); the adapter reads the live values at start. */
export interface DzengiPublishedLimits {
  requestWeightPerMinute: number;
  ordersPerSecond: number;
  ordersPerDay: number;
}

export const DZENGI_PUBLISHED_LIMITS: DzengiPublishedLimits = {
  requestWeightPerMinute: 1200,
  ordersPerSecond: 10,
  ordersPerDay: 864_000,
};

/**
 * Dzengi's budgets as exchangeInfo publishes them: REQUEST_WEIGHT 1200 per minute counting every
 * request (weight 1 each, as CCXT has it), and ORDERS 10 per second. The 864,000 orders per day
 * are 10/s for a whole day, so the per-second budget already keeps to them.
 */
export const DZENGI_RATE_LIMITS: RateLimits = {
  budgets: [
    { name: 'weight', limit: DZENGI_PUBLISHED_LIMITS.requestWeightPerMinute, windowMs: 60_000, weights: { orders: 1, queries: 1 } },
    { name: 'orders', limit: DZENGI_PUBLISHED_LIMITS.ordersPerSecond, windowMs: 1000, weights: { orders: 1 } },
  ],
  // Our choice, as for HashKey: ten seconds of order backlog is already stale for a FIX client.
  maxQueue: DEFAULT_MAX_QUEUE,
};

/** 429 without Retry-After: the weight budget is per minute, so a minute clears it. */
export const DZENGI_RATE_LIMIT_WAIT_MS = 60_000;
/** 418 (IP banned after ignoring 429s) without Retry-After: the ban length is not published. */
export const DZENGI_BAN_WAIT_MS = 300_000;

export const DZENGI_DEFAULTS = {
  requestTimeoutMs: 5_000,
  recvWindowMs: DZENGI_RECV_WINDOW.defaultMs,
  /** myTrades page size (Binance-style default 500, max 1000). */
  myTradesLimit: 1000,
  maxSockets: 64,
} as const;

export const DZENGI_CAPABILITIES: VenueCapabilities = {
  orderTypes: ['market', 'limit'],
  // dzengi.md: GTC/IOC/FOK on LIMIT; CCXT sends no timeInForce on MARKET and the venue's market
  // replies say FOK, so a market order is fill-or-kill and only FOK is offered for it.
  timeInForce: { limit: ['GTC', 'IOC', 'FOK'], market: ['FOK'] },
  postOnly: false,
  // DELETE answers with the order already CANCELED.
  asyncCancel: false,
  cancel: true,
  // "Cancel is available only for LIMIT order".
  cancelableOrderTypes: ['limit'],
  // No client order id exists on Dzengi: the gateway maps ClOrdID to the venue's orderId from the
  // create reply and finds an order of unknown outcome by content (recentOrders).
  clientOrderId: { kind: 'none' },
  // no client order id at all.
  refusesReusedClientOrderId: false,
  cancelByClientOrderId: false,
  // No own-order stream: common/order-poller.ts polls openOrders / fetchOrder / myTrades.
  orderUpdates: 'polled',
  // Default recvWindow; the adapter declares its own (dzengiAbsenceProofMs).
  absenceProofMs: dzengiAbsenceProofMs(5_000),
};

/**
 * A signed request executes only while timestamp < serverTime + 1000 and serverTime − timestamp ≤
 * recvWindow (dzengi.md): after recvWindow + 1 s it can no longer execute.
 */
export function dzengiAbsenceProofMs(recvWindowMs: number): number {
  return recvWindowMs + 1_000;
}

/** Venue status words → unified status. CREATED (fetchOrder) and MODIFIED (leverage) are open. */
export const DZENGI_ORDER_STATUS: Readonly<Record<string, OrderStatus>> = {
  NEW: 'new',
  CREATED: 'new',
  MODIFIED: 'new',
  PARTIALLY_FILLED: 'partially_filled',
  FILLED: 'filled',
  PENDING_CANCEL: 'pending_cancel',
  CANCELED: 'canceled',
  EXPIRED: 'expired',
  REJECTED: 'rejected',
};

// ---------------------------------------------------------------------------------------------
// Error codes → error classes. Codes arrive as numbers or strings (`-1121` or `"-1121"`).

export type DzengiErrorSpec =
  | { kind: 'rejected'; reason: RejectReason }
  | { kind: 'not_found' }
  | { kind: 'auth' }
  | { kind: 'rate_limited'; retryAfterMs: number }
  | { kind: 'unknown_outcome' };

const rejected = (reason: RejectReason): DzengiErrorSpec => ({ kind: 'rejected', reason });

export const DZENGI_ERROR_CODES: Readonly<Record<string, DzengiErrorSpec>> = {
  // Unknown error while processing: may or may not have executed.
  '-1000': { kind: 'unknown_outcome' },
  '-1003': { kind: 'rate_limited', retryAfterMs: DZENGI_RATE_LIMIT_WAIT_MS },
  // Filter failure (LOT_SIZE / MIN_NOTIONAL / price).
  '-1013': rejected('invalid_order'),
  // Timestamp outside recvWindow / ahead of server / market data unavailable: nothing happened.
  '-1021': rejected('other'),
  '-1022': { kind: 'auth' },
  '-1025': { kind: 'auth' },
  '-2014': { kind: 'auth' },
  '-2015': { kind: 'auth' },
  '-1030': rejected('invalid_order'),
  '-1100': rejected('invalid_order'),
  '-1102': rejected('invalid_order'),
  '-1104': rejected('invalid_order'),
  '-1121': rejected('unknown_symbol'),
  '-1128': rejected('invalid_order'),
  // New order rejected: insufficient balance, trading disabled, ... (the text refines it below).
  '-2010': rejected('other'),
  // Cancel rejected. The venue answers it for unknown and for closed orders alike; the gateway
  // only cancels orders whose venue id it holds, so it means the order is done: too late.
  '-2011': rejected('too_late'),
  '-2013': { kind: 'not_found' },
};

/** Venue texts that refine a code (CCXT `broad` map), matched as substrings. */
export const DZENGI_ERROR_TEXTS: readonly { text: string; reason: RejectReason }[] = [
  { text: 'insufficient balance', reason: 'insufficient_funds' },
  { text: 'Cancel is available only for LIMIT order', reason: 'unsupported' },
];

export const DZENGI_HTTP = {
  rateLimited: 429,
  banned: 418,
  /** WAF limit violated. */
  wafLimited: 403,
} as const;
