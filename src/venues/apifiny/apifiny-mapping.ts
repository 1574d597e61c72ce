// Apifiny ↔ unified model: pure functions, no sockets, no clock.
// Order object (newOrder / cancelOrder / queryOrderInfo / listOpenOrder) → VenueOrder, stream
// push → OrderEvent[], listFilledOrder rows → VenueFill[], listSymbolInfo → Instrument[],
// PlaceOrderRequest → newOrder body, error envelope → error class.
//
// Apifiny has one order id, chosen by us: clientOrderId = venueOrderId = `orderId`.
// Statuses: PENDING_SUBMIT → pending_new; SUBMITTED → new, or partially_filled once the cumulative
// quantity is above 0 (there is no working-partial word); PART_FILLED is FINAL (partly filled, the
// rest no longer works) → canceled, or expired for IOC / MARKET, never a live partially_filled;
// FILLED, CANCELLED, REJECTED.
// Fills carry no id: a fill's id is (orderId, cumulative quantity after it), the dedupe key the
// venue README suggests, with the quantity in canonical decimal form so "1.0" and "1" agree.

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
import { parseExactJson } from '../common/decimal-json';
import {
  APIFINY_ERROR_CODES,
  APIFINY_ERROR_TEXTS,
  APIFINY_IP_BLOCK_WAIT_MS,
  APIFINY_RATE_LIMIT_WAIT_MS,
  APIFINY_STATUS,
  APIFINY_TIF,
  ApifinyErrorSpec,
} from './apifiny-constants';

type Json = Record<string, unknown>;

/** Venue JSON with every decimal kept as the text sent (pushes carry prices as JSON numbers). */
export function parseApifinyJson(text: string): unknown {
  return parseExactJson(text);
}

const str = (v: unknown): string | undefined => (v === undefined || v === null || v === '' ? undefined : String(v));

/** A decimal as text: venue text kept, exponent forms (`1.0E-8`) written out; undefined when absent or not a number. */
export function apifinyDecimal(v: unknown): string | undefined {
  const s = str(v);
  if (s === undefined) return undefined;
  if (!/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(s)) return undefined;
  return /[eE]/.test(s) ? new Decimal(s).toFixed() : s;
}

const num = (v: unknown): number | undefined => {
  const s = str(v);
  if (s === undefined) return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
};

function isPositive(v: string | undefined): boolean {
  return v !== undefined && new Decimal(v).gt(0);
}

/** The fill key: `<orderId>:<cumulative quantity after the fill>` with the quantity canonical. */
export function apifinyFillId(orderId: string, cumulativeQty: string): string {
  return `${orderId}:${new Decimal(cumulativeQty).toFixed()}`;
}

// ---------------------------------------------------------------------------------------------
// Errors

/**
 * The cancel was refused only because the order is still PENDING_SUBMIT (328026, or 327754
 * "Order_CancelPendingSubmitWait"): retry once the order is SUBMITTED. Never "too late".
 */
export class CancelNotYetPossible extends OrderRejected {
  readonly retryable = true;
  constructor(message: string, code?: string, venueText?: string, httpStatus?: number) {
    super('not_yet_cancelable', message, code, venueText, httpStatus);
  }
}

/** A cancel of this order is already under way (328010): FIX CxlRejReason 3. */
export class CancelAlreadyPending extends OrderRejected {
  constructor(message: string, code?: string, venueText?: string, httpStatus?: number) {
    super('already_pending_cancel', message, code, venueText, httpStatus);
  }
}

/** The error spec of a code + text: text rules for the documented clashes first, then the table, then the suffix. */
export function apifinyErrorSpec(code: string, text: string): ApifinyErrorSpec | undefined {
  const byText = APIFINY_ERROR_TEXTS.find((r) => r.codes.includes(code) && r.text.test(text));
  if (byText) return byText.spec;
  const row = APIFINY_ERROR_CODES.get(code);
  if (row) return row.spec;
  // Unlisted: the hex suffix digit says who is at fault. B = server side: the request may or
  // may not have taken effect. Anything else: a client-side refusal.
  const n = Number(code);
  if (Number.isInteger(n) && n > 0 && (n & 0xf) === 0xb) return { kind: 'unknown_outcome' };
  return undefined;
}

/** Codes arrive as numbers, strings, or (in the docs' own example) a hex literal. */
export function normalizeApifinyCode(code: unknown): string {
  const s = str(code)?.trim() ?? '';
  if (/^0x[0-9a-f]+$/i.test(s)) return String(parseInt(s, 16));
  return s;
}

export function apifinyErrorForCode(rawCode: unknown, message: string, httpStatus?: number): VenueError {
  const code = normalizeApifinyCode(rawCode);
  const text = message || '(no message)';
  const msg = `Apifiny ${code || 'error'}: ${text}`;
  const spec = apifinyErrorSpec(code, text);
  if (spec === undefined) return new OrderRejected('other', msg, code, text, httpStatus);
  switch (spec.kind) {
    case 'rejected':
      return new OrderRejected(spec.reason, msg, code, text, httpStatus);
    case 'duplicate':
      return new DuplicateOrder(msg, code, text, httpStatus);
    case 'not_found':
      return new OrderNotFound(msg, code, text, httpStatus);
    case 'auth':
      return new AuthenticationFailed(msg, code, text, httpStatus);
    case 'rate_limited':
      return new RateLimited(msg, spec.retryAfterMs, code, text, httpStatus);
    case 'unknown_outcome':
      return new OutcomeUnknown(msg, code, text, httpStatus);
    case 'cancel_pending_submit':
      return new CancelNotYetPossible(msg, code, text, httpStatus);
    case 'cancel_in_progress':
      return new CancelAlreadyPending(msg, code, text, httpStatus);
  }
}

/** `{"result": …, "error": {"code", "message"}}` with a non-null error. */
export function apifinyEnvelopeError(body: unknown): { code: unknown; message: string } | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const e = (body as Json).error;
  if (typeof e !== 'object' || e === null) return undefined;
  return { code: (e as Json).code, message: str((e as Json).message) ?? '' };
}

/**
 * One reply → its `result`, or the error it means. HTTP 5xx/502 → unknown outcome (apifiny.md
 * states no such rule; applied anyway), 429 → rate limited, 403 → IP blocked ("too many
 * errors") → rate limited for a minute; an error envelope → its code.
 */
export function apifinyResultOrError(httpStatus: number, body: unknown): { result: unknown } | { error: VenueError } {
  const envelope = apifinyEnvelopeError(body);
  if (httpStatus >= 500) {
    const text = envelope ? `${normalizeApifinyCode(envelope.code)} ${envelope.message}` : `HTTP ${httpStatus}`;
    return { error: new OutcomeUnknown(`Apifiny ${text}: outcome unknown`, envelope ? normalizeApifinyCode(envelope.code) : String(httpStatus), envelope?.message, httpStatus) };
  }
  if (envelope) {
    const err = apifinyErrorForCode(envelope.code, envelope.message, httpStatus);
    if (httpStatus === 429 && !(err instanceof RateLimited)) {
      return { error: new RateLimited(err.message, APIFINY_RATE_LIMIT_WAIT_MS, err.code, err.venueText, httpStatus) };
    }
    return { error: err };
  }
  if (httpStatus === 429) return { error: new RateLimited('Apifiny HTTP 429: rate limited', APIFINY_RATE_LIMIT_WAIT_MS, '429', undefined, httpStatus) };
  if (httpStatus === 403) return { error: new RateLimited('Apifiny HTTP 403: IP blocked after too many errors', APIFINY_IP_BLOCK_WAIT_MS, '403', undefined, httpStatus) };
  if (httpStatus === 401) return { error: new AuthenticationFailed('Apifiny HTTP 401', '401', undefined, httpStatus) };
  if (httpStatus < 200 || httpStatus >= 300) return { error: new OrderRejected('other', `Apifiny HTTP ${httpStatus}`, String(httpStatus), typeof body === 'string' ? body : undefined, httpStatus) };
  if (typeof body !== 'object' || body === null || !('result' in (body as Json))) {
    return { error: new OutcomeUnknown('Apifiny reply is not a {result, error} envelope', undefined, undefined, httpStatus) };
  }
  return { result: (body as Json).result };
}

// ---------------------------------------------------------------------------------------------
// Orders

export interface ApifinyMappingOptions {
  /**
   * How a final PART_FILLED is reported: 'by_tif' (default) = expired for IOC and MARKET (the rest
   * was killed), canceled otherwise; or always one of the two.
   */
  partFilledAs?: 'by_tif' | 'canceled' | 'expired';
}

function tifFromApifiny(v: unknown): { tif?: TimeInForce; postOnly: boolean } {
  switch (num(v)) {
    case APIFINY_TIF.GTC:
      return { tif: 'GTC', postOnly: false };
    case APIFINY_TIF.IOC:
      return { tif: 'IOC', postOnly: false };
    case APIFINY_TIF.POST_ONLY:
      return { tif: 'GTC', postOnly: true };
    case APIFINY_TIF.GTD:
      return { tif: 'GTD', postOnly: false };
    default:
      return { postOnly: false };
  }
}

function terminalForPartFilled(orderType: unknown, tif: unknown, opts: ApifinyMappingOptions): 'canceled' | 'expired' {
  const mode = opts.partFilledAs ?? 'by_tif';
  if (mode !== 'by_tif') return mode;
  return str(orderType) === 'MARKET' || num(tif) === APIFINY_TIF.IOC ? 'expired' : 'canceled';
}

/** Unified status of a status word, given the cumulative quantity and the order's type and TIF. */
export function statusFromApifiny(word: string, cumQty: string, orderType: unknown, tif: unknown, opts: ApifinyMappingOptions = {}): OrderStatus {
  switch (word) {
    case APIFINY_STATUS.pendingSubmit:
      return 'pending_new';
    case APIFINY_STATUS.submitted:
      return isPositive(cumQty) ? 'partially_filled' : 'new';
    case APIFINY_STATUS.partFilled:
      return terminalForPartFilled(orderType, tif, opts);
    case APIFINY_STATUS.filled:
      return 'filled';
    case APIFINY_STATUS.cancelled:
      return 'canceled';
    case APIFINY_STATUS.rejected:
      return isPositive(cumQty) ? 'canceled' : 'rejected';
    default:
      throw new OutcomeUnknown(`Apifiny order status ${JSON.stringify(word)} is not one this gateway knows`, word, word);
  }
}

function sideFrom(v: unknown): Side {
  const s = str(v);
  if (s === 'BUY') return 'buy';
  if (s === 'SELL') return 'sell';
  throw new OutcomeUnknown(`Apifiny order side ${JSON.stringify(v)} unknown`);
}

function typeFrom(v: unknown): OrderType {
  return str(v) === 'MARKET' ? 'market' : 'limit';
}

/** An order object → VenueOrder (clientOrderId = venueOrderId = orderId). */
export function orderFromApifiny(o: Json, opts: ApifinyMappingOptions = {}): VenueOrder {
  const orderId = str(o.orderId);
  const word = str(o.orderStatus);
  if (orderId === undefined || word === undefined) throw new OutcomeUnknown('Apifiny order object without orderId or orderStatus');
  const cum = apifinyDecimal(o.filledCumulativeQuantity) ?? '0';
  const { tif } = tifFromApifiny(o.timeInForce);
  const status = statusFromApifiny(word, cum, o.orderType, o.timeInForce, opts);
  const avg = apifinyDecimal(o.filledAveragePrice);
  const price = apifinyDecimal(o.limitPrice);
  const order: VenueOrder = {
    clientOrderId: orderId,
    venueOrderId: orderId,
    symbol: str(o.symbol) ?? '',
    side: sideFrom(o.orderSide),
    type: typeFrom(o.orderType),
    quantity: apifinyDecimal(o.quantity) ?? '0',
    ...(price !== undefined && typeFrom(o.orderType) === 'limit' ? { price } : {}),
    ...(tif !== undefined ? { timeInForce: tif } : {}),
    status,
    rawStatus: word,
    filledQty: cum,
    ...(avg !== undefined && isPositive(cum) ? { avgPrice: avg } : {}),
    updateTime: num(o.updatedAt) ?? num(o.createdAt) ?? 0,
  };
  if (status === 'rejected') {
    order.rejectCode = word;
    order.rejectText = 'rejected by the exchange';
  }
  return order;
}

/** `result` of an order call: an array with one order object (or, leniently, the object). */
export function orderFromApifinyResult(result: unknown, opts: ApifinyMappingOptions = {}): VenueOrder {
  const o = Array.isArray(result) ? result[0] : result;
  if (typeof o !== 'object' || o === null) throw new OutcomeUnknown('Apifiny order reply without an order object');
  return orderFromApifiny(o as Json, opts);
}

export function ordersFromApifinyResult(result: unknown, opts: ApifinyMappingOptions = {}): VenueOrder[] {
  if (result === null || result === undefined) return [];
  if (!Array.isArray(result)) throw new OutcomeUnknown('Apifiny order list reply is not an array');
  return result.map((o) => orderFromApifiny(o as Json, opts));
}

/** The fill a row or push reports: `lastFilled*` fields, keyed by the cumulative quantity after it. */
function fillFrom(o: Json, orderId: string, cum: string): VenueFill | undefined {
  const qty = apifinyDecimal(o.lastFilledQuantity);
  const price = apifinyDecimal(o.lastFilledPrice);
  if (!isPositive(qty) || price === undefined) return undefined;
  const fee = apifinyDecimal(o.lastCommission);
  const feeAsset = str(o.lastCommissionCurrency);
  return {
    fillId: apifinyFillId(orderId, cum),
    qty: qty!,
    price,
    ...(fee !== undefined ? { fee } : {}),
    ...(feeAsset !== undefined ? { feeAsset } : {}),
    time: num(o.lastFilledCreatedAt) ?? num(o.filledUpdatedAt) ?? num(o.updatedAt) ?? 0,
  };
}

/** listFilledOrder rows of one order → its fills, oldest first (by cumulative quantity). */
export function fillsFromApifinyFilledOrders(result: unknown, orderId: string): VenueFill[] {
  if (result === null || result === undefined) return [];
  if (!Array.isArray(result)) throw new OutcomeUnknown('Apifiny listFilledOrder reply is not an array');
  const seen = new Map<string, { cum: Decimal; fill: VenueFill }>();
  for (const row of result as Json[]) {
    if (str(row.orderId) !== orderId) continue;
    const cum = apifinyDecimal(row.filledCumulativeQuantity);
    if (cum === undefined) continue;
    const fill = fillFrom(row, orderId, cum);
    if (fill) seen.set(fill.fillId, { cum: new Decimal(cum), fill });
  }
  return [...seen.values()].sort((a, b) => a.cum.comparedTo(b.cum)).map((x) => x.fill);
}

/**
 * The fill between two snapshots when the pushes in between were missed: qty = Δ cumulative,
 * price = Δ(avg × cum) / Δcum. Exact when the venue's average is exact; a rounded average gives a
 * price rounded to 12 places.
 */
export function gapFill(prev: { cumQty: string; avgPrice?: string }, next: { cumQty: string; avgPrice?: string }): { qty: string; price: string } | undefined {
  const c0 = new Decimal(prev.cumQty || '0');
  const c1 = new Decimal(next.cumQty || '0');
  if (!c1.gt(c0) || next.avgPrice === undefined) return undefined;
  const notional = new Decimal(next.avgPrice).mul(c1).minus(c0.isZero() ? 0 : new Decimal(prev.avgPrice ?? '0').mul(c0));
  const qty = c1.minus(c0);
  return { qty: qty.toFixed(), price: notional.div(qty).toDecimalPlaces(12).toFixed() };
}

// ---------------------------------------------------------------------------------------------
// Stream pushes

/** The order object of a push: `{logTimestamp, payload:{…}}` (or `{result:{payload}}` leniently). */
export function apifinyPushPayload(frame: unknown): Json | undefined {
  if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) return undefined;
  const f = frame as Json;
  const inner = typeof f.result === 'object' && f.result !== null ? (f.result as Json) : f;
  const p = inner.payload;
  if (typeof p !== 'object' || p === null || Array.isArray(p)) return undefined;
  return (p as Json).orderId !== undefined && (p as Json).orderStatus !== undefined ? (p as Json) : undefined;
}

/**
 * One push (one status change) → its events. SUBMITTED: a fill when the cumulative quantity
 * rose (the push's `lastFilled*`), else acknowledged. FILLED: its (last) fill. PART_FILLED: the
 * last fill (deduped by its key if already seen) then canceled/expired with the final cumulative.
 * CANCELLED → canceled; REJECTED → rejected. PENDING_SUBMIT → nothing (placeOrder's reply already
 * said pending_new). Every event carries the cumulative quantity, so a gap is visible.
 */
export function eventsFromApifinyPush(frame: unknown, opts: ApifinyMappingOptions = {}): OrderEvent[] {
  const p = apifinyPushPayload(frame);
  if (p === undefined) return [];
  const orderId = String(p.orderId);
  const word = String(p.orderStatus);
  const cum = apifinyDecimal(p.filledCumulativeQuantity) ?? '0';
  const time = num(p.updatedAt) ?? num((frame as Json).logTimestamp) ?? 0;
  const base = { clientOrderId: orderId, venueOrderId: orderId, rawStatus: word, time, cumQty: cum, source: 'stream' as const };
  const fill = isPositive(cum) ? fillFrom(p, orderId, cum) : undefined;
  const fillEvents: OrderEvent[] = fill ? [{ ...base, kind: 'fill', fill }] : [];
  switch (word) {
    case APIFINY_STATUS.pendingSubmit:
      return [];
    case APIFINY_STATUS.submitted:
      return fill ? fillEvents : [{ ...base, kind: 'acknowledged' }];
    case APIFINY_STATUS.filled:
      return fillEvents;
    case APIFINY_STATUS.partFilled:
      return [...fillEvents, { ...base, kind: terminalForPartFilled(p.orderType, p.timeInForce, opts) }];
    case APIFINY_STATUS.cancelled:
      return [...fillEvents, { ...base, kind: 'canceled' }];
    case APIFINY_STATUS.rejected:
      return isPositive(cum) ? [...fillEvents, { ...base, kind: 'canceled' }] : [{ ...base, kind: 'rejected', code: word, text: 'rejected by the exchange' }];
    default:
      return [];
  }
}

// ---------------------------------------------------------------------------------------------
// Requests

/** TIF code for a request: 1 GTC, 3 IOC, 7 post-only (GTC + postOnly). No FOK, no Day, no GTD. */
export function apifinyTimeInForce(req: Pick<PlaceOrderRequest, 'timeInForce' | 'postOnly' | 'type'>): number {
  if (req.postOnly) {
    if (req.type !== 'limit' || req.timeInForce !== 'GTC') throw new OrderRejected('unsupported', 'Apifiny post-only (TIF 7) is for GTC LIMIT orders only');
    return APIFINY_TIF.POST_ONLY;
  }
  if (req.type === 'market') {
    if (req.timeInForce !== 'IOC') throw new OrderRejected('unsupported', `Apifiny MARKET orders are immediate (IOC); ${req.timeInForce} is not possible`);
    return APIFINY_TIF.IOC;
  }
  switch (req.timeInForce) {
    case 'GTC':
      return APIFINY_TIF.GTC;
    case 'IOC':
      return APIFINY_TIF.IOC;
    case 'FOK':
      throw new OrderRejected('unsupported', 'Apifiny has no fill-or-kill (FOK) orders: use IOC (59=3) or GTC (59=1)');
    default:
      throw new OrderRejected('unsupported', `Apifiny has no ${req.timeInForce} orders: TIFs are GTC (59=1), IOC (59=3), post-only (18=6)`);
  }
}

/**
 * The newOrder body (keys in the docs' order; decimals as the strings given). A MARKET BUY
 * needs `total` (quote to spend), which a FIX order in base quantity does not give: refused.
 */
export function apifinyNewOrderBody(req: PlaceOrderRequest, accountId: string, exchange: string): Json {
  const timeInForce = apifinyTimeInForce(req);
  if (req.type === 'market' && req.side === 'buy') {
    throw new OrderRejected('unsupported', 'Apifiny MARKET BUY orders are sized in quote currency (total), not in quantity: send a LIMIT order');
  }
  if (req.type === 'limit' && (req.price === undefined || req.price === '')) throw new OrderRejected('invalid_order', 'Apifiny LIMIT orders need a price');
  return {
    accountId,
    venue: exchange,
    orderId: req.clientOrderId,
    orderInfo: {
      symbol: req.symbol,
      orderType: req.type === 'limit' ? 'LIMIT' : 'MARKET',
      timeInForce,
      orderSide: req.side === 'buy' ? 'BUY' : 'SELL',
      ...(req.type === 'limit' ? { limitPrice: req.price } : {}),
      quantity: req.quantity,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Reference data

/** listSymbolInfo rows → instruments (FIX Symbol = the venue's `BTCUSDT`); disabled symbols left out. */
export function instrumentsFromApifinySymbols(result: unknown): Instrument[] {
  if (!Array.isArray(result)) throw new OutcomeUnknown('Apifiny listSymbolInfo reply is not an array');
  const out: Instrument[] = [];
  for (const row of result as Json[]) {
    const symbol = str(row.symbol);
    const tickSize = apifinyDecimal(row.tickSize);
    const stepSize = apifinyDecimal(row.stepSize);
    if (symbol === undefined || tickSize === undefined || stepSize === undefined) continue;
    if (str(row.status) !== undefined && str(row.status)!.toLowerCase() !== 'enabled') continue;
    const minQty = apifinyDecimal(row.minQuantity);
    const maxQty = apifinyDecimal(row.maxQuantity);
    const minNotional = apifinyDecimal(row.minNotional);
    out.push({
      symbol,
      tickSize,
      stepSize,
      ...(isPositive(minQty) ? { minQty } : {}),
      ...(isPositive(maxQty) ? { maxQty } : {}),
      ...(isPositive(minNotional) ? { minNotional } : {}),
    });
  }
  return out;
}
