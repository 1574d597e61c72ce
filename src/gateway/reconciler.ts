// After the venue stream (re)connects: every open order is looked up, so whatever happened while we
// were not listening (fills, cancels, expiries) is reported, exactly once.
//
// Never stalls: each order is queried at most RECONCILE_QUERY_ATTEMPTS times per run (an order the
// venue cannot answer for is left for the next run and the others go on). Runs do not overlap; a
// reconnect during a run is followed by one more run once it ends, since the run under way may
// have read the venue before that reconnect's gap.
import type { Logger } from 'pino';
import { SessionHandle } from '../fix/application';
import { VenueAdapter, VenueOrder } from '../venues/venue';
import { FileOrderBook } from './file-order-book';
import { GatewayOrder } from './order';
import { OrderUpdater, sameDecimal } from './order-updater';
import { VenueSupervisor } from './venue-supervisor';

/** Queries of one order within one reconciliation before it is left for the next. */
export const RECONCILE_QUERY_ATTEMPTS = 3;

export class Reconciler {
  private running?: Promise<void>;
  /** A (re)connect came while a reconciliation was under way: run another once it ends. */
  private again = false;

  constructor(
    private readonly venue: VenueAdapter,
    private readonly book: FileOrderBook,
    private readonly supervisor: VenueSupervisor,
    private readonly updater: OrderUpdater,
    private readonly logger: Logger,
    /** Told after each reconciliation that reached the venue (admin metrics). */
    private readonly onReconciled: () => void = () => undefined,
  ) {}

  /**
   * One reconciliation at a time. A reconnect during one is followed by another once it ends: the
   * one under way may have read the venue before that reconnect's gap.
   */
  reconcileOpenOrders(session: SessionHandle | undefined): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.reconcileOnce(session);
        } while (this.again);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private async reconcileOnce(session: SessionHandle | undefined): Promise<void> {
    let left = 0;
    try {
      await this.supervisor.whenStarted();
      const ours = this.book.openOrders().filter((o) => o.venueOrderId !== undefined || o.status !== 'A');
      if (ours.length === 0) {
        this.onReconciled();
        return;
      }
      const open = await this.venue.openOrders();
      const byVenueId = new Map(open.map((o) => [o.venueOrderId, o]));
      const byClientId = new Map(open.filter((o) => o.clientOrderId).map((o) => [o.clientOrderId, o]));
      for (const o of ours) {
        if (!(await this.reconcileOne(o, byVenueId, byClientId))) left += 1;
      }
      session?.event(`Reconciled ${ours.length - left} open orders with ${this.venue.name}${left > 0 ? `; ${left} could not be queried (retried on the next reconnect)` : ''}`);
      this.onReconciled();
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'reconciliation failed');
    }
  }

  /** False when the venue could not be asked about the order. */
  private async reconcileOne(o: GatewayOrder, byVenueId: Map<string, VenueOrder>, byClientId: Map<string, VenueOrder>): Promise<boolean> {
    const snap = o.venueOrderId !== undefined ? byVenueId.get(o.venueOrderId) : o.wireClientOrderId ? byClientId.get(o.wireClientOrderId) : undefined;
    // Still open with what we reported: apply (fills are fetched by a query when it shows more executed).
    if (snap && sameDecimal(snap.filledQty, o.cumQty)) {
      await this.updater.applySnapshot(o.clOrdId, snap);
      return true;
    }
    return this.updater.refreshOrder(o.clOrdId, RECONCILE_QUERY_ATTEMPTS);
  }
}
