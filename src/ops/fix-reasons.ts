// What an outbound FIX message means for the operator: an order's outcome, or a reject and its
// reason. Pure: looks at the fields the session is about to send.
import type { FixField } from '../fix/message';

/** SessionRejectReason (373), FIX 4.2. */
const SESSION_REJECT_REASONS: Readonly<Record<string, string>> = {
  '0': 'invalid_tag_number',
  '1': 'required_tag_missing',
  '2': 'tag_not_defined_for_msg_type',
  '3': 'undefined_tag',
  '4': 'tag_without_value',
  '5': 'value_out_of_range',
  '6': 'incorrect_data_format',
  '7': 'decryption_problem',
  '8': 'signature_problem',
  '9': 'compid_problem',
  '10': 'sending_time_accuracy',
  '11': 'invalid_msg_type',
};

/** OrdRejReason (103), FIX 4.2. */
const ORDER_REJECT_REASONS: Readonly<Record<string, string>> = {
  '0': 'broker_option',
  '1': 'unknown_symbol',
  '2': 'exchange_closed',
  '3': 'exceeds_limit',
  '4': 'too_late',
  '5': 'unknown_order',
  '6': 'duplicate_order',
  '7': 'duplicate_verbal',
  '8': 'stale_order',
};

/** CxlRejReason (102), FIX 4.2. */
const CANCEL_REJECT_REASONS: Readonly<Record<string, string>> = {
  '0': 'too_late',
  '1': 'unknown_order',
  '2': 'broker_option',
  '3': 'already_pending',
};

/** BusinessRejectReason (380), FIX 4.2. */
const BUSINESS_REJECT_REASONS: Readonly<Record<string, string>> = {
  '0': 'other',
  '1': 'unknown_id',
  '2': 'unknown_security',
  '3': 'unsupported_msg_type',
  '4': 'application_not_available',
  '5': 'conditionally_required_field_missing',
};

export type OrderOutcome = 'acked' | 'partially_filled' | 'filled' | 'canceled' | 'expired' | 'rejected';
export const ORDER_OUTCOMES: readonly OrderOutcome[] = ['acked', 'partially_filled', 'filled', 'canceled', 'expired', 'rejected'];

/** ExecType (150) → outcome; other ExecTypes (pending, restated, status replies) are no outcome. */
const OUTCOME_BY_EXEC_TYPE: Readonly<Record<string, OrderOutcome>> = {
  '0': 'acked',
  '1': 'partially_filled',
  '2': 'filled',
  '4': 'canceled',
  C: 'expired',
  '8': 'rejected',
};

export type RejectKind = 'session_reject' | 'business_reject' | 'order_reject' | 'cancel_reject';

export type OutboundMeaning =
  | { kind: 'order'; outcome: Exclude<OrderOutcome, 'rejected'> }
  | { kind: RejectKind; reason: string; ref: string; text: string };

function nameOf(table: Readonly<Record<string, string>>, code: string | undefined): string {
  return code === undefined ? 'none' : (table[code] ?? 'other');
}

/**
 * The outcome an ExecutionReport (8) reports, or the reject a 3 / j / 9 / 8 with 150=8 is, with
 * its reason (named) and Text (58). Undefined for everything else, and for reports that restate
 * (status replies 20=3, 150=D, pending states) or re-send (97=Y) what was already reported.
 */
export function outboundMeaning(msgType: string, body: readonly FixField[], extraHeader: readonly FixField[] | undefined): OutboundMeaning | undefined {
  if (msgType !== '8' && msgType !== '3' && msgType !== '9' && msgType !== 'j') return undefined;
  if (extraHeader) for (const f of extraHeader) if (f.tag === 97 && f.value === 'Y') return undefined;
  let execType: string | undefined;
  let transType: string | undefined;
  let reason: string | undefined;
  let text = '';
  let ref = '';
  let refMsgType = '';
  for (const f of body) {
    switch (f.tag) {
      case 150:
        execType = f.value;
        break;
      case 20:
        transType = f.value;
        break;
      case 58:
        text = f.value;
        break;
      case 11:
        ref = f.value;
        break;
      case 45:
        if (msgType !== '9' && msgType !== '8') ref = f.value;
        break;
      case 372:
        refMsgType = f.value;
        break;
      case 103:
      case 102:
      case 373:
      case 380:
        reason = f.value;
        break;
    }
  }
  switch (msgType) {
    case '8': {
      if (transType === '3' || execType === undefined) return undefined;
      const outcome = OUTCOME_BY_EXEC_TYPE[execType];
      if (outcome === undefined) return undefined;
      if (outcome !== 'rejected') return { kind: 'order', outcome };
      return { kind: 'order_reject', reason: nameOf(ORDER_REJECT_REASONS, reason), ref: `ClOrdID ${ref}`, text };
    }
    case '9':
      return { kind: 'cancel_reject', reason: nameOf(CANCEL_REJECT_REASONS, reason), ref: `ClOrdID ${ref}`, text };
    case '3':
      return { kind: 'session_reject', reason: nameOf(SESSION_REJECT_REASONS, reason), ref: `MsgSeqNum ${ref}${refMsgType ? ` (35=${refMsgType})` : ''}`, text };
    default:
      return { kind: 'business_reject', reason: nameOf(BUSINESS_REJECT_REASONS, reason), ref: `MsgSeqNum ${ref}${refMsgType ? ` (35=${refMsgType})` : ''}`, text };
  }
}
