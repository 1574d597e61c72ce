// Pure business validation of NewOrderSingle (35=D) and OrderCancelRequest (35=F) against the
// venue's instruments and capabilities. The session layer has already rejected dictionary-level
// problems (missing required tags, bad enums, malformed numbers); this checks what a venue would
// refuse, so the client gets a precise Text(58) and the venue is not called for a doomed order.
//
// TimeInForce(59) mapping and defaults:
//   1 GTC → GTC, 3 IOC → IOC, 4 FOK → FOK, 0 Day → DAY, 6 GTD → GTD, each only when the venue lists
//   it for the order type. Absent 59 means Day (FIX) for a limit order; a market order without 59
//   gets IOC (or FOK when the venue has no IOC for market orders). When the venue has no DAY, Day
//   is rejected unless the context names a substitute (`dayTimeInForce`, e.g. GTC on a 24/7 venue).
//   Note: PlaceOrderRequest carries no expiry, so GTD is only as good as the venue's own default.
//   The FIX 59 returned (`fixTif`) is the one in force, and is what every ER echoes.

import { FixMessage } from '../fix/message';
import { Instrument, OrderRef, OrderType, PlaceOrderRequest, TimeInForce, VenueCapabilities, VenueOrder } from '../venues/venue';
import { CxlRejReason, Dec, GatewayOrder, OrdStatus, formatDecimal, isTerminal, parseFixDecimal } from './order';

export const MAX_CLORDID_LENGTH = 64;

export interface NewOrderContext {
  /** By FIX Symbol(55). */
  instruments: Map<string, Instrument>;
  capabilities: VenueCapabilities;
  /** True when the ClOrdID was already used in this FIX session (orders and cancel requests). */
  knownClOrdId(id: string): boolean;
  /** Venue TIF used for FIX Day when the venue has no DAY for the order type; default: Day is rejected. */
  dayTimeInForce?: TimeInForce;
}

/** The order fields for createOrder(), normalized. */
export type ValidatedOrderFields = Pick<
  GatewayOrder,
  'clOrdId' | 'account' | 'symbol' | 'side' | 'ordType' | 'timeInForce' | 'orderQty' | 'price' | 'postOnly'
>;

export type NewOrderValidation =
  | { ok: true; request: Omit<PlaceOrderRequest, 'clientOrderId'>; fixTif: string; order: ValidatedOrderFields }
  | { ok: false; ordRejReason: string; text: string };

const FIX_TIF: Record<string, TimeInForce | undefined> = { '0': 'DAY', '1': 'GTC', '3': 'IOC', '4': 'FOK', '6': 'GTD' };
const TIF_FIX: Record<TimeInForce, string> = { DAY: '0', GTC: '1', IOC: '3', FOK: '4', GTD: '6' };
const TIF_NAME: Record<string, string> = {
  '0': 'Day',
  '1': 'GTC',
  '2': 'At the opening',
  '3': 'IOC',
  '4': 'FOK',
  '5': 'Good till crossing',
  '6': 'GTD',
};

function reject(ordRejReason: string, text: string): NewOrderValidation {
  return { ok: false, ordRejReason, text };
}

export function validateNewOrder(msg: FixMessage, ctx: NewOrderContext): NewOrderValidation {
  // Required fields first.
  const clOrdId = msg.get(11);
  const handlInst = msg.get(21);
  const symbol = msg.get(55);
  const side = msg.get(54);
  const qtyText = msg.get(38);
  const ordType = msg.get(40);
  if (!clOrdId) return reject('0', 'Missing ClOrdID(11)');
  if (!handlInst) return reject('0', 'Missing HandlInst(21)');
  if (!symbol) return reject('0', 'Missing Symbol(55)');
  if (!side) return reject('0', 'Missing Side(54)');
  if (!qtyText) {
    if (msg.has(152)) return reject('0', 'CashOrderQty(152) not supported; send OrderQty(38)');
    return reject('0', 'Missing OrderQty(38)');
  }
  if (!ordType) return reject('0', 'Missing OrdType(40)');
  const priceText = msg.get(44);
  if (ordType === '2' && !priceText) return reject('0', 'Missing Price(44) for a limit order');

  if (clOrdId.length > MAX_CLORDID_LENGTH) {
    return reject('0', `ClOrdID(11) is ${clOrdId.length} characters long, the limit is ${MAX_CLORDID_LENGTH}`);
  }
  if (ctx.knownClOrdId(clOrdId)) return reject('6', `Duplicate ClOrdID ${clOrdId}`);
  if (handlInst !== '1' && handlInst !== '2') {
    return reject('0', handlInst === '3' ? 'HandlInst 3 (manual order) not supported' : `HandlInst ${handlInst} not supported`);
  }
  const exDestination = msg.get(100);
  const sessionExchange = ctx.capabilities.exDestination;
  if (exDestination !== undefined && sessionExchange !== undefined && exDestination.toUpperCase() !== sessionExchange.toUpperCase()) {
    return reject('0', `ExDestination ${exDestination} is not available: this session trades on ${sessionExchange}`);
  }
  const instrument = ctx.instruments.get(symbol);
  if (!instrument) return reject('1', `Unknown symbol ${symbol}`);
  if (side !== '1' && side !== '2') return reject('0', `Side ${side} not supported`);
  if (ordType !== '1' && ordType !== '2') return reject('0', `OrdType ${ordType} not supported`);
  const type: OrderType = ordType === '1' ? 'market' : 'limit';
  if (!ctx.capabilities.orderTypes.includes(type)) return reject('0', `OrdType ${ordType} (${type}) not supported by the venue`);

  // Quantity.
  const qty = parseFixDecimal(qtyText);
  if (qty === undefined) return reject('0', `OrderQty ${qtyText} is not a valid quantity`);
  if (qty.lte(0)) return reject('0', `OrderQty ${qtyText} must be greater than 0`);
  const limits = limitsOf(instrument);
  const step = limits.step;
  if (step && !qty.mod(step).isZero()) {
    return reject('0', `OrderQty ${qtyText} is not a multiple of step size ${instrument.stepSize} for ${symbol}`);
  }
  const minQty = limits.minQty;
  if (minQty && qty.lt(minQty)) return reject('0', `OrderQty ${qtyText} is below the minimum quantity ${instrument.minQty} for ${symbol}`);
  const maxQty = limits.maxQty;
  if (maxQty && qty.gt(maxQty)) return reject('3', `OrderQty ${qtyText} is above the maximum quantity ${instrument.maxQty} for ${symbol}`);

  // Price.
  let price: Dec | undefined;
  if (type === 'market') {
    if (priceText !== undefined) return reject('0', 'Price(44) not allowed on a market order');
  } else {
    price = parseFixDecimal(priceText);
    if (price === undefined) return reject('0', `Price ${priceText} is not a valid price`);
    if (price.lte(0)) return reject('0', `Price ${priceText} must be greater than 0`);
    const tick = limits.tick;
    if (tick && !price.mod(tick).isZero()) {
      return reject('0', `Price ${priceText} is not a multiple of tick size ${instrument.tickSize} for ${symbol}`);
    }
    const minNotional = limits.minNotional;
    const notional = qty.times(price);
    if (minNotional && notional.lt(minNotional)) {
      return reject(
        '0',
        `Notional ${formatDecimal(notional)} (OrderQty ${qtyText} x Price ${priceText}) is below the minimum notional ${instrument.minNotional} for ${symbol}`,
      );
    }
  }

  // Time in force.
  const allowed = ctx.capabilities.timeInForce[type] ?? [];
  const tifText = msg.get(59);
  let tif: TimeInForce | undefined;
  if (tifText === undefined && type === 'market') {
    tif = allowed.includes('IOC') ? 'IOC' : allowed.includes('FOK') ? 'FOK' : undefined;
    if (!tif) return reject('0', 'TimeInForce(59) absent and the venue has neither IOC nor FOK for market orders');
  } else {
    const fix = tifText ?? '0';
    const wanted = FIX_TIF[fix];
    const label = tifText === undefined ? 'TimeInForce absent (Day)' : `TimeInForce ${fix} (${TIF_NAME[fix] ?? 'unknown'})`;
    if (!wanted) return reject('0', `${label} not supported`);
    if (allowed.includes(wanted)) tif = wanted;
    else if (wanted === 'DAY' && ctx.dayTimeInForce && allowed.includes(ctx.dayTimeInForce)) tif = ctx.dayTimeInForce;
    else return reject('0', `${label} not supported by the venue for ${type} orders (supported: ${allowed.join(', ') || 'none'})`);
  }

  // ExecInst: only 6 (participate don't initiate) = post only.
  let postOnly = false;
  const execInst = msg.get(18);
  if (execInst !== undefined) {
    for (const v of execInst.split(' ').filter((x) => x !== '')) {
      if (v !== '6') return reject('0', `ExecInst ${v} not supported`);
      if (!ctx.capabilities.postOnly) return reject('0', "ExecInst 6 (participate don't initiate) not supported by the venue");
      if (type !== 'limit') return reject('0', "ExecInst 6 (participate don't initiate) requires a limit order");
      if (tif === 'IOC' || tif === 'FOK') {
        return reject('0', `ExecInst 6 (participate don't initiate) cannot be combined with TimeInForce ${TIF_FIX[tif]}`);
      }
      postOnly = true;
    }
  }

  const request: Omit<PlaceOrderRequest, 'clientOrderId'> = {
    symbol,
    side: side === '1' ? 'buy' : 'sell',
    type,
    quantity: formatDecimal(qty),
    timeInForce: tif,
  };
  if (price !== undefined) request.price = formatDecimal(price);
  if (postOnly) request.postOnly = true;
  const fixTif = TIF_FIX[tif];
  const order: ValidatedOrderFields = { clOrdId, symbol, side, ordType, timeInForce: fixTif, orderQty: request.quantity };
  const account = msg.get(1);
  if (account !== undefined) order.account = account;
  if (request.price !== undefined) order.price = request.price;
  if (postOnly) order.postOnly = true;
  return { ok: true, request, fixTif, order };
}

/**
 * The venue create for a recorded order, rebuilt from what was validated (to re-submit a create
 * whose outcome is unknown): the same request validateNewOrder made.
 */
export function placeRequestFor(order: GatewayOrder): PlaceOrderRequest {
  const timeInForce = FIX_TIF[order.timeInForce];
  if (!timeInForce) throw new Error(`order ${order.clOrdId}: TimeInForce ${order.timeInForce} has no venue equivalent`);
  const req: PlaceOrderRequest = {
    symbol: order.symbol,
    side: order.side === '1' ? 'buy' : 'sell',
    type: order.ordType === '1' ? 'market' : 'limit',
    quantity: order.orderQty,
    timeInForce,
  };
  if (order.wireClientOrderId) req.clientOrderId = order.wireClientOrderId;
  if (order.price !== undefined) req.price = order.price;
  if (order.postOnly) req.postOnly = true;
  return req;
}

/** How the venue knows the order: our client order id there (if it has one), its id once known. */
export function orderRefFor(order: Pick<GatewayOrder, 'wireClientOrderId' | 'venueOrderId' | 'symbol'>): OrderRef {
  const ref: OrderRef = { symbol: order.symbol };
  if (order.wireClientOrderId) ref.clientOrderId = order.wireClientOrderId;
  if (order.venueOrderId !== undefined) ref.venueOrderId = order.venueOrderId;
  return ref;
}

/** An instrument's limits as decimals (undefined where absent or not > 0). */
interface InstrumentLimits {
  step?: Dec;
  minQty?: Dec;
  maxQty?: Dec;
  tick?: Dec;
  minNotional?: Dec;
}

/**
 * Parsed once per instrument object, not once per order (five decimal parses per NewOrderSingle
 * otherwise). A cache, not state: keyed weakly by the instrument, whose fields never change (a
 * refreshed instrument list brings new objects), and decimals are immutable.
 */
const limitsByInstrument = new WeakMap<Instrument, InstrumentLimits>();

function limitsOf(instrument: Instrument): InstrumentLimits {
  let l = limitsByInstrument.get(instrument);
  if (l === undefined) {
    l = {
      step: positive(instrument.stepSize),
      minQty: positive(instrument.minQty),
      maxQty: positive(instrument.maxQty),
      tick: positive(instrument.tickSize),
      minNotional: positive(instrument.minNotional),
    };
    limitsByInstrument.set(instrument, l);
  }
  return l;
}

function positive(text: string | undefined): Dec | undefined {
  if (text === undefined || text === '') return undefined;
  let d: Dec;
  try {
    d = new Dec(text);
  } catch {
    return undefined;
  }
  return d.isFinite() && d.gt(0) ? d : undefined;
}

// ---------------------------------------------------------------------------------------------
// Cancel

export interface CancelContext {
  capabilities: VenueCapabilities;
  /** True when the ClOrdID was already used in this FIX session. */
  knownClOrdId?(id: string): boolean;
}

export type CancelValidation =
  | { ok: true; clOrdId: string; origClOrdId: string }
  | {
      ok: false;
      cxlRejReason: CxlRejReason;
      text: string;
      /** What the OrderCancelReject carries: 11, 41, 39 (8 for an unknown order), 37 (NONE when unknown). */
      clOrdId: string;
      origClOrdId: string;
      ordStatus: OrdStatus;
      orderId: string;
    };

const STATUS_NAME: Record<OrdStatus, string> = {
  A: 'pending new',
  '0': 'new',
  '1': 'partially filled',
  '2': 'filled',
  '4': 'canceled',
  '6': 'pending cancel',
  '8': 'rejected',
  C: 'expired',
};

/**
 * Checks an OrderCancelRequest against the order its OrigClOrdID(41) names (undefined when we do
 * not know it). CxlRejReason: 1 unknown order (or Symbol/Side not matching it), 0 too late
 * (terminal), 3 a cancel already pending, 2 broker option (venue cannot cancel, duplicate ClOrdID).
 */
export function validateCancel(msg: FixMessage, order: GatewayOrder | undefined, ctx: CancelContext): CancelValidation {
  const clOrdId = msg.get(11) ?? '';
  const origClOrdId = msg.get(41) ?? '';
  const fail = (cxlRejReason: CxlRejReason, text: string): CancelValidation => ({
    ok: false,
    cxlRejReason,
    text,
    clOrdId: clOrdId || 'NONE',
    origClOrdId: origClOrdId || 'NONE',
    ordStatus: order ? order.status : '8',
    orderId: order?.venueOrderId || 'NONE',
  });
  if (!clOrdId) return fail('2', 'Missing ClOrdID(11)');
  if (!origClOrdId) return fail('1', 'Missing OrigClOrdID(41)');
  if (!order) return fail('1', `Unknown order ${origClOrdId}`);
  const symbol = msg.get(55);
  if (symbol !== undefined && symbol !== order.symbol) {
    return fail('1', `Symbol ${symbol} does not match order ${origClOrdId} (${order.symbol})`);
  }
  const side = msg.get(54);
  if (side !== undefined && side !== order.side) return fail('1', `Side ${side} does not match order ${origClOrdId} (${order.side})`);
  if (ctx.knownClOrdId?.(clOrdId)) return fail('2', `Duplicate ClOrdID ${clOrdId}`);
  if (isTerminal(order)) return fail('0', `Too late to cancel: order ${origClOrdId} is ${STATUS_NAME[order.status]}`);
  if (order.pendingCancel) {
    return fail('3', `Order ${origClOrdId} already has a cancel pending (ClOrdID ${order.pendingCancel.clOrdId})`);
  }
  if (!ctx.capabilities.cancel) return fail('2', 'The venue cannot cancel orders');
  const type: OrderType = order.ordType === '1' ? 'market' : 'limit';
  if (!ctx.capabilities.cancelableOrderTypes.includes(type)) {
    const can = ctx.capabilities.cancelableOrderTypes;
    return fail('2', `The venue cannot cancel ${type} orders (only ${can.length > 0 ? can.join(' and ') : 'none'})`);
  }
  return { ok: true, clOrdId, origClOrdId };
}

// ---------------------------------------------------------------------------------------------
// Venue client order ids

/**
 * The id sent to the venue as its client order id: `<prefix>-<counter base 36>`, only
 * [A-Za-z0-9-], at most maxLength characters (the prefix is shortened to fit). Unique across
 * restarts because the counter is persisted (FileOrderBook.nextCounter, seeded from the clock when
 * the journal is new). The prefix should name the session, so sessions sharing a venue account
 * do not collide.
 */
export function venueClientOrderIdFor(prefix: string, counter: number, maxLength = 36): string {
  if (!Number.isSafeInteger(counter) || counter < 0) throw new Error(`counter ${counter} must be a non-negative safe integer`);
  const suffix = counter.toString(36);
  if (suffix.length > maxLength) throw new Error(`counter ${counter} does not fit in ${maxLength} characters`);
  const clean = prefix.replace(/[^A-Za-z0-9-]/g, '');
  const room = maxLength - suffix.length - 1;
  const p = room > 0 ? clean.slice(0, room) : '';
  return p ? `${p}-${suffix}` : suffix;
}

/**
 * The id of the order a NewOrderSingle creates, named by the message itself: `<prefix>-<sequence id
 * base 36><MsgSeqNum base 36, 7 digits>`. A sequence id (its creation time, ms) and a MsgSeqNum
 * name one message of a session for good, and a resend of that message (PossDup, after our
 * ResendRequest) carries the same MsgSeqNum, so it gets the same id. At least 15 characters after
 * the prefix, never the length of a counter id (venueClientOrderIdFor: 8 or 9), so the two kinds
 * never collide. Undefined when it does not fit in maxLength or the inputs are not what they should be.
 */
export function venueClientOrderIdForMessage(prefix: string, sequenceId: number, msgSeqNum: number, maxLength = 36): string | undefined {
  if (!Number.isSafeInteger(sequenceId) || sequenceId <= 0 || !Number.isInteger(msgSeqNum) || msgSeqNum < 1 || msgSeqNum > 0xffffffff) return undefined;
  const suffix = sequenceId.toString(36) + msgSeqNum.toString(36).padStart(7, '0');
  if (suffix.length < 15 || suffix.length > maxLength) return undefined;
  const clean = prefix.replace(/[^A-Za-z0-9-]/g, '');
  const room = maxLength - suffix.length - 1;
  const p = room > 0 ? clean.slice(0, room) : '';
  return p ? `${p}-${suffix}` : suffix;
}

/** One of `count` equal, disjoint slices of an integer id range; `index` in [0, count). */
export interface IntegerIdPartition {
  index: number;
  count: number;
}

/**
 * The slice of [min, max] a session allocates `integer` client order ids from. A venue whose
 * `clientOrderId` capability is `integer` neither enforces their uniqueness nor tells sessions
 * apart (venue.ts), and every session on an
 * account sees every order of it: sessions sharing an account must draw from disjoint slices, so
 * an id can never name two sessions' orders. No partition = the whole range.
 */
export function integerIdSubrange(min: number, max: number, p?: IntegerIdPartition): { min: number; max: number } {
  if (p === undefined || p.count <= 1) return { min, max };
  if (!(Number.isInteger(p.index) && Number.isInteger(p.count) && p.index >= 0 && p.index < p.count)) throw new Error(`bad id partition ${p.index}/${p.count}`);
  const size = Math.floor((max - min + 1) / p.count);
  if (size < 1) throw new Error(`id range ${min}..${max} is too small for ${p.count} partitions`);
  const lo = min + p.index * size;
  return { min: lo, max: lo + size - 1 };
}

/**
 * True when the venue's order has our order's content (symbol, side, type, quantity, and price
 * for a limit order): the proof needed before adopting a venue order found by our client order id.
 */
export function venueOrderMatches(order: GatewayOrder, venue: Pick<VenueOrder, 'symbol' | 'side' | 'type' | 'quantity' | 'price'>): boolean {
  const same = (a: string | undefined, b: string | undefined) => {
    if (a === undefined || b === undefined) return a === b;
    try {
      return new Dec(a).eq(new Dec(b));
    } catch {
      return false;
    }
  };
  if (venue.symbol !== order.symbol) return false;
  if (venue.side !== (order.side === '1' ? 'buy' : 'sell')) return false;
  if (venue.type !== (order.ordType === '1' ? 'market' : 'limit')) return false;
  if (!same(venue.quantity, order.orderQty)) return false;
  return order.ordType === '1' || same(venue.price, order.price);
}
