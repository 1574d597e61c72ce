// Orders whose outcome at the venue is not known: a create that may or may not have reached the
// venue (timeout, 5xx, dropped connection, a crash before the reply) and a cancel the venue has
// not confirmed. Both are settled through the venue's query path, with back-off.
import type { Logger } from 'pino';
import { OrderNotFound, VenueAdapter, VenueOrder } from '../venues/venue';
import { orderRefFor, venueOrderMatches } from './order-validation';
import { GatewayOrder, isTerminal } from './order';
import { rejectReport } from './order-state';
import { OrderUpdater } from './order-updater';
import { ReportCommitter } from './report-committer';
import { QUERY_BACKOFF, Scheduler } from './scheduler';

export interface OrderResolverOptions {
  /** How long an unknown create outcome is retried before the order is declared absent. */
  unknownOutcomeProofMs: number;
}

export class OrderResolver {
  private readonly resolving = new Set<string>();

  constructor(
    private readonly venue: VenueAdapter,
    private readonly committer: ReportCommitter,
    private readonly updater: OrderUpdater,
    private readonly scheduler: Scheduler,
    private readonly logger: Logger,
    private readonly opts: OrderResolverOptions,
  ) {}

  /**
   * The create may or may not have reached the venue: query it with back-off until it is found, or
   * until it has been absent for unknownOutcomeProofMs (only then is it rejected).
   */
  resolveUnknownCreate(order: GatewayOrder): void {
    if (this.resolving.has(order.clOrdId)) return;
    this.resolving.add(order.clOrdId);
    let firstAbsentAt: number | undefined;
    const step = async (): Promise<'done' | 'retry'> => {
      const current = this.committer.current(order.clOrdId);
      if (!current || current.venueOrderId || isTerminal(current)) return 'done';
      try {
        const snapshot = await this.venue.getOrder(orderRefFor(current));
        // Our id, but is it our order? Another session on the account could have used the same id.
        if (!venueOrderMatches(current, snapshot)) {
          await this.refuseCollision(current, snapshot);
          return 'done';
        }
        // Refused when that venue order is already another order's: as good as not found.
        if (await this.updater.applySnapshot(current.clOrdId, snapshot)) return 'done';
        throw new OrderNotFound(`venue order ${snapshot.venueOrderId} belongs to another order`);
      } catch (err) {
        if (err instanceof OrderNotFound) {
          firstAbsentAt ??= Date.now();
          if (Date.now() - firstAbsentAt >= this.opts.unknownOutcomeProofMs) {
            this.resolving.delete(order.clOrdId);
            const latest = this.committer.current(order.clOrdId) ?? current;
            if (!latest.venueOrderId && !isTerminal(latest)) {
              await this.committer.commit(rejectReport(latest, '0', `Order not found at ${this.venue.name} after unknown outcome`, Date.now()));
              if (this.venue.capabilities.cancelByClientOrderId) await this.cancelDefensively(order.clOrdId);
            }
            return 'done';
          }
        } else {
          firstAbsentAt = undefined;
          this.logger.warn({ clOrdId: order.clOrdId, err: (err as Error).message }, 'order query failed; retrying');
        }
        return 'retry';
      }
    };
    this.scheduler.run('unknown create outcome', async () => {
      try {
        await this.scheduler.retry(step, QUERY_BACKOFF);
      } finally {
        this.resolving.delete(order.clOrdId);
      }
    });
  }

  /**
   * After an order was rejected as absent, a create still on its way could land and leave a live
   * order nobody reports: cancel it by our client order id. "Not found" is the expected answer;
   * if the venue had it, its true state is applied (restated, then canceled) as an incident.
   */
  private async cancelDefensively(clOrdId: string): Promise<void> {
    const order = this.committer.current(clOrdId);
    if (!order) return;
    try {
      const result = await this.venue.cancelOrder({ ...orderRefFor(order), venueOrderId: undefined });
      if (result.order) await this.updater.applySnapshot(clOrdId, result.order);
      else await this.updater.refreshOrder(clOrdId, true);
    } catch (err) {
      if (err instanceof OrderNotFound) return;
      this.logger.warn({ clOrdId, venueClientOrderId: order.venueClientOrderId, err: (err as Error).message }, 'defensive cancel of an order rejected as absent failed');
    }
  }

  /** The venue has another order under our client order id: never adopted, the order is rejected. */
  private async refuseCollision(order: GatewayOrder, found: VenueOrder): Promise<void> {
    this.logger.error(
      {
        clOrdId: order.clOrdId,
        venueClientOrderId: order.venueClientOrderId,
        venueOrderId: found.venueOrderId,
        ours: { symbol: order.symbol, side: order.side, qty: order.orderQty, price: order.price },
        theirs: { symbol: found.symbol, side: found.side, qty: found.quantity, price: found.price },
      },
      'incident: venue client order id collision: the venue order under our id is not ours',
    );
    const text = `Venue client order id collision: ${this.venue.name} has another order (${found.venueOrderId}) under ${order.venueClientOrderId}`;
    await this.committer.commit(rejectReport(order, '0', text, Date.now()));
  }
}
