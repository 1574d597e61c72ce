import { perSecondLimits } from '../../../src/venues/common/rate-limiter';
// DzengiAdapter against the Dzengi simulator over real HTTP on 127.0.0.1.

import Decimal from 'decimal.js';
import { DzengiAdapter } from '../../../src/venues/dzengi/dzengi-adapter';
import { startDzengiSimulator } from '../../../src/venues/dzengi/dzengi-simulator';
import { RunningSimulator } from '../../../src/venues/sim/simulator';
import { OrderEvent, OrderNotFound, OrderRejected, OutcomeUnknown, PlaceOrderRequest, StreamState } from '../../../src/venues/venue';

const KEY = 'dz-key';
const SECRET = 'dz-secret';

const limit = (over: Partial<PlaceOrderRequest> = {}): PlaceOrderRequest => ({
  clientOrderId: 'GW-7',
  symbol: 'BTC/USD',
  side: 'buy',
  type: 'limit',
  quantity: '1',
  price: '59000',
  timeInForce: 'GTC',
  ...over,
});

describe('DzengiAdapter over the simulator', () => {
  let sim: RunningSimulator;
  let adapter: DzengiAdapter;
  const states: StreamState[] = [];

  beforeAll(async () => {
    sim = await startDzengiSimulator({ credentials: [{ apiKey: KEY, apiSecret: SECRET }], rateLimits: { ordersPerSecond: 1000, queriesPerSecond: 1000 } });
    adapter = new DzengiAdapter({
      restUrl: sim.restUrl,
      wsUrl: sim.wsUrl,
      apiKey: KEY,
      apiSecret: SECRET,
      rateLimits: perSecondLimits({ ordersPerSecond: 1000, queriesPerSecond: 1000 }),
    });
    adapter.onStreamState((s) => states.push(s));
    await adapter.start();
  });
  afterAll(async () => {
    await adapter.stop();
    await sim.close();
  });
  afterEach(() => sim.faults.clear());

  it('starts: instruments under the venue spelling, published limits read, connected once', async () => {
    expect((await adapter.instruments()).map((i) => i.symbol)).toContain('BTC/USD');
    expect(adapter.publishedLimits).toEqual({ requestWeightPerMinute: 60_000, ordersPerSecond: 1000, ordersPerDay: 864000 });
    expect(states).toEqual(['connected']);
    expect(adapter.requestValidityMs).toBe(5000);
    expect(adapter.capabilities.timeInForce.market).toEqual(['FOK']);
  });

  it('keeps the venue order id as the handle: our client id only on the create reply', async () => {
    const placed = await adapter.placeOrder(limit());
    expect(placed).toMatchObject({ clientOrderId: 'GW-7', status: 'new', symbol: 'BTC/USD' });
    const open = (await adapter.openOrdersFor('BTC/USD')).find((o) => o.venueOrderId === placed.venueOrderId)!;
    expect(open.clientOrderId).toBe('');
    expect((await adapter.openOrders()).map((o) => o.venueOrderId)).toContain(placed.venueOrderId);
    // Without the venue id the order cannot be looked up: refused, never "not found".
    const noId = await adapter.getOrder({ clientOrderId: 'GW-7', symbol: 'BTC/USD' }).catch((e) => e);
    expect(noId).toBeInstanceOf(OrderRejected);
    expect(noId).not.toBeInstanceOf(OrderNotFound);
    expect(noId.reason).toBe('unsupported');
    await expect(adapter.cancelOrder({ clientOrderId: 'GW-7', symbol: 'BTC/USD' })).rejects.toMatchObject({ reason: 'unsupported' });
    const done = await adapter.cancelOrder({ clientOrderId: 'GW-7', venueOrderId: placed.venueOrderId, symbol: 'BTC/USD' });
    expect(done).toMatchObject({ status: 'canceled', order: { status: 'canceled' } });
    await expect(adapter.cancelOrder({ clientOrderId: 'GW-7', venueOrderId: placed.venueOrderId, symbol: 'BTC/USD' })).rejects.toMatchObject({
      reason: 'too_late',
    });
  });

  it('getOrder lists one fill per venue trade at its own price (external trades on a resting SELL)', async () => {
    const sell = await adapter.placeOrder(limit({ side: 'sell', price: '61000', quantity: '3' }));
    sim.engine.trade('BTC/USD', 'buy', '1', '61000');
    sim.engine.trade('BTC/USD', 'buy', '0.5', '61000');
    const o = await adapter.getOrder({ clientOrderId: 'GW-8', venueOrderId: sell.venueOrderId, symbol: 'BTC/USD' });
    expect(o).toMatchObject({ clientOrderId: 'GW-8', side: 'sell', status: 'partially_filled', filledQty: '1.5' });
    expect(o.fills!.map((f) => [f.qty, f.price])).toEqual([
      ['1.0', '61000'],
      ['0.5', '61000'],
    ]);
    const since = (await adapter.trades('BTC/USD', 0)).filter((t) => t.venueOrderId === sell.venueOrderId);
    expect(since.map((t) => t.fill.fillId)).toEqual(o.fills!.map((f) => f.fillId));
    await adapter.cancelOrder({ clientOrderId: 'GW-8', venueOrderId: sell.venueOrderId, symbol: 'BTC/USD' });
  });

  it('an order that executes at once comes back with its fills (ids and own prices) and exact average', async () => {
    const m = await adapter.placeOrder(limit({ type: 'market', price: undefined, timeInForce: 'FOK', quantity: '12' }));
    expect(m.status).toBe('filled');
    expect(m.fills!.map((f) => [f.qty, f.price])).toEqual([
      ['10.0', '60000.01'],
      ['2.0', '60000.02'],
    ]);
    const notional = m.fills!.reduce((s, f) => s.plus(new Decimal(f.qty).times(f.price)), new Decimal(0));
    expect(notional.div(12).toString()).toBe(m.avgPrice);
    await expect(adapter.cancelOrder({ clientOrderId: 'x', venueOrderId: m.venueOrderId, symbol: 'BTC/USD' })).rejects.toMatchObject({
      reason: 'unsupported',
    });
  });

  it('a 5xx after the create is an unknown outcome; the order is there to be found by content', async () => {
    sim.faults.arm({ kind: 'error5xxAfter', operation: 'create' });
    const err = await adapter.placeOrder(limit({ symbol: 'ETH/USD', price: '2500', quantity: '0.5' })).catch((e) => e);
    expect(err).toBeInstanceOf(OutcomeUnknown);
    const found = (await adapter.openOrdersFor('ETH/USD')).filter((o) => o.side === 'buy' && o.quantity === '0.5' && o.price === '2500');
    expect(found).toHaveLength(1);
    await adapter.cancelOrder({ clientOrderId: 'x', venueOrderId: found[0].venueOrderId, symbol: 'ETH/USD' });
  });

  it('recentOrders: open orders and executed ones (via myTrades) of the symbol since a time, with createdAt, for content matching', async () => {
    const since = Date.now() - 1000;
    const resting = await adapter.placeOrder(limit({ symbol: 'ETH/USD', price: '2400', quantity: '0.25' }));
    const market = await adapter.placeOrder(limit({ symbol: 'ETH/USD', type: 'market', price: undefined, timeInForce: 'FOK', quantity: '0.1' }));
    expect(market.status).toBe('filled');
    const recent = await adapter.recentOrders('ETH/USD', since);
    const ids = recent.map((o) => o.venueOrderId);
    expect(ids).toEqual(expect.arrayContaining([resting.venueOrderId, market.venueOrderId]));
    for (const o of recent) expect(o.createdAt).toBeGreaterThanOrEqual(since);
    const m = recent.find((o) => o.venueOrderId === market.venueOrderId)!;
    expect(m).toMatchObject({ status: 'filled', side: 'buy', type: 'market', quantity: '0.1' });
    expect(m.fills!.length).toBeGreaterThan(0);
    // Nothing from before `since`.
    expect(await adapter.recentOrders('ETH/USD', Date.now() + 60_000)).toEqual([]);
    await adapter.cancelOrder({ venueOrderId: resting.venueOrderId, symbol: 'ETH/USD' });
  });

  it('polls the orders it is told are ours: a trade on a resting order becomes a snapshot event with that fill; unreachable → disconnected, then connected', async () => {
    const events: OrderEvent[] = [];
    adapter.onEvent((e) => events.push(e));
    const sell = await adapter.placeOrder(limit({ side: 'sell', price: '62000', quantity: '2' }));
    adapter.trackOrders([{ venueOrderId: sell.venueOrderId, symbol: 'BTC/USD' }]);
    sim.engine.trade('BTC/USD', 'buy', '0.5', '62000');
    const deadline = Date.now() + 5000;
    const filled = () => events.find((e) => e.kind === 'snapshot' && e.venueOrderId === sell.venueOrderId && e.order.filledQty === '0.5');
    while (!filled() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const e = filled()!;
    expect(e.kind === 'snapshot' && e.order.fills!.map((f) => [f.qty, f.price])).toEqual([['0.5', '62000']]);
    // The venue stops answering openOrders: the poller reports disconnected, then connected again.
    sim.faults.arm({ kind: 'error5xxBefore', operation: 'openOrders', count: 3 });
    while (!states.includes('disconnected') && Date.now() < deadline + 5000) await new Promise((r) => setTimeout(r, 50));
    expect(states).toContain('disconnected');
    while (states[states.length - 1] !== 'connected' && Date.now() < deadline + 10000) await new Promise((r) => setTimeout(r, 50));
    expect(states.slice(-2)).toEqual(['disconnected', 'connected']);
    await adapter.cancelOrder({ venueOrderId: sell.venueOrderId, symbol: 'BTC/USD' });
  });

  it('refuses a recvWindow the venue would refuse', () => {
    expect(() => new DzengiAdapter({ restUrl: sim.restUrl, wsUrl: sim.wsUrl, apiKey: KEY, apiSecret: SECRET }, undefined, { recvWindowMs: 60_001 })).toThrow(
      /recvWindow/,
    );
  });
});
