// Pure FIX 4.2 builders for what the gateway sends: ExecutionReport (35=8) and OrderCancelReject
// (35=9). Bodies are in ascending tag order (QuickFIX's order); the session adds header and trailer.
// Every tag used here is defined for its message in dictionaries/FIX42.xml (checked by the tests).

import { utcTimestamp } from '../fix/codec/fix-encoder';
import { FixField, FixMessage, OutboundMessage } from '../fix/message';
import { CxlRejReason, GatewayOrder, OrdStatus, formatDecimal, parseFixDecimal } from './order';
import { Report } from './order-state';

/**
 * A FIX String value from free text (venue messages): no SOH or other control characters, latin1
 * only (the wire is latin1), never empty.
 */
export function fixText(text: string): string {
  // eslint-disable-next-line no-control-regex
  const s = text.replace(/[\x00-\x1f\x7f]+/g, ' ').replace(/[^\x20-\x7e\xa0-\xff]/g, '?').trim();
  return s === '' ? '?' : s;
}

/** Builds a body from [tag, value] pairs, skipping undefined/empty values, sorted by tag. */
function body(pairs: Array<[number, string | undefined]>): FixField[] {
  const out: FixField[] = [];
  for (const [tag, value] of pairs) if (value !== undefined && value !== '') out.push({ tag, value });
  out.sort((a, b) => a.tag - b.tag);
  return out;
}

/**
 * ExecutionReport for one Report of an order: 1 (if account), 6, 11, 14, 17, 20, 31/32 (fills;
 * 32=0 on status replies), 37 (venue order id or NONE), 38, 39, 40, 41 (if set), 44 (limit only),
 * 54, 55, 58 (if text), 59, 60, 103 (rejects), 150, 151. TransactTime (60) is the venue's time of
 * the execution or event where the report carries one, else `now`.
 */
export function executionReportFor(order: GatewayOrder, report: Report, now: Date): OutboundMessage {
  // Built in tag order directly (one of these per report on the hot path): no [tag, value] tuples
  // and no sort, which were ~2/3 of its allocation.
  const b: FixField[] = [];
  add(b, 1, order.account);
  add(b, 6, report.avgPx);
  add(b, 11, report.clOrdId);
  add(b, 14, report.cumQty);
  add(b, 17, report.execId);
  add(b, 20, report.execTransType);
  add(b, 31, report.lastPx);
  add(b, 32, report.lastShares);
  add(b, 37, order.venueOrderId || 'NONE');
  add(b, 38, order.orderQty);
  add(b, 39, report.ordStatus);
  add(b, 40, order.ordType);
  add(b, 41, report.origClOrdId);
  if (order.ordType === '2') add(b, 44, order.price);
  add(b, 54, order.side);
  add(b, 55, order.symbol);
  if (report.text !== undefined) add(b, 58, fixText(report.text));
  add(b, 59, order.timeInForce);
  add(b, 60, utcTimestamp(report.transactTime !== undefined ? new Date(report.transactTime) : now));
  add(b, 103, report.ordRejReason);
  add(b, 150, report.execType);
  add(b, 151, report.leavesQty);
  return { msgType: '8', body: b };
}

/** Appends the field unless its value is undefined or empty (callers add in ascending tag order). */
function add(out: FixField[], tag: number, value: string | undefined): void {
  if (value !== undefined && value !== '') out.push({ tag, value });
}

export interface CancelRejectArgs {
  /** The cancel request's ClOrdID(11). */
  clOrdId: string;
  /** OrigClOrdID(41) as the request gave it. */
  origClOrdId: string;
  /** OrderID(37): the venue's id, or "NONE" for an unknown order. */
  orderId: string;
  /** OrdStatus(39) of the order after the reject ('8' for an unknown order, as QuickFIX does). */
  ordStatus: OrdStatus;
  reason: CxlRejReason;
  text: string;
  account?: string;
  /** CxlRejResponseTo(434): 1 cancel request (default), 2 cancel/replace request. */
  responseTo?: '1' | '2';
}

/** OrderCancelReject (35=9) answering an OrderCancelRequest: 1?, 11, 37, 39, 41, 58, 102, 434=1. */
export function orderCancelRejectFor(args: CancelRejectArgs): OutboundMessage {
  return {
    msgType: '9',
    body: body([
      [1, args.account],
      [11, args.clOrdId],
      [37, args.orderId || 'NONE'],
      [39, args.ordStatus],
      [41, args.origClOrdId],
      [58, fixText(args.text)],
      [102, args.reason],
      [434, args.responseTo ?? '1'],
    ]),
  };
}

/**
 * Status reply for an OrderStatusRequest(H) about an order we do not know (the 4.2 spec leaves it
 * open; we do what QuickFIX test acceptors do): 20=3 17=0 150=8 39=8 37=NONE 103=5 (unknown
 * order), 14=0 151=0 6=0, with 11, 54, 55 (and 1) echoed from the request.
 */
export function rejectUnknownOrderStatus(request: FixMessage, text: string, now: Date): OutboundMessage {
  return {
    msgType: '8',
    body: body([
      [1, request.get(1)],
      [6, '0'],
      [11, request.get(11)],
      [14, '0'],
      [17, '0'],
      [20, '3'],
      [37, 'NONE'],
      [39, '8'],
      [54, request.get(54)],
      [55, request.get(55)],
      [58, fixText(text)],
      [60, utcTimestamp(now)],
      [103, '5'],
      [150, '8'],
      [151, '0'],
    ]),
  };
}

/**
 * 150=8/39=8 for a NewOrderSingle rejected before it became an order (validateNewOrder failed,
 * e.g. a duplicate ClOrdID, which must not touch the existing order). Echoes the request's 1, 11,
 * 38, 40, 44, 54, 55, 59 where they are valid values; the caller supplies a session-unique ExecID.
 * Requires 11, 54 and 55, which the session layer guarantees for a NewOrderSingle it accepted.
 */
export function newOrderRejectFor(request: FixMessage, execId: string, ordRejReason: string, text: string, now: Date): OutboundMessage {
  const qty = parseFixDecimal(request.get(38));
  const px = parseFixDecimal(request.get(44));
  return {
    msgType: '8',
    body: body([
      [1, request.get(1)],
      [6, '0'],
      [11, request.get(11)],
      [14, '0'],
      [17, execId],
      [20, '0'],
      [37, 'NONE'],
      [38, qty !== undefined ? formatDecimal(qty) : undefined],
      [39, '8'],
      [40, request.get(40)],
      [44, px !== undefined ? formatDecimal(px) : undefined],
      [54, request.get(54)],
      [55, request.get(55)],
      [58, fixText(text)],
      [59, request.get(59)],
      [60, utcTimestamp(now)],
      [103, ordRejReason],
      [150, '8'],
      [151, '0'],
    ]),
  };
}
