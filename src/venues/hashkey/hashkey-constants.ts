// HashKey Global (spot) venue facts as data: hosts, paths, limits, status words and the error-code
// map. Source: ../shared/venues/hashkey.md (readme.io docs, CCXT `hashkey`, Hummingbot `hashkey`).
// Nothing here does I/O; the REST client, the user stream and the mapping read these tables.

import type { OrderStatus, RateLimits, RejectReason, VenueCapabilities } from '../venue';
import { DEFAULT_MAX_QUEUE } from '../common/rate-limiter';

export const HASHKEY_VENUE_NAME = 'hashkey';

/**
 * Base URLs exactly as hashkey.md lists them, path included: REST with no path (paths below start
 * `/api`), the private stream `wss://stream-glb.hashkey.com/api/v1/ws/{listenKey}` without its
 * `{listenKey}` (the stream connects to `<wsUrl>/<listenKey>`).
 */
export const HASHKEY_ENVIRONMENTS = {
  production: {
    restUrl: 'https://api-glb.hashkey.com',
    wsUrl: 'wss://stream-glb.hashkey.com/api/v1/ws',
    publicWsUrl: 'wss://stream-glb.hashkey.com/quote/ws/v1',
  },
  sandbox: {
    restUrl: 'https://api-glb.sim.hashkeydev.com',
    wsUrl: 'wss://stream-glb.sim.hashkeydev.com/api/v1/ws',
    publicWsUrl: 'wss://stream-glb.sim.hashkeydev.com/quote/ws/v1',
  },
} as const;

export type HashKeyEnvironment = keyof typeof HASHKEY_ENVIRONMENTS;

export const HASHKEY_PATHS = {
  /** v1.1: MARKET `quantity` is base quantity (v1 MARKET BUY `quantity` would be quote cash). */
  createOrder: '/api/v1.1/spot/order',
  cancelOrder: '/api/v1/spot/order',
  getOrder: '/api/v1/spot/order',
  openOrders: '/api/v1/spot/openOrders',
  accountTrades: '/api/v1/account/trades',
  exchangeInfo: '/api/v1/exchangeInfo',
  userDataStream: '/api/v1/userDataStream',
  /** Unsigned; {serverTime} in ms, for the clock offset (-1021 "resync clock"). */
  serverTime: '/api/v1/time',
  /** The private stream's path: the configured wsUrl ends in it, the listenKey follows. */
  privateStream: '/api/v1/ws',
} as const;

/** Which rate-limit class each request counts against. */
export type HashKeyLimitClass = 'orders' | 'queries';

export const HASHKEY_HEADERS = { apiKey: 'X-HK-APIKEY' } as const;

/** Published per-key limits: 10 req/s on order endpoints, 2 req/s on query endpoints. */
export const HASHKEY_RATE_LIMITS: RateLimits = {
  budgets: [
    { name: 'orders', limit: 10, windowMs: 1000, weights: { orders: 1 } },
    { name: 'queries', limit: 2, windowMs: 1000, weights: { queries: 1 } },
  ],
  // Our choice, not the venue's: ten seconds of order backlog is already stale for a FIX client.
  maxQueue: DEFAULT_MAX_QUEUE,
};

/** "HTTP 429 ... wait 1 minute" (order rate limit section). */
export const HASHKEY_RATE_LIMIT_WAIT_MS = 60_000;
/** 418 = IP auto-banned after ignoring 429s. The ban length is not published; we wait 5 minutes. */
export const HASHKEY_BAN_WAIT_MS = 300_000;

export const HASHKEY_DEFAULTS = {
  requestTimeoutMs: 5_000,
  /** Docs default; the venue maximum is unconfirmed (Binance-style APIs allow 60000). */
  recvWindowMs: 5_000,
  /** Client `{"ping": ms}` every 10 s. */
  streamPingIntervalMs: 10_000,
  /** listenKey lives 60 min; docs and Hummingbot refresh every 30 min. */
  listenKeyKeepAliveMs: 30 * 60_000,
  /** openOrders page size (max 1000). */
  openOrdersPageLimit: 1000,
  /** Keep-alive pool size: ~5,000 orders/s on loopback at ~1 ms each needs far fewer. */
  maxSockets: 256,
} as const;

export const HASHKEY_CLIENT_ORDER_ID_MAX_LENGTH = 32;

export const HASHKEY_CAPABILITIES: VenueCapabilities = {
  orderTypes: ['market', 'limit'],
  // v1.1 docs: GTC for LIMIT (and LIMIT_MAKER), IOC for MARKET, FOK for LIMIT and MARKET. CCXT
  // advertises IOC on limits, but the docs do not and the simulator refuses LIMIT+IOC (0001), so the
  // gateway rejects it up front instead of the venue.
  timeInForce: { limit: ['GTC', 'FOK'], market: ['IOC', 'FOK'] },
  postOnly: true,
  asyncCancel: true,
  cancel: true,
  cancelableOrderTypes: ['market', 'limit'],
  // Unconfirmed venue maximum; hashkey.md and Hummingbot keep client ids to 32 chars.
  clientOrderId: { kind: 'string', maxLength: HASHKEY_CLIENT_ORDER_ID_MAX_LENGTH },
  // -1141 "duplicate order" for a newClientOrderId already used.
  refusesReusedClientOrderId: true,
  // DELETE /api/v1/spot/order takes clientOrderId instead of orderId.
  cancelByClientOrderId: true,
  // executionReport events on the user data stream.
  orderUpdates: 'stream',
  // The default recvWindow; the adapter declares its own (hashKeyAbsenceProofMs).
  absenceProofMs: hashKeyAbsenceProofMs(5_000),
};

/**
 * A signed request executes only while serverTime − timestamp ≤ recvWindow, and a timestamp may be
 * up to 1 s ahead of the server: after recvWindow + 1 s it can no longer execute.
 */
export function hashKeyAbsenceProofMs(recvWindowMs: number): number {
  return recvWindowMs + 1_000;
}

/** Venue status words → unified status. PENDING (Hummingbot) and ORDER_NEW (CCXT) included. */
export const HASHKEY_ORDER_STATUS: Readonly<Record<string, OrderStatus>> = {
  PENDING: 'pending_new',
  ORDER_NEW: 'new',
  NEW: 'new',
  PARTIALLY_FILLED: 'partially_filled',
  FILLED: 'filled',
  PENDING_CANCEL: 'pending_cancel',
  CANCELED: 'canceled',
  // Partly filled, then canceled: final. FIX 39=4 with CumQty > 0.
  PARTIALLY_CANCELED: 'canceled',
  REJECTED: 'rejected',
};

/** Status words a cancel reply can carry while the cancel is still in flight (FIX 39=6). */
export const HASHKEY_CANCEL_PENDING_WORDS: ReadonlySet<string> = new Set([
  'NEW',
  'ORDER_NEW',
  'PENDING',
  'PARTIALLY_FILLED',
  'PENDING_CANCEL',
]);

// ---------------------------------------------------------------------------------------------
// Error codes → error classes (CCXT `exceptions.exact` style). Codes are normalized first:
// strings trimmed, numbers stringified, and positive 1–3 digit codes zero-padded to 4 digits
// (the venue's positive codes are `0001`…`0401`; a JSON number 211 means `0211`).

export type HashKeyErrorSpec =
  | { kind: 'duplicate' }
  | { kind: 'rejected'; reason: RejectReason }
  | { kind: 'not_found' }
  | { kind: 'auth' }
  | { kind: 'rate_limited'; retryAfterMs: number }
  | { kind: 'unknown_outcome' };

const rejected = (reason: RejectReason): HashKeyErrorSpec => ({ kind: 'rejected', reason });

export const HASHKEY_ERROR_CODES: Readonly<Record<string, HashKeyErrorSpec>> = {
  // Duplicate clientOrderId.
  '-1141': { kind: 'duplicate' },
  // Instrument not found / invalid or missing symbol.
  '0201': rejected('unknown_symbol'),
  '-100010': rejected('unknown_symbol'),
  '-100012': rejected('unknown_symbol'),
  // Bad order type / price / precision / price out of range, missing field, bad request.
  '0206': rejected('invalid_order'),
  '0207': rejected('invalid_order'),
  '0209': rejected('invalid_order'),
  '0210': rejected('invalid_order'),
  '0001': rejected('invalid_order'),
  '-1004': rejected('invalid_order'),
  // LIMIT_MAKER would immediately match (CCXT: OrderImmediatelyFillable).
  '-1139': rejected('post_only_would_take'),
  // FOK not fillable (CCXT: OrderNotFillable). Reported as a reject of the create: nothing rested.
  // The FIX side may present it as expired (150=C) when it knows the order was FOK.
  '-1142': rejected('invalid_order'),
  '0401': rejected('insufficient_funds'),
  // Order not found.
  '0211': { kind: 'not_found' },
  '-1143': { kind: 'not_found' },
  '-2013': { kind: 'not_found' },
  // Auth: auth error, invalid / expired key, unauthorized, invalid IP.
  '0002': { kind: 'auth' },
  '0102': { kind: 'auth' },
  '0103': { kind: 'auth' },
  '-1002': { kind: 'auth' },
  '0202': { kind: 'auth' },
  // Rate limit exceeded.
  '0003': { kind: 'rate_limited', retryAfterMs: HASHKEY_RATE_LIMIT_WAIT_MS },
  // Unknown / internal error, execution error, backend timeout: may or may not have executed.
  '-1000': { kind: 'unknown_outcome' },
  '-1001': { kind: 'unknown_outcome' },
  '-1006': { kind: 'unknown_outcome' },
  '-1007': { kind: 'unknown_outcome' },
  // CCXT maps order creation / cancellation timeout to RequestTimeout: same treatment.
  '-1146': { kind: 'unknown_outcome' },
  '-1147': { kind: 'unknown_outcome' },
  // Cancel of a filled / canceled order (Binance-style CANCEL_REJECTED; CCXT: OperationRejected).
  '-2011': rejected('too_late'),
  // Timestamp outside recvWindow: a clock problem on our side; nothing happened.
  '-1021': rejected('other'),
};

/**
 * Overrides for cancel requests. HashKey runs the BHEx engine, whose Binance-style list (see the
 * coinsph CCXT comments) gives -1139 "Order has been filled" and -1142 "Order has been canceled":
 * on a cancel these mean the order is already done (FIX CxlRejReason 0 too late), not the create
 * meanings CCXT's hashkey map implies. -1145 "This order type does not support cancellation".
 */
export const HASHKEY_CANCEL_ERROR_CODES: Readonly<Record<string, HashKeyErrorSpec>> = {
  '-1139': rejected('too_late'),
  '-1142': rejected('too_late'),
  '-1145': rejected('unsupported'),
};

/** HTTP statuses handled before the body code is looked at. */
export const HASHKEY_HTTP = {
  rateLimited: 429,
  banned: 418,
} as const;

/** Body codes (as sent, before zero-padding) that mean success when a `code` field is present. */
export const HASHKEY_SUCCESS_CODES: ReadonlySet<string> = new Set(['0', '200', '0000']);
