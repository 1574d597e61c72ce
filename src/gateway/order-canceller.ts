// Cancels at the venue, each carried to an end. A pending cancel (39=6, or a cancel saved but not
// yet sent) always ends in one of three ways:
//  - confirmed: the venue says canceled → 150=4;
//  - refused: the venue refuses it, or it could not be carried out → 35=9 with the venue's reason,
//    the order back to its live status (39 = that status);
//  - resumed: after a restart every order with a pending cancel is looked up and the cancel
//    settled as below (a crash between saving the cancel and calling the venue re-sends it).
// A cancel whose outcome is unknown (timeout, 5xx), or that the venue acknowledged but has not
// confirmed within cancelConfirmCheckMs, is settled by querying the order: canceled → confirmed;
// still pending cancel at the venue → checked again later; still live (new / partially filled) →
// the cancel is re-sent, up to MAX_CANCEL_REQUESTS venue requests in all, then refused. Re-sending
// rather than refusing at once: the client asked for a cancel, a cancel request is idempotent at
// the venue (a second one for a canceled order is "not found" / "too late", which a query
// settles), and a lost request is the common cause of a live order. The limit keeps a venue that
// acknowledges cancels without doing them from being asked forever; the client then hears the
// truth (35=9, order live) and may send a new cancel.
import type { Logger } from 'pino';
import { OrderEvent, OrderNotFound, OrderRejected, OutcomeUnknown, RateLimited, VenueAdapter, VenueError } from '../venues/venue';
import { FileOrderBook } from './file-order-book';
import { GatewayOrder, isTerminal } from './order';
import { cancelRejected, venueRejectText } from './order-state';
import { OrderUpdater } from './order-updater';
import { orderRefFor } from './order-validation';
import { ReportCommitter } from './report-committer';
import { QUERY_BACKOFF, Scheduler } from './scheduler';

/** Venue cancel requests made for one pending cancel before it is refused as not carried out. */
export const MAX_CANCEL_REQUESTS = 3;

const STATUS_WORD: Record<string, string> = { new: 'new', partially_filled: 'partially filled', pending_new: 'pending new' };

export class OrderCanceller {
  /** Venue cancel requests made per order's pending cancel (by the order's ClOrdID). */
  private readonly requests = new Map<string, number>();
  private readonly settling = new Set<string>();
  /** Cancels waiting for the create's outcome (the venue has not acknowledged the order yet). */
  private readonly heldForCreate = new Set<string>();
  /** Cancels the venue could not take yet (not_yet_cancelable), sent again once it acknowledges the order. */
  private readonly heldForAck = new Set<string>();

  constructor(
    private readonly venue: VenueAdapter,
    private readonly book: FileOrderBook,
    private readonly committer: ReportCommitter,
    private readonly updater: OrderUpdater,
    private readonly scheduler: Scheduler,
    private readonly logger: Logger,
    private readonly cancelConfirmCheckMs: number,
  ) {
    committer.onChange((o) => this.onOrderChanged(o));
  }

  /** At start-up, once the venue is up: every pending cancel is settled (sent again if never carried out). */
  resumePendingCancels(): void {
    for (const o of this.book.openOrders()) {
      if (!o.pendingCancel) continue;
      if (this.createOutcomeKnown(o)) this.settle(o.clOrdId);
      else this.heldForCreate.add(o.clOrdId);
    }
  }

  /**
   * Sends the cancel saved on `order` (beginCancel) to the venue and follows it to its end. A cancel
   * of an order the venue has not acknowledged is held until the create's outcome is known: sent
   * at once it could overtake the create (another keep-alive socket) and come back "not found",
   * which would be reported as too late while the order then goes live.
   */
  async send(order: GatewayOrder): Promise<void> {
    const clOrdId = order.clOrdId;
    if (!this.createOutcomeKnown(order)) {
      this.heldForCreate.add(clOrdId);
      return;
    }
    this.requests.set(clOrdId, (this.requests.get(clOrdId) ?? 0) + 1);
    const ref = orderRefFor(order);
    const time = Date.now();
    const base = { clientOrderId: order.wireClientOrderId ?? '', venueOrderId: order.venueOrderId ?? '', time, source: 'rest' as const };
    try {
      const result = await this.venue.cancelOrder(ref);
      const event: OrderEvent =
        result.status === 'canceled'
          ? { ...base, kind: 'canceled', rawStatus: result.order?.rawStatus ?? 'CANCELED' }
          : { ...base, kind: 'pending_cancel', rawStatus: result.order?.rawStatus ?? 'PENDING_CANCEL' };
      if (result.order) await this.updater.refreshIfExecutedDiffers(clOrdId, result.order.filledQty);
      await this.updater.applyEvent(clOrdId, event);
      if (result.status === 'pending_cancel') this.settleLater(clOrdId);
      else this.requests.delete(clOrdId);
    } catch (err) {
      const current = this.committer.current(clOrdId) ?? order;
      if (err instanceof OutcomeUnknown || !(err instanceof VenueError)) {
        // Keep 39=6 and find out what happened.
        await this.updater.applyEvent(clOrdId, { ...base, kind: 'pending_cancel', rawStatus: 'UNKNOWN' });
        this.settle(clOrdId);
        return;
      }
      if (err instanceof OrderRejected && err.reason === 'not_yet_cancelable' && (this.requests.get(clOrdId) ?? 0) < MAX_CANCEL_REQUESTS) {
        // The venue is still taking the order in: ask again once it acknowledges it (or after
        // cancelConfirmCheckMs when it already has), within the usual request limit.
        this.logger.info({ clOrdId, err: err.message }, 'venue cannot cancel the order yet; sending the cancel again once it is acknowledged');
        if (!current.acked) {
          this.heldForAck.add(clOrdId);
          // An order that stays pending (the venue never acknowledges it) must not hold the cancel
          // for good: ask again after the usual interval, so the request limit ends it (35=9 102=3).
          this.scheduler.later(
            'cancel of an order still pending',
            async () => {
              if (this.heldForAck.delete(clOrdId)) await this.resend(clOrdId);
            },
            this.cancelConfirmCheckMs,
          );
        } else this.scheduler.later('cancel not yet possible', () => this.resend(clOrdId), this.cancelConfirmCheckMs);
        return;
      }
      this.requests.delete(clOrdId);
      let reason: '0' | '1' | '2' | '3' = '0';
      if (err instanceof OrderRejected && err.reason === 'unsupported') reason = '2';
      // Still not cancelable after every request: the order is in a state that refuses cancels
      // for now (3), not done (0 would tell the client it is too late, and it is not).
      if (err instanceof OrderRejected && (err.reason === 'already_pending_cancel' || err.reason === 'not_yet_cancelable')) reason = '3';
      // Only the venue's own answer about the order can say it is too late; an error that is
      // not one (no link, rate limit, …) means the cancel was not carried out, the order lives on.
      if (err instanceof RateLimited || !(err instanceof OrderRejected || err instanceof OrderNotFound)) reason = '2';
      const text = venueRejectText(err.code, err.venueText ?? err.message);
      await this.committer.commit(cancelRejected(current, reason, text, Date.now()));
      // The venue no longer has it open: bring our view up to date (fills before the cancel).
      if (err instanceof OrderNotFound || (err instanceof OrderRejected && err.reason === 'too_late')) await this.updater.refreshOrder(clOrdId, false);
    }
  }

  /** The venue has told us its id for the order, or the order has ended. */
  private createOutcomeKnown(order: GatewayOrder): boolean {
    return order.venueOrderId !== undefined || isTerminal(order);
  }

  /** Sends the order's pending cancel again, if it still has one. */
  private async resend(clOrdId: string): Promise<void> {
    const order = this.committer.current(clOrdId);
    if (order?.pendingCancel && !isTerminal(order)) await this.send(order);
    else this.requests.delete(clOrdId);
  }

  private onOrderChanged(order: GatewayOrder): void {
    if (this.heldForAck.has(order.clOrdId) && (order.acked || isTerminal(order))) {
      this.heldForAck.delete(order.clOrdId);
      this.scheduler.run('cancel after acknowledgement', () => this.resend(order.clOrdId));
    }
    if (!this.heldForCreate.has(order.clOrdId) || !this.createOutcomeKnown(order)) return;
    // An earlier period's order with the same ClOrdID is not the one whose cancel is held.
    if (this.committer.current(order.clOrdId)?.venueClientOrderId !== order.venueClientOrderId) return;
    this.heldForCreate.delete(order.clOrdId);
    // Ended meanwhile: the state machine has already answered the cancel (35=9, too late).
    if (order.pendingCancel && !isTerminal(order)) this.scheduler.run('held cancel', () => this.send(order));
  }

  private settleLater(clOrdId: string): void {
    this.scheduler.later('cancel confirmation check', () => this.settle(clOrdId), this.cancelConfirmCheckMs);
  }

  /** Queries the order (with back-off until the venue answers) and ends its pending cancel if it can. */
  private settle(clOrdId: string): void {
    if (this.settling.has(clOrdId)) return;
    this.settling.add(clOrdId);
    this.scheduler.run('pending cancel', async () => {
      let next: (() => Promise<void> | void) | undefined;
      try {
        await this.scheduler.retry(async () => {
          const order = this.committer.current(clOrdId);
          if (!order || !order.pendingCancel || isTerminal(order)) return 'done';
          let status: string;
          try {
            const snapshot = await this.venue.getOrder(orderRefFor(order));
            status = snapshot.status;
            await this.updater.applySnapshot(clOrdId, snapshot);
          } catch (err) {
            if (err instanceof OrderNotFound) {
              await this.refuse(clOrdId, '1', `Order not found at ${this.venue.name}`);
              return 'done';
            }
            this.logger.warn({ clOrdId, err: (err as Error).message }, 'order query for a pending cancel failed; retrying');
            return 'retry';
          }
          const after = this.committer.current(clOrdId);
          if (!after || !after.pendingCancel || isTerminal(after)) return 'done';
          if (status === 'pending_cancel') {
            next = () => this.settleLater(clOrdId);
            return 'done';
          }
          // The venue has the order live: the cancel did not happen (lost, or acknowledged and dropped).
          if ((this.requests.get(clOrdId) ?? 0) < MAX_CANCEL_REQUESTS) {
            this.logger.warn({ clOrdId, venueStatus: status }, 'cancel not carried out by the venue; sending it again');
            next = () => this.send(after);
            return 'done';
          }
          const n = this.requests.get(clOrdId) ?? 0;
          await this.refuse(clOrdId, '0', `Cancel not carried out by ${this.venue.name} after ${n} requests: order still ${STATUS_WORD[status] ?? status}`);
          return 'done';
        }, QUERY_BACKOFF);
      } finally {
        this.settling.delete(clOrdId);
      }
      if (next) await next();
    });
  }

  private async refuse(clOrdId: string, reason: '0' | '1' | '2', text: string): Promise<void> {
    this.requests.delete(clOrdId);
    const order = this.committer.current(clOrdId);
    if (order?.pendingCancel) await this.committer.commit(cancelRejected(order, reason, text, Date.now()));
  }
}
