// Transactional outbox, the writing side: an order's new state is saved together with the reports
// it must send, then the reports are handed to the FIX session (which stores them before the
// wire), then they are confirmed. Reports of one order leave in the order they were produced.
//
// When the book shares the session's journal (FileOrderBook.sharesJournal), the save and the
// session's store appends of its reports are issued in the same tick, the save first: one write,
// one fdatasync, then the reports go to the wire. Within that write the order's record precedes the
// reports' records, so a torn tail that kept a report kept the order state too; one that kept only
// the order state leaves its reports in the outbox, sent by outbox recovery after a restart. With
// separate journals the save must be durable before the reports are handed over (a report on the
// wire whose order state a crash lost would be produced, and sent, again).
//
// Write failures (a full disk, an I/O error): reject and continue, never an unhandled rejection.
// A change the book cannot save stays pending here, in memory, and is retried with back-off until
// it is durable; meanwhile later changes of that order are merged into it (the book records whole
// orders, so the latest state covers the earlier ones) and nothing more is sent for the order, so
// its reports still leave in order once the disk has room. Other orders are not held up.
//
// What the client has been told (reported()) can lag the order's state: from the save, which
// changes the book's memory at once, until its reports are handed to the session (the fsync of a
// book with its own journal; a failed write until its retry). A status reply (20=3) or a
// restatement is built from that told state, so it never runs ahead of the live reports that
// follow it (a CumQty above the next fill's, a fill's 39=1 before the 150=0).
import type { Logger } from 'pino';
import { SessionHandle } from '../fix/application';
import { OutboundMessage } from '../fix/message';
import { executionReportFor, orderCancelRejectFor } from './execution-report';
import { FileOrderBook, OutboxEntry } from './file-order-book';
import { GatewayOrder } from './order';
import { Transition } from './order-state';
import { Scheduler } from './scheduler';
import { BackoffOptions } from '../venues/common/backoff';
import { errnoCode } from '../durable/space-reserve';

/** Back-off for retrying a write the order book or the session store refused: 100 ms doubling to 5 s. */
export const STORAGE_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 5_000, jitter: 0.2 };

/** A change of one order not durable yet: the latest state and every report waiting on it. */
interface Undurable {
  order: GatewayOrder;
  outbox: OutboxEntry[];
  done: Promise<void>;
}

/** The errno code of a storage error ("ENOSPC"), else its message: for a client-facing Text. */
export function storageErrorCode(err: unknown): string {
  // The journal wraps the file system's error (with the file's path) in `cause`: the client gets the code only.
  return errnoCode(err) ?? ((err as Error)?.message ?? String(err));
}

export class ReportCommitter {
  private session?: SessionHandle;
  private readonly changeListeners: ((order: GatewayOrder) => void)[] = [];
  /** By the order's key (venueClientOrderId): a ClOrdID names different orders in different periods. */
  private readonly undurable = new Map<string, Undurable>();
  /**
   * By the order's key: orders with a change saved whose reports the session does not have yet.
   * `told` is the state as of the last reports handed over (undefined: none yet), `latest` the
   * newest change waiting; the entry goes once `latest` is handed over.
   */
  private readonly lagging = new Map<string, { told: GatewayOrder | undefined; latest: GatewayOrder }>();

  constructor(
    private readonly book: FileOrderBook,
    private readonly scheduler: Scheduler,
    private readonly logger: Logger,
  ) {}

  attach(session: SessionHandle): void {
    this.session = session;
  }

  /** Called after every committed change of an order (its new state). */
  onChange(listener: (order: GatewayOrder) => void): void {
    this.changeListeners.push(listener);
  }

  /**
   * The order's current state: the latest change, even if it is not durable yet (the book's copy
   * may be older then). `clOrdId` may be the order's or one of its cancels' ClOrdIDs.
   */
  current(clOrdId: string): GatewayOrder | undefined {
    const o = this.book.get(clOrdId);
    return o ? (this.undurable.get(o.venueClientOrderId)?.order ?? o) : undefined;
  }

  /** The current state of the order with this key (venueClientOrderId), whether or not it still names its ClOrdID. */
  currentByKey(key: string): GatewayOrder | undefined {
    return this.undurable.get(key)?.order ?? this.book.byVenueClientOrderId(key);
  }

  /**
   * `order` as the client has been told it: the state of its last reports handed to the session,
   * which is older than `order` while a later change waits for the disk. Status replies and
   * restatements are built from this, never from a state whose reports have not gone out.
   */
  reported(order: GatewayOrder): GatewayOrder {
    return this.lagging.get(order.venueClientOrderId)?.told ?? order;
  }

  /** Save the order with the reports it must send, send them, then mark them done. */
  async commit(t: Transition): Promise<void> {
    const clOrdId = t.order.clOrdId;
    const key = t.order.venueClientOrderId;
    const before = this.currentByKey(key);
    if (t.order === before && t.reports.length === 0 && t.cancelRejects.length === 0) return;
    const now = new Date();
    const outbox: OutboxEntry[] = [];
    // The reports get seqnums from here on: outbox recovery reads the store only from there.
    const minSeq = this.session?.nextSenderSeqNum();
    const sequenceId = this.session?.sequenceId();
    for (const r of t.reports) outbox.push({ execId: r.execId, message: executionReportFor(t.order, r, now), minSeq, sequenceId });
    for (const c of t.cancelRejects) outbox.push({ execId: c.id, message: orderCancelRejectFor(c), minSeq, sequenceId });
    const pending = this.undurable.get(key);
    if (pending) {
      // An earlier change is not durable yet: this one waits with it, in order.
      this.heldBack(key, before, t.order);
      pending.order = t.order;
      pending.outbox.push(...outbox);
      for (const l of this.changeListeners) l(t.order);
      return pending.done;
    }
    const staged = this.book.saveStaged(t.order, outbox.length > 0 ? outbox : undefined);
    // Same tick as the save (nothing awaited in between): the same write carries both.
    const sends = staged.appended && this.book.sharesJournal && this.session && outbox.length > 0 ? outbox.map((e) => this.send(e.message)) : undefined;
    if (sends) this.handedOver(key, t.order);
    else if (outbox.length > 0 || this.lagging.has(key)) this.heldBack(key, before, t.order);
    try {
      await staged.durable;
    } catch (err) {
      // Those reports were refused with the save (the same write): never on the wire. They are sent
      // again (new seqnums) once the change is durable; the client fills the gap with a GapFill.
      for (const p of sends ?? []) p.catch(() => undefined);
      this.heldBack(key, before, t.order);
      const earlier = this.undurable.get(key);
      if (earlier) {
        // An earlier change of this order failed in the same write (or one before it) and this one
        // was computed from it: it joins that change, in order, rather than being retried on its own.
        earlier.order = t.order;
        earlier.outbox.push(...outbox);
        for (const l of this.changeListeners) l(t.order);
        return earlier.done;
      }
      this.logger.error({ clOrdId, err: storageErrorCode(err) }, 'order book write failed; the change is kept and retried until durable');
      const u: Undurable = { order: t.order, outbox, done: Promise.resolve() };
      u.done = this.retryUntilDurable(clOrdId, key, u);
      this.undurable.set(key, u);
      for (const l of this.changeListeners) l(t.order);
      return u.done;
    }
    for (const l of this.changeListeners) l(t.order);
    if (sends) await this.confirmSent(outbox, sends);
    else await this.handOver(key, t.order, outbox);
  }

  /**
   * Saves an order change that must be durable before anything else happens (a cancel before its
   * venue call); throws when it cannot be saved now, for the caller to refuse the request.
   */
  async saveNow(order: GatewayOrder): Promise<void> {
    if (this.undurable.has(order.venueClientOrderId)) throw new Error(`an earlier change of order ${order.clOrdId} is not durable yet`);
    await this.book.save(order);
    for (const l of this.changeListeners) l(order);
  }

  private async retryUntilDurable(clOrdId: string, key: string, u: Undurable): Promise<void> {
    await this.scheduler.sleep(0); // let the caller record `u` first
    await this.scheduler.retry(async () => {
      const outbox = u.outbox.slice();
      const order = u.order;
      try {
        await this.book.save(order, outbox.length > 0 ? outbox : undefined);
      } catch (err) {
        this.logger.warn({ clOrdId, err: storageErrorCode(err) }, 'order book write failed again; retrying');
        return 'retry';
      }
      // Changes merged while that write was in flight wait for the next round.
      u.outbox.splice(0, outbox.length);
      if (u.order !== order || u.outbox.length > 0) {
        await this.handOver(key, order, outbox);
        return 'retry';
      }
      this.undurable.delete(key);
      this.logger.info({ clOrdId }, 'order book write succeeded after failures');
      await this.handOver(key, order, outbox);
      return 'done';
    }, STORAGE_BACKOFF);
  }

  /** A saved change's reports to the session (synchronously: their seqnums are taken now), then confirmed. */
  private handOver(key: string, state: GatewayOrder, outbox: OutboxEntry[]): Promise<void> {
    const sent = this.sendAndConfirm(outbox);
    this.handedOver(key, state);
    return sent;
  }

  /** `state` is saved, its reports not handed over yet: the client still knows the order as before. */
  private heldBack(key: string, before: GatewayOrder | undefined, state: GatewayOrder): void {
    const lag = this.lagging.get(key);
    if (lag) lag.latest = state;
    else this.lagging.set(key, { told: before, latest: state });
  }

  /** The reports up to `state` are with the session. */
  private handedOver(key: string, state: GatewayOrder): void {
    const lag = this.lagging.get(key);
    if (lag === undefined) return;
    if (lag.latest === state) this.lagging.delete(key);
    else lag.told = state;
  }

  private async sendAndConfirm(outbox: OutboxEntry[]): Promise<void> {
    if (outbox.length === 0) return;
    // Handed over together (the session numbers them in this order and stores them as one group).
    await this.confirmSent(
      outbox,
      outbox.map((e) => this.send(e.message)),
    );
  }

  /** Once the session stored them (a refused one is handed over again until stored): confirmed. */
  private async confirmSent(outbox: OutboxEntry[], sends: Promise<number>[]): Promise<void> {
    if (sends.length === 1) {
      // The common case (one report per change): no allSettled result objects, no id array map.
      try {
        await sends[0];
      } catch {
        await this.sendUntilStored(outbox[0].message);
      }
      this.book.confirm([outbox[0].execId]);
      return;
    }
    const results = await Promise.allSettled(sends);
    for (let i = 0; i < results.length; i++) if (results[i].status === 'rejected') await this.sendUntilStored(outbox[i].message);
    this.book.confirm(outbox.map((e) => e.execId));
  }

  /** A message that changes no order (a reply to a request): straight to the session. */
  send(msg: OutboundMessage): Promise<number> {
    if (!this.session) throw new Error('gateway used before its session was created');
    return this.session.send(msg);
  }

  /** send(), retried with back-off while the session cannot store it. */
  async sendUntilStored(msg: OutboundMessage): Promise<void> {
    await this.scheduler.retry(async () => {
      try {
        await this.send(msg);
        return 'done';
      } catch (err) {
        this.logger.error({ msgType: msg.msgType, err: storageErrorCode(err) }, 'session could not store a message; retrying');
        return 'retry';
      }
    }, STORAGE_BACKOFF);
  }
}
