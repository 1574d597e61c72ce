// HashKey ↔ unified model: pure functions, no sockets, no clock unless passed in.
// REST order JSON → VenueOrder, executionReport → OrderEvent[], trades → VenueFill[],
// exchangeInfo → Instrument[], PlaceOrderRequest → HashKey params, error reply → error class.

import Decimal from 'decimal.js';
import {
  AuthenticationFailed,
  DuplicateOrder,
  Instrument,
  OrderEvent,
  OrderNotFound,
  OrderRejected,
  OrderStatus,
  OrderType,
  OutcomeUnknown,
  PlaceOrderRequest,
  RateLimited,
  Side,
  TimeInForce,
  VenueError,
  VenueFill,
  VenueOrder,
} from '../venue';
import type { HashKeyParams } from './hashkey-auth';
import { parseExactJson } from '../common/decimal-json';
import {
  HASHKEY_BAN_WAIT_MS,
  HASHKEY_CANCEL_ERROR_CODES,
  HASHKEY_ERROR_CODES,
  HASHKEY_HTTP,
  HASHKEY_ORDER_STATUS,
  HASHKEY_RATE_LIMIT_WAIT_MS,
  HASHKEY_SUCCESS_CODES,
} from './hashkey-constants';

type Json = Record<string, unknown>;

export interface HashKeyMappingOptions {
  /**
   * Report CANCELED / PARTIALLY_CANCELED of an IOC/FOK order as 'expired' (FIX 150=C) instead of
   * 'canceled'. HashKey shows a killed remainder as a cancel (inferred), so default false.
   */
  killedIocAsExpired?: boolean;
}

// ---------------------------------------------------------------------------------------------
// JSON

/**
 * JSON.parse that keeps integers of 16+ digits as strings (HashKey ids are 19 digits and must not
 * pass through a JS number). Ids are documented as strings; this guards against a numeric one.
 * Decimals are left as JSON numbers here (HashKey sends prices and quantities as strings).
 */
export function parseHashKeyJson(text: string): unknown {
  return parseExactJson(text, { decimalsAsStrings: false });
}

/** A stream frame may be one JSON object or an array of them: returns the objects. */
export function streamMessages(frame: unknown): Json[] {
  const list = Array.isArray(frame) ? frame : [frame];
  return list.filter((m): m is Json => typeof m === 'object' && m !== null && !Array.isArray(m));
}

// ---------------------------------------------------------------------------------------------
// Errors

/** Codes arrive as strings or numbers; positive 1–3 digit codes are the venue's 4-digit `0xxx` codes. */
export function normalizeHashKeyCode(code: unknown): string | undefined {
  if (code === undefined || code === null) return undefined;
  const s = String(code).trim();
  if (s === '') return undefined;
  if (/^[1-9]\d{0,2}$/.test(s)) return s.padStart(4, '0');
  return s;
}

/** True when a parsed body is a HashKey error `{code, msg}` (also used for HTTP 200 replies). */
export function isHashKeyErrorBody(body: unknown): body is { code: unknown; msg?: unknown } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const b = body as Json;
  if (b.code === undefined || b.code === null) return false;
  if (HASHKEY_SUCCESS_CODES.has(String(b.code).trim())) return false;
  // An order object never carries `code`; a reply with an orderId is not an error.
  return b.orderId === undefined;
}

/** Retry-After: seconds or an HTTP date. */
export function parseRetryAfterMs(header: unknown, now: number = Date.now()): number | undefined {
  if (header === undefined || header === null) return undefined;
  const s = String(header).trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/** What the request was, where a code means different things (see HASHKEY_CANCEL_ERROR_CODES). */
export type HashKeyRequestKind = 'create' | 'cancel' | 'query';

/** One venue code + text → the unified error class, through HASHKEY_ERROR_CODES. */
export function hashKeyErrorForCode(rawCode: unknown, msg: string, httpStatus?: number, kind?: HashKeyRequestKind): VenueError {
  const code = normalizeHashKeyCode(rawCode) ?? '';
  const text = msg || '(no message)';
  const message = `HashKey ${code || 'error'}: ${text}`;
  const spec = (kind === 'cancel' ? HASHKEY_CANCEL_ERROR_CODES[code] : undefined) ?? HASHKEY_ERROR_CODES[code];
  if (!spec) {
    if (httpStatus === 401 || httpStatus === 403) return new AuthenticationFailed(message, code, text, httpStatus);
    return new OrderRejected('other', message, code, text, httpStatus);
  }
  switch (spec.kind) {
    case 'duplicate':
      return new DuplicateOrder(message, code, text, httpStatus);
    case 'rejected':
      return new OrderRejected(spec.reason, message, code, text, httpStatus);
    case 'not_found':
      return new OrderNotFound(message, code, text, httpStatus);
    case 'auth':
      return new AuthenticationFailed(message, code, text, httpStatus);
    case 'rate_limited':
      return new RateLimited(message, spec.retryAfterMs, code, text, httpStatus);
    case 'unknown_outcome':
      return new OutcomeUnknown(message, code, text, httpStatus);
  }
}

/**
 * A non-success HTTP reply (or a 200 carrying an error body) → the error class.
 * 429 / 418 → RateLimited (Retry-After when sent, else 60 s / 5 min); 5xx → OutcomeUnknown whatever
 * the body says; otherwise the body code through the map.
 */
export function hashKeyErrorFromReply(
  httpStatus: number,
  body: unknown,
  retryAfterHeader?: unknown,
  now: number = Date.now(),
  kind?: HashKeyRequestKind,
): VenueError {
  const b = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Json) : undefined;
  const code = normalizeHashKeyCode(b?.code);
  const msg = b?.msg !== undefined ? String(b.msg) : typeof body === 'string' ? body.slice(0, 200) : '';
  if (httpStatus === HASHKEY_HTTP.rateLimited || httpStatus === HASHKEY_HTTP.banned) {
    const banned = httpStatus === HASHKEY_HTTP.banned;
    const wait = parseRetryAfterMs(retryAfterHeader, now) ?? (banned ? HASHKEY_BAN_WAIT_MS : HASHKEY_RATE_LIMIT_WAIT_MS);
    const what = banned ? 'IP banned (418)' : 'rate limit exceeded (429)';
    return new RateLimited(`HashKey ${what}${msg ? ': ' + msg : ''}`, wait, code ?? String(httpStatus), msg, httpStatus);
  }
  if (httpStatus >= 500) {
    return new OutcomeUnknown(
      `HashKey HTTP ${httpStatus}: outcome unknown${msg ? ' (' + (code ? code + ' ' : '') + msg + ')' : ''}`,
      code ?? String(httpStatus),
      msg,
      httpStatus,
    );
  }
  if (code !== undefined) return hashKeyErrorForCode(code, msg, httpStatus, kind);
  if (httpStatus === 401 || httpStatus === 403) {
    return new AuthenticationFailed(`HashKey HTTP ${httpStatus}${msg ? ': ' + msg : ''}`, String(httpStatus), msg, httpStatus);
  }
  return new OrderRejected('other', `HashKey HTTP ${httpStatus}${msg ? ': ' + msg : ''}`, String(httpStatus), msg, httpStatus);
}

// ---------------------------------------------------------------------------------------------
// Orders

export function mapHashKeyStatus(raw: string): OrderStatus | undefined {
  return HASHKEY_ORDER_STATUS[raw];
}

const str = (v: unknown): string | undefined => (v === undefined || v === null || v === '' ? undefined : String(v));
const num = (v: unknown): number | undefined => {
  if (v === undefined || v === null || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
};

function isZero(v: string | undefined): boolean {
  if (v === undefined) return true;
  try {
    return new Decimal(v).isZero();
  } catch {
    return false;
  }
}

export function sideFromHashKey(raw: unknown): Side {
  return String(raw).toUpperCase() === 'SELL' ? 'sell' : 'buy';
}

export function orderTypeFromHashKey(raw: unknown): OrderType {
  return String(raw).toUpperCase() === 'MARKET' ? 'market' : 'limit';
}

export function timeInForceFromHashKey(raw: unknown): TimeInForce | undefined {
  const s = str(raw)?.toUpperCase();
  return s === 'GTC' || s === 'IOC' || s === 'FOK' ? s : undefined;
}

function isKilledIoc(tif: unknown, type: unknown): boolean {
  const t = str(tif)?.toUpperCase();
  return t === 'IOC' || t === 'FOK' || str(type)?.toUpperCase() === 'MARKET';
}

/** Unified status of a status word, with the IOC/FOK option and a quantity-based fallback. */
function unifiedStatus(
  raw: string,
  tif: unknown,
  type: unknown,
  filled: string | undefined,
  qty: string | undefined,
  opts: HashKeyMappingOptions,
): OrderStatus {
  const mapped = mapHashKeyStatus(raw);
  if (mapped === 'canceled' && opts.killedIocAsExpired && isKilledIoc(tif, type)) return 'expired';
  if (mapped) return mapped;
  // Unknown word: judge by quantities so an order is never reported terminal by guess.
  if (!isZero(filled) && qty !== undefined) {
    try {
      return new Decimal(filled!).gte(qty) ? 'filled' : 'partially_filled';
    } catch {
      /* fall through */
    }
  }
  return 'new';
}

/** REST order JSON (create / cancel / query / openOrders row) → VenueOrder. Ids stay strings. */
export function orderFromHashKey(o: Json, opts: HashKeyMappingOptions = {}): VenueOrder {
  const rawStatus = String(o.status ?? '');
  const type = orderTypeFromHashKey(o.type);
  const quantity = str(o.origQty) ?? '0';
  const filledQty = str(o.executedQty) ?? '0';
  const price = str(o.price);
  const quote = str(o.cumulativeQuoteQty) ?? str(o.cummulativeQuoteQty);
  let avgPrice = str(o.avgPrice);
  if (avgPrice !== undefined && isZero(avgPrice)) avgPrice = undefined;
  if (avgPrice === undefined && quote !== undefined && !isZero(filledQty) && !isZero(quote)) {
    try {
      avgPrice = new Decimal(quote).div(filledQty).toString();
    } catch {
      /* leave undefined */
    }
  }
  const order: VenueOrder = {
    clientOrderId: String(o.clientOrderId ?? ''),
    venueOrderId: String(o.orderId ?? ''),
    symbol: String(o.symbol ?? ''),
    side: sideFromHashKey(o.side),
    type,
    quantity,
    status: unifiedStatus(rawStatus, o.timeInForce, o.type, filledQty, quantity, opts),
    rawStatus,
    filledQty,
    updateTime: num(o.updateTime) ?? num(o.transactTime) ?? num(o.time) ?? 0,
  };
  // MARKET orders report price "0": no limit price.
  if (price !== undefined && !(type === 'market' && isZero(price))) order.price = price;
  const tif = timeInForceFromHashKey(o.timeInForce);
  if (tif) order.timeInForce = tif;
  if (avgPrice !== undefined) order.avgPrice = avgPrice;
  return order;
}

/** executionReport → events. Other event types (ticketInfo, outboundAccountInfo, ...) → []. */
export function eventsFromExecutionReport(
  ev: Json,
  opts: HashKeyMappingOptions = {},
  now: () => number = Date.now,
): OrderEvent[] {
  if (ev.e !== 'executionReport') return [];
  const rawStatus = String(ev.X ?? '');
  const base = {
    clientOrderId: String(ev.c ?? ''),
    venueOrderId: String(ev.i ?? ''),
    rawStatus,
    time: num(ev.E) ?? now(),
    source: 'stream' as const,
    ...(str(ev.z) !== undefined ? { cumQty: str(ev.z)! } : {}),
  };
  switch (rawStatus) {
    case 'NEW':
    case 'ORDER_NEW':
      return [{ ...base, kind: 'acknowledged' }];
    case 'PARTIALLY_FILLED':
    case 'FILLED': {
      // Fills only from these two words (as Hummingbot); a fill carried by any other word is
      // recovered from the trades endpoint on reconciliation. Keyed on `d` for dedupe.
      const fillId = str(ev.d);
      const qty = str(ev.l);
      const price = str(ev.L);
      if (fillId === undefined || qty === undefined || price === undefined || isZero(qty)) return [];
      const fill: VenueFill = { fillId, qty, price, time: base.time };
      const fee = str(ev.n);
      const feeAsset = str(ev.N);
      if (fee !== undefined) fill.fee = fee;
      if (feeAsset !== undefined) fill.feeAsset = feeAsset;
      return [{ ...base, kind: 'fill', fill }];
    }
    case 'PENDING_CANCEL':
      return [{ ...base, kind: 'pending_cancel' }];
    case 'CANCELED':
    case 'PARTIALLY_CANCELED':
      return [{ ...base, kind: opts.killedIocAsExpired && isKilledIoc(ev.f, ev.o) ? 'expired' : 'canceled' }];
    case 'REJECTED': {
      const type = str(ev.o);
      const text = type === 'LIMIT_MAKER' ? 'REJECTED (LIMIT_MAKER: post-only order would take)' : 'REJECTED';
      return [{ ...base, kind: 'rejected', code: 'REJECTED', text }];
    }
    default:
      // PENDING (before the venue accepts) and unknown words: no event; NEW or a fill follows.
      return [];
  }
}

/** GET /api/v1/account/trades rows → fills (fillId = ticketId, the stream's `d`). */
export function fillsFromHashKeyTrades(rows: unknown, filter: { orderId?: string; clientOrderId?: string } = {}): VenueFill[] {
  if (!Array.isArray(rows)) throw new Error('HashKey trades reply is not an array');
  const fills: VenueFill[] = [];
  for (const r of rows as Json[]) {
    if (filter.orderId !== undefined && r.orderId !== undefined && String(r.orderId) !== filter.orderId) continue;
    if (filter.clientOrderId !== undefined && r.clientOrderId !== undefined && String(r.clientOrderId) !== filter.clientOrderId) continue;
    const fillId = str(r.ticketId) ?? str(r.tradeId) ?? str(r.id);
    if (fillId === undefined) continue;
    const fill: VenueFill = {
      fillId,
      qty: String(r.qty ?? '0'),
      price: String(r.price ?? '0'),
      time: num(r.time) ?? 0,
    };
    const fee = str(r.commission);
    const feeAsset = str(r.commissionAsset);
    if (fee !== undefined) fill.fee = fee;
    if (feeAsset !== undefined) fill.feeAsset = feeAsset;
    fills.push(fill);
  }
  fills.sort((a, b) => a.time - b.time);
  return fills;
}

/** GET /api/v1/exchangeInfo → instruments from PRICE_FILTER / LOT_SIZE / MIN_NOTIONAL (TRADE_AMOUNT fallback). */
export function instrumentsFromExchangeInfo(info: unknown): Instrument[] {
  const symbols = (info as Json | undefined)?.symbols;
  if (!Array.isArray(symbols)) throw new Error('HashKey exchangeInfo reply has no symbols[]');
  const out: Instrument[] = [];
  for (const s of symbols as Json[]) {
    const filters = Array.isArray(s.filters) ? (s.filters as Json[]) : [];
    const f = (type: string) => filters.find((x) => x.filterType === type);
    const priceF = f('PRICE_FILTER');
    const lot = f('LOT_SIZE');
    const notional = f('MIN_NOTIONAL');
    const amount = f('TRADE_AMOUNT');
    const inst: Instrument = {
      symbol: String(s.symbol),
      tickSize: str(priceF?.tickSize) ?? str(s.quotePrecision) ?? '0',
      stepSize: str(lot?.stepSize) ?? str(s.baseAssetPrecision) ?? '0',
    };
    const minQty = str(lot?.minQty);
    const maxQty = str(lot?.maxQty);
    const minNotional = str(notional?.minNotional) ?? str(amount?.minAmount);
    if (minQty !== undefined) inst.minQty = minQty;
    if (maxQty !== undefined) inst.maxQty = maxQty;
    if (minNotional !== undefined) inst.minNotional = minNotional;
    out.push(inst);
  }
  return out;
}

/**
 * Unified order → POST /api/v1.1/spot/order params (signing appends recvWindow/timestamp).
 * market → MARKET (IOC unless FOK; v1.1 `quantity` = base qty); limit → LIMIT GTC/IOC/FOK;
 * postOnly → LIMIT_MAKER (GTC). DAY/GTD and contradictory combinations → OrderRejected.
 */
export function hashKeyOrderParams(req: PlaceOrderRequest): HashKeyParams {
  const side = req.side === 'sell' ? 'SELL' : 'BUY';
  if (req.timeInForce === 'DAY' || req.timeInForce === 'GTD') {
    throw new OrderRejected('unsupported', `HashKey has no time in force ${req.timeInForce}`);
  }
  if (req.type === 'market') {
    if (req.postOnly) throw new OrderRejected('unsupported', 'post-only market order');
    return {
      symbol: req.symbol,
      side,
      type: 'MARKET',
      quantity: req.quantity,
      newClientOrderId: req.clientOrderId,
      timeInForce: req.timeInForce === 'FOK' ? 'FOK' : 'IOC',
    };
  }
  if (req.price === undefined || req.price === '') {
    throw new OrderRejected('invalid_order', 'limit order without a price');
  }
  if (req.postOnly) {
    if (req.timeInForce !== 'GTC') {
      throw new OrderRejected('unsupported', `post-only order with time in force ${req.timeInForce}`);
    }
    return {
      symbol: req.symbol,
      side,
      type: 'LIMIT_MAKER',
      price: req.price,
      quantity: req.quantity,
      newClientOrderId: req.clientOrderId,
      timeInForce: 'GTC',
    };
  }
  return {
    symbol: req.symbol,
    side,
    type: 'LIMIT',
    price: req.price,
    quantity: req.quantity,
    newClientOrderId: req.clientOrderId,
    timeInForce: req.timeInForce,
  };
}
