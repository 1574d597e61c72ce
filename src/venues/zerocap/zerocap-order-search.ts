// Finding orders by client_order_id at Zerocap, which has no lookup by it: fetch_orders of the
// symbol over the time window where the order can exist, read oldest first. Lookups waiting at the
// same time for the same symbol share one scan of the union of their windows (after a burst of
// timeouts there are thousands of them, and one scan per lookup is what filled the socket pool):
// one scan in flight per symbol, at most `maxConcurrentScans` in all. No I/O of its own.
//
// Why oldest first: fetch_orders pages by offset, and new orders (the newest createdAt) join the
// end of an ascending list, so pages already read never shift under us; newest first, every
// order created during the scan would push rows onto the next page (read twice, or skipped).
// It also tells how far a scan cut off at its page cap got: every row older than the last one read
// has been read.

import { OrderNotFound, OutcomeUnknown, VenueOrder } from '../venue';
import type { ZerocapOrderFilter, ZerocapOrderPage } from './zerocap-rest-client';

/** The one request a scan needs (ZerocapRestClient.fetchOrders). */
export interface ZerocapOrderPages {
  fetchOrders(filter: ZerocapOrderFilter): Promise<ZerocapOrderPage>;
}

/** One lookup: the order under `clientOrderId` created at the venue within [from, to] (venue ms). */
export interface ZerocapWindowLookup {
  clientOrderId: string;
  symbol: string;
  from: number;
  to: number;
}

export interface ZerocapOrderSearchOptions {
  /** fetch_orders rows per page. */
  pageLimit: number;
  /** Pages one scan reads at most; a scan cut off there proves nothing absent past its last row. */
  maxPages: number;
  /** Scans in flight at once over all symbols (each reads its pages one after another). */
  maxConcurrentScans: number;
}

interface Waiter extends ZerocapWindowLookup {
  resolve(order: VenueOrder): void;
  reject(err: Error): void;
}

export class ZerocapOrderSearch {
  /** Lookups not yet taken by a scan, per symbol (insertion order = who waited longest). */
  private readonly waiting = new Map<string, Waiter[]>();
  private readonly scanning = new Set<string>();
  /**
   * Per client id: every row created before this was read without finding it (a scan cut off at
   * its cap). The next lookup of that id starts there, so a window too full for one scan is read
   * across lookups, and one such lookup cannot hold every later scan of its symbol at its start.
   * Sound because new orders get the venue's current time: none can appear before a row read.
   */
  private readonly readBefore = new Map<string, number>();
  private pumpScheduled = false;

  constructor(
    private readonly pages: ZerocapOrderPages,
    private readonly opts: ZerocapOrderSearchOptions,
  ) {}

  /**
   * The one order carrying the client id in its window. Rejects with OrderNotFound only when a
   * scan read the whole window without finding it; OutcomeUnknown when the scan stopped at its page
   * cap before the window's end or found two orders under the id; the request's error when a page
   * failed.
   */
  find(lookup: ZerocapWindowLookup): Promise<VenueOrder> {
    return new Promise<VenueOrder>((resolve, reject) => {
      let list = this.waiting.get(lookup.symbol);
      if (list === undefined) this.waiting.set(lookup.symbol, (list = []));
      list.push({ ...lookup, resolve, reject });
      this.schedulePump();
    });
  }

  /** Lookups made in the same turn (a burst of timeouts) join before a scan starts. */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Scans running, for tests and diagnostics. */
  get scansInFlight(): number {
    return this.scanning.size;
  }

  private pump(): void {
    for (const [symbol, waiters] of this.waiting) {
      if (this.scanning.size >= this.opts.maxConcurrentScans) return;
      if (this.scanning.has(symbol)) continue;
      this.waiting.delete(symbol);
      this.scanning.add(symbol);
      void this.scan(symbol, waiters).finally(() => {
        this.scanning.delete(symbol);
        this.pump();
      });
    }
  }

  private remember(clientOrderId: string, before: number): void {
    this.readBefore.delete(clientOrderId);
    this.readBefore.set(clientOrderId, before);
    if (this.readBefore.size > MAX_REMEMBERED) this.readBefore.delete(this.readBefore.keys().next().value as string);
  }

  private async scan(symbol: string, waiters: Waiter[]): Promise<void> {
    const startOf = (w: Waiter) => Math.max(w.from, this.readBefore.get(w.clientOrderId) ?? -Infinity);
    const start = Math.min(...waiters.map(startOf));
    const end = Math.max(...waiters.map((w) => w.to));
    const rows: VenueOrder[] = [];
    let complete = false;
    try {
      for (let page = 1; page <= this.opts.maxPages; page++) {
        const p = await this.pages.fetchOrders({ symbol, start_datetime: start, end_datetime: end, sort_order: 'asc', limit: this.opts.pageLimit, page });
        rows.push(...p.orders);
        if (p.orders.length < this.opts.pageLimit || rows.length >= p.total) {
          complete = true;
          break;
        }
      }
    } catch (err) {
      for (const w of waiters) w.reject(err as Error);
      return;
    }
    // Cut off: rows created before the last one read have all been read (see the header); rows
    // at its very millisecond may go on past the page.
    const last = rows.length > 0 ? createdAtOf(rows[rows.length - 1]) : start;
    const coveredBefore = complete ? Infinity : last;
    const byClientId = new Map<string, VenueOrder[]>();
    for (const o of rows) {
      if (!o.clientOrderId) continue;
      const l = byClientId.get(o.clientOrderId);
      if (l === undefined) byClientId.set(o.clientOrderId, [o]);
      else l.push(o);
    }
    for (const w of waiters) {
      const matches = byClientId.get(w.clientOrderId) ?? [];
      if (matches.length === 0 && w.to >= coveredBefore && last > startOf(w)) this.remember(w.clientOrderId, last);
      else this.readBefore.delete(w.clientOrderId);
      if (matches.length === 1) w.resolve(matches[0]);
      else if (matches.length > 1) {
        w.reject(new OutcomeUnknown(`Zerocap: ${matches.length} orders carry client_order_id ${w.clientOrderId} (${matches.map((o) => o.venueOrderId).join(', ')}): not guessing`));
      } else if (w.to < coveredBefore) {
        w.reject(new OrderNotFound(`Zerocap: no order with client_order_id ${w.clientOrderId} in fetch_orders of ${symbol} created ${iso(w.from)} .. ${iso(w.to)}`));
      } else {
        w.reject(
          new OutcomeUnknown(`Zerocap: no order with client_order_id ${w.clientOrderId} in the ${rows.length} oldest rows of its window, read up to ${iso(last)} of ${iso(w.to)} (more not read)`),
        );
      }
    }
  }
}

const MAX_REMEMBERED = 10_000;

function createdAtOf(o: VenueOrder): number {
  return o.createdAt ?? o.updateTime;
}

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}
