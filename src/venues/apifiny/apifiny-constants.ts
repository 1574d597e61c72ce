// Apifiny Connect (the 2021 JWT generation of the API) venue facts as data: URLs, paths, status
// words, TIFs, limits and the error-code table. Source: ../shared/venues/apifiny.md (doc.apifiny.com/connect
// 2021, Apifiny's Python and C++ SDKs). Nothing here does I/O.
//
// What sets Apifiny apart: it is an aggregator, so every request names the exchange it routes to
// (`venue`), which is also named in the URL unless the host is a co-located one; the client
// chooses the order id (format-constrained, see apifiny-order-id.ts) and it is the only id;
// PART_FILLED is a final status; an order cannot be canceled while PENDING_SUBMIT.

import type { OrderStatus, RateLimits, RejectReason, VenueCapabilities } from '../venue';
import { DEFAULT_MAX_QUEUE } from '../common/rate-limiter';

export const APIFINY_VENUE_NAME = 'apifiny';

/** Exchanges with a co-located host (`api<code>.apifiny.com/ac/v2`, the exchange not in the path). */
export const APIFINY_COLOCATED_HOSTS: Readonly<Record<string, string>> = {
  BINANCE: 'apibn.apifiny.com',
  BINANCEUS: 'apibnu.apifiny.com',
  COINBASEPRO: 'apicb.apifiny.com',
  HUOBI: 'apihb.apifiny.com',
  KUCOIN: 'apikc.apifiny.com',
  OKEX: 'apiok.apifiny.com',
};

/** The unified host for every other exchange: `…/ac/v2/<VENUE>`. */
export const APIFINY_UNIFIED_HOST = 'api.apifiny.com';
/** The 2022 SDK's sandbox (unconfirmed today), always in the `…/ac/v2/<VENUE>` style. */
export const APIFINY_SANDBOX_HOST = 'api-sandbox.apifiny.com';

/** MARKET orders exist only on these exchanges (docs, 2021); a MARKET BUY also needs `total` (quote). */
export const APIFINY_MARKET_ORDER_EXCHANGES: ReadonlySet<string> = new Set(['BINANCE', 'BINANCEUS', 'COINBASEPRO', 'HUOBI', 'KUCOIN', 'OKEX']);

export type ApifinyEnvironment = 'production' | 'sandbox';

export interface ApifinyUrls {
  restUrl: string;
  /** The order-update stream. */
  wsUrl: string;
}

/**
 * URLs exactly as apifiny.md lists them, path included. Production: a co-located exchange uses its
 * own host (`https://apibn.apifiny.com/ac/v2`, `wss://apibn.apifiny.com/ac/ws/v2/order`); any
 * other exchange the unified host with the exchange in the path (`https://api.apifiny.com/ac/v2/FTX`,
 * `wss://api.apifiny.com/ac/ws/v2/FTX/order`). Sandbox: `http://` / `ws://` on the sandbox host,
 * exchange in the path (as the 2022 SDK writes them).
 */
export function apifinyUrls(exchange: string, environment: ApifinyEnvironment): ApifinyUrls {
  const venue = exchange.toUpperCase();
  if (environment === 'sandbox') {
    return {
      restUrl: `http://${APIFINY_SANDBOX_HOST}/ac/v2/${venue}`,
      wsUrl: `ws://${APIFINY_SANDBOX_HOST}/ac/ws/v2/${venue}/order`,
    };
  }
  const colocated = APIFINY_COLOCATED_HOSTS[venue];
  if (colocated !== undefined) {
    return { restUrl: `https://${colocated}/ac/v2`, wsUrl: `wss://${colocated}/ac/ws/v2/order` };
  }
  return {
    restUrl: `https://${APIFINY_UNIFIED_HOST}/ac/v2/${venue}`,
    wsUrl: `wss://${APIFINY_UNIFIED_HOST}/ac/ws/v2/${venue}/order`,
  };
}

/** `/ac/v2` (co-located) or `/ac/v2/<VENUE>`, optionally with a trailing slash. */
const REST_PATH = /^\/ac\/v2(?:\/([A-Za-z0-9_]+))?\/?$/;
const WS_PATH = /^\/ac\/ws\/v2(?:\/([A-Za-z0-9_]+))?\/order\/?$/;

export type ExchangeFromUrl = { ok: true; exchange: string | undefined } | { ok: false; problem: string };

/**
 * The exchange a REST URL names: `…/ac/v2/BINANCE` → BINANCE; the co-located style `…/ac/v2`
 * names none → undefined (the exchange then comes from configuration). A URL of neither shape is
 * a configuration problem.
 */
export function exchangeFromRestUrl(restUrl: string): ExchangeFromUrl {
  let path: string;
  try {
    path = new URL(restUrl).pathname;
  } catch {
    return { ok: false, problem: `not a URL: ${restUrl}` };
  }
  const m = REST_PATH.exec(path);
  if (m === null) return { ok: false, problem: `an Apifiny REST URL ends in /ac/v2 or /ac/v2/<VENUE>, got path ${path}` };
  return { ok: true, exchange: m[1]?.toUpperCase() };
}

/** The exchange a stream URL names (`…/ac/ws/v2/BINANCE/order` → BINANCE; `…/ac/ws/v2/order` → undefined). */
export function exchangeFromWsUrl(wsUrl: string): ExchangeFromUrl {
  let path: string;
  try {
    path = new URL(wsUrl).pathname;
  } catch {
    return { ok: false, problem: `not a URL: ${wsUrl}` };
  }
  const m = WS_PATH.exec(path);
  if (m === null) return { ok: false, problem: `an Apifiny order-stream URL ends in /ac/ws/v2/order or /ac/ws/v2/<VENUE>/order, got path ${path}` };
  return { ok: true, exchange: m[1]?.toUpperCase() };
}

/**
 * The exchange this session trades on: the one the URLs name, or the configured one for the
 * co-located style. Both given and different (or REST and WS naming different ones) is a
 * start-up error, since Apifiny answers 131130 "venue does not match the request url".
 */
export function resolveApifinyExchange(restUrl: string, wsUrl: string, configured?: string): { ok: true; exchange: string } | { ok: false; problem: string } {
  const rest = exchangeFromRestUrl(restUrl);
  if (!rest.ok) return rest;
  const ws = exchangeFromWsUrl(wsUrl);
  if (!ws.ok) return ws;
  const named = [rest.exchange, ws.exchange, configured?.toUpperCase()].filter((x): x is string => x !== undefined && x !== '');
  const distinct = [...new Set(named)];
  if (distinct.length === 0) return { ok: false, problem: 'the URLs name no exchange (co-located style): configure the exchange (VenueExDestination)' };
  if (distinct.length > 1) {
    return { ok: false, problem: `exchange mismatch: REST URL ${rest.exchange ?? '(none)'}, stream URL ${ws.exchange ?? '(none)'}, configured ${configured ?? '(none)'}` };
  }
  return { ok: true, exchange: distinct[0] };
}

/** Paths under the REST base URL. */
export const APIFINY_PATHS = {
  newOrder: '/order/newOrder',
  cancelOrder: '/order/cancelOrder',
  cancelAll: '/order/cancelAccountVenueAllOrder',
  queryOrderInfo: '/order/queryOrderInfo',
  listMultipleOrderInfo: '/order/listMultipleOrderInfo',
  listOpenOrder: '/order/listOpenOrder',
  listCompletedOrder: '/order/listCompletedOrder',
  listFilledOrder: '/order/listFilledOrder',
  currentTimeMillis: '/utils/currentTimeMillis',
  /**
   * Not in apifiny.md: named by a third-party client of doc.apifiny.com/connect
   * (`#query-list-symbols`, `#query-list-currencies`), so their shape is unconfirmed.
   */
  listSymbolInfo: '/utils/listSymbolInfo',
  listCurrency: '/utils/listCurrency',
} as const;

export const APIFINY_HEADERS = { signature: 'signature' } as const;

/** Server pings every ~30 s; we allow two missed pings before calling the link dead. */
export const APIFINY_STREAM = { serverPingIntervalMs: 30_000, silenceTimeoutMs: 65_000 } as const;

export const APIFINY_DEFAULTS = {
  requestTimeoutMs: 5_000,
  /** JWT lifetime: apifiny.md "use seconds, now + 30..60 s". */
  jwtLifetimeSeconds: 30,
  maxSockets: 64,
  /** listFilledOrder page size (docs: limit ≤ 1000, default 500). */
  filledOrderLimit: 1000,
} as const;

/** 20 requests/s per account ID, one budget that every endpoint counts against. */
export const APIFINY_RATE_LIMITS: RateLimits = {
  budgets: [{ name: 'account', limit: 20, windowMs: 1000, weights: { orders: 1, queries: 1 } }],
  maxQueue: DEFAULT_MAX_QUEUE,
};
/** "Request too often" names no wait: one second clears a per-second window. */
export const APIFINY_RATE_LIMIT_WAIT_MS = 1_000;
/** HTTP 403 "too many errors" (IP blocked): no length is published. */
export const APIFINY_IP_BLOCK_WAIT_MS = 60_000;

/** Status words (note CANCELLED's spelling). */
export const APIFINY_STATUS = {
  pendingSubmit: 'PENDING_SUBMIT',
  submitted: 'SUBMITTED',
  /** FINAL: partly filled, the remainder no longer works (canceled or IOC-expired). */
  partFilled: 'PART_FILLED',
  filled: 'FILLED',
  cancelled: 'CANCELLED',
  rejected: 'REJECTED',
} as const;

export type ApifinyStatusWord = (typeof APIFINY_STATUS)[keyof typeof APIFINY_STATUS];

export const APIFINY_FINAL_STATUSES: ReadonlySet<string> = new Set([APIFINY_STATUS.partFilled, APIFINY_STATUS.filled, APIFINY_STATUS.cancelled, APIFINY_STATUS.rejected]);

/** Integer `timeInForce` codes. 2 (GTD) exists but is unsupported; there is no FOK. */
export const APIFINY_TIF = { GTC: 1, GTD: 2, IOC: 3, POST_ONLY: 7 } as const;

export const APIFINY_ORDER_ID_MAX_LENGTH = 64;

/** Capabilities of a session trading on `exchange` (MARKET only where the exchange has it). */
export function apifinyCapabilities(exchange: string): VenueCapabilities {
  const market = APIFINY_MARKET_ORDER_EXCHANGES.has(exchange.toUpperCase());
  return {
    orderTypes: market ? ['limit', 'market'] : ['limit'],
    // 1 GTC, 3 IOC, 7 post-only (GTC + postOnly); no FOK, GTD unsupported, no Day. A MARKET order
    // never rests: we send it as IOC (the docs give no TIF for MARKET; IOC is what it behaves as).
    timeInForce: { limit: ['GTC', 'IOC'], market: market ? ['IOC'] : [] },
    postOnly: true,
    // The cancel is forwarded to the exchange: its reply can still show SUBMITTED, CANCELLED follows.
    asyncCancel: true,
    cancel: true,
    cancelableOrderTypes: ['limit', 'market'],
    // `<account digits><session digits><13-digit ms><3 digits>`: the adapter formats it (clientOrderIdFor).
    clientOrderId: { kind: 'venue-format' },
    // Apifiny refuses a reused orderId (327722) and cancels by our orderId.
    refusesReusedClientOrderId: true,
    cancelByClientOrderId: true,
    // One push per status change on the order WebSocket.
    orderUpdates: 'stream',
    absenceProofMs: apifinyAbsenceProofMs(APIFINY_DEFAULTS.jwtLifetimeSeconds),
    // Every request names the exchange (`venue`); a session trades on exactly one.
    exDestination: exchange.toUpperCase(),
  };
}

/** A request's JWT expires `exp` seconds after signing (1 s added for the seconds' rounding and skew). */
export function apifinyAbsenceProofMs(jwtLifetimeSeconds: number): number {
  return jwtLifetimeSeconds * 1000 + 1_000;
}

// ---------------------------------------------------------------------------------------------
// Errors. Codes are documented as hex with a suffix digit (A = client side, B = server side); the
// JSON carries the decimal value. Several documented decimal values do not match their hex (the
// docs list 327786 for 0x05005A, 0x05006A and 0x05006B; 327786 is really 0x05006A), so this table
// is keyed on the hex value's true decimal, and a code whose documented meaning is ambiguous is
// refined by its message text (APIFINY_ERROR_TEXTS).

export type ApifinyErrorSpec =
  | { kind: 'rejected'; reason: RejectReason }
  | { kind: 'duplicate' }
  | { kind: 'not_found' }
  | { kind: 'auth' }
  | { kind: 'rate_limited'; retryAfterMs: number }
  /** The request may have executed: query by our orderId. */
  | { kind: 'unknown_outcome' }
  /** Cancel refused only because the order is still PENDING_SUBMIT: retry once SUBMITTED. */
  | { kind: 'cancel_pending_submit' }
  /** A cancel for this order is already under way. */
  | { kind: 'cancel_in_progress' };

export interface ApifinyErrorRow {
  hex: string;
  meaning: string;
  spec: ApifinyErrorSpec;
}

const rejected = (reason: RejectReason): ApifinyErrorSpec => ({ kind: 'rejected', reason });

/** apifiny.md's error table; the key is the true decimal value of `hex`. */
export const APIFINY_ERROR_TABLE: readonly ApifinyErrorRow[] = [
  { hex: '0x02002A', meaning: 'request too often', spec: { kind: 'rate_limited', retryAfterMs: APIFINY_RATE_LIMIT_WAIT_MS } },
  { hex: '0x02002B', meaning: "account doesn't exist", spec: { kind: 'auth' } },
  // A configuration error (URL and `venue` disagree): nothing happened.
  { hex: '0x02003A', meaning: "venue doesn't match the request url", spec: rejected('other') },
  { hex: '0x03001A', meaning: 'token error', spec: { kind: 'auth' } },
  { hex: '0x20000A', meaning: 'signature error', spec: { kind: 'auth' } },
  { hex: '0x20000B', meaning: 'permission denied', spec: { kind: 'auth' } },
  { hex: '0x05001A', meaning: "order doesn't exist", spec: { kind: 'not_found' } },
  { hex: '0x05003A', meaning: "order id doesn't exist", spec: { kind: 'not_found' } },
  { hex: '0x05002A', meaning: 'original orderId duplicate', spec: { kind: 'duplicate' } },
  { hex: '0x05002B', meaning: 'new order failure', spec: { kind: 'unknown_outcome' } },
  { hex: '0x05004A', meaning: 'Order_CancelPendingSubmitWait', spec: { kind: 'cancel_pending_submit' } },
  { hex: '0x05005A', meaning: 'timeout for new order', spec: { kind: 'unknown_outcome' } },
  { hex: '0x06010A', meaning: 'order create timeout', spec: { kind: 'unknown_outcome' } },
  { hex: '0x05006A', meaning: 'too many open orders', spec: rejected('other') },
  { hex: '0x05007A', meaning: 'cannot cancel in current status', spec: rejected('too_late') },
  // Documented both as "cancel timeout" and "incorrect timestamp format": the text decides.
  { hex: '0x05008A', meaning: 'cancel timeout / incorrect timestamp format', spec: { kind: 'unknown_outcome' } },
  { hex: '0x05009A', meaning: 'timestamp error', spec: rejected('invalid_order') },
  { hex: '0x06005A', meaning: 'cancel timeout', spec: { kind: 'unknown_outcome' } },
  { hex: '0x05014A', meaning: 'order is being cancelled', spec: { kind: 'cancel_in_progress' } },
  { hex: '0x05015A', meaning: 'cannot cancel in PENDING_SUBMIT', spec: { kind: 'cancel_pending_submit' } },
  // Our id allocator produced an id the venue refuses: a bug on our side, never retried as is.
  { hex: '0x05012A', meaning: 'order id rule error', spec: rejected('invalid_order') },
  { hex: '0x06002A', meaning: 'not enough asset', spec: rejected('insufficient_funds') },
  { hex: '0x05018A', meaning: 'trade amount limit reached', spec: rejected('other') },
  { hex: '0x05003D', meaning: 'venue under maintenance', spec: rejected('other') },
];

export const APIFINY_ERROR_CODES: ReadonlyMap<string, ApifinyErrorRow> = new Map(APIFINY_ERROR_TABLE.map((r) => [String(parseInt(r.hex, 16)), r]));

/** Named codes the simulator and tests use (true decimals of the hex values). */
export const APIFINY_CODES = {
  requestTooOften: 131114,
  accountNotFound: 131115,
  venueMismatch: 131130,
  tokenError: 196634,
  signatureError: 2097162,
  permissionDenied: 2097163,
  orderNotFound: 327706,
  duplicateOrderId: 327722,
  newOrderFailure: 327723,
  timestampFormat: 327818,
  timestampError: 327834,
  cannotCancelInStatus: 327802,
  orderIdRule: 327978,
  beingCancelled: 328010,
  cancelPendingSubmit: 328026,
  cancelPendingSubmitWait: 327754,
  notEnoughAsset: 393258,
} as const;

/**
 * Texts that decide a code whose documented meaning is ambiguous: a 327786 that speaks of a
 * timeout is the "timeout for new order" the docs misnumbered; a 327818 about the timestamp is a
 * plain reject, not a cancel timeout.
 */
export const APIFINY_ERROR_TEXTS: readonly { codes: readonly string[]; text: RegExp; spec: ApifinyErrorSpec }[] = [
  { codes: ['327786', '327787'], text: /time ?out/i, spec: { kind: 'unknown_outcome' } },
  { codes: ['327818'], text: /timestamp/i, spec: rejected('invalid_order') },
  { codes: ['327754', '328026'], text: /./, spec: { kind: 'cancel_pending_submit' } },
];
