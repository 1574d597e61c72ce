// Dzengi ↔ unified model: pure functions, no sockets, no clock unless passed in.
// Order JSON (create / cancel / openOrders row / fetchOrder) → VenueOrder, myTrades → VenueFill[]
// (one per venue trade, at its own price), exchangeInfo → Instrument[] + published limits,
// PlaceOrderRequest → Dzengi params, error reply → error class.
//
// Dzengi has no client order id: a VenueOrder built from the venue carries the clientOrderId the
// caller passes (the create reply: the id of the request just sent), else ''. The venue order id
// (a UUID-shaped string) is the only handle. FIX Symbol is the venue's spelling (`BTC/USD`).

import Decimal from 'decimal.js';
import {
  AuthenticationFailed,
  Instrument,
  OrderNotFound,
  OrderRejected,
  OrderStatus,
  OrderType,
  OutcomeUnknown,
  PlaceOrderRequest,
  RateLimited,
  RejectReason,
  Side,
  TimeInForce,
  VenueError,
  VenueFill,
  VenueOrder,
} from '../venue';
import { parseExactJson } from '../common/decimal-json';
import type { DzengiParams } from './dzengi-auth';
import {
  DZENGI_BAN_WAIT_MS,
  DZENGI_ERROR_CODES,
  DZENGI_ERROR_TEXTS,
  DZENGI_HTTP,
  DZENGI_ORDER_STATUS,
  DZENGI_PUBLISHED_LIMITS,
  DZENGI_RATE_LIMIT_WAIT_MS,
  DzengiPublishedLimits,
} from './dzengi-constants';

type Json = Record<string, unknown>;

/** Venue JSON with every decimal kept as the text sent and 16+ digit ids (accountId) as strings. */
export function parseDzengiJson(text: string): unknown {
  return parseExactJson(text);
}

const str = (v: unknown): string | undefined => (v === undefined || v === null || v === '' ? undefined : String(v));
const num = (v: unknown): number | undefined => {
  if (v === undefined || v === null || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
};

/** |x| as a decimal string, exact; SELL executedQty and trade qty may arrive negative. */
export function absDecimal(v: string): string {
  return v.startsWith('-') ? v.slice(1) : v;
}

function isZero(v: string | undefined): boolean {
  if (v === undefined) return true;
  try {
    return new Decimal(v).isZero();
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Errors

export function normalizeDzengiCode(code: unknown): string | undefined {
  const s = str(code)?.trim();
  return s === '' ? undefined : s;
}

/** True when a parsed body is an error `{code, msg}` rather than an order / list / info object. */
export function isDzengiErrorBody(body: unknown): body is { code: unknown; msg?: unknown } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const b = body as Json;
  return b.code !== undefined && b.code !== null && b.orderId === undefined;
}

/** Retry-After: seconds or an HTTP date. */
export function parseRetryAfterMs(header: unknown, now: number): number | undefined {
  if (header === undefined || header === null) return undefined;
  const s = String(header).trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

function refinedReason(reason: RejectReason, text: string): RejectReason {
  const lower = text.toLowerCase();
  const hit = DZENGI_ERROR_TEXTS.find((t) => lower.includes(t.text.toLowerCase()));
  return hit ? hit.reason : reason;
}

/** One venue code + text → the unified error class. */
export function dzengiErrorForCode(rawCode: unknown, msg: string, httpStatus?: number): VenueError {
  const code = normalizeDzengiCode(rawCode) ?? '';
  const text = msg || '(no message)';
  const message = `Dzengi ${code || 'error'}: ${text}`;
  const spec = DZENGI_ERROR_CODES[code];
  if (!spec) {
    if (httpStatus === 401) return new AuthenticationFailed(message, code, text, httpStatus);
    return new OrderRejected(refinedReason('other', text), message, code, text, httpStatus);
  }
  switch (spec.kind) {
    case 'rejected':
      return new OrderRejected(refinedReason(spec.reason, text), message, code, text, httpStatus);
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
 * A non-2xx reply (or a 2xx carrying an error body) → the error class. 429 / 418 / 403-WAF →
 * RateLimited (Retry-After when sent); 5xx → OutcomeUnknown whatever the body says (dzengi.md: "a
 * 5XX must not be read as a failure"); otherwise the body code.
 */
export function dzengiErrorFromReply(httpStatus: number, body: unknown, retryAfterHeader: unknown, now: number): VenueError {
  const b = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Json) : undefined;
  const code = normalizeDzengiCode(b?.code);
  const msg = b?.msg !== undefined ? String(b.msg) : typeof body === 'string' ? body.slice(0, 200) : '';
  const suffix = msg ? ': ' + msg : '';
  if (httpStatus === DZENGI_HTTP.rateLimited || httpStatus === DZENGI_HTTP.banned || (httpStatus === DZENGI_HTTP.wafLimited && code === undefined)) {
    const banned = httpStatus === DZENGI_HTTP.banned;
    const wait = parseRetryAfterMs(retryAfterHeader, now) ?? (banned ? DZENGI_BAN_WAIT_MS : DZENGI_RATE_LIMIT_WAIT_MS);
    const what = banned ? 'IP banned (418)' : httpStatus === 429 ? 'rate limit exceeded (429)' : 'WAF limit violated (403)';
    return new RateLimited(`Dzengi ${what}${suffix}`, wait, code ?? String(httpStatus), msg, httpStatus);
  }
  if (httpStatus >= 500) {
    return new OutcomeUnknown(
      `Dzengi HTTP ${httpStatus}: outcome unknown${msg ? ' (' + (code ? code + ' ' : '') + msg + ')' : ''}`,
      code ?? String(httpStatus),
      msg,
      httpStatus,
    );
  }
  if (code !== undefined) return dzengiErrorForCode(code, msg, httpStatus);
  if (httpStatus === 401) return new AuthenticationFailed(`Dzengi HTTP 401${suffix}`, '401', msg, httpStatus);
  return new OrderRejected('other', `Dzengi HTTP ${httpStatus}${suffix}`, String(httpStatus), msg, httpStatus);
}

// ---------------------------------------------------------------------------------------------
// Orders

export function mapDzengiStatus(raw: string): OrderStatus | undefined {
  return DZENGI_ORDER_STATUS[raw];
}

export function sideFromDzengi(raw: unknown): Side {
  return String(raw).toUpperCase() === 'SELL' ? 'sell' : 'buy';
}

export function orderTypeFromDzengi(raw: unknown): OrderType {
  return String(raw).toUpperCase() === 'MARKET' ? 'market' : 'limit';
}

export function timeInForceFromDzengi(raw: unknown): TimeInForce | undefined {
  const s = str(raw)?.toUpperCase();
  return s === 'GTC' || s === 'IOC' || s === 'FOK' ? s : undefined;
}

/** Sum of |qty| over fill rows (fetchOrder may carry fills[] but no executedQty). */
function sumQty(fills: unknown): string | undefined {
  if (!Array.isArray(fills) || fills.length === 0) return undefined;
  let total = new Decimal(0);
  for (const f of fills as Json[]) {
    const q = str(f?.qty);
    if (q !== undefined) total = total.plus(absDecimal(q));
  }
  return total.toString();
}

function avgOfFills(fills: unknown): string | undefined {
  if (!Array.isArray(fills) || fills.length === 0) return undefined;
  let qty = new Decimal(0);
  let quote = new Decimal(0);
  for (const f of fills as Json[]) {
    const q = str(f?.qty);
    const p = str(f?.price);
    if (q === undefined || p === undefined) return undefined;
    qty = qty.plus(absDecimal(q));
    quote = quote.plus(new Decimal(absDecimal(q)).times(p));
  }
  return qty.isZero() ? undefined : quote.div(qty).toString();
}

/**
 * Any Dzengi order JSON → VenueOrder. Field names differ per endpoint: create / cancel / openOrders
 * use origQty, timeInForce, transactTime / time / updateTime; fetchOrder uses quantity,
 * timeInForceType, timestamp. executedQty is negative on SELL orders: read as its absolute value.
 * An unknown status word is judged by quantities so an order is never reported terminal by guess.
 */
export function orderFromDzengi(o: Json, clientOrderId = ''): VenueOrder {
  const rawStatus = String(o.status ?? '');
  const type = orderTypeFromDzengi(o.type);
  const quantity = absDecimal(str(o.origQty) ?? str(o.quantity) ?? '0');
  const executed = str(o.executedQty);
  const filledQty = executed !== undefined ? absDecimal(executed) : (sumQty(o.fills) ?? '0');
  let status = mapDzengiStatus(rawStatus);
  if (status === undefined) {
    status = isZero(filledQty) ? 'new' : new Decimal(filledQty).gte(quantity) ? 'filled' : 'partially_filled';
  }
  const order: VenueOrder = {
    clientOrderId,
    venueOrderId: String(o.orderId ?? ''),
    symbol: String(o.symbol ?? ''),
    side: sideFromDzengi(o.side),
    type,
    quantity,
    status,
    rawStatus,
    filledQty,
    updateTime: num(o.updateTime) ?? num(o.transactTime) ?? num(o.time) ?? num(o.timestamp) ?? 0,
  };
  const price = str(o.price);
  // MARKET orders may report price "0": no limit price.
  if (price !== undefined && !(type === 'market' && isZero(price))) order.price = price;
  const tif = timeInForceFromDzengi(o.timeInForce ?? o.timeInForceType);
  if (tif) order.timeInForce = tif;
  const avg = avgOfFills(o.fills);
  if (avg !== undefined) order.avgPrice = avg;
  const createdAt = dzengiOrderCreatedAt(o);
  if (createdAt !== undefined) order.createdAt = createdAt;
  return order;
}

/** When the venue created the order, ms (content matching needs it); undefined when not given. */
export function dzengiOrderCreatedAt(o: Json): number | undefined {
  return num(o.time) ?? num(o.transactTime) ?? num(o.timestamp);
}

/** One myTrades row → the order it belongs to and the fill (fillId = the venue trade id). */
export interface DzengiTrade {
  venueOrderId: string;
  symbol: string;
  side: Side;
  fill: VenueFill;
}

/** GET /api/v2/myTrades rows → one fill per venue trade at its own price, oldest first. */
export function tradesFromDzengi(rows: unknown): DzengiTrade[] {
  if (!Array.isArray(rows)) throw new Error('Dzengi myTrades reply is not an array');
  const out: DzengiTrade[] = [];
  for (const r of rows as Json[]) {
    const fillId = str(r?.id);
    const qty = str(r?.qty);
    const price = str(r?.price);
    if (fillId === undefined || qty === undefined || price === undefined || isZero(qty)) continue;
    const fill: VenueFill = { fillId, qty: absDecimal(qty), price, time: num(r.time) ?? 0 };
    const fee = str(r.commission);
    const feeAsset = str(r.commissionAsset);
    if (fee !== undefined) fill.fee = fee;
    if (feeAsset !== undefined) fill.feeAsset = feeAsset;
    const side: Side = r.isBuyer === false || r.buyer === false ? 'sell' : 'buy';
    out.push({ venueOrderId: String(r.orderId ?? ''), symbol: String(r.symbol ?? ''), side, fill });
  }
  out.sort((a, b) => a.fill.time - b.fill.time);
  return out;
}

/** The fills of one order out of a myTrades reply. */
export function fillsForOrder(trades: readonly DzengiTrade[], venueOrderId: string): VenueFill[] {
  return trades.filter((t) => t.venueOrderId === venueOrderId).map((t) => t.fill);
}

// ---------------------------------------------------------------------------------------------
// Reference data

/**
 * exchangeInfo → spot instruments. Symbol as the venue spells it (`BTC/USD`); tick from
 * PRICE_FILTER or the symbol's own tickSize; step and min/max from LOT_SIZE; MIN_NOTIONAL. LEVERAGE
 * markets (`…_LEVERAGE`) need accountId/leverage parameters this adapter does not send: left out.
 */
export function instrumentsFromDzengiExchangeInfo(info: unknown): Instrument[] {
  const symbols = (info as Json | undefined)?.symbols;
  if (!Array.isArray(symbols)) throw new Error('Dzengi exchangeInfo reply has no symbols[]');
  const out: Instrument[] = [];
  for (const s of symbols as Json[]) {
    const symbol = String(s.symbol);
    if (String(s.marketType ?? 'SPOT').toUpperCase() === 'LEVERAGE' || symbol.endsWith('_LEVERAGE')) continue;
    const filters = Array.isArray(s.filters) ? (s.filters as Json[]) : [];
    const f = (type: string) => filters.find((x) => x.filterType === type);
    const lot = f('LOT_SIZE');
    const inst: Instrument = {
      symbol,
      tickSize: str(f('PRICE_FILTER')?.tickSize) ?? str(s.tickSize) ?? '0',
      stepSize: str(lot?.stepSize) ?? '0',
    };
    const minQty = str(lot?.minQty);
    const maxQty = str(lot?.maxQty);
    const minNotional = str(f('MIN_NOTIONAL')?.minNotional);
    if (minQty !== undefined) inst.minQty = minQty;
    if (maxQty !== undefined) inst.maxQty = maxQty;
    if (minNotional !== undefined) inst.minNotional = minNotional;
    out.push(inst);
  }
  return out;
}

/** exchangeInfo `rateLimits` → the published budgets (a missing entry keeps the documented value). */
export function limitsFromDzengiExchangeInfo(info: unknown): DzengiPublishedLimits {
  const rows = (info as Json | undefined)?.rateLimits;
  const out: DzengiPublishedLimits = { ...DZENGI_PUBLISHED_LIMITS };
  if (!Array.isArray(rows)) return out;
  for (const r of rows as Json[]) {
    const limit = num(r.limit);
    const n = num(r.intervalNum) ?? 1;
    if (limit === undefined || !(limit > 0) || !(n > 0)) continue;
    const type = String(r.rateLimitType);
    const interval = String(r.interval);
    if (type === 'REQUEST_WEIGHT' && interval === 'MINUTE') out.requestWeightPerMinute = limit / n;
    else if (type === 'ORDERS' && interval === 'SECOND') out.ordersPerSecond = limit / n;
    else if (type === 'ORDERS' && interval === 'DAY') out.ordersPerDay = limit / n;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Requests

/**
 * Unified order → POST /api/v2/order params (signing appends recvWindow/timestamp). No client
 * order id exists. LIMIT: price + timeInForce GTC/IOC/FOK, newOrderRespType RESULT; MARKET: no
 * timeInForce (the venue runs it FOK), newOrderRespType FULL (the reply carries its fills).
 */
export function dzengiOrderParams(req: PlaceOrderRequest): DzengiParams {
  const side = req.side === 'sell' ? 'SELL' : 'BUY';
  if (req.postOnly) throw new OrderRejected('unsupported', 'Dzengi has no post-only orders');
  if (req.type === 'market') {
    if (req.timeInForce !== 'FOK') throw new OrderRejected('unsupported', `Dzengi market orders are fill-or-kill: time in force ${req.timeInForce} not possible`);
    return { symbol: req.symbol, side, type: 'MARKET', quantity: req.quantity, newOrderRespType: 'FULL' };
  }
  if (req.timeInForce !== 'GTC' && req.timeInForce !== 'IOC' && req.timeInForce !== 'FOK') {
    throw new OrderRejected('unsupported', `Dzengi has no time in force ${req.timeInForce}`);
  }
  if (req.price === undefined || req.price === '') throw new OrderRejected('invalid_order', 'limit order without a price');
  return {
    symbol: req.symbol,
    side,
    type: 'LIMIT',
    quantity: req.quantity,
    price: req.price,
    timeInForce: req.timeInForce,
    newOrderRespType: 'RESULT',
  };
}
