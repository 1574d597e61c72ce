// Orders whose outcome at the venue is not known: a create that may or may not have reached the
// venue (timeout, 5xx, dropped connection, a crash before the reply) and a cancel the venue has
// not confirmed. Both are settled through the venue's query path, with back-off.
import type { Logger } from 'pino';
import { OrderNotFound, VenueAdapter, VenueOrder } from '../venues/venue';
import { contentSearchStart, matchByContent } from './content-match';
import { FileOrderBook } from './file-order-book';
import { orderRefFor, venueOrderMatches } from './order-validation';
import { GatewayOrder, isTerminal } from './order';
import { rejectReport } from './order-state';
import { OrderUpdater } from './order-updater';
import { ReportCommitter } from './report-committer';
import { QUERY_BACKOFF, Scheduler } from './scheduler';

export interface OrderResolverOptions {
  /** How long an unknown create outcome is retried before the order is declared absent. */
  unknownOutcomeProofMs: number;
  /** A line for the FIX session's event log (why an order stays pending). */
  sessionEvent?(text: string): void;
  /** The outcome is known: the venue has the order, or it was proven absent (and rejected). */
  onResolved?(outcome: 'found' | 'absent'): void;
}

export class OrderResolver {
  private readonly resolving = new Set<string>();
  /** The last ambiguity told to the session, per order (said once, not per query). */
  private readonly ambiguityReported = new Map<string, string>();

  constructor(
    private readonly venue: VenueAdapter,
    private readonly book: FileOrderBook,
    private readonly committer: ReportCommitter,
    private readonly updater: OrderUpdater,
    private readonly scheduler: Scheduler,
    private readonly logger: Logger,
    private readonly opts: OrderResolverOptions,
  ) {}

  /**
   * The create may or may not have reached the venue: query it with back-off until it is found, or
   * until it has been absent for unknownOutcomeProofMs (only then is it rejected). Called when the
   * create failed (or at a restart), so any request for the order was sent before now.
   */
  resolveUnknownCreate(order: GatewayOrder): void {
    if (this.resolving.has(order.clOrdId)) return;
    const sentBy = Date.now();
    this.resolving.add(order.clOrdId);
    let firstAbsentAt: number | undefined;
    const step = async (): Promise<'done' | 'retry'> => {
      const current = this.committer.current(order.clOrdId);
      // Found but still pending_new (a venue that accepts in two steps): followed until the venue
      // has decided, as the push saying so may be lost like the create reply was.
      if (!current || isTerminal(current) || (current.venueOrderId && current.acked)) return 'done';
      try {
        // Any request for the order was sent after it arrived (createdAt) and before sentBy: a venue
        // that searches by time need only look around that span.
        const snapshot =
          this.venue.capabilities.clientOrderId.kind === 'none'
            ? await this.findByContent(current, sentBy)
            : await this.venue.getOrder({ ...orderRefFor(current), sentBetween: { from: current.createdAt, to: sentBy } });
        if (snapshot === undefined) {
          // Several candidates: something is there, so no proof of absence runs; wait until one is proven.
          firstAbsentAt = undefined;
          return 'retry';
        }
        // Our id, but is it our order? Another session on the account could have used the same id.
        if (!venueOrderMatches(current, snapshot)) {
          // The order as it is now: the stream may have resolved it while the query was out (its
          // ack, its fills); a reject built from the state before the query would undo them.
          const latest = this.committer.current(order.clOrdId);
          if (!latest || isTerminal(latest) || (latest.venueOrderId && latest.acked)) return 'done';
          await this.refuseCollision(latest, snapshot);
          return 'done';
        }
        // Refused when that venue order is already another order's: as good as not found.
        if (await this.updater.applySnapshot(current.clOrdId, snapshot)) return snapshot.status === 'pending_new' ? 'retry' : 'done';
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
        if (await this.scheduler.retry(step, QUERY_BACKOFF)) this.opts.onResolved?.(this.committer.current(order.clOrdId)?.venueOrderId !== undefined ? 'found' : 'absent');
      } finally {
        this.resolving.delete(order.clOrdId);
        this.ambiguityReported.delete(order.clOrdId);
      }
    });
  }

  /**
   * The venue has no client order id: the order is looked for by content among the venue's recent
   * orders (content-match.ts). Not found → OrderNotFound (the proof clock runs); several candidates
   * → undefined: the order stays 150=A, the session's event log says why, and it is looked for
   * again until exactly one remains.
   */
  private async findByContent(order: GatewayOrder, sentBy: number): Promise<VenueOrder | undefined> {
    if (!this.venue.recentOrders) throw new Error(`${this.venue.name} has no client order ids but no recentOrders to find an order by content`);
    const recent = await this.venue.recentOrders(order.symbol, contentSearchStart(order));
    const match = matchByContent(order, recent, {
      windowMs: this.opts.unknownOutcomeProofMs,
      sentBy,
      isMapped: (id) => {
        const holder = this.book.byVenueOrderId(id);
        if (holder === undefined) return this.book.venueOrderIdEvicted(id);
        return holder.venueClientOrderId !== order.venueClientOrderId;
      },
    });
    if (match.kind === 'one') return match.order;
    if (match.kind === 'none') throw new OrderNotFound(`no ${this.venue.name} order with the content of ${order.clOrdId}`);
    const why = `Order ${order.clOrdId} stays pending: ${match.venueOrderIds.length} ${this.venue.name} orders (${match.venueOrderIds.join(', ')}) match its content after an unknown outcome; waiting until one is proven`;
    if (this.ambiguityReported.get(order.clOrdId) !== why) {
      this.ambiguityReported.set(order.clOrdId, why);
      this.opts.sessionEvent?.(why);
      this.logger.warn({ clOrdId: order.clOrdId, candidates: match.venueOrderIds }, 'several venue orders match by content; not guessing');
    }
    return undefined;
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
