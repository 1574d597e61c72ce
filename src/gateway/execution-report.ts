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
  return {
    msgType: '8',
    body: body([
      [1, order.account],
      [6, report.avgPx],
      [11, report.clOrdId],
      [14, report.cumQty],
      [17, report.execId],
      [20, report.execTransType],
      [31, report.lastPx],
      [32, report.lastShares],
      [37, order.venueOrderId || 'NONE'],
      [38, order.orderQty],
      [39, report.ordStatus],
      [40, order.ordType],
      [41, report.origClOrdId],
      [44, order.ordType === '2' ? order.price : undefined],
      [54, order.side],
      [55, order.symbol],
      [58, report.text !== undefined ? fixText(report.text) : undefined],
      [59, order.timeInForce],
      [60, utcTimestamp(report.transactTime !== undefined ? new Date(report.transactTime) : now)],
      [103, report.ordRejReason],
      [150, report.execType],
      [151, report.leavesQty],
    ]),
  };
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
