// The venue-neutral order poller with a fake venue and a fake clock: snapshot events (one fill per
// venue trade), idle without orders, passes that never overlap, the weight budget, 429 back-off,
// and connected/disconnected as a stream would report them.
import { OrderPoller, PolledVenue } from '../../../src/venues/common/order-poller';
import { OrderEvent, OrderRef, OutcomeUnknown, RateLimited, StreamState, VenueOrder } from '../../../src/venues/venue';

class FakePolled implements PolledVenue {
  orders = new Map<string, VenueOrder>();
  calls: string[] = [];
  failNext?: Error;
  gate?: Promise<void>;
  async openOrders(symbol: string): Promise<VenueOrder[]> {
    this.calls.push(`open ${symbol}`);
    if (this.gate) await this.gate;
    if (this.failNext) {
      const e = this.failNext;
      this.failNext = undefined;
      throw e;
    }
    return [...this.orders.values()].filter((o) => o.symbol === symbol && !['filled', 'canceled', 'expired', 'rejected'].includes(o.status)).map((o) => ({ ...o }));
  }
  async getOrder(ref: OrderRef): Promise<VenueOrder> {
    this.calls.push(`get ${ref.venueOrderId}`);
    return { ...this.orders.get(ref.venueOrderId!)! };
  }
  weightOf(call: 'openOrders' | 'getOrder'): number {
    return call === 'openOrders' ? 5 : 1;
  }
}

const order = (id: string, over: Partial<VenueOrder> = {}): VenueOrder => ({
  clientOrderId: '', venueOrderId: id, symbol: 'BTC/USD', side: 'buy', type: 'limit', quantity: '1', price: '100', status: 'new', rawStatus: 'NEW', filledQty: '0', updateTime: 1, fills: [], ...over,
});

function setup(weightPerMinute = 1000) {
  let now = 1_000_000;
  const venue = new FakePolled();
  const poller = new OrderPoller(venue, { weightPerMinute, now: () => now, intervalMs: 20, backoff: { initialMs: 20, maxMs: 40, jitter: 0 } });
  const events: OrderEvent[] = [];
  const states: StreamState[] = [];
  poller.onEvent((e) => events.push(e));
  poller.onState((s) => states.push(s));
  return { venue, poller, events, states, advance: (ms: number) => (now += ms) };
}

test('followed orders become snapshot events with one fill per venue trade; unchanged orders are not queried again; terminal ones are dropped', async () => {
  const { venue, poller, events } = setup();
  venue.orders.set('A', order('A'));
  poller.track([{ venueOrderId: 'A', symbol: 'BTC/USD' }, { clientOrderId: 'x', symbol: 'BTC/USD' }]);
  expect(poller.following).toEqual(['A']);
  await poller.pollOnce();
  expect(events.map((e) => e.kind)).toEqual(['snapshot']);
  await poller.pollOnce();
  expect(venue.calls.filter((c) => c.startsWith('get'))).toHaveLength(1);
  venue.orders.set('A', order('A', { status: 'filled', filledQty: '1', fills: [{ fillId: 't1', qty: '0.4', price: '99', time: 2 }, { fillId: 't2', qty: '0.6', price: '100', time: 3 }] }));
  await poller.pollOnce();
  const last = events[events.length - 1];
  expect(last.kind === 'snapshot' && last.order.fills!.map((f) => [f.fillId, f.price])).toEqual([['t1', '99'], ['t2', '100']]);
  expect(poller.following).toEqual([]);
});

test('a pass never overlaps another; a poller with no orders makes no calls', async () => {
  const { venue, poller } = setup();
  await poller.pollOnce();
  expect(venue.calls).toEqual([]);
  venue.orders.set('A', order('A'));
  poller.track([{ venueOrderId: 'A', symbol: 'BTC/USD' }]);
  let open!: () => void;
  venue.gate = new Promise((r) => (open = r));
  const p1 = poller.pollOnce();
  const p2 = poller.pollOnce();
  expect(p2).toBe(p1);
  open();
  await p1;
  expect(venue.calls.filter((c) => c.startsWith('open'))).toHaveLength(1);
});

test('stays inside the weight budget: a pass stops where the minute budget ends and resumes when it frees up', async () => {
  const { venue, poller, advance } = setup(12);
  for (const id of ['A', 'B']) venue.orders.set(id, order(id));
  poller.track([{ venueOrderId: 'A', symbol: 'BTC/USD' }, { venueOrderId: 'B', symbol: 'BTC/USD' }]);
  await poller.pollOnce(); // 5 + 1 + 1
  expect(poller.weightUsed).toBe(7);
  await poller.pollOnce(); // 5 more = 12; nothing changed
  expect(poller.weightUsed).toBe(12);
  await poller.pollOnce(); // no room: no call
  expect(venue.calls.filter((c) => c.startsWith('open'))).toHaveLength(2);
  advance(60_001);
  await poller.pollOnce();
  expect(venue.calls.filter((c) => c.startsWith('open'))).toHaveLength(3);
});

test('429 pauses polling for what the venue asks, without a state change', async () => {
  const { venue, poller, states, advance } = setup();
  venue.orders.set('A', order('A'));
  poller.track([{ venueOrderId: 'A', symbol: 'BTC/USD' }]);
  venue.failNext = new RateLimited('too many', 30_000);
  await poller.pollOnce();
  await poller.pollOnce();
  expect(venue.calls).toEqual(['open BTC/USD']);
  expect(states).toEqual([]);
  advance(30_000);
  await poller.pollOnce();
  expect(venue.calls.filter((c) => c.startsWith('open'))).toHaveLength(2);
});

test('unreachable venue → disconnected; reachable again → connected (the gateway reconciles)', async () => {
  const { venue, poller, states } = setup();
  venue.orders.set('A', order('A'));
  poller.track([{ venueOrderId: 'A', symbol: 'BTC/USD' }]);
  venue.failNext = new OutcomeUnknown('ECONNREFUSED');
  await poller.pollOnce();
  expect(states).toEqual(['disconnected']);
  await poller.pollOnce();
  expect(states).toEqual(['disconnected', 'connected']);
});

test('runs on its own while an order is followed (at least every interval) and idles when none is', async () => {
  const { venue, poller } = setup();
  venue.orders.set('A', order('A'));
  poller.start();
  await new Promise((r) => setTimeout(r, 60));
  expect(venue.calls).toEqual([]);
  poller.track([{ venueOrderId: 'A', symbol: 'BTC/USD' }]);
  await new Promise((r) => setTimeout(r, 120));
  const passes = venue.calls.filter((c) => c.startsWith('open')).length;
  expect(passes).toBeGreaterThanOrEqual(3);
  venue.orders.set('A', order('A', { status: 'canceled', rawStatus: 'CANCELED' }));
  await new Promise((r) => setTimeout(r, 80));
  const after = venue.calls.length;
  await new Promise((r) => setTimeout(r, 80));
  expect(venue.calls.length).toBe(after);
  await poller.stop();
});

test('a budget too small for every symbol in one pass: the next pass goes on where this one stopped, so no symbol starves', async () => {
  // Room for one open-orders list (5) and one query (1) per minute: each pass reaches one symbol only.
  const { venue, poller, events, advance } = setup(6);
  venue.orders.set('A', order('A'));
  venue.orders.set('B', order('B', { symbol: 'ETH/USD' }));
  poller.track([{ venueOrderId: 'A', symbol: 'BTC/USD' }, { venueOrderId: 'B', symbol: 'ETH/USD' }]);
  for (let i = 0; i < 4; i++) {
    await poller.pollOnce();
    advance(60_001);
  }
  expect(venue.calls.filter((c) => c.startsWith('open'))).toEqual(['open BTC/USD', 'open ETH/USD', 'open BTC/USD', 'open ETH/USD']);
  expect(events.map((e) => e.venueOrderId).sort()).toEqual(['A', 'B']);
});
