// After the venue stream (re)connects: every open order is looked up, so whatever happened while we
// were not listening (fills, cancels, expiries) is reported, exactly once.
import type { Logger } from 'pino';
import { SessionHandle } from '../fix/application';
import { VenueAdapter } from '../venues/venue';
import { FileOrderBook } from './file-order-book';
import { OrderUpdater } from './order-updater';
import { VenueSupervisor } from './venue-supervisor';

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
      do {
        this.again = false;
        await this.reconcileOnce(session);
      } while (this.again);
      this.running = undefined;
    })();
    return this.running;
  }

  private async reconcileOnce(session: SessionHandle | undefined): Promise<void> {
    try {
      await this.supervisor.whenStarted();
      const ours = this.book.openOrders().filter((o) => o.venueOrderId !== undefined || o.status !== 'A');
      if (ours.length === 0) return;
      const open = await this.venue.openOrders();
      const byId = new Map(open.map((o) => [o.clientOrderId, o]));
      for (const o of ours) {
        const snap = byId.get(o.venueClientOrderId);
        // Still open: apply (fills are fetched by refresh when the snapshot shows more executed).
        if (snap && snap.filledQty === o.cumQty) await this.updater.applySnapshot(o.clOrdId, snap);
        else await this.updater.refreshOrder(o.clOrdId, true);
      }
      session?.event(`Reconciled ${ours.length} open orders with ${this.venue.name}`);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'reconciliation failed');
    }
  }
}
