// The gateway's order: what the FIX client sent, what the venue said, and what we have reported.
// A GatewayOrder is a plain JSON value (it is journaled as is by FileOrderBook) and is treated as
// immutable: the state machine returns a new object for every change.
//
// Money is exact: every price and quantity is a decimal string and all arithmetic on them goes
// through `Dec` below (decimal.js with enough precision that sums and products never round).

import Decimal from 'decimal.js';

/** FIX 4.2 OrdStatus(39) values the gateway uses. */
export type OrdStatus = 'A' | '0' | '1' | '2' | '4' | '6' | '8' | 'C';
/** FIX 4.2 ExecType(150) values the gateway sends (status replies send ExecType = OrdStatus; D = Restated). */
export type ExecType = '0' | '1' | '2' | '4' | '6' | '8' | 'A' | 'C' | 'D';
/** FIX 4.2 CxlRejReason(102): 0 too late, 1 unknown order, 2 broker option, 3 already pending cancel. */
export type CxlRejReason = '0' | '1' | '2' | '3';

export interface GatewayOrder {
  /** ClOrdID(11) of the NewOrderSingle: the key within the FIX session. */
  clOrdId: string;
  /**
   * The gateway's own unique id of the order (venueClientOrderIdFor): the order book's key and the
   * stem of the order's ExecIDs. On `string`-scheme venues it is also the id sent to the venue.
   */
  venueClientOrderId: string;
  /**
   * The client order id sent to the venue (capabilities.clientOrderId: the gateway id, an integer,
   * or the venue's format), indexed in the book; null when the venue has none (or the order was
   * never sent). Orders journaled before this field existed sent venueClientOrderId.
   */
  wireClientOrderId: string | null;
  /** OrderID(37) once the venue has told us. */
  venueOrderId?: string;
  account?: string;
  symbol: string;
  side: '1' | '2';
  ordType: '1' | '2';
  /** FIX TimeInForce(59) char actually in force (after defaults), echoed in every report. */
  timeInForce: string;
  /** Normalized decimal strings (no exponent, no trailing zeros). */
  orderQty: string;
  price?: string;
  /** ExecInst 6: the venue create was post-only (kept to rebuild the create, see placeRequestFor). */
  postOnly?: boolean;
  status: OrdStatus;
  /** Sum of the LastShares we reported. */
  cumQty: string;
  /** AvgPx we reported: notional / cumQty, rounded (see AVG_PX_SIGNIFICANT_DIGITS). */
  avgPx: string;
  /** Exact sum of LastShares × LastPx we reported; avgPx is derived from it, so it never drifts. */
  notional: string;
  /**
   * Quantity reported through synthetic catch-up fills (fillId `cum:<venueCum>`) that no real venue
   * fill has been matched against yet. A real fill seen later is first absorbed against it, so the
   * same execution is never reported twice. Absent = "0".
   */
  syntheticQty?: string;
  /** Venue fill ids already reported (or absorbed): the dedupe set (O(1) has/add, journaled incrementally). */
  fillIds: FillIds;
  /** Counter for non-fill ExecIDs; persisted with the order, so ExecIDs are stable across restarts. */
  execSeq: number;
  /** An OrderCancelRequest in flight: its ClOrdID(11). */
  pendingCancel?: { clOrdId: string };
  /**
   * ClOrdIDs of the cancel requests accepted for this order: in FIX they name the order too (an
   * OrderStatusRequest may use the latest one), and no new order may reuse them.
   */
  cancelClOrdIds?: string[];
  /** A 150=0 has been sent. */
  acked: boolean;
  /** ms since epoch. */
  createdAt: number;
  updatedAt: number;
}

/**
 * An immutable, append-only set of fill ids with O(1) `has` and `add`. Versions share one backing
 * log: `add` on the newest version appends to it, so the state machine can return a new order per
 * change without copying the set; `add` on an older version (after a failed save was undone)
 * copies its prefix first. Serializes as an array.
 */
export class FillIds implements Iterable<string> {
  static readonly EMPTY = new FillIds({ ids: [], at: new Map() }, 0);

  private constructor(
    private readonly log: { ids: string[]; at: Map<string, number> },
    readonly size: number,
  ) {}

  static of(ids: Iterable<string>): FillIds {
    let f = FillIds.EMPTY;
    for (const id of ids) f = f.add(id);
    return f;
  }

  has(id: string): boolean {
    const i = this.log.at.get(id);
    return i !== undefined && i < this.size;
  }

  add(id: string): FillIds {
    if (this.has(id)) return this;
    let log = this.log;
    if (log.ids.length !== this.size || this === FillIds.EMPTY) {
      const ids = log.ids.slice(0, this.size);
      log = { ids, at: new Map(ids.map((x, i) => [x, i])) };
    }
    log.at.set(id, log.ids.length);
    log.ids.push(id);
    return new FillIds(log, this.size + 1);
  }

  /** The ids added after the first `n` (what a save must journal when `n` are already journaled). */
  since(n: number): string[] {
    return this.log.ids.slice(n, this.size);
  }

  [Symbol.iterator](): Iterator<string> {
    return this.log.ids.slice(0, this.size)[Symbol.iterator]();
  }

  toJSON(): string[] {
    return this.log.ids.slice(0, this.size);
  }
}

export const TERMINAL_ORD_STATUSES: ReadonlySet<OrdStatus> = new Set<OrdStatus>(['2', '4', '8', 'C']);

export function isTerminal(order: Pick<GatewayOrder, 'status'>): boolean {
  return TERMINAL_ORD_STATUSES.has(order.status);
}

/** What a new order starts as: sent (or about to be sent) to the venue, nothing reported yet. */
export function createOrder(
  fields: Pick<GatewayOrder, 'clOrdId' | 'venueClientOrderId' | 'symbol' | 'side' | 'ordType' | 'timeInForce' | 'orderQty'> & {
    /** Default: the gateway id itself (a `string`-scheme venue). */
    wireClientOrderId?: string | null;
    account?: string;
    price?: string;
    postOnly?: boolean;
  },
  now: number,
): GatewayOrder {
  const order: GatewayOrder = {
    clOrdId: fields.clOrdId,
    venueClientOrderId: fields.venueClientOrderId,
    wireClientOrderId: fields.wireClientOrderId === undefined ? fields.venueClientOrderId : fields.wireClientOrderId,
    symbol: fields.symbol,
    side: fields.side,
    ordType: fields.ordType,
    timeInForce: fields.timeInForce,
    orderQty: formatDecimal(new Dec(fields.orderQty)),
    status: 'A',
    cumQty: '0',
    avgPx: '0',
    notional: '0',
    fillIds: FillIds.EMPTY,
    execSeq: 0,
    acked: false,
    createdAt: now,
    updatedAt: now,
  };
  if (fields.account !== undefined) order.account = fields.account;
  if (fields.price !== undefined) order.price = formatDecimal(new Dec(fields.price));
  if (fields.postOnly) order.postOnly = true;
  return order;
}

/** LeavesQty(151): OrderQty − CumQty while live, 0 once terminal. */
export function leavesQty(order: Pick<GatewayOrder, 'status' | 'orderQty' | 'cumQty'>): string {
  if (TERMINAL_ORD_STATUSES.has(order.status)) return '0';
  // Nothing filled (every ack): the leaves are the order quantity, already in formatDecimal's form
  // when it matches PLAIN_DECIMAL: no two Decimals and a subtraction per report.
  if (order.cumQty === '0' && PLAIN_DECIMAL.test(order.orderQty)) return order.orderQty;
  const leaves = new Dec(order.orderQty).minus(order.cumQty);
  return formatDecimal(leaves.isNegative() ? new Dec(0) : leaves);
}

/** What formatDecimal gives for a non-negative number: no sign, exponent, leading or trailing zeros. */
const PLAIN_DECIMAL = /^(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?$/;

// ---------------------------------------------------------------------------------------------
// Decimal helpers (shared by the gateway's pure modules).

/**
 * decimal.js with 1000 significant digits: sums, differences and products of venue/FIX decimals
 * are exact; only divisions (AvgPx, implied catch-up price) are rounded, explicitly.
 */
export const Dec = Decimal.clone({ precision: 1000, rounding: Decimal.ROUND_HALF_EVEN, toExpNeg: -9e15, toExpPos: 9e15 });
export type Dec = Decimal;

/** Significant digits kept when a price is the result of a division (AvgPx, implied LastPx). */
export const AVG_PX_SIGNIFICANT_DIGITS = 18;

/** Plain notation, no exponent, no trailing zeros: "100", "0.00000001", "3.2"; never "-0". */
export function formatDecimal(d: Decimal): string {
  const s = d.toFixed();
  return s === '-0' ? '0' : s;
}

/** Divisions only need a few guard digits beyond the ones kept (and 1000-digit quotients are slow). */
const QuotientDec = Decimal.clone({ precision: AVG_PX_SIGNIFICANT_DIGITS + 20, rounding: Decimal.ROUND_HALF_EVEN, toExpNeg: -9e15, toExpPos: 9e15 });

/** a / b rounded half-even to AVG_PX_SIGNIFICANT_DIGITS significant digits, formatted (AvgPx, implied prices). */
export function quotient(a: Decimal.Value, b: Decimal.Value): string {
  const q = new QuotientDec(a).div(new QuotientDec(b));
  return formatDecimal(q.toSignificantDigits(AVG_PX_SIGNIFICANT_DIGITS, Decimal.ROUND_HALF_EVEN));
}

const FIX_DECIMAL = /^-?(?:\d+(?:\.\d*)?|\.\d+)$/;

/**
 * Strict FIX Qty/Price/Float: optional leading '-', digits, optional '.' and fraction.
 * No exponent, no '+', no spaces. Returns undefined when the text is not such a number.
 */
export function parseFixDecimal(text: string | undefined): Decimal | undefined {
  if (text === undefined || text.length > 64 || !FIX_DECIMAL.test(text)) return undefined;
  return new Dec(text);
}

/** A decimal from a venue (decimal.js syntax, exponent allowed). Throws naming the field when it is not a number. */
export function parseVenueDecimal(text: string | undefined, what: string): Decimal {
  if (text === undefined || text.trim() === '') throw new Error(`venue ${what} is missing`);
  let d: Decimal;
  try {
    d = new Dec(text.trim());
  } catch {
    throw new Error(`venue ${what} "${text}" is not a decimal number`);
  }
  if (!d.isFinite()) throw new Error(`venue ${what} "${text}" is not a finite number`);
  return d;
}
