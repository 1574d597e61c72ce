// The order router (Application=gateway): NewOrderSingle, OrderCancelRequest and
// OrderStatusRequest become venue calls; venue answers and stream events become ExecutionReports
// and OrderCancelRejects. It sees the venue only through VenueAdapter and never names one.
//
// This file wires the parts and owns the lifecycle:
//  - order-router.ts      FIX intake (D, F, H, G) and the venue calls they make;
//  - venue-supervisor.ts  venue start-up, instruments, stream state;
//  - order-updater.ts     venue events and snapshots applied to orders;
//  - order-resolver.ts    unknown create outcomes;
//  - order-canceller.ts   cancels, each carried to an end (confirmed, refused or resumed);
//  - reconciler.ts        open orders looked up after every stream (re)connect;
//  - report-committer.ts / outbox-recovery.ts  the transactional outbox;
//  - scheduler.ts         timers and the one retry loop, all stopped by close().
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
import { FixMessage } from '../fix/message';
import { StoredMessage } from '../fix/store/message-store';
import { TimeInForce, VenueAdapter } from '../venues/venue';
import { FileOrderBook } from './file-order-book';
import { GatewayObserver, NO_GATEWAY_OBSERVER } from './gateway-observer';
import { GatewayOrder, isTerminal } from './order';
import { OrderCanceller } from './order-canceller';
import { IntegerIdPartition, orderRefFor } from './order-validation';
import { OrderResolver } from './order-resolver';
import { OrderRouter } from './order-router';
import { OrderUpdater } from './order-updater';
import { recoverOutbox } from './outbox-recovery';
import { messagesAfterReset } from './reset-recovery';
import { Reconciler } from './reconciler';
import { ReportCommitter } from './report-committer';
import { Scheduler } from './scheduler';
import { VenueSupervisor } from './venue-supervisor';
import type { StorageHealth } from './order-router';

export interface GatewayOptions {
  venue: VenueAdapter;
  book: FileOrderBook;
  logger: Logger;
  /** Prefix of the client order ids we send to the venue (names the session). */
  venueIdPrefix: string;
  /**
   * The session's slice of an `integer` client order id range: sessions that may share a venue
   * account get disjoint slices (wiring.ts integerIdPartitionFor). Absent = the whole range.
   */
  integerIdPartition?: IntegerIdPartition;
  /** Venue TIF used for FIX Day (59=0) where the venue has no Day orders; undefined = reject Day. */
  dayTimeInForce?: TimeInForce;
  /**
   * Overrides the venue's capabilities.absenceProofMs (tests): how long "not found" must last after
   * an unknown create outcome before the order is declared absent.
   */
  unknownOutcomeProofMs?: number;
  /** An open order's state older than this is refreshed from the venue for a status request. */
  statusStaleMs?: number;
  /** A cancel the venue acknowledged but has not confirmed within this time is checked (default 5 s). */
  cancelConfirmCheckMs?: number;
  /** Told of reconciliations and settled unknown outcomes (admin metrics); absent = nobody watches. */
  observer?: GatewayObserver;
  /**
   * The FIX session keeps its sequence across a restart (no ResetOnLogon/Logout/Disconnect), so a
   * NewOrderSingle whose acceptance a power loss erased is resent by the client with its MsgSeqNum.
   * Only then may the order's save overlap the venue call (order-router.ts placeNew). Default true.
   */
  sequenceSurvivesRestart?: boolean;
  /** The store's file system (see StorageHealth); absent = never full. */
  storage?: StorageHealth;
}

export class GatewayApplication implements FixApplication {
  private session?: SessionHandle;
  private readonly venue: VenueAdapter;
  private readonly book: FileOrderBook;
  private readonly scheduler: Scheduler;
  private readonly committer: ReportCommitter;
  private readonly supervisor: VenueSupervisor;
  private readonly updater: OrderUpdater;
  private readonly resolver: OrderResolver;
  private readonly canceller: OrderCanceller;
  private readonly reconciler: Reconciler;
  private readonly router: OrderRouter;
  /** Venue order ids told to the venue through trackOrders (open orders only). */
  private readonly tracked = new Set<string>();
  private venueReady = false;
  private readonly observer: GatewayObserver;

  constructor(opts: GatewayOptions) {
    this.observer = opts.observer ?? NO_GATEWAY_OBSERVER;
    this.venue = opts.venue;
    this.book = opts.book;
    const logger = (opts.logger.child({ component: 'gateway', venue: opts.venue.name }));
    this.scheduler = new Scheduler((what, err) => logger.error({ err: (err as Error)?.message ?? String(err) }, `${what} failed`));
    this.committer = new ReportCommitter(this.book, this.scheduler, logger);
    this.supervisor = new VenueSupervisor(this.venue, this.scheduler, logger);
    this.updater = new OrderUpdater(this.venue, this.book, this.committer, this.scheduler, logger);
    this.resolver = new OrderResolver(this.venue, this.book, this.committer, this.updater, this.scheduler, logger, {
      unknownOutcomeProofMs: opts.unknownOutcomeProofMs ?? opts.venue.capabilities.absenceProofMs,
      sessionEvent: (text) => this.session?.event(text),
      onResolved: (outcome) => this.observer.unknownOutcomeResolved(outcome),
    });
    this.canceller = new OrderCanceller(this.venue, this.book, this.committer, this.updater, this.scheduler, logger, opts.cancelConfirmCheckMs ?? 5_000);
    this.reconciler = new Reconciler(this.venue, this.book, this.supervisor, this.updater, logger, () => this.observer.reconciled());
    this.router = new OrderRouter(this.venue, this.book, this.supervisor, this.committer, this.updater, this.resolver, this.canceller, this.scheduler, logger, {
      venueIdPrefix: opts.venueIdPrefix,
      integerIdPartition: opts.integerIdPartition,
      dayTimeInForce: opts.dayTimeInForce,
      statusStaleMs: opts.statusStaleMs ?? 1_000,
      sequenceSurvivesRestart: opts.sequenceSurvivesRestart ?? true,
      storage: opts.storage,
    });
  }

  // ------------------------------------------------------------------------------------ lifecycle

  async onCreate(session: SessionHandle): Promise<void> {
    this.session = session;
    this.committer.attach(session);
    await this.book.open();
    await recoverOutbox(this.book, session);
    this.venue.onEvent((e) => this.updater.onVenueEvent(e));
    this.committer.onChange((o) => this.trackOrder(o));
    this.supervisor.start({
      onReady: () => {
        this.venueReady = true;
        for (const o of this.book.openOrders()) this.trackOrder(this.committer.current(o.clOrdId) ?? o);
        this.scheduler.run('resuming unanswered creates', () => this.router.resumeUnansweredCreates());
        this.canceller.resumePendingCancels();
      },
      onStreamConnected: () => this.scheduler.run('reconciliation', () => this.reconciler.reconcileOpenOrders(this.session)),
      onStreamState: (s) => session.event(`Venue stream ${s}`),
    });
  }

  /** After a FIX sequence reset: the client's missed reports again, then every open order restated (reset-recovery.ts). */
  async onSequenceReset(undelivered: StoredMessage[], session: SessionHandle): Promise<void> {
    // Each open order as reported so far: a change still waiting for the disk sends its own reports
    // after these (a restatement of it here would run ahead of them).
    const open = this.book.openOrders().map((o) => this.committer.reported(this.committer.current(o.clOrdId) ?? o));
    const msgs = messagesAfterReset(undelivered, open, () => `RS-${this.book.nextCounter()}`, new Date());
    session.event(`After the sequence reset: ${msgs.length - open.length} reports sent again, ${open.length} open orders restated`);
    // Synchronous up to here: these take the new sequence's next seqnums, before any later report.
    await Promise.all(msgs.map((m) => session.send(m)));
    // Every report of the old sequence is now confirmed (stored then, or re-sent just now); durably
    // so before the session forgets what it owed, as recovery cannot find them by their old seqnums.
    await this.book.flushConfirms();
  }

  async close(): Promise<void> {
    this.scheduler.close();
    await this.venue.stop().catch(() => undefined);
    await this.book.close();
  }

  /**
   * Venues that must be told which orders are ours (a poller follows them; trackOrders): every open
   * order with a venue id once the venue is up, then each order as soon as its venue id is known.
   */
  private trackOrder(o: GatewayOrder): void {
    if (!this.venue.trackOrders || !this.venueReady || o.venueOrderId === undefined) return;
    if (isTerminal(o)) {
      this.tracked.delete(o.venueOrderId);
      return;
    }
    if (this.tracked.has(o.venueOrderId)) return;
    this.tracked.add(o.venueOrderId);
    this.venue.trackOrders([orderRefFor(o)]);
  }

  // ------------------------------------------------------------------------------------ FIX in

  fromApp(msg: FixMessage, session: SessionHandle): Promise<void> | void {
    switch (msg.msgType) {
      case 'D':
        return this.router.onNewOrder(msg, session);
      case 'F':
        return this.router.onCancel(msg);
      case 'H':
        return this.router.onStatusRequest(msg);
      case 'G':
        return this.router.rejectReplace(msg);
      default:
        throw new UnsupportedMessageType(msg.msgType);
    }
  }
}
