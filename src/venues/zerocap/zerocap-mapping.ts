// Zerocap ↔ unified model: pure functions, no sockets, no clock unless passed in.
// Order JSON (REST create / fetch / fetch_orders row / WS order push) → VenueOrder, order push →
// OrderEvent[], trade push → VenueFill, error reply → error class, PlaceOrderRequest → create body.
//
// Zerocap's types are loose (zerocap.md): REST sends numbers as JSON numbers, WS sometimes as
// strings, keys in snake_case or camelCase. Replies are parsed with every number kept as its exact
// text (parseZerocapJson), and every field is read under both spellings.

import Decimal from 'decimal.js';
import {
  AuthenticationFailed,
  Instrument,
  OrderEvent,
  OrderNotFound,
  OrderRejected,
  OrderStatus,
  OutcomeUnknown,
  PlaceOrderRequest,
  RateLimited,
  Side,
  VenueError,
  VenueFill,
  VenueOrder,
} from '../venue';
// The exact-number JSON parser lives with the simulators for now; it moves to common/ with the
// other shared decimal-JSON helpers.
import { parseJsonNumbersAsText } from '../sim/sim-json';
import { ZEROCAP_FIXED_STATUS, ZEROCAP_RATE_LIMIT_WAIT_MS, ZEROCAP_REJECT_TEXT, ZEROCAP_STATUS } from './zerocap-constants';

type Json = Record<string, unknown>;

/** JSON with every number kept as its source text (prices, amounts and ms timestamps stay exact). */
export function parseZerocapJson(text: string): unknown {
  return parseJsonNumbersAsText(text);
}

// ---------------------------------------------------------------------------------------------
// Field access

/** The first present field among the spellings given (snake_case first). */
function field(o: Json, ...names: string[]): unknown {
  for (const n of names) if (o[n] !== undefined && o[n] !== null) return o[n];
  return undefined;
}

const text = (v: unknown): string | undefined => (v === undefined || v === null || v === '' ? undefined : String(v));

/** A decimal as text (string or number on the wire), or undefined when absent or not a number. */
export function zerocapDecimal(v: unknown): string | undefined {
  const s = text(v)?.trim();
  if (s === undefined) return undefined;
  try {
    const d = new Decimal(s);
    return d.isFinite() ? s : undefined;
  } catch {
    return undefined;
  }
}

function isZero(v: string | undefined): boolean {
  return v === undefined || new Decimal(v).isZero();
}

/** ms since epoch from a number or numeric string (Zerocap timestamps are ms). */
function ms(v: unknown): number | undefined {
  const s = text(v);
  if (s === undefined) return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? Math.trunc(n) : undefined;
}

export function sideFromZerocap(raw: unknown): Side {
  return String(raw).toLowerCase() === 'sell' ? 'sell' : 'buy';
}

// ---------------------------------------------------------------------------------------------
// Orders

/**
 * Status word + quantities → unified status.
 * - `open`: new, or partially_filled once something filled.
 * - `closed`: filled when filled ≥ amount; otherwise the fill-or-kill remainder was killed →
 *   expired (FIX 150=C), never canceled: nobody asked for a cancel.
 * - canceled / cancelled / expired / rejected: as named (CCXT words, unconfirmed at Zerocap).
 * - anything else: judged by quantities, never terminal by guess.
 */
export function zerocapStatus(raw: string, filled: string, amount: string): OrderStatus {
  const word = raw.toLowerCase();
  const fixed = ZEROCAP_FIXED_STATUS[word];
  if (fixed !== undefined) return fixed;
  const done = !isZero(amount) && new Decimal(filled).gte(amount);
  if (word === ZEROCAP_STATUS.closed) return done ? 'filled' : 'expired';
  if (!isZero(filled)) return done && word !== ZEROCAP_STATUS.open ? 'filled' : 'partially_filled';
  return 'new';
}

/** `trades[]` of an order object → fills (fillId = trade id, the dedupe key zerocap.md names). */
export function fillsFromZerocapTrades(trades: unknown): VenueFill[] {
  if (!Array.isArray(trades)) return [];
  const fills: VenueFill[] = [];
  for (const t of trades) {
    if (typeof t !== 'object' || t === null) continue;
    const f = fillFromZerocapTrade(t as Json);
    if (f !== undefined) fills.push(f);
  }
  return fills;
}

/** One trade (order object's trades[] entry, snake_case, or a WS trade push, camelCase) → fill. */
export function fillFromZerocapTrade(t: Json): VenueFill | undefined {
  const fillId = text(field(t, 'id'));
  const qty = zerocapDecimal(field(t, 'amount'));
  const price = zerocapDecimal(field(t, 'price'));
  if (fillId === undefined || qty === undefined || price === undefined || isZero(qty)) return undefined;
  const fill: VenueFill = { fillId, qty, price, time: ms(field(t, 'timestamp')) ?? 0 };
  const fee = zerocapDecimal(field(t, 'fee'));
  if (fee !== undefined) fill.fee = fee;
  return fill;
}

/** The venue order id a trade belongs to (`order` in both spellings). */
export function orderIdOfZerocapTrade(t: Json): string | undefined {
  return text(field(t, 'order', 'order_id', 'orderId'));
}

/**
 * An order object → VenueOrder. `clientOrderId` comes from the object when it carries one (the
 * REST object does; the stream's example does not), else from `knownClientOrderId`, else ''.
 */
export function orderFromZerocap(o: Json, knownClientOrderId?: string): VenueOrder {
  const rawStatus = String(field(o, 'status') ?? '');
  const quantity = zerocapDecimal(field(o, 'amount')) ?? '0';
  const filledQty = zerocapDecimal(field(o, 'filled')) ?? '0';
  const status = zerocapStatus(rawStatus, filledQty, quantity);
  const order: VenueOrder = {
    clientOrderId: text(field(o, 'client_order_id', 'clientOrderId')) ?? knownClientOrderId ?? '',
    venueOrderId: String(field(o, 'id') ?? ''),
    symbol: String(field(o, 'symbol') ?? ''),
    side: sideFromZerocap(field(o, 'side')),
    type: String(field(o, 'type') ?? '').toLowerCase() === 'market' ? 'market' : 'limit',
    quantity,
    status,
    rawStatus,
    filledQty,
    updateTime: ms(field(o, 'last_trade_timestamp', 'lastTradeTimestamp')) ?? ms(field(o, 'timestamp')) ?? 0,
    fills: fillsFromZerocapTrades(field(o, 'trades')),
  };
  const createdAt = ms(field(o, 'timestamp'));
  if (createdAt !== undefined) order.createdAt = createdAt;
  // The SDK sends price "0" when none is given: no limit price.
  const price = zerocapDecimal(field(o, 'price'));
  if (price !== undefined && !isZero(price)) order.price = price;
  const average = zerocapDecimal(field(o, 'average'));
  if (average !== undefined && !isZero(average)) order.avgPrice = average;
  if (String(field(o, 'time_in_force', 'timeInForce') ?? '').toUpperCase() === 'FOK') order.timeInForce = 'FOK';
  const error = text(field(o, 'error_message', 'errorMessage'));
  if (status === 'rejected' || (error !== undefined && (status === 'expired' || status === 'canceled'))) {
    order.rejectCode = rawStatus;
    order.rejectText = error ?? rawStatus;
  }
  return order;
}

/** Per-order progress the adapter keeps between pushes, so that each push yields only what is new. */
export interface ZerocapOrderProgress {
  acknowledged: boolean;
  fillIds: ReadonlySet<string>;
}

/**
 * An order snapshot (a WS order push, or a REST reply) → the events not yet reported:
 * `acknowledged` once (also before the first fill of an order that went straight to `closed`, so
 * FIX clients see New → Fill), one `fill` per trade not yet reported (cumQty running up to the
 * order's `filled`), then the terminal event (expired / canceled / rejected; a full fill needs
 * none: its fills complete it).
 */
export function eventsFromZerocapOrder(order: VenueOrder, progress: ZerocapOrderProgress, source: 'stream' | 'rest'): OrderEvent[] {
  const base = {
    clientOrderId: order.clientOrderId,
    venueOrderId: order.venueOrderId,
    rawStatus: order.rawStatus,
    time: order.updateTime,
    source,
  };
  const events: OrderEvent[] = [];
  if (order.status === 'rejected') {
    if (!progress.acknowledged) {
      return [{ ...base, kind: 'rejected', code: order.rejectCode ?? order.rawStatus, text: order.rejectText ?? order.rawStatus }];
    }
    // Rejected after it was acknowledged: the order ends without further fills.
    return [{ ...base, kind: 'canceled', cumQty: order.filledQty }];
  }
  if (!progress.acknowledged) events.push({ ...base, kind: 'acknowledged', cumQty: '0' });
  const fresh = (order.fills ?? []).filter((f) => !progress.fillIds.has(f.fillId));
  let cum = new Decimal(order.filledQty);
  for (const f of fresh) cum = cum.minus(f.qty);
  if (cum.isNegative()) cum = new Decimal(0);
  for (const f of fresh) {
    cum = cum.plus(f.qty);
    events.push({ ...base, kind: 'fill', fill: f, cumQty: cum.toFixed(), time: f.time || base.time });
  }
  if (order.status === 'expired' || order.status === 'canceled') {
    // The venue's reason (a killed FOK's error_message) goes with it to FIX Text(58).
    const text = order.rejectText !== undefined ? { text: order.rejectText } : {};
    events.push({ ...base, kind: order.status, cumQty: order.filledQty, ...text });
  }
  return events;
}

// ---------------------------------------------------------------------------------------------
// Instruments

/**
 * GET /orders/get_instruments → instruments. The reply shape is unconfirmed (zerocap.md): read a
 * list (bare, or under instruments / data / markets / result) of CCXT-style markets:
 * {symbol, precision: {price, amount}, limits: {amount: {min, max}, cost: {min}}} or flat
 * {symbol, tick_size|price_increment, step_size|amount_increment, min_amount, max_amount, min_notional}.
 */
export function instrumentsFromZerocap(body: unknown): Instrument[] {
  let list: unknown = body;
  if (!Array.isArray(list) && typeof list === 'object' && list !== null) {
    const b = list as Json;
    list = b.instruments ?? b.data ?? b.markets ?? b.result;
  }
  if (!Array.isArray(list)) throw new Error('Zerocap instruments reply has no list of instruments');
  const out: Instrument[] = [];
  for (const raw of list) {
    if (typeof raw === 'string') {
      // A bare symbol list: no increments known.
      out.push({ symbol: raw, tickSize: '0', stepSize: '0' });
      continue;
    }
    if (typeof raw !== 'object' || raw === null) continue;
    const m = raw as Json;
    const symbol = text(field(m, 'symbol'));
    if (symbol === undefined) continue;
    const precision = (field(m, 'precision') ?? {}) as Json;
    const limits = (field(m, 'limits') ?? {}) as Json;
    const amountLimits = (limits.amount ?? {}) as Json;
    const costLimits = (limits.cost ?? {}) as Json;
    const inst: Instrument = {
      symbol,
      tickSize: zerocapDecimal(field(m, 'tick_size', 'tickSize', 'price_increment')) ?? zerocapDecimal(precision.price) ?? '0',
      stepSize: zerocapDecimal(field(m, 'step_size', 'stepSize', 'amount_increment')) ?? zerocapDecimal(precision.amount) ?? '0',
    };
    const minQty = zerocapDecimal(field(m, 'min_amount', 'minAmount')) ?? zerocapDecimal(amountLimits.min);
    const maxQty = zerocapDecimal(field(m, 'max_amount', 'maxAmount')) ?? zerocapDecimal(amountLimits.max);
    const minNotional = zerocapDecimal(field(m, 'min_notional', 'minNotional')) ?? zerocapDecimal(costLimits.min);
    if (minQty !== undefined) inst.minQty = minQty;
    if (maxQty !== undefined) inst.maxQty = maxQty;
    if (minNotional !== undefined) inst.minNotional = minNotional;
    out.push(inst);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Requests

/** The create_order body. Zerocap orders are limit, fill-or-kill, never post-only: anything else is refused here. */
export function zerocapCreateBody(req: PlaceOrderRequest): Json {
  if (req.type !== 'limit') throw new OrderRejected('unsupported', 'Zerocap takes limit orders only (market orders are unconfirmed)');
  if (req.timeInForce !== 'FOK') {
    throw new OrderRejected('unsupported', `Zerocap orders are fill-or-kill: time in force ${req.timeInForce} is not supported`);
  }
  if (req.postOnly) throw new OrderRejected('unsupported', 'Zerocap has no post-only orders');
  if (req.price === undefined || req.price === '') throw new OrderRejected('invalid_order', 'limit order without a price');
  return {
    symbol: req.symbol,
    side: req.side,
    type: 'limit',
    amount: req.quantity,
    price: req.price,
    client_order_id: req.clientOrderId,
  };
}

// ---------------------------------------------------------------------------------------------
// Errors

/** What the request was: a 404 means "no such order" only for a query. */
export type ZerocapRequestKind = 'create' | 'query' | 'other';

/** The code and text of an error body: {error_code, error_message}, {code, msg|message}, {detail} or plain text. */
export function zerocapErrorParts(body: unknown): { code?: string; message: string } {
  if (typeof body === 'string') return { message: body.slice(0, 200) };
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { message: '' };
  const b = body as Json;
  const code = text(field(b, 'error_code', 'errorCode', 'code', 'status_code'));
  const detail = field(b, 'error_message', 'errorMessage', 'message', 'msg', 'detail', 'error');
  const message = typeof detail === 'string' ? detail : detail === undefined ? '' : JSON.stringify(detail).slice(0, 200);
  return { ...(code !== undefined ? { code } : {}), message };
}

/** Retry-After: seconds or an HTTP date. */
function retryAfterMs(header: unknown, now: number): number | undefined {
  if (header === undefined || header === null) return undefined;
  const s = String(header).trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/**
 * A non-2xx reply → the error class, by HTTP status (Zerocap's codes are HTTP-like):
 * 5xx → OutcomeUnknown (zerocap.md does not say it; applied anyway), 429 → RateLimited,
 * 401/403 → AuthenticationFailed (wrong key or signature, timestamp outside ±30 s: nothing ran),
 * 404 on a query → OrderNotFound, other 4xx → OrderRejected with a reason read from the text.
 */
export function zerocapErrorFromReply(
  httpStatus: number,
  body: unknown,
  retryAfterHeader: unknown,
  kind: ZerocapRequestKind,
  now: number = Date.now(),
): VenueError {
  const { code: bodyCode, message } = zerocapErrorParts(body);
  const code = bodyCode ?? String(httpStatus);
  const what = `Zerocap HTTP ${httpStatus}${message ? ': ' + message : ''}`;
  if (httpStatus >= 500) return new OutcomeUnknown(`${what} (outcome unknown)`, code, message, httpStatus);
  if (httpStatus === 429) {
    return new RateLimited(what, retryAfterMs(retryAfterHeader, now) ?? ZEROCAP_RATE_LIMIT_WAIT_MS, code, message, httpStatus);
  }
  if (httpStatus === 401 || httpStatus === 403) return new AuthenticationFailed(what, code, message, httpStatus);
  if (httpStatus === 404 && kind === 'query') return new OrderNotFound(what, code, message, httpStatus);
  const lower = message.toLowerCase();
  const reason = ZEROCAP_REJECT_TEXT.find(([needle]) => lower.includes(needle))?.[1] ?? (httpStatus === 400 || httpStatus === 422 ? 'invalid_order' : 'other');
  return new OrderRejected(reason, what, code, message, httpStatus);
}

/** A WS `{"type":"error",...}` message → its code and text. */
export function zerocapWsError(m: Json): { code: string; message: string } {
  return { code: text(m.error_code) ?? '', message: text(m.error_message) ?? '' };
}
