import { perSecondLimits } from '../../../src/venues/common/rate-limiter';
// ApifinyAdapter against the Apifiny simulator over real HTTP/WS on 127.0.0.1.

import Decimal from 'decimal.js';
import { ApifinyAdapter } from '../../../src/venues/apifiny/apifiny-adapter';
import { CancelNotYetPossible } from '../../../src/venues/apifiny/apifiny-mapping';
import { nextApifinyIdClock } from '../../../src/venues/apifiny/apifiny-order-id';
import { RunningApifinySimulator, startApifinySimulator } from '../../../src/venues/apifiny/apifiny-simulator';
import { OrderEvent, OrderRejected, OutcomeUnknown, PlaceOrderRequest, StreamState } from '../../../src/venues/venue';

const KEY = 'ap-key';
const SECRET = 'ap-secret';
const ACCT = 'STA-00000001';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}

describe('ApifinyAdapter over the simulator', () => {
  let sim: RunningApifinySimulator;
  let adapter: ApifinyAdapter;
  const states: StreamState[] = [];
  const events: OrderEvent[] = [];
  let last: { ms: number; seq: number } | undefined;
  /** The gateway's side of allocation: a durable (ms, seq) counter and this session's tag. */
  const nextId = () => {
    last = nextApifinyIdClock(last, Date.now());
    return adapter.clientOrderIdFor('3', last.ms * 1000 + last.seq);
  };
  const order = (over: Partial<PlaceOrderRequest> = {}): PlaceOrderRequest => ({
    clientOrderId: nextId(),
    symbol: 'BTCUSDT',
    side: 'buy',
    type: 'limit',
    quantity: '0.5',
    price: '59000',
    timeInForce: 'GTC',
    ...over,
  });
  const eventsOf = (id: string) => events.filter((e) => e.clientOrderId === id);

  beforeAll(async () => {
    sim = await startApifinySimulator({ credentials: [{ apiKey: KEY, apiSecret: SECRET }], rateLimits: { ordersPerSecond: 1000, queriesPerSecond: 1000 }, pendingSubmitMs: 40 });
    adapter = new ApifinyAdapter({ restUrl: sim.restUrl, wsUrl: sim.wsUrl, apiKey: KEY, apiSecret: SECRET, account: ACCT, rateLimits: perSecondLimits({ ordersPerSecond: 1000, queriesPerSecond: 1000 }) });
    adapter.onStreamState((s) => states.push(s));
    adapter.onEvent((e) => events.push(e));
    await adapter.start();
  });
  afterAll(async () => {
    await adapter.stop();
    await sim.close();
  });
  afterEach(() => sim.faults.clear());

  it('starts: exchange from the URL, instruments, stream connected, JWT lifetime as the request validity', async () => {
    expect(adapter.exchange).toBe('BINANCE');
    expect((await adapter.instruments()).find((i) => i.symbol === 'BTCUSDT')).toMatchObject({ tickSize: '0.01', stepSize: '0.00001' });
    expect(states).toEqual(['connected']);
    expect(adapter.requestValidityMs).toBe(30_000);
    expect(adapter.capabilities.timeInForce.limit).toEqual(['GTC', 'IOC']);
  });

  it('places with our orderId (pending_new), then SUBMITTED arrives as acknowledged; cancel → canceled', async () => {
    const req = order();
    const placed = await adapter.placeOrder(req);
    expect(placed).toMatchObject({ clientOrderId: req.clientOrderId, venueOrderId: req.clientOrderId, status: 'pending_new', rawStatus: 'PENDING_SUBMIT' });
    await until(() => eventsOf(req.clientOrderId!).some((e) => e.kind === 'acknowledged'));
    expect((await adapter.openOrders()).map((o) => o.clientOrderId)).toContain(req.clientOrderId);
    const cancel = await adapter.cancelOrder({ clientOrderId: req.clientOrderId, symbol: 'BTCUSDT' });
    expect(cancel).toMatchObject({ status: 'canceled', order: { rawStatus: 'CANCELLED' } });
    await until(() => eventsOf(req.clientOrderId!).some((e) => e.kind === 'canceled'));
    expect((await adapter.getOrder({ clientOrderId: req.clientOrderId, symbol: 'BTCUSDT' })).status).toBe('canceled');
  });

  it('a cancel sent during PENDING_SUBMIT (328026) is retried once the order is submitted, never "too late"', async () => {
    await fetch(`http://127.0.0.1:${sim.port}/__sim/config`, { method: 'POST', body: JSON.stringify({ pendingSubmitMs: 200 }) });
    try {
      const req = order();
      await adapter.placeOrder(req);
      const t0 = Date.now();
      const cancel = await adapter.cancelOrder({ clientOrderId: req.clientOrderId, symbol: 'BTCUSDT' });
      expect(cancel.status).toBe('canceled');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    } finally {
      await fetch(`http://127.0.0.1:${sim.port}/__sim/config`, { method: 'POST', body: JSON.stringify({ pendingSubmitMs: 40 }) });
    }
  });

  it('gives up after its retry window with CancelNotYetPossible (the gateway answers 35=9)', async () => {
    const short = new ApifinyAdapter(
      { restUrl: sim.restUrl, wsUrl: sim.wsUrl, apiKey: KEY, apiSecret: SECRET, account: ACCT, rateLimits: perSecondLimits({ ordersPerSecond: 1000, queriesPerSecond: 1000 }) },
      undefined,
      { cancelRetryWindowMs: 1 },
    );
    await short.start();
    await fetch(`http://127.0.0.1:${sim.port}/__sim/config`, { method: 'POST', body: JSON.stringify({ pendingSubmitMs: 300 }) });
    try {
      last = nextApifinyIdClock(last, Date.now());
      const id = short.clientOrderIdFor('4', last.ms * 1000 + last.seq);
      await short.placeOrder(order({ clientOrderId: id }));
      await expect(short.cancelOrder({ clientOrderId: id, symbol: 'BTCUSDT' })).rejects.toBeInstanceOf(CancelNotYetPossible);
    } finally {
      await fetch(`http://127.0.0.1:${sim.port}/__sim/config`, { method: 'POST', body: JSON.stringify({ pendingSubmitMs: 40 }) });
      await short.stop();
    }
  });

  it('IOC partly filled: one fill event per push at its own price, then expired; getOrder → final with exact AvgPx', async () => {
    const req = order({ timeInForce: 'IOC', quantity: '6', price: '60000.05' });
    await adapter.placeOrder(req);
    await until(() => eventsOf(req.clientOrderId!).some((e) => e.kind === 'expired'));
    const mine = eventsOf(req.clientOrderId!);
    const fills = mine.filter((e): e is Extract<OrderEvent, { kind: 'fill' }> => e.kind === 'fill');
    // The PART_FILLED push repeats the last fill: same key, so six events but five distinct fills.
    expect(new Set(fills.map((f) => f.fill.fillId)).size).toBe(5);
    expect(fills.slice(0, 5).map((f) => [f.fill.qty, f.fill.price, f.cumQty])).toEqual([
      ['1', '60000.01', '1'],
      ['1', '60000.02', '2'],
      ['1', '60000.03', '3'],
      ['1', '60000.04', '4'],
      ['1', '60000.05', '5'],
    ]);
    expect(mine[mine.length - 1]).toMatchObject({ kind: 'expired', rawStatus: 'PART_FILLED', cumQty: '5' });
    const o = await adapter.getOrder({ clientOrderId: req.clientOrderId, symbol: 'BTCUSDT' });
    expect(o).toMatchObject({ status: 'expired', rawStatus: 'PART_FILLED', filledQty: '5', avgPrice: '60000.03' });
    expect(o.fills!.map((f) => f.fillId)).toEqual(fills.slice(0, 5).map((f) => f.fill.fillId));
    const notional = o.fills!.reduce((s, f) => s.plus(new Decimal(f.qty).mul(f.price)), new Decimal(0));
    expect(notional.div(o.filledQty).toFixed()).toBe('60000.03');
  });

  it('refuses locally: FOK, a malformed orderId', async () => {
    await expect(adapter.placeOrder(order({ timeInForce: 'FOK' }))).rejects.toThrow(/no fill-or-kill/);
    await expect(adapter.placeOrder(order({ clientOrderId: 'CLORD-1' }))).rejects.toMatchObject({ reason: 'invalid_order' });
    await expect(adapter.placeOrder(order({ clientOrderId: '00000002' + Date.now() + '001' }))).rejects.toBeInstanceOf(OrderRejected);
  });

  it('5xx after create → OutcomeUnknown, and our own orderId finds exactly that one order', async () => {
    sim.faults.arm({ kind: 'error5xxAfter', operation: 'create' });
    const req = order();
    await expect(adapter.placeOrder(req)).rejects.toBeInstanceOf(OutcomeUnknown);
    const found = await adapter.getOrder({ clientOrderId: req.clientOrderId, symbol: 'BTCUSDT' });
    expect(found.clientOrderId).toBe(req.clientOrderId);
    await until(() => eventsOf(req.clientOrderId!).some((e) => e.kind === 'acknowledged'));
    expect(((await (await fetch(`http://127.0.0.1:${sim.port}/__sim/orders?clientOrderId=${req.clientOrderId}`)).json()) as { orders: unknown[] }).orders).toHaveLength(1);
    await adapter.cancelOrder({ clientOrderId: req.clientOrderId, symbol: 'BTCUSDT' });
  });

  it('a dropped stream reconnects (disconnected, then connected)', async () => {
    states.length = 0;
    sim.faults.arm({ kind: 'dropStreams' });
    await until(() => states.join(',') === 'disconnected,connected');
  });

  it('co-located URLs need the configured exchange; a disagreement is a start-up error', () => {
    const cfg = { restUrl: sim.colocatedRestUrl, wsUrl: sim.colocatedWsUrl, apiKey: KEY, apiSecret: SECRET, account: ACCT };
    expect(() => new ApifinyAdapter(cfg)).toThrow(/VenueExDestination/);
    expect(new ApifinyAdapter(cfg, undefined, { exchange: 'binance' }).exchange).toBe('BINANCE');
    expect(() => new ApifinyAdapter({ ...cfg, restUrl: sim.restUrl, wsUrl: sim.wsUrl }, undefined, { exchange: 'HUOBI' })).toThrow(/mismatch/);
    expect(() => new ApifinyAdapter({ ...cfg, account: undefined }, undefined, { exchange: 'BINANCE' })).toThrow(/account id/);
  });

  it('trades through the co-located URL style too', async () => {
    const colo = new ApifinyAdapter(
      { restUrl: sim.colocatedRestUrl, wsUrl: sim.colocatedWsUrl, apiKey: KEY, apiSecret: SECRET, account: ACCT, rateLimits: perSecondLimits({ ordersPerSecond: 1000, queriesPerSecond: 1000 }) },
      undefined,
      { exchange: 'BINANCE' },
    );
    const seen: OrderEvent[] = [];
    colo.onEvent((e) => seen.push(e));
    await colo.start();
    try {
      last = nextApifinyIdClock(last, Date.now());
      const id = colo.clientOrderIdFor('5', last.ms * 1000 + last.seq);
      await colo.placeOrder(order({ clientOrderId: id, quantity: '0.2', price: '60000.01' }));
      await until(() => seen.some((e) => e.clientOrderId === id && e.kind === 'fill' && e.cumQty === '0.2'));
      expect((await colo.getOrder({ clientOrderId: id, symbol: 'BTCUSDT' })).status).toBe('filled');
    } finally {
      await colo.stop();
    }
  });
});
