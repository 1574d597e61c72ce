// What the gateway sends after a FIX sequence reset (141=Y, ResetOnLogon/Logout/Disconnect, a new
// StartTime period), so that no report is lost with the old sequence:
//  1. every ExecutionReport (35=8) and OrderCancelReject (35=9) of the old sequence that the client
//     has not provably read, sent again on the new sequence unchanged but for PossResend (97=Y): same
//     body, same ExecID, so an OMS that did see it drops it by ExecID;
//  2. then a restatement (150=D, ExecRestatementReason 378=1) of every order still open, with its
//     current OrdStatus, CumQty, LeavesQty and AvgPx under a new ExecID: whatever the client missed
//     or dropped, it ends with the true state of each live order.
// Pure functions; the application wires them to the session (onSequenceReset).
import { parseFrame } from '../fix/codec/fix-parser';
import { FixField, OutboundMessage } from '../fix/message';
import { executionReportFor } from './execution-report';
import { GatewayOrder } from './order';
import { statusReport } from './order-state';

/** Header and trailer tags of FIX 4.2 (everything else of a stored message is its body). */
const HEADER_OR_TRAILER = new Set([
  8, 9, 35, 49, 56, 115, 128, 90, 91, 34, 50, 142, 57, 143, 116, 144, 129, 145, 43, 97, 52, 122, 212, 213, 347, 369, 370, 93, 89, 10,
]);

const REDELIVERED_TYPES = new Set(['8', '9']);

/** A stored ExecutionReport / OrderCancelReject to send again with PossResend; undefined for anything else. */
export function redeliveryOf(raw: string): OutboundMessage | undefined {
  const parsed = parseFrame(raw);
  if (!parsed.ok) return undefined;
  const msgType = parsed.message.msgType;
  if (!REDELIVERED_TYPES.has(msgType)) return undefined;
  const body: FixField[] = parsed.message.fields.filter((f) => !HEADER_OR_TRAILER.has(f.tag));
  return { msgType, header: [{ tag: 97, value: 'Y' }], body };
}

/** Restatement of an open order's current state (150=D, 378=1 GT renewal / restatement). */
export function restatementFor(order: GatewayOrder, execId: string, now: Date): OutboundMessage {
  const er = executionReportFor(order, { ...statusReport(order), execType: 'D', execTransType: '0', execId }, now);
  const body = [...er.body, { tag: 378, value: '1' }].sort((a, b) => a.tag - b.tag);
  return { ...er, body };
}

/** Everything to send after a reset, in order: the undelivered reports, then one restatement per open order. */
export function messagesAfterReset(
  undelivered: ReadonlyArray<{ raw: string }>,
  openOrders: ReadonlyArray<GatewayOrder>,
  nextExecId: () => string,
  now: Date,
): OutboundMessage[] {
  const out: OutboundMessage[] = [];
  for (const m of undelivered) {
    const again = redeliveryOf(m.raw);
    if (again) out.push(again);
  }
  for (const o of openOrders) out.push(restatementFor(o, nextExecId(), now));
  return out;
}
