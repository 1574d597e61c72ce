// What the venue says about an order, applied to it: stream events, snapshots (create replies,
// queries, open-order lists) and on-demand queries. Every change goes through the pure state
// machine (order-state.ts) and is committed with its reports (report-committer.ts).
import type { Logger } from 'pino';
import { OrderEvent, OrderNotFound, VenueAdapter, VenueOrder } from '../venues/venue';
import { FileOrderBook } from './file-order-book';
import { Dec } from './order';
import { Transition, applyVenueEvent, applyVenueSnapshot } from './order-state';
import { orderRefFor } from './order-validation';
import { ReportCommitter } from './report-committer';
import { QUERY_BACKOFF, Scheduler } from './scheduler';

/** Executions the venue counts but did not list: wait this long for the stream's fills before asking. */
const FILL_DETAIL_WAIT_MS = 1_000;

export class OrderUpdater {
  constructor(
    private readonly venue: VenueAdapter,
    private readonly book: FileOrderBook,
    private readonly committer: ReportCommitter,
    private readonly scheduler: Scheduler,
    private readonly logger: Logger,
  ) {}

  /** A stream (or poller) event: applied to the order it names, if it is ours. */
  onVenueEvent(event: OrderEvent): void {
    const order =
      this.book.byWireClientOrderId(event.clientOrderId) ?? (event.venueOrderId ? this.book.byVenueOrderId(event.venueOrderId) : undefined);
    if (!order) {
      this.logger.debug({ event }, 'event for an order of another session or unknown');
      return;
    }
    this.scheduler.run('applying a venue event', () => this.applyEvent(order.clOrdId, event));
  }

  async applyEvent(clOrdId: string, event: OrderEvent): Promise<void> {
    const order = this.committer.current(clOrdId);
    if (!order) return;
    const t = applyVenueEvent(order, event);
    await this.committer.commit(t);
    this.logIncident(t);
    if (t.fillsMissing) this.scheduler.run('fill query', () => this.refreshOrder(clOrdId, false));
  }

  async applySnapshot(clOrdId: string, snapshot: VenueOrder): Promise<void> {
    const order = this.committer.current(clOrdId);
    if (!order) return;
    const t = applyVenueSnapshot(order, snapshot);
    await this.committer.commit(t);
    this.logIncident(t);
    if (t.fillsMissing) {
      // The venue counts executions we could not report (a create reply says FILLED without
      // listing its trades; a trade list lags). They normally come on the stream with their own
      // prices: give it a moment, then ask, but only if they are still missing.
      this.scheduler.later(
        'fill detail query',
        async () => {
          const o = this.committer.current(clOrdId);
          if (o && new Dec(o.cumQty).lt(snapshot.filledQty)) await this.refreshOrder(clOrdId, true);
        },
        FILL_DETAIL_WAIT_MS,
      );
    }
  }

  private logIncident(t: Transition): void {
    if (t.incident === undefined) return;
    const o = t.order;
    this.logger.error({ clOrdId: o.clOrdId, venueClientOrderId: o.venueClientOrderId, venueOrderId: o.venueOrderId, status: o.status }, `incident: ${t.incident}`);
  }

  /**
   * The venue counts a different executed quantity than we reported (e.g. in a cancel reply, which
   * does not list the fills): query the order, so its fills are reported before what follows.
   */
  async refreshIfExecutedDiffers(clOrdId: string, venueFilledQty: string | undefined): Promise<void> {
    const order = this.committer.current(clOrdId);
    if (order && venueFilledQty !== undefined && venueFilledQty !== order.cumQty) await this.refreshOrder(clOrdId, false);
  }

  /** Query one order and apply what the venue says; with retry, until the venue answers. */
  async refreshOrder(clOrdId: string, retry: boolean): Promise<void> {
    await this.scheduler.retry(async () => {
      const order = this.committer.current(clOrdId);
      if (!order) return 'done';
      try {
        const snapshot = await this.venue.getOrder(orderRefFor(order));
        await this.applySnapshot(clOrdId, snapshot);
        return 'done';
      } catch (err) {
        if (!retry || err instanceof OrderNotFound) {
          this.logger.warn({ clOrdId, err: (err as Error).message }, 'order refresh failed');
          return 'done';
        }
        return 'retry';
      }
    }, QUERY_BACKOFF);
  }
}
