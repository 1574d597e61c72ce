import { perSecondLimits } from '../../../src/venues/common/rate-limiter';
// ZerocapAdapter against the real Zerocap simulator over loopback HTTP and WebSocket: the adapter
// signs, the simulator checks; faults come from the simulator's /__sim/ API.

import http from 'node:http';
import { RunningSimulator } from '../../../src/venues/sim/simulator';
import { ZerocapAdapter } from '../../../src/venues/zerocap/zerocap-adapter';
import { startZerocapSimulator } from '../../../src/venues/zerocap/zerocap-simulator';
import {
  AuthenticationFailed,
  OrderEvent,
  OrderNotFound,
  OrderRejected,
  OutcomeUnknown,
  PlaceOrderRequest,
  RateLimited,
  StreamState,
} from '../../../src/venues/venue';

const API_KEY = 'zc-test-key';
const API_SECRET = 'zc-test-secret-never-logged';

let sim: RunningSimulator;
let adapter: ZerocapAdapter;
const events: OrderEvent[] = [];
const states: StreamState[] = [];
const logLines: string[] = [];

const controlAgent = new http.Agent({ keepAlive: false });
const control = (method: 'GET' | 'POST' | 'DELETE', path: string, data?: unknown): Promise<any> =>
  new Promise((resolve, reject) => {
    const body = data === undefined ? undefined : JSON.stringify(data);
    const req = http.request(
      `http://127.0.0.1:${sim.port}/__sim/${path}`,
      { method, agent: controlAgent, headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => ((res.statusCode ?? 500) >= 400 ? reject(new Error(`${path}: ${res.statusCode} ${text}`)) : resolve(text ? JSON.parse(text) : undefined)));
      },
    );
    req.on('error', reject);
    req.end(body);
  });

const capture = (level: string) => (obj: object, msg?: string) => logLines.push(`${level} ${msg ?? ''} ${JSON.stringify(obj)}`);
const logger = { debug: capture('debug'), info: capture('info'), warn: capture('warn'), error: capture('error') };

let seq = 0;
const cid = (tag: string) => `Z${Date.now().toString(36)}${(seq++).toString(36)}${tag}`;

/** A BTC/USD FOK buy that the market maker fills (asks at 60000.10 / .20 / .30, 1 BTC each). */
const fokBuy = (over: Partial<PlaceOrderRequest> = {}): PlaceOrderRequest => ({
  clientOrderId: cid('f'),
  symbol: 'BTC/USD',
  side: 'buy',
  type: 'limit',
  quantity: '2.5',
  price: '60000.30',
  timeInForce: 'FOK',
  ...over,
});

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const eventsOf = (venueOrderId: string) => events.filter((e) => e.venueOrderId === venueOrderId);
const venueOrders = (clientOrderId: string) => sim.engine.allOrders().filter((o) => o.clientOrderId === clientOrderId);

beforeAll(async () => {
  sim = await startZerocapSimulator({
    credentials: [{ apiKey: API_KEY, apiSecret: API_SECRET }],
    rateLimits: { ordersPerSecond: 10_000, queriesPerSecond: 10_000 },
  });
  sim.engine.configure({ liquidity: { 'BTC/USD': { depth: 3, levelQty: '1', spreadTicks: 10 } } });
  adapter = new ZerocapAdapter(
    {
      restUrl: sim.restUrl,
      wsUrl: sim.wsUrl,
      apiKey: API_KEY,
      apiSecret: API_SECRET,
      requestTimeoutMs: 400,
      rateLimits: perSecondLimits({ ordersPerSecond: 1000, queriesPerSecond: 1000, maxQueue: 100 }),
    },
    logger,
    { stream: { pingIntervalMs: 100, backoff: { initialMs: 50, maxMs: 400 } } },
  );
  adapter.onEvent((e) => events.push(e));
  adapter.onStreamState((s) => states.push(s));
  await adapter.start();
});

afterEach(async () => {
  sim.faults.clear();
  await control('POST', 'config', { restNextOrders: 0 });
});

afterAll(async () => {
  await adapter?.stop();
  await sim?.close();
  controlAgent.destroy();
});

describe('ZerocapAdapter against the simulator', () => {
  it('starts: URLs end in /v2, instruments spelled with the slash, the stream subscribed', async () => {
    expect(sim.restUrl.endsWith('/v2') && sim.wsUrl.endsWith('/v2')).toBe(true);
    expect((await adapter.instruments()).map((i) => i.symbol)).toEqual(['BTC/USD', 'ETH/USD', 'USDT/AUD']);
    expect((await adapter.instruments())[0]).toMatchObject({ symbol: 'BTC/USD', tickSize: '0.01', stepSize: '0.00001', minQty: '0.00001' });
    expect(states).toEqual(['connected']);
  });

  it('declares what Zerocap cannot do: no cancel, limit FOK only, the ±30 s validity window', () => {
    expect(adapter.capabilities).toMatchObject({ cancel: false, asyncCancel: false, postOnly: false, orderTypes: ['limit'], timeInForce: { limit: ['FOK'], market: [] } });
    expect(adapter.requestValidityWindowMs).toBe(30_000);
  });

  it('a FOK fills at once: the reply is filled with one fill per trade at its own price; the stream says ack then the same fills', async () => {
    const req = fokBuy();
    const o = await adapter.placeOrder(req);
    expect(o).toMatchObject({ clientOrderId: req.clientOrderId, symbol: 'BTC/USD', status: 'filled', rawStatus: 'closed', filledQty: '2.5', quantity: '2.5', avgPrice: '60000.18' });
    expect(o.fills!.map((f) => [f.qty, f.price])).toEqual([
      ['1', '60000.1'],
      ['1', '60000.2'],
      ['0.5', '60000.3'],
    ]);
    await waitFor('three fills on the stream', () => eventsOf(o.venueOrderId).filter((e) => e.kind === 'fill').length === 3);
    await new Promise((r) => setTimeout(r, 50)); // the closed push comes after the trade pushes
    const ev = eventsOf(o.venueOrderId);
    expect(ev.map((e) => e.kind)).toEqual(['acknowledged', 'fill', 'fill', 'fill']);
    expect(ev.every((e) => e.clientOrderId === req.clientOrderId)).toBe(true); // learnt from the reply: the stream omits it
    expect(ev.filter((e) => e.kind === 'fill').map((e) => (e.kind === 'fill' ? e.fill.fillId : ''))).toEqual(o.fills!.map((f) => f.fillId));
  });

  it('a FOK that cannot fill whole → expired with the venue text, on the reply and the stream', async () => {
    const o = await adapter.placeOrder(fokBuy({ quantity: '5' }));
    expect(o).toMatchObject({ status: 'expired', filledQty: '0', rejectText: 'Order could not be filled at the limit price' });
    await waitFor('expired event', () => eventsOf(o.venueOrderId).find((e) => e.kind === 'expired'));
    expect(eventsOf(o.venueOrderId).map((e) => e.kind)).toEqual(['acknowledged', 'expired']);
  });

  it('venue rejects (HTTP 400) → OrderRejected with reason, code and text; local refusals never reach the venue', async () => {
    const unknown = adapter.placeOrder(fokBuy({ symbol: 'DOGE/USD' }));
    await expect(unknown).rejects.toBeInstanceOf(OrderRejected);
    await expect(unknown).rejects.toMatchObject({ reason: 'unknown_symbol', code: '400', venueText: 'Invalid symbol: DOGE/USD', httpStatus: 400 });
    await expect(adapter.placeOrder(fokBuy({ price: '60000.001' }))).rejects.toMatchObject({ reason: 'invalid_order' });
    const before = sim.engine.allOrders().length;
    await expect(adapter.placeOrder(fokBuy({ timeInForce: 'GTC' }))).rejects.toMatchObject({ reason: 'unsupported', message: expect.stringMatching(/fill-or-kill/) });
    await expect(adapter.placeOrder(fokBuy({ type: 'market', price: undefined }))).rejects.toMatchObject({ reason: 'unsupported' });
    await expect(adapter.placeOrder(fokBuy({ clientOrderId: 'x'.repeat(37) }))).rejects.toMatchObject({ reason: 'invalid_order' });
    expect(sim.engine.allOrders().length).toBe(before);
  });

  it('cancelOrder is refused as unsupported and the order is untouched', async () => {
    await control('POST', 'config', { restNextOrders: 1 });
    // Below the next test's resting order, so that test's external trades never reach this one.
    const o = await adapter.placeOrder(fokBuy({ price: '58000', quantity: '1' }));
    expect(o.status).toBe('new');
    await expect(adapter.cancelOrder({ clientOrderId: o.clientOrderId, venueOrderId: o.venueOrderId, symbol: 'BTC/USD' })).rejects.toMatchObject({
      reason: 'unsupported',
      message: expect.stringMatching(/no cancel endpoint/),
    });
    expect((await adapter.getOrder({ clientOrderId: o.clientOrderId, venueOrderId: o.venueOrderId, symbol: 'BTC/USD' })).status).toBe('new');
  });

  it('a resting order (told through /__sim/): open → listed by openOrders → partial and full fills at its price on the stream', async () => {
    await control('POST', 'config', { restNextOrders: 1 });
    const req = fokBuy({ price: '59000', quantity: '1' });
    const o = await adapter.placeOrder(req);
    expect(o).toMatchObject({ status: 'new', rawStatus: 'open' });
    expect((await adapter.openOrders()).map((x) => x.venueOrderId)).toContain(o.venueOrderId);
    await waitFor('ack', () => eventsOf(o.venueOrderId).find((e) => e.kind === 'acknowledged'));
    await control('POST', 'trade', { symbol: 'BTC/USD', side: 'sell', qty: '0.4' });
    await control('POST', 'trade', { symbol: 'BTC/USD', side: 'sell', qty: '0.6' });
    await waitFor('two fills', () => eventsOf(o.venueOrderId).filter((e) => e.kind === 'fill').length === 2);
    const fills = eventsOf(o.venueOrderId).filter((e) => e.kind === 'fill');
    expect(fills.map((e) => (e.kind === 'fill' ? [e.fill.qty, e.fill.price] : []))).toEqual([
      ['0.4', '59000'],
      ['0.6', '59000'],
    ]);
    expect(eventsOf(o.venueOrderId).filter((e) => e.kind === 'acknowledged')).toHaveLength(1);
    const done = await adapter.getOrder({ clientOrderId: req.clientOrderId, venueOrderId: o.venueOrderId, symbol: 'BTC/USD' });
    expect(done).toMatchObject({ status: 'filled', filledQty: '1' });
    expect((await adapter.openOrders()).map((x) => x.venueOrderId)).not.toContain(o.venueOrderId);
  });

  it('5xx after the create → OutcomeUnknown; getOrder by client id finds the one venue order', async () => {
    await control('POST', 'faults', { kind: 'error5xxAfter', operation: 'create' });
    const req = fokBuy({ quantity: '0.5' });
    await expect(adapter.placeOrder(req)).rejects.toBeInstanceOf(OutcomeUnknown);
    const found = await adapter.getOrder({ clientOrderId: req.clientOrderId, symbol: 'BTC/USD' });
    expect(found).toMatchObject({ clientOrderId: req.clientOrderId, status: 'filled', filledQty: '0.5' });
    expect(venueOrders(req.clientOrderId!)).toHaveLength(1);
    expect(found.venueOrderId).toMatch(/^[0-9a-f-]{36}$/);
    await waitFor('stream fill for the unknown-outcome order', () => eventsOf(found.venueOrderId).find((e) => e.kind === 'fill'));
  });

  it('recentOrders lists the orders of the symbol created since a time, finished ones too, with createdAt', async () => {
    const since = Date.now() - 1000;
    const o = await adapter.placeOrder(fokBuy({ quantity: '0.25' }));
    const recent = await adapter.recentOrders('BTC/USD', since);
    const mine = recent.find((x) => x.venueOrderId === o.venueOrderId);
    expect(mine).toMatchObject({ status: 'filled', quantity: '0.25' });
    expect(mine!.createdAt).toBeGreaterThanOrEqual(since);
    expect(await adapter.recentOrders('BTC/USD', Date.now() + 60_000)).toEqual([]);
  });

  it('5xx before the create → OutcomeUnknown, and getOrder says not found', async () => {
    await control('POST', 'faults', { kind: 'error5xxBefore', operation: 'create' });
    const req = fokBuy();
    await expect(adapter.placeOrder(req)).rejects.toBeInstanceOf(OutcomeUnknown);
    await expect(adapter.getOrder({ clientOrderId: req.clientOrderId, symbol: 'BTC/USD' })).rejects.toBeInstanceOf(OrderNotFound);
    await expect(adapter.getOrder({ clientOrderId: req.clientOrderId, venueOrderId: '00000000-0000-0000-0000-000000000000', symbol: 'BTC/USD' })).rejects.toBeInstanceOf(
      OrderNotFound,
    );
  });

  it('no reply within requestTimeoutMs → OutcomeUnknown, and getOrder finds the order', async () => {
    await control('POST', 'faults', { kind: 'timeoutAfter', operation: 'create', holdMs: 2000 });
    const req = fokBuy({ quantity: '0.3' });
    await expect(adapter.placeOrder(req)).rejects.toMatchObject({ name: 'OutcomeUnknown', code: 'ETIMEDOUT' });
    expect(await adapter.getOrder({ clientOrderId: req.clientOrderId, symbol: 'BTC/USD' })).toMatchObject({ status: 'filled', filledQty: '0.3' });
  });

  it('a search by client id that stopped at its page cap is no proof of absence: OutcomeUnknown, not OrderNotFound', async () => {
    // Two rows a page, one page: the search sees the two newest orders of the account only.
    const capped = new ZerocapAdapter(
      { restUrl: sim.restUrl, wsUrl: sim.wsUrl, apiKey: API_KEY, apiSecret: API_SECRET, requestTimeoutMs: 400, rateLimits: perSecondLimits({ ordersPerSecond: 1000, queriesPerSecond: 1000, maxQueue: 100 }) },
      logger,
      { searchPageLimit: 2, searchMaxPages: 1 },
    );
    try {
      const oldest = fokBuy({ quantity: '0.1' });
      await adapter.placeOrder(oldest);
      for (let i = 0; i < 2; i++) await adapter.placeOrder(fokBuy({ quantity: '0.1' }));
      expect(venueOrders(oldest.clientOrderId!)).toHaveLength(1);
      await expect(capped.getOrder({ clientOrderId: oldest.clientOrderId, symbol: 'BTC/USD' })).rejects.toBeInstanceOf(OutcomeUnknown);
      // Within the cap, absence is still proven.
      await expect(capped.getOrder({ clientOrderId: cid('none'), symbol: 'ETH/USD' })).rejects.toBeInstanceOf(OrderNotFound);
    } finally {
      await capped.stop();
    }
  });

  it('with the time hint, a timed-out create is found by a scan of its window, oldest first, past a cap that the newest-first search could not pass', async () => {
    // One row a page, one page: newest first, only the latest order of the symbol would be read.
    const capped = new ZerocapAdapter(
      { restUrl: sim.restUrl, wsUrl: sim.wsUrl, apiKey: API_KEY, apiSecret: API_SECRET, requestTimeoutMs: 400, rateLimits: perSecondLimits({ ordersPerSecond: 1000, queriesPerSecond: 1000, maxQueue: 100 }) },
      logger,
      { searchPageLimit: 1, searchMaxPages: 1 },
    );
    try {
      const from = Date.now();
      await control('POST', 'faults', { kind: 'timeoutAfter', operation: 'create', holdMs: 2000 });
      const req = fokBuy({ symbol: 'USDT/AUD', quantity: '10', price: '1.5' });
      await expect(adapter.placeOrder(req)).rejects.toMatchObject({ name: 'OutcomeUnknown', code: 'ETIMEDOUT' });
      const to = Date.now();
      await adapter.placeOrder(fokBuy({ symbol: 'USDT/AUD', quantity: '10', price: '1.5' }));
      const found = await capped.getOrder({ clientOrderId: req.clientOrderId, symbol: 'USDT/AUD', sentBetween: { from, to } });
      expect(found.clientOrderId).toBe(req.clientOrderId);
      expect(venueOrders(req.clientOrderId!)).toHaveLength(1);
    } finally {
      await capped.stop();
    }
  });

  it('creates are never starved by queries: with every query socket held by a venue that does not answer, a create goes through at once', async () => {
    const small = new ZerocapAdapter(
      { restUrl: sim.restUrl, wsUrl: sim.wsUrl, apiKey: API_KEY, apiSecret: API_SECRET, requestTimeoutMs: 2500, rateLimits: perSecondLimits({ ordersPerSecond: 1000, queriesPerSecond: 1000, maxQueue: 100 }) },
      logger,
      { maxSockets: 4, maxQuerySockets: 4 },
    );
    try {
      const known = await adapter.placeOrder(fokBuy({ quantity: '0.1' }));
      // Every query the venue gets is executed and then never answered (the socket held 4 s).
      await control('POST', 'faults', { kind: 'timeoutAfter', operation: 'query', count: 8, holdMs: 4000 });
      const queries = Array.from({ length: 8 }, () => small.getOrder({ venueOrderId: known.venueOrderId, clientOrderId: known.clientOrderId, symbol: 'BTC/USD' }).catch((e: Error) => e));
      await new Promise((r) => setTimeout(r, 300));
      const started = Date.now();
      const placed = await small.placeOrder(fokBuy({ quantity: '0.1' }));
      expect(placed.status).toBe('filled');
      expect(Date.now() - started).toBeLessThan(1000);
      sim.faults.clear();
      await Promise.all(queries);
    } finally {
      await small.stop();
    }
  });

  it('a query that fails with a 5xx is OutcomeUnknown, never "not found"', async () => {
    await control('POST', 'faults', { kind: 'error5xxBefore', operation: 'openOrders' });
    await expect(adapter.getOrder({ clientOrderId: 'whatever', symbol: 'BTC/USD' })).rejects.toBeInstanceOf(OutcomeUnknown);
  });

  it('429 → RateLimited with the Retry-After wait', async () => {
    await control('POST', 'faults', { kind: 'rateLimit429', operation: 'create' });
    await expect(adapter.placeOrder(fokBuy())).rejects.toMatchObject({ name: 'RateLimited', retryAfterMs: 1000 });
    await new Promise((r) => setTimeout(r, 1050));
  });

  it('a wrong secret → AuthenticationFailed on REST, and the stream never comes up', async () => {
    const bad = new ZerocapAdapter({ restUrl: sim.restUrl, wsUrl: sim.wsUrl, apiKey: API_KEY, apiSecret: 'wrong' }, undefined, {
      stream: { connectTimeoutMs: 500 },
    });
    try {
      await expect(bad.placeOrder(fokBuy())).rejects.toBeInstanceOf(AuthenticationFailed);
      await expect(bad.start()).rejects.toBeInstanceOf(AuthenticationFailed);
    } finally {
      await bad.stop();
    }
    // Our clock 31 s behind: "Request expired", then a resync on get_time and the retry goes
    // through (zerocap-clock-skew.test.ts covers it in full).
    const skewed = new ZerocapAdapter({ restUrl: sim.restUrl, wsUrl: sim.wsUrl, apiKey: API_KEY, apiSecret: API_SECRET }, undefined, { now: () => Date.now() - 31_000 });
    try {
      await expect(skewed.placeOrder(fokBuy())).resolves.toMatchObject({ status: 'filled' });
    } finally {
      await skewed.stop();
    }
  });

  it('a dropped stream → disconnected, reconnect (fresh signature) → connected, events flow again', async () => {
    states.length = 0;
    const { dropped } = await control('POST', 'drop-streams');
    expect(dropped).toBeGreaterThanOrEqual(1);
    await waitFor('reconnected', () => states.length >= 2);
    expect(states.slice(0, 2)).toEqual(['disconnected', 'connected']);
    const o = await adapter.placeOrder(fokBuy({ quantity: '0.1' }));
    await waitFor('fill after reconnect', () => eventsOf(o.venueOrderId).find((e) => e.kind === 'fill'));
  });

  it('pings every interval keep the link up across idle periods', async () => {
    await control('POST', 'config', { streamIdleTimeoutMs: 300 });
    states.length = 0;
    await new Promise((r) => setTimeout(r, 1500));
    expect(states).toEqual([]);
    await control('POST', 'config', { streamIdleTimeoutMs: 60_000 });
  });

  it('never logs the secret or a signature', () => {
    const all = logLines.join('\n');
    expect(logLines.length).toBeGreaterThan(0);
    expect(all).not.toContain(API_SECRET);
    expect(all).not.toMatch(/[0-9a-f]{64}/);
  });
});
