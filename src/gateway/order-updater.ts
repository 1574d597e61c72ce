// What the venue says about an order, applied to it: stream events, snapshots (create replies,
// queries, open-order lists) and on-demand queries. Every change goes through the pure state
// machine (order-state.ts) and is committed with its reports (report-committer.ts).
import type { Logger } from 'pino';
import { OrderEvent, OrderNotFound, VenueAdapter, VenueOrder } from '../venues/venue';
import { FileOrderBook } from './file-order-book';
import { Dec, GatewayOrder } from './order';
import { Transition, applyVenueEvent, applyVenueSnapshot } from './order-state';
import { orderRefFor } from './order-validation';
import { RecallGate } from './recall-gate';
import { ReportCommitter } from './report-committer';
import { QUERY_BACKOFF, Scheduler } from './scheduler';

/** Executions the venue counts but did not list: wait this long for the stream's fills before asking. */
const FILL_DETAIL_WAIT_MS = 1_000;
/** Orders whose last incident is remembered so that it is not logged again (a memory bound). */
const MAX_INCIDENTS_REMEMBERED = 10_000;
/**
 * Events for a venue order id no order of ours has yet (a push or poll that beats the create
 * reply) are kept this long, for at most this many venue ids, and applied when an order gets
 * that id; after that they are another session's (or nobody's) and dropped.
 */
const EARLY_EVENT_TTL_MS = 120_000;
const MAX_EARLY_VENUE_IDS = 1_000;

export class OrderUpdater {
  /** Events whose venue order id is not (yet) any order's, by that id (see EARLY_EVENT_TTL_MS). */
  private readonly early = new Map<string, { at: number; events: OrderEvent[] }>();
  private readonly gate: RecallGate;
  /** The last incident logged per order (venueClientOrderId), oldest first. */
  private readonly incidentsLogged = new Map<string, string>();

  constructor(
    private readonly venue: VenueAdapter,
    private readonly book: FileOrderBook,
    private readonly committer: ReportCommitter,
    private readonly scheduler: Scheduler,
    private readonly logger: Logger,
  ) {
    committer.onChange((o) => this.onOrderChanged(o));
    this.gate = new RecallGate(book, (err) => logger.error({ err: (err as Error)?.message ?? String(err) }, 'an evicted order could not be read back'));
  }

  /**
   * A stream (or poller) event: applied to the order it names, if it is ours. The venue order id
   * decides first (it is unique at the venue; client order ids may not be). Our client order id
   * names the order only while its venue id is unknown, or when the event carries none: an event
   * under our client id with another venue id is another order's. An event for a venue id nobody
   * has yet is kept until a create reply (or resolution) gives an order that id.
   */
  onVenueEvent(event: OrderEvent): void {
    // A late event for an order that has left memory brings it back first (in event order).
    void this.gate.run({ venueOrderId: event.venueOrderId, wireClientOrderId: event.clientOrderId }, () => this.routeEvent(event));
  }

  private routeEvent(event: OrderEvent): void {
    const order = this.orderFor(event);
    if (!order) {
      if (event.venueOrderId) this.keepEarly(event);
      else this.logger.debug({ event }, 'event for an order of another session or unknown');
      return;
    }
    // By the order's key: in a later session period its ClOrdID may name a newer order.
    const key = order.venueClientOrderId;
    this.scheduler.run('applying a venue event', () => this.applyEventTo(key, event));
  }

  private orderFor(event: OrderEvent): GatewayOrder | undefined {
    if (event.venueOrderId) {
      const byVenueId = this.book.byVenueOrderId(event.venueOrderId);
      if (byVenueId) return byVenueId;
    }
    const byClientId = this.book.byWireClientOrderId(event.clientOrderId);
    if (byClientId && (byClientId.venueOrderId === undefined || !event.venueOrderId)) return byClientId;
    return undefined;
  }

  private keepEarly(event: OrderEvent): void {
    const now = Date.now();
    for (const [id, e] of this.early) {
      if (now - e.at <= EARLY_EVENT_TTL_MS && this.early.size < MAX_EARLY_VENUE_IDS) break;
      this.early.delete(id);
    }
    const kept = this.early.get(event.venueOrderId);
    if (kept) kept.events.push(event);
    else this.early.set(event.venueOrderId, { at: now, events: [event] });
    this.logger.debug({ venueOrderId: event.venueOrderId, kind: event.kind }, 'event for a venue order id not known yet: kept');
  }

  /** An order got its venue id: the events that came first are applied now, in their order. */
  private onOrderChanged(order: GatewayOrder): void {
    if (order.venueOrderId === undefined || this.early.size === 0) return;
    const kept = this.early.get(order.venueOrderId);
    if (!kept) return;
    this.early.delete(order.venueOrderId);
    this.scheduler.run('applying early venue events', async () => {
      for (const e of kept.events) await this.applyEvent(order.clOrdId, e);
    });
  }

  /**
   * True when `venueOrderId` already belongs to another order of ours, or the order already has
   * another venue id: binding it would report one venue order's fills on two orders.
   */
  private bindsElsewhere(order: GatewayOrder, venueOrderId: string | undefined): boolean {
    if (!venueOrderId) return false;
    if (order.venueOrderId !== undefined && order.venueOrderId !== venueOrderId) return true;
    const holder = this.book.byVenueOrderId(venueOrderId);
    // An order that left memory holds it: another order (this one is in memory).
    if (holder === undefined) return this.book.venueOrderIdEvicted(venueOrderId);
    return holder.venueClientOrderId !== order.venueClientOrderId;
  }

  private refuseBinding(order: GatewayOrder, venueOrderId: string): void {
    const holder = this.book.byVenueOrderId(venueOrderId);
    this.logger.error(
      { clOrdId: order.clOrdId, venueOrderId, ownVenueOrderId: order.venueOrderId, heldBy: holder?.clOrdId },
      'incident: venue order already belongs to another order (or this order has another venue id): not applied',
    );
  }

  async applyEvent(clOrdId: string, event: OrderEvent): Promise<void> {
    const order = this.committer.current(clOrdId);
    if (order) await this.applyEventTo(order.venueClientOrderId, event);
  }

  private async applyEventTo(key: string, event: OrderEvent): Promise<void> {
    const order = this.committer.currentByKey(key);
    if (!order) return;
    if (this.bindsElsewhere(order, event.venueOrderId)) {
      this.refuseBinding(order, event.venueOrderId);
      return;
    }
    const t = applyVenueEvent(order, event);
    await this.committer.commit(t);
    this.logIncident(t);
    // A refresh finds the order by its ClOrdID, which an earlier period's order no longer has.
    const clOrdId = order.clOrdId;
    // Until the venue answers: a poller that emitted this event has recorded it as delivered and
    // will not emit it again, so a query refused now (a rate-limit pause, a ban) would lose the fills.
    if (t.fillsMissing && this.committer.current(clOrdId)?.venueClientOrderId === key) this.scheduler.run('fill query', async () => {
        await this.refreshOrder(clOrdId, true);
      });
  }

  /** Applies the venue's view of the order; false (nothing applied) when its venue id is another order's. */
  async applySnapshot(clOrdId: string, snapshot: VenueOrder): Promise<boolean> {
    const order = this.committer.current(clOrdId);
    if (!order) return false;
    if (this.bindsElsewhere(order, snapshot.venueOrderId)) {
      this.refuseBinding(order, snapshot.venueOrderId);
      return false;
    }
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
    return true;
  }

  private logIncident(t: Transition): void {
    if (t.incident === undefined) return;
    const o = t.order;
    // The same incident on every query of an order the venue keeps contradicting (a fill query
    // repeated each second) is said once; a different one, or another order's, is logged.
    if (this.incidentsLogged.get(o.venueClientOrderId) === t.incident) return;
    this.incidentsLogged.delete(o.venueClientOrderId);
    this.incidentsLogged.set(o.venueClientOrderId, t.incident);
    if (this.incidentsLogged.size > MAX_INCIDENTS_REMEMBERED) this.incidentsLogged.delete(this.incidentsLogged.keys().next().value!);
    this.logger.error({ clOrdId: o.clOrdId, venueClientOrderId: o.venueClientOrderId, venueOrderId: o.venueOrderId, status: o.status }, `incident: ${t.incident}`);
  }

  /**
   * The venue counts a different executed quantity than we reported (e.g. in a cancel reply, which
   * does not list the fills): query the order, so its fills are reported before what follows.
   */
  async refreshIfExecutedDiffers(clOrdId: string, venueFilledQty: string | undefined): Promise<void> {
    const order = this.committer.current(clOrdId);
    if (order && venueFilledQty !== undefined && !sameDecimal(venueFilledQty, order.cumQty)) await this.refreshOrder(clOrdId, false);
  }

  /**
   * Query one order and apply what the venue says; with retry (true: until the venue answers; a
   * number: at most that many queries), else once. Resolves true when the venue answered.
   */
  async refreshOrder(clOrdId: string, retry: boolean | number): Promise<boolean> {
    let attempts = 0;
    let answered = false;
    const limit = retry === true ? Infinity : retry === false ? 1 : Math.max(1, retry);
    await this.scheduler.retry(async () => {
      const order = this.committer.current(clOrdId);
      if (!order) return 'done';
      attempts += 1;
      try {
        const snapshot = await this.venue.getOrder(orderRefFor(order));
        await this.applySnapshot(clOrdId, snapshot);
        answered = true;
        return 'done';
      } catch (err) {
        if (attempts >= limit || err instanceof OrderNotFound) {
          this.logger.warn({ clOrdId, attempts, err: (err as Error).message }, 'order refresh failed');
          return 'done';
        }
        return 'retry';
      }
    }, QUERY_BACKOFF);
    return answered;
  }
}

/** Decimal equality of two venue/gateway decimal strings ("40.0" = "40"); false when either is not a number. */
export function sameDecimal(a: string, b: string): boolean {
  try {
    return new Dec(a).eq(new Dec(b));
  } catch {
    return false;
  }
}
