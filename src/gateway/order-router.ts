// FIX intake: NewOrderSingle (D), OrderCancelRequest (F), OrderStatusRequest (H) and
// Cancel/Replace (G, refused) become venue calls and their answers become reports.
import type { Logger } from 'pino';
import { SessionHandle } from '../fix/application';
import { FixMessage } from '../fix/message';
import {
  AuthenticationFailed,
  DuplicateOrder,
  OrderRejected,
  OutcomeUnknown,
  PlaceOrderRequest,
  RateLimited,
  TimeInForce,
  VenueAdapter,
  VenueError,
} from '../venues/venue';
import { executionReportFor, newOrderRejectFor, orderCancelRejectFor, rejectUnknownOrderStatus } from './execution-report';
import { FileOrderBook } from './file-order-book';
import { GatewayOrder, createOrder, isTerminal } from './order';
import { beginCancel, ordRejReasonFor, pendingNewReport, rejectReport, statusReport, venueRejectText } from './order-state';
import { contentKey } from './content-match';
import { orderTrace, Stage } from '../common/order-trace';
import { OrderCanceller } from './order-canceller';
import { OrderResolver } from './order-resolver';
import { OrderUpdater } from './order-updater';
import { RecallGate } from './recall-gate';
import {
  IntegerIdPartition,
  integerIdSubrange,
  placeRequestFor,
  validateCancel,
  validateNewOrder,
  venueClientOrderIdFor,
  venueClientOrderIdForMessage,
} from './order-validation';
import { ReportCommitter, storageErrorCode } from './report-committer';
import { Scheduler } from './scheduler';
import { VenueSupervisor } from './venue-supervisor';

export interface OrderRouterOptions {
  /** Prefix of the client order ids we send to the venue (names the session). */
  venueIdPrefix: string;
  /** Venue TIF used for FIX Day (59=0) where the venue has no Day orders; undefined = reject Day. */
  dayTimeInForce?: TimeInForce;
  /** An open order's state older than this is refreshed from the venue for a status request. */
  statusStaleMs: number;
  /** The session's slice of an `integer` client order id range (integerIdSubrange); absent = all of it. */
  integerIdPartition?: IntegerIdPartition;
  /** See GatewayOptions.sequenceSurvivesRestart. */
  sequenceSurvivesRestart: boolean;
  /** The store's file system; absent = never full. */
  storage?: StorageHealth;
}

/** The store's file system as the router sees it (main.ts: a SpaceReserve). */
export interface StorageHealth {
  /** Its errno code while it is full: new orders are refused, not recorded; undefined otherwise. */
  full(): string | undefined;
  /** A write of the order book failed with `err` (ENOSPC frees the reserve: full() turns on). */
  failed(err: unknown): void;
}

export class OrderRouter {
  /**
   * Venues without client order ids (content matching): per content key, the chain of orders with
   * that content; each waits until the one before has a known create outcome (a venue order id, or
   * a terminal state), so two orders of the same content are never unresolved at once and content
   * matching can never pick the other one.
   */
  private readonly lanes = new Map<string, Promise<void>>();
  private readonly gate = new RecallGate({ recall: (ids) => this.book.recall(ids), pin: (ids) => this.book.pin(ids) }, (err) => this.logger.error({ err: (err as Error)?.message ?? String(err) }, 'an evicted order could not be read back'));
  private readonly outcomeWaiters = new Map<string, (() => void)[]>();

  constructor(
    private readonly venue: VenueAdapter,
    private readonly book: FileOrderBook,
    private readonly supervisor: VenueSupervisor,
    private readonly committer: ReportCommitter,
    private readonly updater: OrderUpdater,
    private readonly resolver: OrderResolver,
    private readonly canceller: OrderCanceller,
    private readonly scheduler: Scheduler,
    private readonly logger: Logger,
    private readonly opts: OrderRouterOptions,
  ) {
    committer.onChange((o) => {
      if (!this.createOutcomeKnown(o)) return;
      const waiters = this.outcomeWaiters.get(o.clOrdId);
      if (!waiters) return;
      this.outcomeWaiters.delete(o.clOrdId);
      for (const w of waiters) w();
    });
  }

  private get matchesByContent(): boolean {
    return this.venue.capabilities.clientOrderId.kind === 'none';
  }

  private createOutcomeKnown(o: GatewayOrder): boolean {
    return o.venueOrderId !== undefined || isTerminal(o);
  }

  /** Resolves once the order has a venue order id or has ended. */
  private outcomeKnown(clOrdId: string): Promise<void> {
    const o = this.committer.current(clOrdId);
    if (!o || this.createOutcomeKnown(o)) return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.outcomeWaiters.get(clOrdId) ?? [];
      list.push(resolve);
      this.outcomeWaiters.set(clOrdId, list);
    });
  }

  /** Joins the order's content lane; resolves when every earlier order of that content has a known outcome. */
  private enterLane(order: GatewayOrder): Promise<void> {
    const key = contentKey(order);
    const before = this.lanes.get(key) ?? LANE_FREE;
    const mine = before.then(() => this.outcomeKnown(order.clOrdId));
    this.lanes.set(key, mine);
    void mine.then(() => {
      if (this.lanes.get(key) === mine) this.lanes.delete(key);
    });
    return before;
  }

  // ------------------------------------------------------------------------------------ D

  // Each intake message first recalls the evicted orders its ids may name (FileOrderBook.recall), so
  // an old ClOrdID is still known; the gate keeps the messages in arrival order meanwhile.

  onNewOrder(msg: FixMessage, session: SessionHandle): Promise<void> | void {
    return this.gate.run(
      { clOrdIds: [msg.get(11)] },
      () => this.newOrder(msg, session),
      // Its ClOrdID may name an order we cannot read (a resend of a filled order): never placed blind.
      () => this.rejectUnreadable(msg),
    );
  }

  onCancel(msg: FixMessage): Promise<void> {
    return Promise.resolve(this.gate.run({ clOrdIds: [msg.get(41), msg.get(11)] }, () => this.cancel(msg)));
  }

  onStatusRequest(msg: FixMessage): Promise<void> {
    return Promise.resolve(this.gate.run({ clOrdIds: [msg.get(11)], venueOrderId: msg.get(37) }, () => this.statusRequest(msg)));
  }

  rejectReplace(msg: FixMessage): Promise<void> {
    return Promise.resolve(this.gate.run({ clOrdIds: [msg.get(41), msg.get(11)] }, () => this.replaceRejected(msg)));
  }

  private newOrder(msg: FixMessage, session: SessionHandle): Promise<void> | void {
    if (this.committer.current(msg.get(11) ?? '')) return this.answerKnownClOrdId(msg, session);
    // Orders arriving while the venue starts wait for it; an earlier one with the same ClOrdID may
    // have been placed meanwhile, so look again afterwards.
    if (!this.supervisor.isReady) {
      return this.supervisor.whenReadyOrTimeout().then(() => (this.committer.current(msg.get(11) ?? '') ? this.answerKnownClOrdId(msg, session) : this.placeNew(msg, session)));
    }
    return this.placeNew(msg, session);
  }

  /** A NewOrderSingle whose ClOrdID the book already has: never a second order, never a book change. */
  private answerKnownClOrdId(msg: FixMessage, session: SessionHandle): Promise<void> | void {
    const clOrdId = msg.get(11) ?? '';
    const order = this.committer.current(clOrdId)!;
    // A resent order we already have (PossDup / PossResend) must never create a second venue order;
    // the client is told where it stands instead (ExecTransType 3, as for a status request).
    if (isResend(msg) && order.clOrdId === clOrdId) {
      session.event(`Resent NewOrderSingle ${clOrdId} already known; not placed again, status sent`);
      return this.sendStatus(order, clOrdId);
    }
    return this.rejectDuplicate(msg, `Duplicate ClOrdID ${clOrdId}`);
  }

  /** 150=8 103=0 when an order that may have this ClOrdID could not be read back: sent as is, no book change. */
  private rejectUnreadable(msg: FixMessage): Promise<void> {
    const clOrdId = msg.get(11) ?? '';
    // The cause (a file and offset) is in the gateway's log (the gate's onRecallError), not for the client.
    const text = `Order state for ClOrdID ${clOrdId} could not be read back from the order book; not placed`;
    return this.committer.send(newOrderRejectFor(msg, `R-${this.book.nextCounter()}`, '0', text, new Date())).then(() => undefined);
  }

  /** 150=8 103=6 for a NewOrderSingle reusing a ClOrdID: sent as is, the existing order untouched. */
  private rejectDuplicate(msg: FixMessage, text: string): Promise<void> {
    const execId = `R-${this.book.nextCounter()}`;
    // Accepted once the reject is stored: a crash before that makes the client resend the order.
    return this.committer.send(newOrderRejectFor(msg, execId, '6', text, new Date())).then(() => undefined);
  }

  private placeNew(msg: FixMessage, session: SessionHandle): Promise<void> | void {
    const full = this.opts.storage?.full();
    if (full) {
      // What room is left is kept for the protocol and for updates of live orders (see SpaceReserve).
      const text = `gateway storage failure: ${full} (the store's file system is full: new orders are refused until it has room again)`;
      return this.committer.sendUntilStored(newOrderRejectFor(msg, `R-${this.book.nextCounter()}`, '0', text, new Date()));
    }
    if (!this.supervisor.isReady) {
      return this.rejectNew(msg, '0', `Venue ${this.venue.name} not available: ${this.supervisor.notReadyReason}`);
    }
    const v = validateNewOrder(msg, {
      instruments: this.supervisor.instruments,
      capabilities: this.venue.capabilities,
      knownClOrdId: (id) => this.committer.current(id) !== undefined,
      dayTimeInForce: this.opts.dayTimeInForce,
    });
    if (!v.ok) return this.rejectNew(msg, v.ordRejReason, v.text);
    let ids: { venueClientOrderId: string; wireClientOrderId: string | null; resentGetsSameId: boolean };
    try {
      ids = this.allocateIds(msg, session);
    } catch (err) {
      return this.rejectNew(msg, '0', `No client order id available for ${this.venue.name}: ${(err as Error).message}`);
    }
    const order = createOrder({ ...v.order, venueClientOrderId: ids.venueClientOrderId, wireClientOrderId: ids.wireClientOrderId }, Date.now());
    const saved = this.book.saveStaged(order);
    // The venue call overlaps the pre-save's flush where a lost pre-save is harmless: the save is
    // written (it survives the process being killed) and, should a power loss take it, the client's
    // resend of this NewOrderSingle (same MsgSeqNum: the session's ResendRequest) gets the same venue
    // client order id, which the venue refuses as a reuse, so the order cannot be placed twice.
    // Elsewhere the save is durable first. A write that fails (ENOSPC) is never sent either way.
    // A session that resets its sequence at Logon (or Logout/Disconnect) would not get the resend:
    // the order would be live at the venue and unknown here, so its save is durable first.
    const overlap = ids.resentGetsSameId && this.venue.capabilities.refusesReusedClientOrderId && this.opts.sequenceSurvivesRestart;
    if (overlap) {
      // (A write that failed is reported below; this is the flush of one that went through.)
      saved.written.then(
        () =>
          saved.durable.catch((err: unknown) =>
            this.logger.error({ err: storageErrorCode(err), clOrdId: order.clOrdId }, 'order book flush failed after the order was written and sent; the journal refuses writes until restarted'),
          ),
        () => undefined,
      );
    }
    // Accepted once saved: the venue call follows, whatever the FIX session does next.
    return (overlap ? saved.written : saved.durable).then(
      () => {
        this.scheduler.run('placing an order', () => this.place(order, placeRequestFor(order)));
      },
      (err: unknown) => {
        // Not recorded, so not placed: the client hears it at once (retried while the session cannot store it).
        const code = storageErrorCode(err);
        this.logger.error({ err: code, clOrdId: order.clOrdId }, 'order book write failed; order rejected, not placed');
        this.opts.storage?.failed(err);
        return this.committer.sendUntilStored(newOrderRejectFor(msg, `R-${order.venueClientOrderId}`, '0', `gateway storage failure: ${code}`, new Date()));
      },
    );
  }

  /**
   * The order's ids: the gateway's own (book key, ExecID stem; unique per session across restarts)
   * and the client order id the venue gets, as capabilities.clientOrderId says (the durable
   * counters are the order book's).
   */
  private allocateIds(msg: FixMessage, session: SessionHandle): { venueClientOrderId: string; wireClientOrderId: string | null; resentGetsSameId: boolean } {
    const scheme = this.venue.capabilities.clientOrderId;
    if (scheme.kind === 'string' && this.venue.capabilities.refusesReusedClientOrderId) {
      // Named by the message (its sequence and MsgSeqNum): a resend of it after a power loss that
      // took its pre-save gets the same id (see placeNew).
      const fromMessage = venueClientOrderIdForMessage(this.opts.venueIdPrefix, session.sequenceId(), Number(msg.get(34)), scheme.maxLength);
      // A MsgSeqNum received again in the same sequence (an operator lowered the target: `store
      // set-next-target`) names another message: an id the book already holds is never taken over.
      if (fromMessage !== undefined && this.committer.currentByKey(fromMessage) === undefined) {
        return { venueClientOrderId: fromMessage, wireClientOrderId: fromMessage, resentGetsSameId: true };
      }
    }
    const venueClientOrderId = venueClientOrderIdFor(this.opts.venueIdPrefix, this.book.nextCounter(), scheme.kind === 'string' ? scheme.maxLength : 36);
    switch (scheme.kind) {
      case 'string':
        return { venueClientOrderId, wireClientOrderId: venueClientOrderId, resentGetsSameId: false };
      case 'integer': {
        const range = integerIdSubrange(scheme.min, scheme.max, this.opts.integerIdPartition);
        return { venueClientOrderId, wireClientOrderId: String(this.book.nextIntegerId(range.min, range.max)), resentGetsSameId: false };
      }
      case 'venue-format': {
        // The venue's format embeds the send time: a resend would get another id, so no overlap.
        if (!this.venue.clientOrderIdFor) throw new Error('the adapter declares venue-format client order ids but has no clientOrderIdFor');
        return { venueClientOrderId, wireClientOrderId: this.venue.clientOrderIdFor(this.opts.venueIdPrefix, this.book.nextSequence()), resentGetsSameId: false };
      }
      case 'none':
        return { venueClientOrderId, wireClientOrderId: null, resentGetsSameId: false };
    }
  }

  /** A NewOrderSingle refused before reaching the venue: recorded (its ClOrdID is used) and rejected. */
  private rejectNew(msg: FixMessage, ordRejReason: string, text: string): Promise<void> {
    const clOrdId = msg.get(11) ?? '';
    // A reject never overwrites a book entry (the live order its ClOrdID names).
    if (this.committer.current(clOrdId)) return this.rejectDuplicate(msg, text);
    const side = msg.get(54) === '2' ? '2' : '1';
    const ordType = msg.get(40) === '1' ? '1' : '2';
    const order = createOrder(
      {
        clOrdId,
        venueClientOrderId: `rejected-${this.book.nextCounter()}`,
        wireClientOrderId: null,
        symbol: msg.get(55) ?? '',
        side,
        ordType,
        timeInForce: msg.get(59) ?? '0',
        orderQty: validDecimal(msg.get(38)) ?? '0',
        price: validDecimal(msg.get(44)),
        account: msg.get(1),
      },
      Date.now(),
    );
    return this.committer.commit(rejectReport(order, ordRejReason, text));
  }

  /**
   * At start-up, once the venue is up: orders saved but never answered (the process died before
   * or during the create). The client hears 150=A at once. Where the venue refuses a reused client
   * order id, the create is simply re-submitted (a duplicate refusal proves the first attempt got
   * through, and the order is then found by query); elsewhere the order is looked up until found
   * or proven absent.
   */
  async resumeUnansweredCreates(): Promise<void> {
    for (const o of this.book.openOrders()) {
      if (o.status !== 'A' || o.venueOrderId) continue;
      await this.committer.commit(pendingNewReport(o, Date.now()));
      const order = this.committer.current(o.clOrdId) ?? o;
      // Later orders of the same content wait for this one's resolution.
      if (this.matchesByContent) void this.enterLane(order);
      if (this.venue.capabilities.refusesReusedClientOrderId) this.scheduler.run('re-submitting a create', () => this.place(order, placeRequestFor(order), true));
      else this.resolver.resolveUnknownCreate(order);
    }
  }

  /** `resumed`: a create re-sent after a restart, whose first attempt may be live at the venue. */
  private async place(order: GatewayOrder, request: PlaceOrderRequest, resumed = false): Promise<void> {
    if (this.matchesByContent) {
      const waiting = this.enterLane(order);
      if (this.lanes.get(contentKey(order)) !== undefined && waiting !== LANE_FREE) {
        this.logger.info({ clOrdId: order.clOrdId }, 'an order of the same content has no known outcome yet; this create waits for it');
      }
      await waiting;
    }
    try {
      orderTrace?.mark(Stage.VenueRequest, order.clOrdId);
      const snapshot = await this.venue.placeOrder(request);
      orderTrace?.mark(Stage.VenueReply, order.clOrdId);
      await this.updater.applySnapshot(order.clOrdId, snapshot);
    } catch (err) {
      await this.onPlaceFailed(order.clOrdId, err, resumed);
    }
  }

  private async onPlaceFailed(clOrdId: string, err: unknown, resumed = false): Promise<void> {
    const order = this.committer.current(clOrdId);
    if (!order) return;
    // A re-sent create's refusal says nothing about the first attempt (an id that embeds its send
    // time may just be too old now): only the venue's query can tell, as for an unknown outcome.
    if (resumed || err instanceof DuplicateOrder || err instanceof OutcomeUnknown || !(err instanceof VenueError)) {
      // Our venue ids are unique per session, so a duplicate means an earlier attempt got through;
      // the resolver adopts the venue's order only if its content is ours.
      this.logger.warn({ clOrdId, err: (err as Error).message }, 'create outcome unknown; resolving through the venue');
      if (order.status === 'A' && !order.acked) await this.committer.commit(pendingNewReport(order, Date.now()));
      this.resolver.resolveUnknownCreate(this.committer.current(clOrdId) ?? order);
      return;
    }
    let text: string;
    let reason: string;
    if (err instanceof OrderRejected) {
      reason = ordRejReasonFor(err.reason);
      text = venueRejectText(err.code, err.venueText ?? err.message);
    } else if (err instanceof RateLimited) {
      reason = '0';
      text = `Venue rate limit: ${err.message}`;
    } else if (err instanceof AuthenticationFailed) {
      reason = '0';
      text = `Venue authentication failed: ${venueRejectText(err.code, err.venueText ?? err.message)}`;
    } else {
      reason = '0';
      text = venueRejectText(err.code, err.venueText ?? err.message);
    }
    await this.committer.commit(rejectReport(order, reason, text, Date.now()));
  }

  // ------------------------------------------------------------------------------------ F

  private async cancel(msg: FixMessage): Promise<void> {
    const order = this.committer.current(msg.get(41) ?? '');
    const clOrdId = msg.get(11) ?? '';
    // A resent cancel we already have (PossDup after a crash): its status, not a second cancel.
    if (isResend(msg) && order && order.cancelClOrdIds?.includes(clOrdId)) return this.sendStatus(order, clOrdId);
    const v = validateCancel(msg, order, {
      capabilities: this.venue.capabilities,
      knownClOrdId: (id) => this.committer.current(id) !== undefined,
    });
    if (!v.ok) {
      await this.committer.send(
        orderCancelRejectFor({
          clOrdId: v.clOrdId,
          origClOrdId: v.origClOrdId,
          orderId: v.orderId,
          ordStatus: v.ordStatus,
          reason: v.cxlRejReason,
          text: v.text,
          account: order?.account,
        }),
      );
      return;
    }
    const pending = beginCancel(order!, v.clOrdId, Date.now());
    try {
      await this.committer.saveNow(pending);
    } catch (err) {
      // Not recorded, so not sent to the venue: refused at once.
      const code = storageErrorCode(err);
      this.logger.error({ err: code, clOrdId: order!.clOrdId, cancelClOrdId: v.clOrdId }, 'order book write failed; cancel refused, not sent');
      this.opts.storage?.failed(err);
      await this.committer.sendUntilStored(
        orderCancelRejectFor({
          clOrdId: v.clOrdId,
          origClOrdId: v.origClOrdId,
          orderId: order!.venueOrderId ?? 'NONE',
          ordStatus: order!.status,
          reason: '2',
          text: `gateway storage failure: ${code}`,
          account: order!.account,
        }),
      );
      return;
    }
    this.scheduler.run('cancel', () => this.canceller.send(pending));
  }

  // ------------------------------------------------------------------------------------ H, G

  private async statusRequest(msg: FixMessage): Promise<void> {
    const clOrdId = msg.get(11) ?? '';
    const orderId = msg.get(37);
    // A ClOrdID of an earlier period's finished order: the latest order that had it answers.
    let order = this.committer.current(clOrdId) ?? this.book.latestWithClOrdId(clOrdId) ?? (orderId ? this.book.byVenueOrderId(orderId) : undefined);
    if (!order) {
      await this.committer.send(rejectUnknownOrderStatus(msg, `Unknown order ClOrdID ${clOrdId}`, new Date()));
      return;
    }
    const stale = !isTerminal(order) && (!this.supervisor.streamConnected || Date.now() - order.updatedAt > this.opts.statusStaleMs);
    if (stale && order.venueOrderId !== undefined) {
      await this.updater.refreshOrder(clOrdId, false).catch(() => undefined);
      order = this.committer.current(clOrdId) ?? order;
    }
    // The reply names the order by the ClOrdID the client asked about (the original or a cancel's).
    const asked = clOrdId && this.committer.current(clOrdId) === order ? clOrdId : order.clOrdId;
    await this.sendStatus(order, asked);
  }

  /**
   * ExecTransType 3 status reply for `order`, named by `asked` (its ClOrdID or one of its cancels'):
   * its state as reported so far, never one whose reports are still waiting for the disk (the reply
   * would run ahead of them: CumQty falling at the next fill, a 39=1 before the 150=0).
   */
  private async sendStatus(order: GatewayOrder, asked: string): Promise<void> {
    const told = this.committer.reported(order);
    const report = statusReport(told, asked);
    if (asked !== told.clOrdId) report.origClOrdId = told.clOrdId;
    await this.committer.send(executionReportFor(told, report, new Date()));
  }

  private async replaceRejected(msg: FixMessage): Promise<void> {
    const order = this.committer.current(msg.get(41) ?? '');
    await this.committer.send(
      orderCancelRejectFor({
        clOrdId: msg.get(11) ?? 'NONE',
        origClOrdId: msg.get(41) ?? 'NONE',
        orderId: order?.venueOrderId ?? 'NONE',
        ordStatus: order?.status ?? '8',
        reason: '2',
        text: 'Cancel/replace is not supported; cancel and send a new order',
        responseTo: '2',
        account: order?.account,
      }),
    );
  }
}

const LANE_FREE: Promise<void> = Promise.resolve();

/** PossDupFlag (43) or PossResend (97): the client may have sent this before. */
function isResend(msg: FixMessage): boolean {
  return msg.possDup || msg.get(97) === 'Y';
}

function validDecimal(v: string | undefined): string | undefined {
  return v !== undefined && /^-?\d+(\.\d+)?$/.test(v) ? v : undefined;
}
