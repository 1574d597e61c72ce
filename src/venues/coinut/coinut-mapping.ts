// Coinut ↔ unified model: pure functions, no sockets, no clock unless passed in.
// inst_list → instruments (FIX Symbol = the venue's instrument name, e.g. BTCUSDT, ↔ inst_id);
// order_accepted / order_filled / order_rejected → order events (one fill per order_filled, at its
// own price, commission kept, fill id = trans_id); a new_order reply → VenueOrder; cancel replies;
// user_open_orders rows and trade_history trades → VenueOrder / VenueFill; times µs → ms; client
// order ids are integers 1..16777215 carried as their decimal text.

import Decimal from 'decimal.js';
import {
  AuthenticationFailed,
  Instrument,
  OrderEvent,
  OrderNotFound,
  OrderRejected,
  OrderStatus,
  OrderType,
  RateLimited,
  RejectReason,
  Side,
  VenueError,
  VenueFill,
  VenueOrder,
} from '../venue';
import { parseExactJson } from '../common/decimal-json';
import {
  COINUT_CLIENT_ORD_ID_MAX,
  COINUT_CLIENT_ORD_ID_MIN,
  COINUT_DEFAULT_QTY_STEP,
  COINUT_MICROS_PER_MS,
  COINUT_REJECT_REASON_MAP,
  COINUT_REPLIES,
  COINUT_STATUS_OK,
  COINUT_STATUS_WORDS,
} from './coinut-constants';

export type CoinutJson = Record<string, unknown>;

/** Venue JSON with decimals kept as the text sent and 16+ digit integers (µs times) as strings. */
export function parseCoinutJson(text: string): unknown {
  return parseExactJson(text);
}

/** A frame is one message or a JSON array of them: returns the objects. */
export function coinutMessages(frame: unknown): CoinutJson[] {
  const list = Array.isArray(frame) ? frame : [frame];
  return list.filter((m): m is CoinutJson => typeof m === 'object' && m !== null && !Array.isArray(m));
}

const str = (v: unknown): string | undefined => (v === undefined || v === null || v === '' ? undefined : String(v));
const int = (v: unknown): number | undefined => {
  if (v === undefined || v === null || v === '') return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
};
const obj = (v: unknown): CoinutJson | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as CoinutJson) : undefined);

function dec(v: string | undefined): Decimal {
  try {
    return new Decimal(v ?? '0');
  } catch {
    return new Decimal(0);
  }
}

/** Unix µs (number or its text) → ms since epoch; undefined when absent or not a number. */
export function microsToMs(us: unknown): number | undefined {
  const n = int(us);
  return n === undefined ? undefined : Math.floor(n / COINUT_MICROS_PER_MS);
}

/** The first status word; '' when the message carries none. */
export function statusWord(m: CoinutJson): string {
  const s = m.status;
  if (Array.isArray(s)) return s.length > 0 ? String(s[0]) : '';
  return s === undefined || s === null ? '' : String(s);
}

export function isOk(m: CoinutJson): boolean {
  return statusWord(m) === COINUT_STATUS_OK;
}

export function nonceOf(m: CoinutJson): number | undefined {
  return int(m.nonce);
}

// ---- client order ids ----------------------------------------------------------------------------

/** The integer a client order id's decimal text names, when it is one Coinut accepts (1..16777215). */
export function parseClientOrdId(text: string): number | undefined {
  if (!/^[1-9]\d{0,7}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= COINUT_CLIENT_ORD_ID_MIN && n <= COINUT_CLIENT_ORD_ID_MAX ? n : undefined;
}

/** The venue's client_ord_id as our text ('' when the venue sent none). */
export function clientOrdIdText(v: unknown): string {
  const n = int(v);
  return n === undefined ? '' : String(n);
}

// ---- instruments -----------------------------------------------------------------------------------

export interface CoinutInstrument {
  /** The venue's instrument name, e.g. BTCUSDT: FIX Symbol. */
  symbol: string;
  instId: number;
  base: string;
  quote: string;
  /** Price precision. */
  decimalPlaces: number;
}

/** `{"SPOT":{"LTCBTC":[{base,quote,inst_id,decimal_places}],...}}` → one entry per name (its first). */
export function instrumentsFromInstList(reply: CoinutJson, secType = 'SPOT'): CoinutInstrument[] {
  const section = obj(reply[secType]);
  if (section === undefined) return [];
  const out: CoinutInstrument[] = [];
  for (const name of Object.keys(section)) {
    const entries = section[name];
    const e = obj(Array.isArray(entries) ? entries[0] : entries);
    const instId = e === undefined ? undefined : int(e.inst_id);
    const dp = e === undefined ? undefined : int(e.decimal_places);
    if (e === undefined || instId === undefined || dp === undefined || dp < 0) continue;
    out.push({ symbol: name, instId, base: str(e.base) ?? '', quote: str(e.quote) ?? '', decimalPlaces: dp });
  }
  return out;
}

/** 10^-n as a plain decimal string ("0.01" for 2, "1" for 0). */
export function unitOfDecimals(n: number): string {
  return n <= 0 ? '1' : '0.' + '0'.repeat(n - 1) + '1';
}

/** The unified instrument: tick from decimal_places; quantity step is not published (our assumption). */
export function toInstrument(ci: CoinutInstrument): Instrument {
  return { symbol: ci.symbol, tickSize: unitOfDecimals(ci.decimalPlaces), stepSize: COINUT_DEFAULT_QTY_STEP };
}

/** Symbol ↔ inst_id, both ways. */
export class CoinutInstrumentMap {
  private readonly bySymbol = new Map<string, CoinutInstrument>();
  private readonly byId = new Map<number, CoinutInstrument>();

  constructor(list: readonly CoinutInstrument[]) {
    for (const i of list) {
      this.bySymbol.set(i.symbol, i);
      this.byId.set(i.instId, i);
    }
  }

  instId(symbol: string): number | undefined {
    return this.bySymbol.get(symbol)?.instId;
  }

  symbol(instId: unknown): string | undefined {
    const id = int(instId);
    return id === undefined ? undefined : this.byId.get(id)?.symbol;
  }

  get(symbol: string): CoinutInstrument | undefined {
    return this.bySymbol.get(symbol);
  }

  list(): CoinutInstrument[] {
    return [...this.bySymbol.values()];
  }
}

// ---- orders and events ---------------------------------------------------------------------------

export function sideOf(v: unknown): Side {
  return String(v).toUpperCase() === 'SELL' ? 'sell' : 'buy';
}

/** qty − open_qty, exact. */
function executed(qty: string | undefined, openQty: string | undefined): string {
  if (qty === undefined) return '0';
  const e = dec(qty).minus(dec(openQty ?? qty));
  return e.isNegative() ? '0' : e.toFixed();
}

/** The order fields of an order event: top level for accepted/rejected, `order` for filled. */
function orderPart(m: CoinutJson): CoinutJson {
  return m.reply === COINUT_REPLIES.orderFilled ? (obj(m.order) ?? {}) : m;
}

/** reasons[] → the unified reason of the first word we know (NOT_ENOUGH_BALANCE → insufficient_funds). */
export function coinutRejectReason(reasons: readonly string[]): RejectReason {
  for (const r of reasons) {
    const mapped = COINUT_REJECT_REASON_MAP[r];
    if (mapped !== undefined) return mapped;
  }
  return 'other';
}

export function reasonsOf(m: CoinutJson): string[] {
  return Array.isArray(m.reasons) ? m.reasons.map(String) : [];
}

/** A fill of an `order_filled` message or a trade_history trade (same shape): one per message. */
export function fillFrom(m: CoinutJson): VenueFill {
  const commission = obj(m.commission);
  const fee = str(commission?.amount);
  const feeAsset = str(commission?.currency);
  return {
    fillId: String(m.trans_id),
    qty: String(m.fill_qty),
    price: String(m.fill_price),
    ...(fee !== undefined ? { fee } : {}),
    ...(feeAsset !== undefined ? { feeAsset } : {}),
    time: microsToMs(m.timestamp) ?? 0,
  };
}

/** A rejected event with the unified reason (venue.ts's rejected event has no field for it yet). */
export type CoinutRejectedEvent = Extract<OrderEvent, { kind: 'rejected' }> & { reason: RejectReason };

/**
 * One order event per order message. `order_rejected` of an order that already has fills (a market
 * order's unfilled rest, NOT_ENOUGH_LIQUIDITY) ends a partly filled order: `expired`, never
 * `rejected` (FIX never gets 39=8 for an order with fills). `receivedAt` stands in for a message
 * without a timestamp (the single-order order_accepted has none).
 */
export function orderEventFrom(m: CoinutJson, receivedAt: number, source: 'stream' | 'rest' = 'stream'): OrderEvent | undefined {
  const reply = String(m.reply ?? '');
  const o = orderPart(m);
  const venueOrderId = str(o.order_id);
  if (venueOrderId === undefined) return undefined;
  const base = {
    clientOrderId: clientOrdIdText(o.client_ord_id),
    venueOrderId,
    rawStatus: reply,
    time: microsToMs(m.timestamp) ?? microsToMs(o.timestamp) ?? receivedAt,
    cumQty: executed(str(o.qty), str(o.open_qty)),
    source,
  };
  switch (reply) {
    case COINUT_REPLIES.orderAccepted:
      return { ...base, kind: 'acknowledged' };
    case COINUT_REPLIES.orderFilled:
      return { ...base, kind: 'fill', fill: fillFrom(m) };
    case COINUT_REPLIES.orderRejected: {
      const reasons = reasonsOf(m);
      if (!dec(base.cumQty).isZero()) return { ...base, rawStatus: `${reply} ${reasons.join(',')}`.trim(), kind: 'expired' };
      const event: CoinutRejectedEvent = {
        ...base,
        kind: 'rejected',
        code: reasons.join(','),
        text: reasons.length > 0 ? reasons.join(', ') : 'order rejected',
        reason: coinutRejectReason(reasons),
      };
      return event;
    }
    default:
      return undefined;
  }
}

/** What the request was, for building the VenueOrder of its reply. */
export interface CoinutOrderRequestInfo {
  clientOrderId: string;
  symbol: string;
  side: Side;
  type: OrderType;
  quantity: string;
  price?: string;
}

function averagePrice(fills: readonly VenueFill[]): string | undefined {
  let qty = new Decimal(0);
  let notional = new Decimal(0);
  for (const f of fills) {
    qty = qty.plus(f.qty);
    notional = notional.plus(new Decimal(f.qty).times(f.price));
  }
  return qty.isZero() ? undefined : notional.div(qty).toFixed();
}

/**
 * The order as a new_order reply shows it (one message, or an array: fills then order_accepted for
 * a resting remainder, or fills then order_rejected for a market order's unfilled rest).
 * undefined when the reply holds no order message.
 */
export function orderFromNewOrderReply(req: CoinutOrderRequestInfo, messages: readonly CoinutJson[], receivedAt: number): VenueOrder | undefined {
  const fills: VenueFill[] = [];
  let venueOrderId: string | undefined;
  let openQty: string | undefined;
  let status: OrderStatus | undefined;
  let rawStatus = '';
  let rejectCode: string | undefined;
  let rejectText: string | undefined;
  let time = receivedAt;
  for (const m of messages) {
    const reply = String(m.reply ?? '');
    const o = orderPart(m);
    if (reply !== COINUT_REPLIES.orderAccepted && reply !== COINUT_REPLIES.orderFilled && reply !== COINUT_REPLIES.orderRejected) continue;
    venueOrderId = str(o.order_id) ?? venueOrderId;
    openQty = str(o.open_qty) ?? openQty;
    time = microsToMs(m.timestamp) ?? time;
    rawStatus = reply;
    if (reply === COINUT_REPLIES.orderFilled) fills.push(fillFrom(m));
    if (reply === COINUT_REPLIES.orderRejected) {
      const reasons = reasonsOf(m);
      rejectCode = reasons.join(',');
      rejectText = reasons.join(', ') || 'order rejected';
      status = 'rejected';
    }
  }
  if (venueOrderId === undefined) return undefined;
  const filledQty = fills.reduce((s, f) => s.plus(f.qty), new Decimal(0));
  if (status === 'rejected') {
    if (!filledQty.isZero()) status = 'expired';
  } else if (!filledQty.isZero()) {
    status = openQty !== undefined && dec(openQty).isZero() ? 'filled' : 'partially_filled';
  } else {
    status = 'new';
  }
  const avg = averagePrice(fills);
  return {
    clientOrderId: req.clientOrderId,
    venueOrderId,
    symbol: req.symbol,
    side: req.side,
    type: req.type,
    quantity: req.quantity,
    ...(req.price !== undefined ? { price: req.price } : {}),
    timeInForce: req.type === 'limit' ? 'GTC' : 'IOC',
    status,
    rawStatus,
    filledQty: filledQty.toFixed(),
    ...(avg !== undefined ? { avgPrice: avg } : {}),
    updateTime: time,
    fills,
    ...(rejectCode !== undefined ? { rejectCode, rejectText } : {}),
  };
}

/** A user_open_orders row → VenueOrder (only limit orders rest). */
export function orderFromOpenOrder(row: CoinutJson, symbol: string): VenueOrder {
  const qty = String(row.qty);
  const filled = executed(qty, str(row.open_qty));
  const price = str(row.price);
  return {
    clientOrderId: clientOrdIdText(row.client_ord_id),
    venueOrderId: String(row.order_id),
    symbol,
    side: sideOf(row.side),
    type: 'limit',
    quantity: qty,
    ...(price !== undefined ? { price } : {}),
    timeInForce: 'GTC',
    status: dec(filled).isZero() ? 'new' : 'partially_filled',
    rawStatus: COINUT_REPLIES.openOrders,
    filledQty: filled,
    updateTime: microsToMs(row.timestamp) ?? 0,
  };
}

export function openOrderRows(reply: CoinutJson): CoinutJson[] {
  return Array.isArray(reply.orders) ? reply.orders.filter((r): r is CoinutJson => obj(r) !== undefined) : [];
}

/** A trade_history trade with the order it belongs to. */
export interface CoinutTrade {
  venueOrderId: string;
  clientOrderId: string;
  instId: number | undefined;
  side: Side;
  /** The order's quantity and, after this fill, its open quantity. */
  orderQty: string;
  openQtyAfter: string;
  orderPrice?: string;
  fill: VenueFill;
}

export function tradesFromHistory(reply: CoinutJson): CoinutTrade[] {
  const rows = Array.isArray(reply.trades) ? reply.trades : [];
  const out: CoinutTrade[] = [];
  for (const r of rows) {
    const t = obj(r);
    const o = obj(t?.order);
    if (t === undefined || o === undefined || str(o.order_id) === undefined) continue;
    const price = str(o.price);
    out.push({
      venueOrderId: String(o.order_id),
      clientOrderId: clientOrdIdText(o.client_ord_id),
      instId: int(o.inst_id),
      side: sideOf(o.side),
      orderQty: String(o.qty),
      openQtyAfter: str(o.open_qty) ?? '0',
      ...(price !== undefined ? { orderPrice: price } : {}),
      fill: fillFrom(t),
    });
  }
  return out;
}

/**
 * Each trade once, by trans_id (the first copy kept). trade_history pages are read by offset,
 * newest first: fills that come between two page reads push rows already read onto the next
 * page, so one search can list a trade twice.
 */
export function uniqueTrades(trades: readonly CoinutTrade[]): CoinutTrade[] {
  const seen = new Set<string>();
  return trades.filter((t) => !seen.has(t.fill.fillId) && (seen.add(t.fill.fillId), true));
}

/**
 * An order that is no longer in user_open_orders, rebuilt from its trades (oldest first or not):
 * fully executed → filled; partly → canceled (a canceled and a rejected rest cannot be told apart
 * afterwards; a limit order is canceled, a market order's rest expired). undefined without trades.
 */
export function orderFromTrades(trades: readonly CoinutTrade[], symbol: string, clientOrderId: string): VenueOrder | undefined {
  if (trades.length === 0) return undefined;
  const sorted = uniqueTrades(trades).sort((a, b) => a.fill.time - b.fill.time || Number(a.fill.fillId) - Number(b.fill.fillId));
  const first = sorted[0];
  const fills = sorted.map((t) => t.fill);
  const filled = fills.reduce((s, f) => s.plus(f.qty), new Decimal(0));
  const complete = filled.gte(first.orderQty);
  const type: OrderType = first.orderPrice !== undefined && !dec(first.orderPrice).isZero() ? 'limit' : 'market';
  return {
    clientOrderId: clientOrderId || first.clientOrderId,
    venueOrderId: first.venueOrderId,
    symbol,
    side: first.side,
    type,
    quantity: first.orderQty,
    ...(type === 'limit' ? { price: first.orderPrice } : {}),
    timeInForce: type === 'limit' ? 'GTC' : 'IOC',
    status: complete ? 'filled' : type === 'limit' ? 'canceled' : 'expired',
    rawStatus: complete ? 'trade_history filled' : 'absent from user_open_orders',
    filledQty: filled.toFixed(),
    avgPrice: averagePrice(fills),
    updateTime: sorted[sorted.length - 1].fill.time,
    fills,
  };
}

/** The open row's order with its fills from trade_history. */
export function withFills(order: VenueOrder, trades: readonly CoinutTrade[]): VenueOrder {
  const fills = uniqueTrades(trades)
    .filter((t) => t.venueOrderId === order.venueOrderId)
    .map((t) => t.fill)
    .sort((a, b) => a.time - b.time || Number(a.fillId) - Number(b.fillId));
  const avg = averagePrice(fills);
  return { ...order, fills, ...(avg !== undefined ? { avgPrice: avg } : {}) };
}

// ---- errors -------------------------------------------------------------------------------------

/**
 * A non-OK status → the error class. `what` names the request for the message. A cancel of an order
 * the venue no longer has open answers INVALID_ORDER_ID; the gateway only cancels orders whose
 * venue id came from the venue, so it means the order is done: too late.
 */
export function errorForStatus(m: CoinutJson, what: string): VenueError {
  const word = statusWord(m) || 'UNKNOWN_ERROR';
  const msg = `Coinut ${what}: ${word}`;
  switch (word) {
    case COINUT_STATUS_WORDS.invalidOrderId:
      return what === 'cancel_order' ? new OrderRejected('too_late', msg, word, word) : new OrderNotFound(msg, word, word);
    case COINUT_STATUS_WORDS.authFailed:
    case COINUT_STATUS_WORDS.notLoggedIn:
      return new AuthenticationFailed(msg, word, word);
    case COINUT_STATUS_WORDS.rateLimited:
      return new RateLimited(msg, 1000, word, word);
    case COINUT_STATUS_WORDS.invalidInstrument:
      return new OrderRejected('unknown_symbol', msg, word, word);
    default:
      return new OrderRejected('other', msg, word, word);
  }
}
