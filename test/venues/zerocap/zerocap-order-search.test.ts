// ZerocapAdapter.getOrder without a venue id, against a fake fetch_orders (in memory, paged by
// offset like the venue's, every request counted): with the gateway's time hint it reads only the
// window where the order can exist, oldest first, and lookups waiting at the same time share one
// scan. No sockets: the adapter is never started, its REST client's fetchOrders is replaced.

import { perSecondLimits } from '../../../src/venues/common/rate-limiter';
import { ZerocapAdapter, zerocapSearchWindow } from '../../../src/venues/zerocap/zerocap-adapter';
import { ZEROCAP_TIMESTAMP_WINDOW_MS } from '../../../src/venues/zerocap/zerocap-constants';
import type { ZerocapOrderFilter, ZerocapOrderPage } from '../../../src/venues/zerocap/zerocap-rest-client';
import { OrderNotFound, OutcomeUnknown, VenueOrder } from '../../../src/venues/venue';

const T0 = Date.UTC(2026, 11, 4, 10, 0, 0);

/** The venue's orders and a fetch_orders over them: filters as zerocap.md lists, offset pages. */
class FakeFetchOrders {
  readonly orders: VenueOrder[] = [];
  readonly requests: ZerocapOrderFilter[] = [];
  inFlight = 0;
  maxInFlight = 0;
  readonly inFlightBySymbol = new Map<string, number>();
  maxInFlightPerSymbol = 0;
  /** While set, requests wait for it. */
  gate: Promise<void> | undefined;
  /** Called as each request arrives, before it is answered (orders placed meanwhile). */
  onRequest: ((f: ZerocapOrderFilter) => void) | undefined;

  add(clientOrderId: string, symbol: string, createdAt: number): VenueOrder {
    const o: VenueOrder = {
      clientOrderId,
      venueOrderId: `v-${this.orders.length + 1}`,
      symbol,
      side: 'buy',
      type: 'limit',
      quantity: '1',
      price: '100',
      status: 'filled',
      rawStatus: 'closed',
      filledQty: '1',
      updateTime: createdAt,
      createdAt,
    };
    this.orders.push(o);
    return o;
  }

  async fetchOrders(f: ZerocapOrderFilter): Promise<ZerocapOrderPage> {
    this.requests.push(f);
    this.onRequest?.(f);
    const symbol = f.symbol ?? '';
    this.inFlight++;
    this.inFlightBySymbol.set(symbol, (this.inFlightBySymbol.get(symbol) ?? 0) + 1);
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.maxInFlightPerSymbol = Math.max(this.maxInFlightPerSymbol, this.inFlightBySymbol.get(symbol)!);
    try {
      await new Promise((r) => setImmediate(r));
      if (this.gate) await this.gate;
      const rows = this.orders
        .filter((o) => (f.symbol ? o.symbol === f.symbol : true))
        .filter((o) => !(f.start_datetime && o.createdAt! < f.start_datetime))
        .filter((o) => !(f.end_datetime && o.createdAt! > f.end_datetime))
        .sort((a, b) => a.createdAt! - b.createdAt!);
      if ((f.sort_order ?? 'desc') === 'desc') rows.reverse();
      const limit = f.limit ?? 500;
      const page = f.page ?? 1;
      return { orders: rows.slice((page - 1) * limit, page * limit), total: rows.length, page };
    } finally {
      this.inFlight--;
      this.inFlightBySymbol.set(symbol, this.inFlightBySymbol.get(symbol)! - 1);
    }
  }
}

let adapters: ZerocapAdapter[] = [];
afterEach(async () => {
  for (const a of adapters) await a.stop();
  adapters = [];
});

function adapterOver(fake: FakeFetchOrders, options: { searchPageLimit?: number; searchMaxPages?: number; now?: number } = {}): ZerocapAdapter {
  const a = new ZerocapAdapter(
    {
      restUrl: 'http://127.0.0.1:1/v2',
      wsUrl: 'ws://127.0.0.1:1/v2',
      apiKey: 'k',
      apiSecret: 's',
      rateLimits: perSecondLimits({ ordersPerSecond: 1000, queriesPerSecond: 1000, maxQueue: 1000 }),
    },
    undefined,
    { searchPageLimit: options.searchPageLimit, searchMaxPages: options.searchMaxPages, now: () => options.now ?? T0 + 120_000 },
  );
  a.rest.fetchOrders = (f) => fake.fetchOrders(f);
  adapters.push(a);
  return a;
}

describe('Zerocap search by client_order_id with the time hint', () => {
  test('reads only the window the order can exist in, oldest first: sent span widened by the ±30 s window and a margin', async () => {
    const fake = new FakeFetchOrders();
    const mine = fake.add('C-1', 'BTC/USD', T0 + 1_000);
    const a = adapterOver(fake);
    const found = await a.getOrder({ clientOrderId: 'C-1', symbol: 'BTC/USD', sentBetween: { from: T0, to: T0 + 5_000 } });
    expect(found.venueOrderId).toBe(mine.venueOrderId);
    expect(fake.requests).toHaveLength(1);
    const [r] = fake.requests;
    expect(r.sort_order).toBe('asc');
    expect(r.symbol).toBe('BTC/USD');
    // Starts before `from` by at least the venue's clock tolerance, ends after `to` by at least its validity window.
    expect(r.start_datetime).toBeLessThanOrEqual(T0 - ZEROCAP_TIMESTAMP_WINDOW_MS);
    expect(r.start_datetime).toBeGreaterThanOrEqual(T0 - 2 * ZEROCAP_TIMESTAMP_WINDOW_MS);
    expect(r.end_datetime).toBeGreaterThanOrEqual(T0 + 5_000 + ZEROCAP_TIMESTAMP_WINDOW_MS);
    expect(r.end_datetime).toBeLessThanOrEqual(T0 + 5_000 + 2 * ZEROCAP_TIMESTAMP_WINDOW_MS);
  });

  test('a day of other orders outside the window costs nothing: one page read, absence proven', async () => {
    const fake = new FakeFetchOrders();
    for (let i = 0; i < 3000; i++) fake.add(`old-${i}`, 'BTC/USD', T0 - 3_600_000 + i * 1000);
    const a = adapterOver(fake, { searchPageLimit: 500, searchMaxPages: 10 });
    await expect(a.getOrder({ clientOrderId: 'C-2', symbol: 'BTC/USD', sentBetween: { from: T0 + 60_000, to: T0 + 65_000 } })).rejects.toBeInstanceOf(OrderNotFound);
    expect(fake.requests).toHaveLength(1);
  });

  test('a scan cut off at its page cap proves absence only for windows that end before the last row read', async () => {
    const fake = new FakeFetchOrders();
    // 10 rows a second from T0; a scan reads 2 pages of 5, up to T0 + 900 ms.
    for (let i = 0; i < 400; i++) fake.add(`busy-${i}`, 'BTC/USD', T0 + i * 100);
    const a = adapterOver(fake, { searchPageLimit: 5, searchMaxPages: 2 });
    // Asked together, they share one scan of the union of their windows.
    const early = a.getOrder({ clientOrderId: 'gone', symbol: 'BTC/USD', sentBetween: { from: T0 - 45_000, to: T0 - 45_000 } });
    const late = a.getOrder({ clientOrderId: 'gone-too', symbol: 'BTC/USD', sentBetween: { from: T0 + 35_000, to: T0 + 36_000 } });
    const read = a.getOrder({ clientOrderId: 'busy-3', symbol: 'BTC/USD', sentBetween: { from: T0 + 35_000, to: T0 + 36_000 } });
    await expect(early).rejects.toBeInstanceOf(OrderNotFound);
    await expect(late).rejects.toBeInstanceOf(OutcomeUnknown);
    expect((await read).clientOrderId).toBe('busy-3');
    expect(fake.requests).toHaveLength(2);
  });

  test('a window too full for one scan is read across lookups, each resuming where the last stopped: absence is proven in the end, and no lookup starves', async () => {
    const fake = new FakeFetchOrders();
    for (let i = 0; i < 100; i++) fake.add(`busy-${i}`, 'BTC/USD', T0 + i * 100);
    const a = adapterOver(fake, { searchPageLimit: 5, searchMaxPages: 2 });
    const span = { from: T0 + 35_000, to: T0 + 35_000 };
    const outcomes: string[] = [];
    let found: string | undefined;
    for (let i = 0; i < 15 && !outcomes.includes('OrderNotFound'); i++) {
      const [absent, present] = await Promise.allSettled([
        a.getOrder({ clientOrderId: 'gone', symbol: 'BTC/USD', sentBetween: span }),
        a.getOrder({ clientOrderId: 'busy-95', symbol: 'BTC/USD', sentBetween: span }),
      ]);
      outcomes.push(absent.status === 'rejected' ? absent.reason.constructor.name : 'found');
      if (present.status === 'fulfilled') found ??= present.value.clientOrderId;
    }
    expect(outcomes.slice(0, -1).every((o) => o === 'OutcomeUnknown')).toBe(true);
    expect(outcomes.at(-1)).toBe('OrderNotFound');
    expect(found).toBe('busy-95');
    // 100 rows, 10 a scan: about ten scans, not fifteen.
    expect(outcomes.length).toBeLessThanOrEqual(12);
  });

  test('without the hint: as before, a day back, newest first', async () => {
    const fake = new FakeFetchOrders();
    fake.add('C-3', 'BTC/USD', T0);
    const a = adapterOver(fake);
    await a.getOrder({ clientOrderId: 'C-3', symbol: 'BTC/USD' });
    expect(fake.requests[0].sort_order).toBe('desc');
    expect(fake.requests[0].end_datetime).toBeUndefined();
  });

  test('newest first, an order placed between two page reads slides the last row read onto the next page: it is one order, found, not "2 orders carry"', async () => {
    const fake = new FakeFetchOrders();
    fake.add('X-0', 'BTC/USD', T0 + 1_000);
    const mine = fake.add('C-4', 'BTC/USD', T0 + 2_000);
    fake.add('X-1', 'BTC/USD', T0 + 3_000);
    fake.onRequest = (f) => {
      if (f.page === 2) fake.add('X-2', 'BTC/USD', T0 + 4_000);
    };
    const a = adapterOver(fake, { searchPageLimit: 2 });
    const found = await a.getOrder({ clientOrderId: 'C-4', symbol: 'BTC/USD' });
    expect(found.venueOrderId).toBe(mine.venueOrderId);
    expect(fake.requests.map((r) => r.page)).toEqual([1, 2]);
  });
});

describe('Zerocap lookups at the same time share scans', () => {
  test('a hundred lookups at once on one symbol: one scan, each answered for itself (found / not found)', async () => {
    const fake = new FakeFetchOrders();
    for (let i = 0; i < 50; i++) fake.add(`mine-${i}`, 'BTC/USD', T0 + i * 100);
    const a = adapterOver(fake);
    const present = Array.from({ length: 50 }, (_, i) => a.getOrder({ clientOrderId: `mine-${i}`, symbol: 'BTC/USD', sentBetween: { from: T0 + i * 100 - 50, to: T0 + i * 100 + 5000 } }));
    const absent = Array.from({ length: 50 }, (_, i) => a.getOrder({ clientOrderId: `absent-${i}`, symbol: 'BTC/USD', sentBetween: { from: T0 + i * 100, to: T0 + i * 100 + 5000 } }));
    const found = await Promise.all(present);
    expect(found.map((o) => o.clientOrderId)).toEqual(Array.from({ length: 50 }, (_, i) => `mine-${i}`));
    const missing = await Promise.allSettled(absent);
    expect(missing.every((r) => r.status === 'rejected' && r.reason instanceof OrderNotFound)).toBe(true);
    expect(fake.requests).toHaveLength(1);
  });

  test('lookups arriving during a scan wait for it and share the next: one scan per symbol at a time, two at most in all', async () => {
    const fake = new FakeFetchOrders();
    const symbols = ['BTC/USD', 'ETH/USD', 'USDT/AUD', 'SOL/USD'];
    for (const s of symbols) for (let i = 0; i < 30; i++) fake.add(`${s}-${i}`, s, T0 + i * 100);
    const a = adapterOver(fake);
    let release!: () => void;
    fake.gate = new Promise<void>((r) => (release = r));
    const first = a.getOrder({ clientOrderId: 'BTC/USD-0', symbol: 'BTC/USD', sentBetween: { from: T0, to: T0 + 5000 } });
    while (fake.requests.length < 1) await new Promise((r) => setImmediate(r));
    const rest = symbols.flatMap((s) =>
      Array.from({ length: 30 }, (_, i) => a.getOrder({ clientOrderId: `${s}-${i}`, symbol: s, sentBetween: { from: T0 + i * 100, to: T0 + i * 100 + 5000 } })),
    );
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(fake.inFlight).toBeLessThanOrEqual(2);
    fake.gate = undefined;
    release();
    expect((await first).clientOrderId).toBe('BTC/USD-0');
    expect((await Promise.all(rest)).length).toBe(120);
    // The held scan, then one per symbol.
    expect(fake.requests).toHaveLength(1 + symbols.length);
    expect(fake.maxInFlightPerSymbol).toBe(1);
    expect(fake.maxInFlight).toBeLessThanOrEqual(2);
  });

  test('a scan that fails answers every lookup it served with the failure, never "not found"', async () => {
    const fake = new FakeFetchOrders();
    const a = adapterOver(fake);
    a.rest.fetchOrders = (f) => {
      fake.requests.push(f);
      return Promise.reject(new OutcomeUnknown('Zerocap request timed out after 5000 ms: outcome unknown'));
    };
    const all = await Promise.allSettled(
      Array.from({ length: 3 }, (_, i) => a.getOrder({ clientOrderId: `f-${i}`, symbol: 'BTC/USD', sentBetween: { from: T0, to: T0 + 5000 } })),
    );
    expect(all.map((r) => (r.status === 'rejected' ? r.reason.constructor.name : 'found'))).toEqual(['OutcomeUnknown', 'OutcomeUnknown', 'OutcomeUnknown']);
    expect(fake.requests).toHaveLength(1);
  });
});

describe('zerocapSearchWindow: the send span in venue time', () => {
  const slack = ZEROCAP_TIMESTAMP_WINDOW_MS + 5_000;
  it('without a measured offset: our send span ± the 30 s window and the margin', () => {
    expect(zerocapSearchWindow({ from: 1_000_000, to: 1_002_000 })).toEqual({ from: 1_000_000 - slack, to: 1_002_000 + slack });
  });
  it('shifted by every offset signed with: the lowest widens the start, the highest the end', () => {
    expect(zerocapSearchWindow({ from: 1_000_000, to: 1_002_000 }, { lowest: -40_000, highest: 90_000 })).toEqual({
      from: 1_000_000 - 40_000 - slack,
      to: 1_002_000 + 90_000 + slack,
    });
  });
});
