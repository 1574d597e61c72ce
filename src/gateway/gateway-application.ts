// The order router (Application=gateway): NewOrderSingle, OrderCancelRequest and
// OrderStatusRequest become venue calls; venue answers and stream events become ExecutionReports
// and OrderCancelRejects. It sees the venue only through VenueAdapter and never names one.
//
// Durability (nothing lost, nothing twice):
//  - an order is saved to the order book before the venue is called, so a crash after the venue
//    accepted it still finds it (status A) and resolves it through the venue's query path;
//  - every state change is saved together with the reports it must send (transactional outbox)
//    before those reports are handed to the FIX session, which stores them before the wire; after a
//    crash, reports saved but not confirmed are looked up in the session store and sent if absent;
//  - fills are deduplicated by venue fill id in the pure state machine (order-state.ts).
import type { Logger } from 'pino';
import { FixApplication, SessionHandle, UnsupportedMessageType } from '../fix/application';
import { FixMessage, OutboundMessage } from '../fix/message';
import { StoredMessage } from '../fix/store/message-store';
import { messagesAfterReset } from './reset-recovery';
import {
  Instrument,
  OrderEvent,
  OrderNotFound,
  OrderRejected,
  OutcomeUnknown,
  RateLimited,
  AuthenticationFailed,
  DuplicateOrder,
  VenueAdapter,
  VenueError,
  VenueOrder,
  TimeInForce,
} from '../venues/venue';
import { FileOrderBook, OutboxEntry } from './file-order-book';
import { Dec, GatewayOrder, createOrder, isTerminal } from './order';
import {
  Transition,
  applyVenueEvent,
  applyVenueSnapshot,
  beginCancel,
  cancelRejected,
  ordRejReasonFor,
  pendingNewReport,
  rejectReport,
  statusReport,
  venueRejectText,
} from './order-state';
import { executionReportFor, newOrderRejectFor, orderCancelRejectFor, rejectUnknownOrderStatus } from './execution-report';
import { validateCancel, validateNewOrder, venueClientOrderIdFor } from './order-validation';

export interface GatewayOptions {
  venue: VenueAdapter;
  book: FileOrderBook;
  logger: Logger;
  /** Prefix of the client order ids we send to the venue (names the session). */
  venueIdPrefix: string;
  /** Venue TIF used for FIX Day (59=0) where the venue has no Day orders; undefined = reject Day. */
  dayTimeInForce?: TimeInForce;
  /** How long an unknown create outcome is retried before the order is declared absent. */
  unknownOutcomeProofMs?: number;
  /** An open order's state older than this is refreshed from the venue for a status request. */
  statusStaleMs?: number;
}

const BACKOFF_START_MS = 100;
const VENUE_READY_WAIT_MS = 5_000;
/** A cancel not confirmed within this time is checked through the venue's query path. */
const CANCEL_CONFIRM_CHECK_MS = 5_000;
/** Executions the venue counts but did not list: wait this long for the stream's fills before asking. */
const FILL_DETAIL_WAIT_MS = 1_000;
const BACKOFF_MAX_MS = 5_000;

export class GatewayApplication implements FixApplication {
  private session?: SessionHandle;
  private readonly instruments = new Map<string, Instrument>();
  private readonly venue: VenueAdapter;
  private readonly book: FileOrderBook;
  private readonly logger: Logger;
  private venueReady: Promise<void> = Promise.resolve();
  private venueError?: string;
  private streamConnected = false;
  private closed = false;
  private readonly resolving = new Set<string>();
  private reconciling?: Promise<void>;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly opts: GatewayOptions) {
    this.venue = opts.venue;
    this.book = opts.book;
    this.logger = opts.logger.child({ component: 'gateway', venue: opts.venue.name });
  }

  // ------------------------------------------------------------------------------------ lifecycle

  async onCreate(session: SessionHandle): Promise<void> {
    this.session = session;
    await this.book.open();
    await this.recoverOutbox();
    this.venue.onEvent((e) => this.onVenueEvent(e));
    this.venue.onStreamState((s) => {
      this.streamConnected = s === 'connected';
      session.event(`Venue stream ${s}`);
      if (s === 'connected') void this.reconcileOpenOrders();
    });
    // The FIX side starts even when the venue is down; orders are rejected until it is up.
    this.venueReady = this.startVenue();
  }

  private async startVenue(): Promise<void> {
    let delay = 500;
    while (!this.closed) {
      try {
        await this.venue.start();
        for (const i of await this.venue.instruments()) this.instruments.set(i.symbol, i);
        this.venueError = undefined;
        this.logger.info({ instruments: this.instruments.size }, 'venue ready');
        for (const o of this.book.openOrders()) if (o.status === 'A' && !o.venueOrderId) this.resolveUnknownCreate(o);
        return;
      } catch (err) {
        this.venueError = (err as Error).message;
        this.logger.warn({ err: (err as Error).message }, 'venue start failed; retrying');
        await this.sleep(delay);
        delay = Math.min(delay * 2, 30_000);
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    await this.venue.stop().catch(() => undefined);
    await this.book.close();
  }

  /** After a FIX sequence reset: the client's missed reports again, then every open order restated (reset-recovery.ts). */
  async onSequenceReset(undelivered: StoredMessage[], session: SessionHandle): Promise<void> {
    const open = this.book.openOrders();
    const msgs = messagesAfterReset(undelivered, open, () => `RS-${this.book.nextCounter()}`, new Date());
    session.event(`After the sequence reset: ${msgs.length - open.length} reports sent again, ${open.length} open orders restated`);
    await Promise.all(msgs.map((m) => session.send(m)));
  }

  // ------------------------------------------------------------------------------------ FIX in

  fromApp(msg: FixMessage, session: SessionHandle): Promise<void> | void {
    switch (msg.msgType) {
      case 'D':
        return this.onNewOrder(msg, session);
      case 'F':
        return this.onCancel(msg);
      case 'H':
        return this.onStatusRequest(msg);
      case 'G':
        return this.rejectReplace(msg);
      default:
        throw new UnsupportedMessageType(msg.msgType);
    }
  }

  private onNewOrder(msg: FixMessage, session: SessionHandle): Promise<void> | void {
    const clOrdId = msg.get(11) ?? '';
    const existing = this.book.get(clOrdId);
    if (existing) {
      // A resent order we already have (PossDup / PossResend) must never create a second venue order.
      if (msg.possDup || msg.get(97) === 'Y') {
        session.event(`Resent NewOrderSingle ${clOrdId} already known; not placed again`);
        return;
      }
      const execId = `R-${this.book.nextCounter()}`;
      // Accepted once the reject is stored: a crash before that makes the client resend the order.
      return this.send(newOrderRejectFor(msg, execId, '6', `Duplicate ClOrdID ${clOrdId}`, new Date())).then(() => undefined);
    }
    if (this.instruments.size === 0) return this.whenVenueReady().then(() => this.placeNew(msg));
    return this.placeNew(msg);
  }

  /** Waits (briefly) for the venue side to come up, so an early order is not judged on an empty instrument list. */
  private whenVenueReady(): Promise<void> {
    return Promise.race([this.venueReady, new Promise<void>((resolve) => this.later(async () => resolve(), VENUE_READY_WAIT_MS))]);
  }

  private placeNew(msg: FixMessage): Promise<void> | void {
    if (this.instruments.size === 0) {
      const why = this.venueError ?? 'still starting';
      return this.rejectNew(msg, '0', `Venue ${this.venue.name} not available: ${why}`);
    }
    const v = validateNewOrder(msg, {
      instruments: this.instruments,
      capabilities: this.venue.capabilities,
      knownClOrdId: (id) => this.book.get(id) !== undefined,
      dayTimeInForce: this.opts.dayTimeInForce,
    });
    if (!v.ok) return this.rejectNew(msg, v.ordRejReason, v.text);
    const venueClientOrderId = venueClientOrderIdFor(
      this.opts.venueIdPrefix,
      this.book.nextCounter(),
      this.venue.capabilities.maxClientOrderIdLength,
    );
    const order = createOrder({ ...v.order, venueClientOrderId }, Date.now());
    const saved = this.book.save(order);
    // Accepted once saved: the venue call follows, whatever the FIX session does next.
    return saved.then(
      () => {
        void this.place(order, { ...v.request, clientOrderId: venueClientOrderId });
      },
      (err: Error) => {
        // Not recorded, so not placed: tell the client rather than leave the order unanswered.
        this.logger.error({ err: err.message, clOrdId: order.clOrdId }, 'order book write failed');
        void this.send(newOrderRejectFor(msg, `R-${order.venueClientOrderId}`, '0', `Order not accepted: gateway storage failure (${err.message})`, new Date()));
      },
    );
  }

  /** A NewOrderSingle refused before reaching the venue: recorded (its ClOrdID is used) and rejected. */
  private rejectNew(msg: FixMessage, ordRejReason: string, text: string): Promise<void> {
    const clOrdId = msg.get(11) ?? '';
    const side = msg.get(54) === '2' ? '2' : '1';
    const ordType = msg.get(40) === '1' ? '1' : '2';
    const order = createOrder(
      {
        clOrdId,
        venueClientOrderId: `rejected-${this.book.nextCounter()}`,
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
    return this.commit(rejectReport(order, ordRejReason, text));
  }

  private async place(order: GatewayOrder, request: Parameters<VenueAdapter['placeOrder']>[0]): Promise<void> {
    try {
      const snapshot = await this.venue.placeOrder(request);
      await this.applySnapshot(order.clOrdId, snapshot);
    } catch (err) {
      await this.onPlaceFailed(order.clOrdId, err);
    }
  }

  private async onPlaceFailed(clOrdId: string, err: unknown): Promise<void> {
    const order = this.book.get(clOrdId);
    if (!order) return;
    if (err instanceof DuplicateOrder || err instanceof OutcomeUnknown || !(err instanceof VenueError)) {
      // Our venue ids are unique, so a duplicate means an earlier attempt got through.
      this.logger.warn({ clOrdId, err: (err as Error).message }, 'create outcome unknown; resolving through the venue');
      if (order.status === 'A' && !order.acked) await this.commit(pendingNewReport(order, Date.now()));
      this.resolveUnknownCreate(this.book.get(clOrdId) ?? order);
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
    await this.commit(rejectReport(order, reason, text, Date.now()));
  }

  /**
   * The create may or may not have reached the venue: query it with back-off until it is found, or
   * until it has been absent for unknownOutcomeProofMs (only then is it rejected).
   */
  private resolveUnknownCreate(order: GatewayOrder): void {
    if (this.resolving.has(order.clOrdId)) return;
    this.resolving.add(order.clOrdId);
    const proofMs = this.opts.unknownOutcomeProofMs ?? 10_000;
    let firstAbsentAt: number | undefined;
    let delay = BACKOFF_START_MS;
    const attempt = async (): Promise<void> => {
      if (this.closed) return;
      const current = this.book.get(order.clOrdId);
      if (!current || current.venueOrderId || isTerminal(current)) {
        this.resolving.delete(order.clOrdId);
        return;
      }
      try {
        const snapshot = await this.venue.getOrder({ clientOrderId: current.venueClientOrderId, symbol: current.symbol });
        this.resolving.delete(order.clOrdId);
        await this.applySnapshot(current.clOrdId, snapshot);
        return;
      } catch (err) {
        if (err instanceof OrderNotFound) {
          firstAbsentAt ??= Date.now();
          if (Date.now() - firstAbsentAt >= proofMs) {
            this.resolving.delete(order.clOrdId);
            const latest = this.book.get(order.clOrdId) ?? current;
            if (!latest.venueOrderId && !isTerminal(latest)) {
              await this.commit(rejectReport(latest, '0', `Order not found at ${this.venue.name} after unknown outcome`, Date.now()));
            }
            return;
          }
        } else {
          firstAbsentAt = undefined;
          this.logger.warn({ clOrdId: order.clOrdId, err: (err as Error).message }, 'order query failed; retrying');
        }
      }
      this.later(attempt, delay);
      delay = Math.min(delay * 2, BACKOFF_MAX_MS);
    };
    void attempt();
  }

  private async onCancel(msg: FixMessage): Promise<void> {
    const order = this.book.get(msg.get(41) ?? '');
    const v = validateCancel(msg, order, {
      capabilities: this.venue.capabilities,
      knownClOrdId: (id) => this.book.get(id) !== undefined,
    });
    if (!v.ok) {
      await this.send(
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
    await this.book.save(pending);
    void this.cancel(pending);
  }

  private async cancel(order: GatewayOrder): Promise<void> {
    const ref = { clientOrderId: order.venueClientOrderId, venueOrderId: order.venueOrderId, symbol: order.symbol };
    const time = Date.now();
    const base = { clientOrderId: order.venueClientOrderId, venueOrderId: order.venueOrderId ?? '', time, source: 'rest' as const };
    try {
      const result = await this.venue.cancelOrder(ref);
      const event: OrderEvent =
        result.status === 'canceled'
          ? { ...base, kind: 'canceled', rawStatus: result.order?.rawStatus ?? 'CANCELED' }
          : { ...base, kind: 'pending_cancel', rawStatus: result.order?.rawStatus ?? 'PENDING_CANCEL' };
      if (result.order) await this.applySnapshotIfFills(order.clOrdId, result.order);
      await this.applyEvent(order.clOrdId, event);
      if (result.status === 'pending_cancel') {
        // The confirmation normally comes on the stream; if it is lost, ask.
        this.later(async () => {
          const o = this.book.get(order.clOrdId);
          if (o && o.pendingCancel && !isTerminal(o)) await this.refreshOrder(order.clOrdId, true);
        }, CANCEL_CONFIRM_CHECK_MS);
      }
    } catch (err) {
      const current = this.book.get(order.clOrdId) ?? order;
      if (err instanceof OutcomeUnknown || !(err instanceof VenueError)) {
        // Keep 39=6 and find out what happened.
        await this.applyEvent(order.clOrdId, { ...base, kind: 'pending_cancel', rawStatus: 'UNKNOWN' });
        void this.refreshOrder(order.clOrdId, true);
        return;
      }
      let reason: '0' | '1' | '2' = '0';
      if (err instanceof OrderRejected && err.reason === 'unsupported') reason = '2';
      if (err instanceof RateLimited) reason = '2';
      const text = venueRejectText(err.code, err.venueText ?? err.message);
      await this.commit(cancelRejected(current, reason, text, Date.now()));
      // The venue no longer has it open: bring our view up to date (fills before the cancel).
      if (err instanceof OrderNotFound || (err instanceof OrderRejected && err.reason === 'too_late')) void this.refreshOrder(order.clOrdId, false);
    }
  }

  private async onStatusRequest(msg: FixMessage): Promise<void> {
    const clOrdId = msg.get(11) ?? '';
    const orderId = msg.get(37);
    let order = this.book.get(clOrdId) ?? (orderId ? this.book.byVenueOrderId(orderId) : undefined);
    if (!order) {
      await this.send(rejectUnknownOrderStatus(msg, `Unknown order ClOrdID ${clOrdId}`, new Date()));
      return;
    }
    const stale = !isTerminal(order) && (!this.streamConnected || Date.now() - order.updatedAt > (this.opts.statusStaleMs ?? 1_000));
    if (stale && order.venueOrderId !== undefined) {
      await this.refreshOrder(clOrdId, false).catch(() => undefined);
      order = this.book.get(clOrdId) ?? order;
    }
    // The reply names the order by the ClOrdID the client asked about (the original or a cancel's).
    const asked = clOrdId && this.book.get(clOrdId) === order ? clOrdId : order.clOrdId;
    const report = statusReport(order, asked);
    if (asked !== order.clOrdId) report.origClOrdId = order.clOrdId;
    await this.send(executionReportFor(order, report, new Date()));
  }

  private async rejectReplace(msg: FixMessage): Promise<void> {
    const order = this.book.get(msg.get(41) ?? '');
    await this.send(
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

  // ------------------------------------------------------------------------------------ venue in

  private onVenueEvent(event: OrderEvent): void {
    const order =
      this.book.byVenueClientOrderId(event.clientOrderId) ?? (event.venueOrderId ? this.book.byVenueOrderId(event.venueOrderId) : undefined);
    if (!order) {
      this.logger.debug({ event }, 'event for an order of another session or unknown');
      return;
    }
    void this.applyEvent(order.clOrdId, event).catch((err) => this.logger.error({ err }, 'failed to apply venue event'));
  }

  private async applyEvent(clOrdId: string, event: OrderEvent): Promise<void> {
    const order = this.book.get(clOrdId);
    if (!order) return;
    const t = applyVenueEvent(order, event);
    await this.commit(t);
    if (t.reconcile) void this.refreshOrder(clOrdId, false);
  }

  private async applySnapshot(clOrdId: string, snapshot: VenueOrder): Promise<void> {
    const order = this.book.get(clOrdId);
    if (!order) return;
    const t = applyVenueSnapshot(order, snapshot);
    await this.commit(t);
    if (t.reconcile) {
      // The venue counts executions we could not report (a create reply says FILLED without
      // listing its trades; a trade list lags). They normally come on the stream with their own
      // prices: give it a moment, then ask, but only if they are still missing.
      this.later(async () => {
        const o = this.book.get(clOrdId);
        if (o && new Dec(o.cumQty).lt(snapshot.filledQty)) await this.refreshOrder(clOrdId, true);
      }, FILL_DETAIL_WAIT_MS);
    }
  }

  /** A cancel reply that shows more executed than we know: catch the fills up first. */
  private async applySnapshotIfFills(clOrdId: string, snapshot: VenueOrder): Promise<void> {
    const order = this.book.get(clOrdId);
    if (order && snapshot.filledQty !== undefined && snapshot.filledQty !== order.cumQty) await this.refreshOrder(clOrdId, false);
  }

  /** Query one order and apply what the venue says; with retry, until the venue answers. */
  private async refreshOrder(clOrdId: string, retry: boolean): Promise<void> {
    let delay = BACKOFF_START_MS;
    for (;;) {
      const order = this.book.get(clOrdId);
      if (!order || this.closed) return;
      try {
        const snapshot = await this.venue.getOrder({ clientOrderId: order.venueClientOrderId, venueOrderId: order.venueOrderId, symbol: order.symbol });
        await this.applySnapshot(clOrdId, snapshot);
        return;
      } catch (err) {
        if (!retry || err instanceof OrderNotFound) {
          this.logger.warn({ clOrdId, err: (err as Error).message }, 'order refresh failed');
          return;
        }
        await this.sleep(delay);
        delay = Math.min(delay * 2, BACKOFF_MAX_MS);
      }
    }
  }

  /** After a (re)connect of the venue stream: report whatever happened while we were not listening. */
  private reconcileOpenOrders(): Promise<void> {
    if (this.reconciling) return this.reconciling;
    this.reconciling = (async () => {
      try {
        await this.venueReady;
        const ours = this.book.openOrders().filter((o) => o.venueOrderId !== undefined || o.status !== 'A');
        if (ours.length === 0) return;
        const open = await this.venue.openOrders();
        const byId = new Map(open.map((o) => [o.clientOrderId, o]));
        for (const o of ours) {
          const snap = byId.get(o.venueClientOrderId);
          // Still open: apply (fills are fetched by refresh when the snapshot shows more executed).
          if (snap && snap.filledQty === o.cumQty) await this.applySnapshot(o.clOrdId, snap);
          else await this.refreshOrder(o.clOrdId, true);
        }
        this.session?.event(`Reconciled ${ours.length} open orders with ${this.venue.name}`);
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'reconciliation failed');
      } finally {
        this.reconciling = undefined;
      }
    })();
    return this.reconciling;
  }

  // ------------------------------------------------------------------------------------ FIX out

  /**
   * Save the order with the reports it must send, then hand them to the FIX session (which stores
   * them before the wire), then mark them done. Reports of one order leave in the order produced.
   */
  private async commit(t: Transition): Promise<void> {
    if (t.reports.length === 0 && t.cancelRejects.length === 0) {
      if (t.order !== this.book.get(t.order.clOrdId)) await this.book.save(t.order);
      return;
    }
    const now = new Date();
    const outbox: OutboxEntry[] = [];
    for (const r of t.reports) outbox.push({ execId: r.execId, message: executionReportFor(t.order, r, now) });
    for (const c of t.cancelRejects) outbox.push({ execId: c.id, message: orderCancelRejectFor(c) });
    await this.book.save(t.order, outbox);
    await Promise.all(outbox.map((e) => this.send(e.message)));
    this.book.confirm(outbox.map((e) => e.execId));
  }

  private send(msg: OutboundMessage): Promise<number> {
    if (!this.session) throw new Error('gateway used before its session was created');
    return this.session.send(msg);
  }

  /**
   * After a crash: reports saved with their order but not confirmed may or may not have reached the
   * session store. Send those the store does not have (by ExecID), so each is sent exactly once.
   */
  private async recoverOutbox(): Promise<void> {
    const pending = this.book.unconfirmedOutbox();
    if (pending.length === 0 || !this.session) return;
    const last = this.session.nextSenderSeqNum() - 1;
    const stored = last > 0 ? await this.session.sentMessages(1, last) : [];
    const sentIds = new Set<string>();
    for (const m of stored) {
      const i = m.raw.indexOf('\x0117=');
      if (i >= 0) sentIds.add(m.raw.slice(i + 4, m.raw.indexOf('\x01', i + 4)));
      const c = m.raw.indexOf('\x0111=');
      if (c >= 0 && m.raw.includes('\x0135=9\x01')) sentIds.add(`cxlrej:${m.raw.slice(c + 4, m.raw.indexOf('\x01', c + 4))}`);
    }
    let resent = 0;
    for (const e of pending) {
      const key = e.message.msgType === '9' ? `cxlrej:${e.message.body.find((f) => f.tag === 11)?.value}` : e.execId;
      if (!sentIds.has(key)) {
        await this.send(e.message);
        resent++;
      }
    }
    this.book.confirm(pending.map((e) => e.execId));
    this.session.event(`Recovered outbox: ${pending.length} unconfirmed reports, ${resent} were not in the store and were sent`);
  }

  // ------------------------------------------------------------------------------------ util

  private later(fn: () => Promise<void>, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      void fn();
    }, ms);
    this.timers.add(t);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.later(async () => resolve(), ms));
  }
}

function validDecimal(v: string | undefined): string | undefined {
  return v !== undefined && /^-?\d+(\.\d+)?$/.test(v) ? v : undefined;
}
