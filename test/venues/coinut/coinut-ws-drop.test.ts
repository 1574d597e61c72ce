// Coinut's WebSocket lost with creates in flight, and an event loop stalled under load, against the
// simulator over real WebSocket on 127.0.0.1 (the soak's "WebSocket is not connected" finding).

import { perSecondLimits } from '../../../src/venues/common/rate-limiter';
import { CoinutAdapter } from '../../../src/venues/coinut/coinut-adapter';
import { CoinutRunningSimulator, startCoinutSimulator } from '../../../src/venues/coinut/coinut-simulator';
import { CoinutNotConnected, CoinutWsClient } from '../../../src/venues/coinut/coinut-ws-client';
import { OrderEvent, OutcomeUnknown, PlaceOrderRequest, StreamState } from '../../../src/venues/venue';

const USER = 'desk1';
const KEY = 'c0ffee00-1111-2222-3333-444455556666';
const FAST = perSecondLimits({ ordersPerSecond: 100_000, queriesPerSecond: 100_000, maxQueue: 10_000 });

const limit = (over: Partial<PlaceOrderRequest> = {}): PlaceOrderRequest => ({
  clientOrderId: '1001',
  symbol: 'BTCUSDT',
  side: 'buy',
  type: 'limit',
  quantity: '0.01',
  price: '59000',
  timeInForce: 'GTC',
  ...over,
});

const until = async (cond: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** What a saturated VM does to this process: nothing runs for `ms` (timers and reads alike). */
function stallEventLoop(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    /* busy */
  }
}

describe('Coinut: the WebSocket dropped with creates in flight', () => {
  let sim: CoinutRunningSimulator;
  let adapter: CoinutAdapter;
  const events: OrderEvent[] = [];
  const states: StreamState[] = [];

  beforeAll(async () => {
    sim = await startCoinutSimulator({ credentials: [{ apiKey: KEY, username: USER }] });
    adapter = new CoinutAdapter(
      { restUrl: sim.restUrl, wsUrl: sim.wsUrl, apiKey: KEY, apiSecret: '', account: USER, rateLimits: FAST, requestTimeoutMs: 10_000 },
      undefined,
      { backoff: { initialMs: 20, maxMs: 100, factor: 2, jitter: 0 } },
    );
    adapter.onEvent((e) => events.push(e));
    adapter.onStreamState((s) => states.push(s));
    await adapter.start();
  });
  afterAll(async () => {
    await adapter.stop();
    await sim.close();
  });
  afterEach(() => sim.faults.clear());

  it('every create handed to the socket ends OutcomeUnknown (never "not connected"), is found after the reconnect, and reported exactly once', async () => {
    const N = 25;
    // The venue executes each create and never answers it: all N are in flight when the link goes.
    sim.faults.arm({ kind: 'timeoutAfter', operation: 'create', count: N });
    const ids = Array.from({ length: N }, (_, i) => String(5000 + i));
    const outcomes = ids.map((id) => adapter.placeOrder(limit({ clientOrderId: id, price: '58000' })).then(() => 'answered', (e: Error) => e));
    await until(() => ids.every((id) => sim.engine.allOrders().some((o) => o.clientOrderId === id)));
    const connectedBefore = states.filter((s) => s === 'connected').length;
    adapter.ws.drop('test: the link goes with creates in flight');
    // A create offered after the drop, before the reconnect, waits for the link instead of being
    // refused (the soak's 1,313 "the WebSocket is not connected" rejects), and goes out once.
    const late = adapter.placeOrder(limit({ clientOrderId: '5999', price: '58000' }));
    const results = await Promise.all(outcomes);
    for (const r of results) expect(r).toBeInstanceOf(OutcomeUnknown);
    await expect(late).resolves.toMatchObject({ clientOrderId: '5999', status: 'new' });
    expect(sim.engine.allOrders().filter((o) => o.clientOrderId === '5999')).toHaveLength(1);
    expect(states.filter((s) => s === 'connected').length).toBeGreaterThan(connectedBefore);

    // Resolution by query: each one found, one venue order per client id.
    const found = await Promise.all(ids.map((id) => adapter.getOrder({ clientOrderId: id, symbol: 'BTCUSDT' })));
    for (const [i, o] of found.entries()) expect(o).toMatchObject({ clientOrderId: ids[i], status: 'new', quantity: '0.01' });
    for (const id of ids) expect(sim.engine.allOrders().filter((o) => o.clientOrderId === id)).toHaveLength(1);

    // Their fills reach this adapter once each (they are its orders now).
    events.length = 0;
    sim.engine.trade('BTCUSDT', 'sell', String(0.01 * N));
    const venueIds = new Set(found.map((o) => o.venueOrderId));
    await until(() => new Set(events.filter((e) => e.kind === 'fill' && venueIds.has(e.venueOrderId)).map((e) => e.venueOrderId)).size === N);
    await new Promise((r) => setTimeout(r, 100));
    const fills = events.filter((e) => e.kind === 'fill' && venueIds.has(e.venueOrderId));
    expect(fills).toHaveLength(N);
  });
});

describe('Coinut: the venue stays down', () => {
  it('a create waits for the link a bounded time, then is refused without anything reaching the venue', async () => {
    const sim = await startCoinutSimulator({ credentials: [{ apiKey: KEY, username: USER }] });
    const adapter = new CoinutAdapter(
      { restUrl: sim.restUrl, wsUrl: sim.wsUrl, apiKey: KEY, apiSecret: '', account: USER, rateLimits: FAST, requestTimeoutMs: 400 },
      undefined,
      { backoff: { initialMs: 50, maxMs: 100, factor: 2, jitter: 0 } },
    );
    try {
      await adapter.start();
      const engine = sim.engine;
      await sim.close();
      await until(() => !adapter.ws.connected);
      const started = Date.now();
      const err = await adapter.placeOrder(limit({ clientOrderId: '6001' })).catch((e: Error) => e);
      expect(err).toBeInstanceOf(CoinutNotConnected);
      expect(Date.now() - started).toBeGreaterThanOrEqual(350);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(engine.allOrders()).toHaveLength(0);
    } finally {
      await adapter.stop();
    }
  });
});

describe('Coinut: an unknown create that filled, looked up after more trades than one search reads', () => {
  let sim: CoinutRunningSimulator;
  let adapter: CoinutAdapter;

  beforeAll(async () => {
    sim = await startCoinutSimulator({ credentials: [{ apiKey: KEY, username: USER }] });
    adapter = new CoinutAdapter(
      { restUrl: sim.restUrl, wsUrl: sim.wsUrl, apiKey: KEY, apiSecret: '', account: USER, rateLimits: FAST, requestTimeoutMs: 500 },
      undefined,
      // One page of 100 trades is all a search without a bound reads.
      { backoff: { initialMs: 20, maxMs: 100, factor: 2, jitter: 0 }, tradeHistoryMaxPages: 1 },
    );
    adapter.onStreamState((s) => s === 'connected' && connects++);
    await adapter.start();
  });
  afterAll(async () => {
    await adapter.stop();
    await sim.close();
  });
  let connects = 0;

  it('is found filled however many trades came after it (never "not found" while its trades are further back)', async () => {
    // The soak: creates unanswered when the link dropped were looked up minutes later, behind
    // thousands of newer fills, "not found" and rejected while the venue had filled them.
    sim.faults.arm({ kind: 'timeoutAfter', operation: 'create', count: 1 });
    const err = await adapter.placeOrder(limit({ clientOrderId: '7000', price: '60000.02', quantity: '0.002' })).catch((e: Error) => e);
    expect(err).toBeInstanceOf(OutcomeUnknown);
    expect(sim.engine.allOrders().find((o) => o.clientOrderId === '7000')).toMatchObject({ status: 'filled' });
    await until(() => connects >= 2); // the timeout dropped the link
    for (let i = 0; i < 150; i++) await adapter.placeOrder(limit({ clientOrderId: String(7001 + i), price: '60000.02', quantity: '0.0001' }));
    const found = await adapter.getOrder({ clientOrderId: '7000', symbol: 'BTCUSDT' });
    expect(found).toMatchObject({ clientOrderId: '7000', status: 'filled', quantity: '0.002' });
  });
});

describe('Coinut: a stalled event loop is not a dead venue', () => {
  let sim: CoinutRunningSimulator;
  let client: CoinutWsClient;
  const states: StreamState[] = [];

  beforeAll(async () => {
    sim = await startCoinutSimulator({ credentials: [{ apiKey: KEY, username: USER }] });
    client = new CoinutWsClient({
      wsUrl: sim.wsUrl,
      restUrl: sim.restUrl,
      username: USER,
      apiKey: KEY,
      requestTimeoutMs: 300,
      heartbeatIntervalMs: 60_000,
      backoff: { initialMs: 20, maxMs: 100, factor: 2, jitter: 0 },
    });
    client.onState((s) => states.push(s));
    await client.start();
  });
  afterAll(async () => {
    await client.stop();
    await sim.close();
  });

  it('a reply that arrived while the loop was stalled past the request timeout is read, not timed out (and the link stays)', async () => {
    const reply = client.request({ request: 'hb' });
    // The venue answers at once, but this process cannot read it for 3 request timeouts.
    stallEventLoop(900);
    await expect(reply).resolves.toEqual([expect.objectContaining({ reply: 'hb', status: ['OK'] })]);
    await new Promise((r) => setTimeout(r, 100));
    expect(states).not.toContain('disconnected');
    expect(client.connected).toBe(true);
  });

  it('a venue that really does not answer still times out', async () => {
    await until(() => client.connected);
    sim.faults.arm({ kind: 'timeoutAfter', operation: 'openOrders', count: 1 });
    const started = Date.now();
    const err = await client.request({ request: 'user_open_orders', inst_id: 2 }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(OutcomeUnknown);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
