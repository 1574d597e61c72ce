// After the venue stream (re)connects: every open order is looked up, so whatever happened while we
// were not listening (fills, cancels, expiries) is reported, exactly once.
//
// Never stalls: each order is queried at most RECONCILE_QUERY_ATTEMPTS times per run (an order the
// venue cannot answer for is left for the next run and the others go on), and orders are in flight
// one run at a time: a reconnect during a run starts a run of the orders not in flight, it does not
// wait for (or fold into) the earlier one.
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
  /** ClOrdIDs being reconciled (by some run). */
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly venue: VenueAdapter,
    private readonly book: FileOrderBook,
    private readonly supervisor: VenueSupervisor,
    private readonly updater: OrderUpdater,
    private readonly logger: Logger,
  ) {}

  async reconcileOpenOrders(session: SessionHandle | undefined): Promise<void> {
    await this.supervisor.whenStarted();
    const ours = this.book.openOrders().filter((o) => (o.venueOrderId !== undefined || o.status !== 'A') && !this.inFlight.has(o.clOrdId));
    if (ours.length === 0) return;
    for (const o of ours) this.inFlight.add(o.clOrdId);
    let left = 0;
    try {
      const open = await this.venue.openOrders();
      const byVenueId = new Map(open.map((o) => [o.venueOrderId, o]));
      const byClientId = new Map(open.filter((o) => o.clientOrderId).map((o) => [o.clientOrderId, o]));
      for (const o of ours) {
        try {
          if (!(await this.reconcileOne(o, byVenueId, byClientId))) left += 1;
        } finally {
          this.inFlight.delete(o.clOrdId);
        }
      }
      session?.event(`Reconciled ${ours.length - left} open orders with ${this.venue.name}${left > 0 ? `; ${left} could not be queried (retried on the next reconnect)` : ''}`);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'reconciliation failed');
    } finally {
      for (const o of ours) this.inFlight.delete(o.clOrdId);
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
