// The order state machine: venue events and snapshots in, FIX ExecutionReports (as `Report`s) out.
// Pure: no I/O, no clock (times come from the events or are passed in), inputs never mutated.
// The FIX mapping follows ../shared/venues/README.md §2 and the invariants a strict FIX 4.2
// client checks (qfclient fixinvariants.py):
//
// - Fills are deduped on the venue fill id. A fill's ExecID is `F-<venueClientOrderId>-<fillId>`
//   (deterministic: the same venue fill always maps to the same ExecID, and the venue client order
//   id is known from the start, unlike the venue's order id). Every other report gets
//   `E-<venueClientOrderId>-<n>`, n = ++execSeq, persisted with the order before the report goes
//   out, so ExecIDs are unique in the session and stable across restarts.
// - CumQty = sum of reported LastShares, never decreases and never exceeds OrderQty; AvgPx =
//   exact notional / CumQty (rounded to AVG_PX_SIGNIFICANT_DIGITS only when it does not terminate);
//   LeavesQty = OrderQty − CumQty while live, 0 once terminal.
// - An order that was never acknowledged gets a synthesized 150=0/39=0 before its first fill (and
//   before a pending cancel, cancel or expiry), so clients always see New first. A reject is sent
//   without it.
// - OrdStatus precedence follows FIX: a partial fill while a cancel is pending reports 150=1 with
//   39=6 (Pending Cancel outranks Partially Filled); a fill that completes the order reports 39=2.
// - A terminal non-fill state on an order with fills is Canceled (4) or Expired (C), never 39=8.
// - A cancel that cannot complete (the order filled, expired or was rejected first) yields an
//   OrderCancelReject notice (`cancelRejects`) with CxlRejReason 0, for the lead to send as 35=9.
// - Nothing is reported after a terminal state, with one exception: a venue fill we have not
//   reported yet, when the venue proves it (its cumulative quantity is above ours; a fill event
//   that carries no cumulative quantity is taken as proof by itself). Such a fill is reported
//   (150=1, or 150=2 when it completes the order) and the order keeps its terminal OrdStatus
//   (a rejected order becomes canceled, a fully filled one becomes filled). Fills are never lost,
//   at the price of a report after a terminal one, which a strict client may flag.

import type { CancelRejectArgs } from './execution-report';
import { OrderEvent, RejectReason, TERMINAL_STATUSES, VenueFill, VenueOrder, gatewayFillId } from '../venues/venue';
import {
  CxlRejReason,
  Dec,
  ExecType,
  GatewayOrder,
  OrdStatus,
  formatDecimal,
  isTerminal,
  leavesQty,
  parseVenueDecimal,
  quotient,
} from './order';

/** One ExecutionReport the gateway must send (see executionReportFor). */
export interface Report {
  execType: ExecType;
  ordStatus: OrdStatus;
  execId: string;
  /** ExecTransType(20): '0' for live reports, '3' for replies to an OrderStatusRequest. */
  execTransType: '0' | '3';
  /** ClOrdID(11): the order's, or the cancel request's on a pending cancel / cancel confirmation. */
  clOrdId: string;
  /** OrigClOrdID(41), set when clOrdId is a cancel request's. */
  origClOrdId?: string;
  /** LastShares(32) / LastPx(31): on fills; status replies carry LastShares 0 (venues README §2). */
  lastShares?: string;
  lastPx?: string;
  /** Values as of this report (a transition may emit several reports). */
  cumQty: string;
  avgPx: string;
  leavesQty: string;
  text?: string;
  /** OrdRejReason(103) on 150=8. */
  ordRejReason?: string;
  /** TransactTime(60), ms: the venue's time of the execution / event where it gave one. */
  transactTime?: number;
}

/** An OrderCancelReject (35=9) the lead must send: orderCancelRejectFor's input plus an outbox id. */
export interface CancelRejectNotice extends CancelRejectArgs {
  /** Stable id for the outbox (same namespace as ExecIDs, `X-` prefix); not sent on the wire. */
  id: string;
}

export interface Transition {
  /** The new order, or the very same object when nothing changed. */
  order: GatewayOrder;
  /** ExecutionReports to send, in order. */
  reports: Report[];
  /** OrderCancelRejects to send after the reports. */
  cancelRejects: CancelRejectNotice[];
  /**
   * The venue says more was executed than we could report (a fill not seen yet, or a catch-up fill
   * with no price to report it at): the lead should query the order (getOrder) and apply the snapshot.
   */
  fillsMissing: boolean;
  /** Something that must not happen did (e.g. an order we rejected is live at the venue): log it as an incident. */
  incident?: string;
}

// ---------------------------------------------------------------------------------------------
// Working copy

interface Work {
  o: GatewayOrder;
  reports: Report[];
  cancelRejects: CancelRejectNotice[];
  fillsMissing: boolean;
  incident?: string;
  /** The venue's time of the event or snapshot being applied, when it gave one. */
  venueTime?: number;
  dirty: boolean;
}

function begin(order: GatewayOrder): Work {
  const o: GatewayOrder = { ...order }; // fillIds is immutable: no copy
  if (order.pendingCancel) o.pendingCancel = { ...order.pendingCancel };
  return { o, reports: [], cancelRejects: [], fillsMissing: false, dirty: false };
}

function finish(original: GatewayOrder, w: Work, time: number | undefined): Transition {
  if (!w.dirty) {
    const unchanged: Transition = { order: original, reports: [], cancelRejects: [], fillsMissing: w.fillsMissing };
    if (w.incident !== undefined) unchanged.incident = w.incident;
    return unchanged;
  }
  if (time !== undefined && Number.isFinite(time) && time > w.o.updatedAt) w.o.updatedAt = time;
  const t: Transition = { order: w.o, reports: w.reports, cancelRejects: w.cancelRejects, fillsMissing: w.fillsMissing };
  if (w.incident !== undefined) t.incident = w.incident;
  return t;
}

export function fillExecId(order: Pick<GatewayOrder, 'venueClientOrderId'>, fillId: string): string {
  return `F-${order.venueClientOrderId}-${fillId}`;
}

function nextExecId(w: Work, prefix: 'E' | 'X' = 'E'): string {
  w.o.execSeq += 1;
  w.dirty = true;
  return `${prefix}-${w.o.venueClientOrderId}-${w.o.execSeq}`;
}

function emit(w: Work, execType: ExecType, extra: Partial<Report> = {}): void {
  const o = w.o;
  const r: Report = {
    execType,
    ordStatus: o.status,
    execId: extra.execId ?? nextExecId(w),
    execTransType: '0',
    clOrdId: extra.clOrdId ?? o.clOrdId,
    cumQty: o.cumQty,
    avgPx: o.avgPx,
    leavesQty: leavesQty(o),
  };
  if (extra.origClOrdId !== undefined) r.origClOrdId = extra.origClOrdId;
  if (extra.lastShares !== undefined) r.lastShares = extra.lastShares;
  if (extra.lastPx !== undefined) r.lastPx = extra.lastPx;
  if (extra.text !== undefined && extra.text !== '') r.text = extra.text;
  if (extra.ordRejReason !== undefined) r.ordRejReason = extra.ordRejReason;
  const time = extra.transactTime ?? w.venueTime;
  if (time !== undefined && Number.isFinite(time) && time > 0) r.transactTime = time;
  w.reports.push(r);
  w.dirty = true;
}

/** 150=A/39=A, once: nothing once acked or terminal, nor when the order already had its 150=A. */
function emitPendingNew(w: Work): void {
  if (w.o.acked || isTerminal(w.o) || (w.o.status === 'A' && w.o.execSeq > 0)) return;
  setStatus(w, 'A');
  emit(w, 'A');
}

function setStatus(w: Work, status: OrdStatus): void {
  if (w.o.status !== status) {
    w.o.status = status;
    w.dirty = true;
  }
}

/** The live status an order falls back to (after a rejected cancel). */
function liveStatus(o: GatewayOrder): OrdStatus {
  if (new Dec(o.cumQty).gt(0)) return '1';
  return o.acked ? '0' : 'A';
}

function ensureAck(w: Work): void {
  if (w.o.acked || isTerminal(w.o)) return;
  w.o.acked = true;
  setStatus(w, w.o.status === '6' ? '6' : '0');
  emit(w, '0');
}

function rejectPendingCancel(w: Work, text: string, reason: CxlRejReason = '0'): void {
  const pc = w.o.pendingCancel;
  if (!pc) return;
  delete w.o.pendingCancel;
  const notice: CancelRejectNotice = {
    id: nextExecId(w, 'X'),
    clOrdId: pc.clOrdId,
    origClOrdId: w.o.clOrdId,
    orderId: w.o.venueOrderId ?? 'NONE',
    ordStatus: w.o.status,
    reason,
    text,
  };
  if (w.o.account !== undefined) notice.account = w.o.account;
  w.cancelRejects.push(notice);
}

function setVenueOrderId(w: Work, id: string | undefined): void {
  if (id && !w.o.venueOrderId) {
    w.o.venueOrderId = id;
    w.dirty = true;
  }
}

// ---------------------------------------------------------------------------------------------
// Fills

interface FillOptions {
  /** The venue's cumulative quantity, when known: required proof for a fill after a terminal state. */
  venueCum?: Dec;
  /** A catch-up fill made up from the venue's cumulative quantity: counted in syntheticQty, not absorbed. */
  synthetic?: boolean;
}

function applyFill(w: Work, venueFill: Pick<VenueFill, 'fillId' | 'qty' | 'price'> & { time?: number }, opts: FillOptions): void {
  const o = w.o;
  // A venue's fill id is kept out of the synthetic namespace (cum:…), so the two never collide.
  const fill = opts.synthetic ? venueFill : { ...venueFill, fillId: gatewayFillId(venueFill.fillId) };
  if (o.fillIds.has(fill.fillId)) return;
  let qty = parseVenueDecimal(fill.qty, `fill ${fill.fillId} qty`);
  const px = parseVenueDecimal(fill.price, `fill ${fill.fillId} price`);
  if (qty.lte(0) || px.lte(0)) return; // not an execution
  const wasTerminal = isTerminal(o);
  const cum = new Dec(o.cumQty);
  // After a terminal state only a fill the venue proves is reported; an unproven one is left
  // unrecorded, so a later snapshot can still prove it.
  if (wasTerminal && opts.venueCum !== undefined && opts.venueCum.lte(cum)) return;

  o.fillIds = o.fillIds.add(fill.fillId);
  w.dirty = true;

  if (!opts.synthetic) {
    const synthetic = new Dec(o.syntheticQty ?? '0');
    if (synthetic.gt(0)) {
      const absorbed = Dec.min(qty, synthetic);
      const rest = synthetic.minus(absorbed);
      if (rest.isZero()) delete o.syntheticQty;
      else o.syntheticQty = formatDecimal(rest);
      qty = qty.minus(absorbed);
      if (qty.isZero()) return; // already reported through a catch-up fill
    }
  }

  // Never report more than OrderQty: LeavesQty would go negative. A venue overfill is left out.
  const room = new Dec(o.orderQty).minus(cum);
  if (qty.gt(room)) qty = room;
  if (qty.lte(0)) return;

  if (!wasTerminal) ensureAck(w);
  const newCum = cum.plus(qty);
  const notional = new Dec(o.notional).plus(qty.times(px));
  o.cumQty = formatDecimal(newCum);
  o.notional = formatDecimal(notional);
  o.avgPx = quotient(notional, newCum);
  if (opts.synthetic) o.syntheticQty = formatDecimal(new Dec(o.syntheticQty ?? '0').plus(qty));

  const complete = newCum.eq(o.orderQty);
  if (complete) setStatus(w, '2');
  else if (wasTerminal) setStatus(w, o.status === '8' ? '4' : o.status);
  else setStatus(w, o.status === '6' ? '6' : '1');
  emit(w, complete ? '2' : '1', {
    execId: fillExecId(o, fill.fillId),
    lastShares: formatDecimal(qty),
    lastPx: formatDecimal(px),
    transactTime: fill.time,
  });
  if (complete) rejectPendingCancel(w, 'Too late to cancel: order is filled');
}

// ---------------------------------------------------------------------------------------------
// Status changes

/**
 * The venue has an order we rejected without its ever acknowledging it (proven absent after an
 * unknown create outcome, and then the create landed): the truth is restated (150=D, the order
 * live again, 39=0) before whatever the venue says next is applied, and it is an incident.
 */
function restateIfRejectedButLive(w: Work): void {
  const o = w.o;
  if (o.status !== '8' || o.acked || o.venueOrderId !== undefined) return;
  o.acked = true;
  setStatus(w, '0');
  emit(w, 'D', { text: 'Order rejected earlier is live at the venue: restated' });
  w.incident = 'order rejected as absent is live at the venue (its create landed late)';
}

function applyAck(w: Work): void {
  ensureAck(w);
}

function applyPendingCancel(w: Work): void {
  const o = w.o;
  if (isTerminal(o) || o.status === '6') return;
  ensureAck(w);
  setStatus(w, '6');
  if (o.pendingCancel) emit(w, '6', { clOrdId: o.pendingCancel.clOrdId, origClOrdId: o.clOrdId });
  else emit(w, '6');
}

function applyCanceled(w: Work, text?: string): void {
  const o = w.o;
  if (isTerminal(o)) return;
  ensureAck(w);
  setStatus(w, '4');
  const pc = o.pendingCancel;
  if (pc) {
    // FIX 4.2: the cancel confirmation carries the cancel's ClOrdID and the original in 41.
    delete o.pendingCancel;
    emit(w, '4', { clOrdId: pc.clOrdId, origClOrdId: o.clOrdId, text });
  } else {
    emit(w, '4', { text });
  }
}

function applyExpired(w: Work, text?: string): void {
  if (isTerminal(w.o)) return;
  ensureAck(w);
  setStatus(w, 'C');
  emit(w, 'C', { text });
  rejectPendingCancel(w, 'Too late to cancel: order expired');
}

function applyRejected(w: Work, ordRejReason: string, text: string): void {
  const o = w.o;
  if (isTerminal(o)) return;
  if (new Dec(o.cumQty).gt(0)) {
    // Never 39=8 on an order with fills: the rest of it is canceled.
    applyCanceled(w, text);
    return;
  }
  setStatus(w, '8');
  emit(w, '8', { text, ordRejReason });
  rejectPendingCancel(w, 'Too late to cancel: order rejected');
}

/** Text(58) for a venue reject: the venue's code and its text. */
export function venueRejectText(code: string | undefined, text: string | undefined): string {
  const c = (code ?? '').trim();
  const t = (text ?? '').trim();
  if (c && t) return `${c}: ${t}`;
  return c || t || 'Rejected by venue';
}

const REJECT_REASONS: ReadonlySet<string> = new Set<RejectReason>([
  'unknown_symbol',
  'insufficient_funds',
  'invalid_order',
  'post_only_would_take',
  'duplicate',
  'too_late',
  'unsupported',
  'not_yet_cancelable',
  'already_pending_cancel',
  'other',
]);

/** OrdRejReason(103) for a mapped venue reject reason: 1 unknown symbol, 3 exceeds limit, 6 duplicate, else 0. */
export function ordRejReasonFor(reason: RejectReason): string {
  switch (reason) {
    case 'unknown_symbol':
      return '1';
    case 'insufficient_funds':
      return '3';
    case 'duplicate':
      return '6';
    default:
      return '0';
  }
}

/**
 * OrdRejReason(103) for a `rejected` event, which carries only the venue's code and text. If the
 * adapter put a mapped RejectReason in `code`, that decides; otherwise the words decide
 * (unknown/invalid symbol → 1; insufficient balance, "exceeds" → 3; duplicate → 6; else 0).
 */
export function ordRejReasonForVenueReject(code: string, text: string): string {
  if (REJECT_REASONS.has(code)) return ordRejReasonFor(code as RejectReason);
  const s = `${code} ${text}`.toLowerCase().replace(/_/g, ' ');
  if (/duplicate/.test(s)) return '6';
  if (
    /(unknown|invalid|bad|unsupported|no such)\s+(symbol|instrument|market|pair)/.test(s) ||
    /(symbol|instrument|market|pair)\s+(not found|does not exist|not exist|unknown|is invalid)/.test(s)
  )
    return '1';
  if (/insufficient|not enough (balance|funds)|balance|exceed/.test(s)) return '3';
  return '0';
}

// ---------------------------------------------------------------------------------------------
// Public transitions

/** Applies one venue event (stream or REST-derived); a `snapshot` event is applied as applyVenueSnapshot. */
export function applyVenueEvent(order: GatewayOrder, event: OrderEvent): Transition {
  if (event.kind === 'snapshot') return applyVenueSnapshot(order, event.order);
  const w = begin(order);
  w.venueTime = event.time;
  if (event.kind !== 'rejected') restateIfRejectedButLive(w);
  setVenueOrderId(w, event.venueOrderId);
  const venueCum = event.cumQty !== undefined ? parseVenueDecimal(event.cumQty, 'cumQty') : undefined;
  switch (event.kind) {
    case 'acknowledged':
      applyAck(w);
      break;
    case 'fill':
      applyFill(w, event.fill, { venueCum });
      break;
    case 'pending_cancel':
      applyPendingCancel(w);
      break;
    case 'canceled':
      applyCanceled(w, event.text);
      break;
    case 'expired':
      applyExpired(w, event.text);
      break;
    case 'rejected':
      applyRejected(w, ordRejReasonForVenueReject(event.code, event.text), venueRejectText(event.code, event.text));
      break;
  }
  if (venueCum !== undefined && venueCum.gt(w.o.cumQty)) w.fillsMissing = true;
  return finish(order, w, event.time);
}

/**
 * Applies the venue's view of the order (after a reconnect, a restart, or to resolve an unknown
 * outcome). Order of reports: every listed fill not reported yet (in time order); then, if the
 * venue's cumulative quantity is still above ours, one catch-up fill `cum:<venueCum>` at the price
 * implied by the venue's average price; then the status transition. The catch-up is also made when
 * a fill list was given but falls short of the venue's cumulative quantity (a truncated or lagging
 * list): fills seen later are absorbed against it (syntheticQty), so nothing is counted twice.
 */
export function applyVenueSnapshot(order: GatewayOrder, snapshot: VenueOrder): Transition {
  const w = begin(order);
  w.venueTime = snapshot.updateTime;
  if (snapshot.status !== 'rejected') restateIfRejectedButLive(w);
  setVenueOrderId(w, snapshot.venueOrderId);
  const claimedCum = parseVenueDecimal(snapshot.filledQty, 'filledQty');
  // More executed than ordered: the venue's numbers contradict themselves (a trade list read in
  // overlapping pages counted one trade twice, in the soak). Its cumulative proves nothing then: no
  // catch-up fill is priced from it (that made up a fill at 5× the market), it does not make a fill
  // reportable after a terminal report, and no query is started to chase it (but FILLED, below). Fills it lists count
  // once each by their id, as always; an incident says what was disregarded.
  const contradicts = claimedCum.gt(w.o.orderQty);
  if (contradicts) {
    w.incident = `venue reports ${formatDecimal(claimedCum)} executed on an order of OrderQty ${w.o.orderQty}: its cumulative quantity is not used (no catch-up fill); fills it lists are applied by id`;
  }

  if (snapshot.fills && snapshot.fills.length > 0) {
    const fills = snapshot.fills.slice().sort((a, b) => a.time - b.time);
    for (const f of fills) applyFill(w, f, { venueCum: contradicts ? undefined : claimedCum });
  }
  // From here on, what the venue proves executed: its cumulative; when that contradicts the order,
  // what we have, except that FILLED still says the whole OrderQty executed: the order is then held
  // (no terminal report before its fills) and its fills fetched, never left open with no query.
  const venueCum = !contradicts ? claimedCum : snapshot.status === 'filled' ? new Dec(w.o.orderQty) : new Dec(w.o.cumQty);

  const cum = new Dec(w.o.cumQty);
  if (!contradicts && venueCum.gt(cum) && cum.lt(w.o.orderQty)) {
    const qty = Dec.min(venueCum, new Dec(w.o.orderQty)).minus(cum);
    const px = catchUpPrice(w.o, snapshot, venueCum, qty);
    const fillId = `cum:${formatDecimal(venueCum)}`;
    if (px !== undefined && !w.o.fillIds.has(fillId)) {
      applyFill(w, { fillId, qty: formatDecimal(qty), price: px }, { venueCum, synthetic: true });
    }
  }

  // Executions the venue counts but we could not report yet: a terminal status now would come
  // before them (and a fill after a terminal report). Ack the order; the status follows the fills.
  const behind = venueCum.gt(w.o.cumQty);
  const status = behind && TERMINAL_STATUSES.has(snapshot.status) ? 'new' : snapshot.status;
  switch (status) {
    case 'pending_new':
      // The venue accepts in two steps and has not decided yet: Pending New, once.
      emitPendingNew(w);
      break;
    case 'filled': // the fills above did it
      break;
    case 'new':
    case 'partially_filled':
      applyAck(w);
      break;
    case 'pending_cancel':
      applyPendingCancel(w);
      break;
    // The venue's reason for ending the order (e.g. a killed fill-or-kill), when it gave one.
    case 'canceled':
      applyCanceled(w, snapshot.rejectText);
      break;
    case 'expired':
      applyExpired(w, snapshot.rejectText);
      break;
    case 'rejected': {
      const code = snapshot.rejectCode ?? '';
      const text = snapshot.rejectText ?? '';
      applyRejected(w, ordRejReasonForVenueReject(code, text), venueRejectText(code, text));
      break;
    }
  }
  if (venueCum.gt(w.o.cumQty)) w.fillsMissing = true;
  return finish(order, w, snapshot.updateTime);
}

/**
 * LastPx of a catch-up fill: the price that makes our AvgPx equal the venue's average price
 * ((venueAvg × venueCum − our notional) / qty). Falls back to the venue's average price when that
 * is not positive, then to the limit price, then to our own AvgPx; undefined when none is known.
 */
function catchUpPrice(o: GatewayOrder, snapshot: VenueOrder, venueCum: Dec, qty: Dec): string | undefined {
  const avg = snapshot.avgPrice !== undefined && snapshot.avgPrice !== '' ? parseVenueDecimal(snapshot.avgPrice, 'avgPrice') : undefined;
  if (avg !== undefined && avg.gt(0)) {
    const impliedNotional = avg.times(venueCum).minus(o.notional);
    if (impliedNotional.gt(0)) return quotient(impliedNotional, qty);
    return formatDecimal(avg);
  }
  // No venue average: any price would be a guess (the limit price is only a bound), so no
  // catch-up fill; the caller is told to fetch the fills (Transition.fillsMissing).
  return undefined;
}

/**
 * 150=A/39=A for an order sent to the venue whose outcome is not known yet. Nothing once acked or
 * terminal, nor a second time (an order still in A with an ExecID used has had its 150=A).
 */
export function pendingNewReport(order: GatewayOrder, now: number = order.updatedAt): Transition {
  const w = begin(order);
  emitPendingNew(w);
  return finish(order, w, now);
}

/**
 * Rejects the order (the venue refused the create, or the order was proven absent after an
 * unknown outcome): 150=8/39=8 with OrdRejReason(103) and Text(58). On an order with fills the
 * remainder is canceled instead (150=4/39=4). Nothing on a terminal order.
 */
export function rejectReport(order: GatewayOrder, ordRejReason: string, text: string, now: number = order.updatedAt): Transition {
  const w = begin(order);
  applyRejected(w, ordRejReason, text);
  return finish(order, w, now);
}

/**
 * The reply to an OrderStatusRequest(H): ExecTransType 3, ExecID "0", ExecType = OrdStatus (FIX 4.2
 * has no 150=I), LastShares 0, current CumQty/AvgPx/LeavesQty. Consumes no ExecID.
 */
export function statusReport(order: GatewayOrder, clOrdId: string = order.clOrdId): Report {
  return {
    execType: order.status,
    ordStatus: order.status,
    execId: '0',
    execTransType: '3',
    clOrdId,
    lastShares: '0',
    cumQty: order.cumQty,
    avgPx: order.avgPx,
    leavesQty: leavesQty(order),
  };
}

/** Marks an OrderCancelRequest in flight (after validateCancel, before calling the venue). */
export function beginCancel(order: GatewayOrder, cancelClOrdId: string, now: number = order.updatedAt): GatewayOrder {
  return {
    ...order,
    pendingCancel: { clOrdId: cancelClOrdId },
    cancelClOrdIds: [...(order.cancelClOrdIds ?? []), cancelClOrdId],
    updatedAt: Math.max(order.updatedAt, now),
  };
}

/**
 * The venue refused the cancel in flight (too late, unsupported, unknown): clears it, restores the
 * live status if a 150=6 had been sent, and yields the OrderCancelReject to send.
 */
export function cancelRejected(order: GatewayOrder, reason: CxlRejReason, text: string, now: number = order.updatedAt): Transition {
  const w = begin(order);
  const pc = w.o.pendingCancel;
  if (!pc) return finish(order, w, now);
  if (w.o.status === '6') setStatus(w, liveStatus(w.o));
  rejectPendingCancel(w, text, reason);
  return finish(order, w, now);
}
