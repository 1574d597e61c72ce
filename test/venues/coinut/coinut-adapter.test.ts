import { perSecondLimits } from '../../../src/venues/common/rate-limiter';
// CoinutAdapter against the Coinut simulator over real WebSocket/HTTP on 127.0.0.1.

import http from 'node:http';
import { CoinutAdapter } from '../../../src/venues/coinut/coinut-adapter';
import { CoinutRunningSimulator, startCoinutSimulator } from '../../../src/venues/coinut/coinut-simulator';
import { OrderEvent, OrderNotFound, OrderRejected, OutcomeUnknown, PlaceOrderRequest, StreamState } from '../../../src/venues/venue';

const USER = 'desk1';
const KEY = 'c0ffee00-1111-2222-3333-444455556666';
const FAST = perSecondLimits({ ordersPerSecond: 100_000, queriesPerSecond: 100_000, maxQueue: 10_000 });

const limit = (over: Partial<PlaceOrderRequest> = {}): PlaceOrderRequest => ({
  clientOrderId: '1001',
  symbol: 'BTCUSDT',
  side: 'buy',
  type: 'limit',
  quantity: '0.5',
  price: '59000',
  timeInForce: 'GTC',
  ...over,
});

function control(sim: CoinutRunningSimulator, path: string, body: object): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(sim.restUrl + path, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`control ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const until = async (cond: () => boolean, ms = 3000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('CoinutAdapter over the simulator', () => {
  let sim: CoinutRunningSimulator;
  let adapter: CoinutAdapter;
  const events: OrderEvent[] = [];
  const states: StreamState[] = [];
  const make = () =>
    new CoinutAdapter(
      { restUrl: sim.restUrl, wsUrl: sim.wsUrl, apiKey: KEY, apiSecret: '', account: USER, rateLimits: FAST },
      undefined,
      { backoff: { initialMs: 20, maxMs: 100, factor: 2, jitter: 0 } },
    );

  beforeAll(async () => {
    sim = await startCoinutSimulator({ credentials: [{ apiKey: KEY, username: USER }] });
    adapter = make();
    adapter.onEvent((e) => events.push(e));
    adapter.onStreamState((s) => states.push(s));
    await adapter.start();
  });
  afterAll(async () => {
    await adapter.stop();
    await sim.close();
  });
  afterEach(() => sim.faults.clear());

  it('starts: logged in, instruments by name with inst_id, capabilities, id range and absence window', async () => {
    expect(states).toEqual(['connected']);
    expect(await adapter.instruments()).toContainEqual({ symbol: 'BTCUSDT', tickSize: '0.01', stepSize: '0.00000001' });
    expect(adapter.instId('BTCUSDT')).toBe(2);
    expect(adapter.capabilities.timeInForce).toEqual({ limit: ['GTC'], market: ['IOC'] });
    expect(adapter.clientOrderIdRange).toEqual({ min: 1, max: 16777215 });
    expect(adapter.unknownOutcomeAbsenceMs).toBe(10_000);
  });

  it('refuses credentials that cannot be Coinut\'s, and client order ids outside 1..16777215 before sending', async () => {
    expect(() => new CoinutAdapter({ restUrl: 'http://x', wsUrl: 'ws://x', apiKey: KEY, apiSecret: 'other' }, undefined)).toThrow(/VenueAccount/);
    expect(() => new CoinutAdapter({ restUrl: 'http://x', wsUrl: 'ws://x', apiKey: KEY, apiSecret: 'other', account: 'u' })).toThrow(/API key itself/);
    for (const id of ['GW-1', '0', '16777216']) {
      await expect(adapter.placeOrder(limit({ clientOrderId: id }))).rejects.toMatchObject({ reason: 'invalid_order' });
    }
    expect(sim.engine.allOrders()).toHaveLength(0);
    await expect(adapter.placeOrder(limit({ symbol: 'DOGEUSDT' }))).rejects.toMatchObject({ reason: 'unknown_symbol' });
  });

  it('rest → ack event, fills by another trader (one event each, own price, trans_id), getOrder from open orders + trades, cancel, too late', async () => {
    events.length = 0;
    const placed = await adapter.placeOrder(limit({ clientOrderId: '1001', quantity: '0.5', price: '59000' }));
    expect(placed).toMatchObject({ clientOrderId: '1001', status: 'new', filledQty: '0', symbol: 'BTCUSDT' });
    await until(() => events.some((e) => e.kind === 'acknowledged'));
    sim.engine.trade('BTCUSDT', 'sell', '0.1');
    sim.engine.trade('BTCUSDT', 'sell', '0.15');
    await until(() => events.filter((e) => e.kind === 'fill').length === 2);
    const fills = events.filter((e): e is Extract<OrderEvent, { kind: 'fill' }> => e.kind === 'fill');
    expect(fills.map((e) => [e.venueOrderId, e.fill.qty, e.fill.price, e.cumQty])).toEqual([
      [placed.venueOrderId, '0.1', '59000', '0.1'],
      [placed.venueOrderId, '0.15', '59000', '0.25'],
    ]);
    expect(fills[0].fill.feeAsset).toBe('BTC');
    const got = await adapter.getOrder({ clientOrderId: '1001', venueOrderId: placed.venueOrderId, symbol: 'BTCUSDT' });
    expect(got).toMatchObject({ status: 'partially_filled', filledQty: '0.25', avgPrice: '59000' });
    expect(got.fills!.map((f) => f.fillId)).toEqual(fills.map((e) => e.fill.fillId));
    expect(await adapter.cancelOrder({ clientOrderId: '1001', venueOrderId: placed.venueOrderId, symbol: 'BTCUSDT' })).toMatchObject({ status: 'canceled' });
    await expect(adapter.cancelOrder({ clientOrderId: '1001', venueOrderId: placed.venueOrderId, symbol: 'BTCUSDT' })).rejects.toMatchObject({
      reason: 'too_late',
    });
    // After the cancel: not open, traded 0.25 of 0.5 → canceled with its fills.
    const after = await adapter.getOrder({ clientOrderId: '1001', venueOrderId: placed.venueOrderId, symbol: 'BTCUSDT' });
    expect(after).toMatchObject({ status: 'canceled', filledQty: '0.25' });
  });

  it('a crossing order comes back filled with one fill per level at its own price; a market rest expires; venue rejects carry the reason', async () => {
    const f = await adapter.placeOrder(limit({ clientOrderId: '1002', quantity: '20', price: '60000.02' }));
    expect(f).toMatchObject({ status: 'filled', filledQty: '20', avgPrice: '60000.015' });
    expect(f.fills!.map((x) => [x.qty, x.price])).toEqual([
      ['10', '60000.01'],
      ['10', '60000.02'],
    ]);
    const m = await adapter.placeOrder(limit({ clientOrderId: '1003', type: 'market', price: undefined, timeInForce: 'IOC', quantity: '60', side: 'sell' }));
    expect(m).toMatchObject({ status: 'expired', filledQty: '50', type: 'market' });
    await control(sim, '/__sim/config', { balances: { USDT: '10' } });
    try {
      const err = await adapter.placeOrder(limit({ clientOrderId: '1004' })).catch((e) => e);
      expect(err).toBeInstanceOf(OrderRejected);
      expect(err).toMatchObject({ reason: 'insufficient_funds', code: 'NOT_ENOUGH_BALANCE' });
    } finally {
      await control(sim, '/__sim/config', { balances: {} });
    }
  });

  it('a WS dropped after the create → OutcomeUnknown; after the reconnect the order is found by its client id, exactly once', async () => {
    events.length = 0;
    await control(sim, '/__sim/faults', { kind: 'dropConnectionAfter', operation: 'create' });
    const err = await adapter.placeOrder(limit({ clientOrderId: '2001', price: '58000', quantity: '0.3' })).catch((e) => e);
    expect(err).toBeInstanceOf(OutcomeUnknown);
    await until(() => states.filter((s) => s === 'connected').length >= 2);
    expect(states.slice(-2)).toEqual(['disconnected', 'connected']);
    const found = await adapter.getOrder({ clientOrderId: '2001', symbol: 'BTCUSDT' });
    expect(found).toMatchObject({ clientOrderId: '2001', status: 'new', quantity: '0.3', price: '58000' });
    expect(sim.engine.allOrders().filter((o) => o.clientOrderId === '2001')).toHaveLength(1);
    // Its later fills are reported: the adapter knows it as its own now.
    sim.engine.trade('BTCUSDT', 'sell', '0.3');
    await until(() => events.some((e) => e.kind === 'fill' && e.venueOrderId === found.venueOrderId));
    // An order that never reached the venue is not found (absence is proven by the gateway's wait).
    await expect(adapter.getOrder({ clientOrderId: '2999', symbol: 'BTCUSDT' })).rejects.toBeInstanceOf(OrderNotFound);
  });

  it('queries are served over REST while the WS is down', async () => {
    await control(sim, '/__sim/config', { replyDelayMs: 0 });
    adapter.ws.drop('test');
    // Right after the drop the WS is down: getOrder still answers (REST POST /).
    const o = await adapter.getOrder({ clientOrderId: '2001', symbol: 'BTCUSDT' });
    expect(o.status).toBe('filled');
    await until(() => adapter.ws.connected);
  });

  it('another session on the same account: its events reach this connection but are not reported as ours', async () => {
    const other = make();
    const otherEvents: OrderEvent[] = [];
    other.onEvent((e) => otherEvents.push(e));
    await other.start();
    try {
      events.length = 0;
      const theirs = await other.placeOrder(limit({ clientOrderId: '3001', price: '57000' }));
      const mine = await adapter.placeOrder(limit({ clientOrderId: '3002', price: '56000' }));
      await until(() => otherEvents.some((e) => e.venueOrderId === theirs.venueOrderId));
      await new Promise((r) => setTimeout(r, 50));
      expect(events.map((e) => e.venueOrderId)).toEqual([mine.venueOrderId]);
      expect(otherEvents.map((e) => e.venueOrderId)).toEqual([theirs.venueOrderId]);
      await other.cancelOrder({ clientOrderId: '3001', venueOrderId: theirs.venueOrderId, symbol: 'BTCUSDT' });
      await adapter.cancelOrder({ clientOrderId: '3002', symbol: 'BTCUSDT' }); // found by client id
    } finally {
      await other.stop();
    }
  });

  it('after a restart (a new adapter that placed nothing): the events of an order are ours only once trackOrders names it', async () => {
    const placed = await adapter.placeOrder(limit({ clientOrderId: '4001', price: '55000', quantity: '0.3' }));
    const restarted = make();
    const seen: OrderEvent[] = [];
    restarted.onEvent((e) => seen.push(e));
    await restarted.start();
    try {
      sim.engine.trade('BTCUSDT', 'sell', '0.1', '55000');
      await until(() => events.some((e) => e.venueOrderId === placed.venueOrderId && e.kind === 'fill'));
      await new Promise((r) => setTimeout(r, 50));
      expect(seen).toEqual([]); // another session's order, for all it knows
      restarted.trackOrders([{ clientOrderId: '4001', venueOrderId: placed.venueOrderId, symbol: 'BTCUSDT' }]);
      sim.engine.trade('BTCUSDT', 'sell', '0.2', '55000');
      await until(() => seen.length > 0);
      expect(seen.map((e) => [e.kind, e.venueOrderId, e.cumQty])).toEqual([['fill', placed.venueOrderId, '0.3']]);
    } finally {
      await restarted.stop();
    }
  });

  it('1,000 orders in flight at once: every one answered, no nonce ever reused (the venue would refuse it)', async () => {
    await control(sim, '/__sim/config', { replyDelayMs: 30 });
    try {
      const reqs = Array.from({ length: 1000 }, (_, i) => limit({ clientOrderId: String(10_000 + i), price: '50000', quantity: '0.001' }));
      const placed = await Promise.all(reqs.map((r) => adapter.placeOrder(r)));
      expect(placed.every((o) => o.status === 'new')).toBe(true);
      expect(new Set(placed.map((o) => o.venueOrderId)).size).toBe(1000);
      expect(adapter.ws.nonces.outstanding).toBe(0);
    } finally {
      await control(sim, '/__sim/config', { replyDelayMs: 0 });
      for (const o of sim.engine.openOrders(USER, 'BTCUSDT')) sim.engine.cancel(USER, { orderId: o.orderId });
    }
  });
});
