// Finding an order of unknown outcome by content, on venues without client order ids
// (capabilities.clientOrderId 'none'). Pure.
//
// A venue order is a candidate when it has our order's content (symbol, side, type, quantity, and
// price for a limit order), was created within the window in which our request could have
// executed (from the order's arrival, less clock skew, to absenceProofMs after the latest moment
// the request can have been sent, plus skew; an order may wait in its content lane or the rate
// limiter's queue long after it arrived), and is not
// already mapped to another of our orders. One candidate is the order; none means not found (yet);
// two or more mean we cannot tell, and the gateway never guesses. The gateway also never lets two
// orders of the same content be unresolved at once (OrderRouter's content lanes), so a candidate
// that is really our other order is always already mapped when this runs.
import { VenueOrder } from '../venues/venue';
import { GatewayOrder } from './order';
import { venueOrderMatches } from './order-validation';

/** Venue and gateway clocks may differ by this much; the creation window is widened by it on both sides. */
export const CONTENT_MATCH_CLOCK_SKEW_MS = 5_000;

export type ContentMatch = { kind: 'none' } | { kind: 'one'; order: VenueOrder } | { kind: 'ambiguous'; venueOrderIds: string[] };

export interface ContentMatchOptions {
  /** How long after our request it could still execute at the venue (capabilities.absenceProofMs). */
  windowMs: number;
  /** True when the venue order id is already another order's in our book. */
  isMapped(venueOrderId: string): boolean;
  /**
   * The latest time our request can have been sent (the create's failure, or a restart): the
   * window ends windowMs after it. Default: the order's arrival.
   */
  sentBy?: number;
  skewMs?: number;
}

/** The earliest venue creation time a candidate for `order` can have (what to ask recentOrders for). */
export function contentSearchStart(order: Pick<GatewayOrder, 'createdAt'>, skewMs = CONTENT_MATCH_CLOCK_SKEW_MS): number {
  return order.createdAt - skewMs;
}

export function matchByContent(
  order: Pick<GatewayOrder, 'symbol' | 'side' | 'ordType' | 'orderQty' | 'price' | 'createdAt'>,
  candidates: readonly VenueOrder[],
  opts: ContentMatchOptions,
): ContentMatch {
  const skew = opts.skewMs ?? CONTENT_MATCH_CLOCK_SKEW_MS;
  const from = order.createdAt - skew;
  const to = Math.max(order.createdAt, opts.sentBy ?? order.createdAt) + opts.windowMs + skew;
  const found = new Map<string, VenueOrder>();
  for (const c of candidates) {
    if (!c.venueOrderId || found.has(c.venueOrderId)) continue;
    const created = c.createdAt ?? c.updateTime;
    if (!(created >= from && created <= to)) continue;
    if (!venueOrderMatches(order as GatewayOrder, c)) continue;
    if (opts.isMapped(c.venueOrderId)) continue;
    found.set(c.venueOrderId, c);
  }
  if (found.size === 0) return { kind: 'none' };
  if (found.size === 1) return { kind: 'one', order: [...found.values()][0] };
  return { kind: 'ambiguous', venueOrderIds: [...found.keys()] };
}

/** Orders with this key have the same content: at most one of them may have an unknown outcome. */
export function contentKey(order: Pick<GatewayOrder, 'symbol' | 'side' | 'ordType' | 'orderQty' | 'price'>): string {
  return JSON.stringify([order.symbol, order.side, order.ordType, order.orderQty, order.price ?? null]);
}
