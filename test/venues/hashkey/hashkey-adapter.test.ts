import { perSecondLimits } from '../../../src/venues/common/rate-limiter';
// HashKeyAdapter against the real HashKey simulator over loopback HTTP and WebSocket: the adapter
// signs, the simulator checks; faults come from the simulator's FaultInjector and /__sim/ API.

import http from 'node:http';
import { HashKeyAdapter } from '../../../src/venues/hashkey/hashkey-adapter';
import { startHashKeySimulator } from '../../../src/venues/hashkey/hashkey-simulator';
import { RunningSimulator } from '../../../src/venues/sim/simulator';
import {
  DuplicateOrder,
  OrderEvent,
  OrderNotFound,
  OrderRejected,
  OutcomeUnknown,
  PlaceOrderRequest,
  RateLimited,
  StreamState,
} from '../../../src/venues/venue';

const API_KEY = 'hk-test-key';
const API_SECRET = 'hk-test-secret-never-logged';

let sim: RunningSimulator;
let adapter: HashKeyAdapter;
const events: OrderEvent[] = [];
const states: StreamState[] = [];
const logLines: string[] = [];

const controlAgent = new http.Agent({ keepAlive: false });
/** The simulator's /__sim/ control API (plain node:http, no keep-alive so nothing lingers). */
const control = (method: 'GET' | 'POST', path: string, data?: unknown): Promise<any> =>
  new Promise((resolve, reject) => {
    const body = data === undefined ? undefined : JSON.stringify(data);
    const req = http.request(
      sim.restUrl + path,
      { method, agent: controlAgent, headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          if ((res.statusCode ?? 500) >= 400) reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`));
          else resolve(text ? JSON.parse(text) : undefined);
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });

const capture = (level: string) => (obj: object, msg?: string) => logLines.push(`${level} ${msg ?? ''} ${JSON.stringify(obj)}`);
const logger = { debug: capture('debug'), info: capture('info'), warn: capture('warn'), error: capture('error') };

let seq = 0;
const cid = (tag: string) => `T${Date.now().toString(36)}${(seq++).toString(36)}${tag}`.slice(0, 32);

/** A BTCUSDT buy below the market maker's bids: it rests until an external trade hits it. */
const restingBuy = (over: Partial<PlaceOrderRequest> = {}): PlaceOrderRequest => ({
  clientOrderId: cid('r'),
  symbol: 'BTCUSDT',
  side: 'buy',
  type: 'limit',
  quantity: '1',
  price: '50000',
  timeInForce: 'GTC',
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

const eventsOf = (clientOrderId: string) => events.filter((e) => e.clientOrderId === clientOrderId);

beforeAll(async () => {
  sim = await startHashKeySimulator({
    credentials: [{ apiKey: API_KEY, apiSecret: API_SECRET }],
    rateLimits: { ordersPerSecond: 10_000, queriesPerSecond: 10_000 },
    streamPingIntervalMs: 150,
    cancelConfirmDelayMs: 100,
  });
  adapter = new HashKeyAdapter(
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

afterAll(async () => {
  await adapter?.stop();
  await sim?.close();
  controlAgent.destroy();
});

describe('HashKeyAdapter against the simulator', () => {
  it('starts: instruments loaded from exchangeInfo and the stream connected', async () => {
    expect(states).toEqual(['connected']);
    const btc = (await adapter.instruments()).find((i) => i.symbol === 'BTCUSDT');
    expect(btc).toMatchObject({ tickSize: '0.01', stepSize: '0.00001', minQty: '0.00001' });
    expect(adapter.capabilities.clientOrderId).toEqual({ kind: 'string', maxLength: 32 });
    expect(adapter.capabilities.absenceProofMs).toBe(6_000);
  });

  it('places a resting limit order: REST says new, the stream acknowledges it', async () => {
    const req = restingBuy();
    const order = await adapter.placeOrder(req);
    expect(order).toMatchObject({ clientOrderId: req.clientOrderId, status: 'new', rawStatus: 'NEW', filledQty: '0', price: '50000' });
    expect(order.venueOrderId).toMatch(/^\d{19}$/);
    const ack = await waitFor('ack', () => eventsOf(req.clientOrderId!).find((e) => e.kind === 'acknowledged'));
    expect(ack).toMatchObject({ venueOrderId: order.venueOrderId, source: 'stream', rawStatus: 'NEW' });
  });

  it('external trades → partial then full fill events whose fillIds equal getOrder fills', async () => {
    // Best bid among our resting orders (the others rest at 50000), so the taker hits it first.
    const req = restingBuy({ price: '55000' });
    await adapter.placeOrder(req);
    await control('POST', '/__sim/trade', { symbol: 'BTCUSDT', side: 'sell', qty: '0.4', price: '55000' });
    const first = await waitFor('partial fill', () => eventsOf(req.clientOrderId!).find((e) => e.kind === 'fill'));
    expect(first).toMatchObject({ rawStatus: 'PARTIALLY_FILLED', cumQty: '0.4' });
    await control('POST', '/__sim/trade', { symbol: 'BTCUSDT', side: 'sell', qty: '0.6', price: '55000' });
    const fills = await waitFor('two fills', () => {
      const f = eventsOf(req.clientOrderId!).filter((e) => e.kind === 'fill');
      return f.length === 2 ? f : undefined;
    });
    expect(fills[1]).toMatchObject({ rawStatus: 'FILLED', cumQty: '1' });
    const streamFills = fills.map((e) => (e.kind === 'fill' ? e.fill : undefined));
    expect(streamFills.map((f) => [f!.qty, f!.price])).toEqual([
      ['0.4', '55000'],
      ['0.6', '55000'],
    ]);

    const order = await adapter.getOrder({ clientOrderId: req.clientOrderId, symbol: 'BTCUSDT' });
    expect(order).toMatchObject({ status: 'filled', filledQty: '1', avgPrice: '55000' });
    expect(order.fills!.map((f) => f.fillId).sort()).toEqual(streamFills.map((f) => f!.fillId).sort());
    expect(order.fills!.map((f) => f.qty)).toEqual(['0.4', '0.6']);
  });

  it('a market order fills at once; its fill reaches both the stream and getOrder with one id', async () => {
    const req: PlaceOrderRequest = { clientOrderId: cid('m'), symbol: 'BTCUSDT', side: 'buy', type: 'market', quantity: '0.5', timeInForce: 'IOC' };
    const order = await adapter.placeOrder(req);
    expect(order).toMatchObject({ status: 'filled', type: 'market', timeInForce: 'IOC' });
    expect(order.price).toBeUndefined();
    const fill = await waitFor('market fill', () => eventsOf(req.clientOrderId!).find((e) => e.kind === 'fill'));
    const byQuery = await adapter.getOrder({ clientOrderId: req.clientOrderId, venueOrderId: order.venueOrderId, symbol: 'BTCUSDT' });
    expect(byQuery.fills!.map((f) => f.fillId)).toEqual([fill.kind === 'fill' ? fill.fill.fillId : '']);
  });

  it('cancel → pending_cancel on the 200, then a canceled event', async () => {
    const req = restingBuy();
    const placed = await adapter.placeOrder(req);
    const res = await adapter.cancelOrder({ clientOrderId: req.clientOrderId, venueOrderId: placed.venueOrderId, symbol: 'BTCUSDT' });
    expect(res.status).toBe('pending_cancel');
    expect(res.order?.rawStatus).toBe('NEW');
    const done = await waitFor('canceled event', () => eventsOf(req.clientOrderId!).find((e) => e.kind === 'canceled'));
    expect(done.rawStatus).toBe('CANCELED');
  });

  it('cancel by client id alone works; an unknown order → OrderNotFound; a done order → too_late', async () => {
    const req = restingBuy();
    await adapter.placeOrder(req);
    await expect(adapter.cancelOrder({ clientOrderId: req.clientOrderId, symbol: 'BTCUSDT' })).resolves.toMatchObject({ status: 'pending_cancel' });
    await expect(adapter.cancelOrder({ clientOrderId: 'no-such-order', symbol: 'BTCUSDT' })).rejects.toBeInstanceOf(OrderNotFound);
    const again = await adapter.cancelOrder({ clientOrderId: req.clientOrderId, symbol: 'BTCUSDT' }).catch((e) => e);
    expect(again).toBeInstanceOf(OrderRejected);
    expect(again.reason).toBe('too_late');
  });

  it('a duplicate client order id → DuplicateOrder with the venue code', async () => {
    const req = restingBuy();
    await adapter.placeOrder(req);
    const err = await adapter.placeOrder(req).catch((e) => e);
    expect(err).toBeInstanceOf(DuplicateOrder);
    expect(err).toMatchObject({ reason: 'duplicate', code: '-1141' });
  });

  it('an unknown symbol → OrderRejected unknown_symbol', async () => {
    const err = await adapter.placeOrder(restingBuy({ symbol: 'NOPEUSDT' })).catch((e) => e);
    expect(err).toBeInstanceOf(OrderRejected);
    expect(err).toMatchObject({ reason: 'unknown_symbol', code: '0201' });
  });

  it('post-only that would take → post_only_would_take; unfillable FOK → rejected -1142', async () => {
    const po = await adapter.placeOrder(restingBuy({ price: '60100', postOnly: true })).catch((e) => e);
    expect(po).toBeInstanceOf(OrderRejected);
    expect(po).toMatchObject({ reason: 'post_only_would_take', code: '-1139' });
    const fok = await adapter.placeOrder(restingBuy({ price: '60000.05', quantity: '100', timeInForce: 'FOK' })).catch((e) => e);
    expect(fok).toBeInstanceOf(OrderRejected);
    expect(fok.code).toBe('-1142');
  });

  it('a client order id longer than 32 characters is refused before the venue', async () => {
    const err = await adapter.placeOrder(restingBuy({ clientOrderId: 'x'.repeat(33) })).catch((e) => e);
    expect(err).toBeInstanceOf(OrderRejected);
    expect(err.reason).toBe('invalid_order');
  });

  it('5xx after the create → OutcomeUnknown, and getOrder finds the order', async () => {
    sim.faults.arm({ kind: 'error5xxAfter', operation: 'create' });
    const req = restingBuy();
    const err = await adapter.placeOrder(req).catch((e) => e);
    expect(err).toBeInstanceOf(OutcomeUnknown);
    expect(err.httpStatus).toBe(500);
    const found = await adapter.getOrder({ clientOrderId: req.clientOrderId, symbol: 'BTCUSDT' });
    expect(found).toMatchObject({ clientOrderId: req.clientOrderId, status: 'new', fills: [] });
  });

  it('5xx before the create → OutcomeUnknown, and getOrder proves it absent', async () => {
    sim.faults.arm({ kind: 'error5xxBefore', operation: 'create' });
    const req = restingBuy();
    await expect(adapter.placeOrder(req)).rejects.toBeInstanceOf(OutcomeUnknown);
    await expect(adapter.getOrder({ clientOrderId: req.clientOrderId, symbol: 'BTCUSDT' })).rejects.toBeInstanceOf(OrderNotFound);
  });

  it('no reply within requestTimeoutMs → OutcomeUnknown, and getOrder finds the order', async () => {
    sim.faults.arm({ kind: 'timeoutAfter', operation: 'create', holdMs: 2000 });
    const req = restingBuy();
    const t0 = Date.now();
    const err = await adapter.placeOrder(req).catch((e) => e);
    expect(err).toBeInstanceOf(OutcomeUnknown);
    expect(err.code).toBe('ETIMEDOUT');
    expect(Date.now() - t0).toBeLessThan(1500);
    await expect(adapter.getOrder({ clientOrderId: req.clientOrderId, symbol: 'BTCUSDT' })).resolves.toMatchObject({ status: 'new' });
  });

  it('connection dropped after the create → OutcomeUnknown; a dropped cancel too', async () => {
    sim.faults.arm({ kind: 'dropConnectionAfter', operation: 'create' });
    const req = restingBuy();
    const err = await adapter.placeOrder(req).catch((e) => e);
    expect(err).toBeInstanceOf(OutcomeUnknown);
    await expect(adapter.getOrder({ clientOrderId: req.clientOrderId, symbol: 'BTCUSDT' })).resolves.toMatchObject({ status: 'new' });
    sim.faults.arm({ kind: 'dropConnectionAfter', operation: 'cancel' });
    await expect(adapter.cancelOrder({ clientOrderId: req.clientOrderId, symbol: 'BTCUSDT' })).rejects.toBeInstanceOf(OutcomeUnknown);
    await waitFor('canceled event after the dropped cancel', () => eventsOf(req.clientOrderId!).find((e) => e.kind === 'canceled'));
  });

  it('a GET on a socket reset by the venue is retried once and succeeds', async () => {
    const req = restingBuy();
    await adapter.placeOrder(req);
    sim.faults.arm({ kind: 'dropConnectionAfter', operation: 'query' });
    await expect(adapter.getOrder({ clientOrderId: req.clientOrderId, symbol: 'BTCUSDT' })).resolves.toMatchObject({ status: 'new' });
  });

  it('429 → RateLimited(60 s), the limiter pauses and refuses without calling the venue', async () => {
    sim.faults.arm({ kind: 'rateLimit429', operation: 'create' });
    const err = await adapter.placeOrder(restingBuy()).catch((e) => e);
    expect(err).toBeInstanceOf(RateLimited);
    expect(err).toMatchObject({ retryAfterMs: 60_000, httpStatus: 429 });
    expect(adapter.rest.limiter.pausedForMs()).toBeGreaterThan(55_000);

    const blocked = restingBuy();
    const second = await adapter.placeOrder(blocked).catch((e) => e);
    expect(second).toBeInstanceOf(RateLimited);
    expect(second.message).toMatch(/pause/);
    const { orders } = await control('GET', `/__sim/orders?clientOrderId=${blocked.clientOrderId}`);
    expect(orders).toEqual([]);
    // Queries pause too: the venue's wait applies to the key.
    await expect(adapter.openOrders()).rejects.toBeInstanceOf(RateLimited);

    adapter.rest.limiter.resume();
    await expect(adapter.placeOrder(restingBuy())).resolves.toMatchObject({ status: 'new' });
  });

  it('418 → RateLimited with a ban wait', async () => {
    sim.faults.arm({ kind: 'ban418', operation: 'query' });
    const err = await adapter.getOrder({ clientOrderId: 'whatever', symbol: 'BTCUSDT' }).catch((e) => e);
    expect(err).toBeInstanceOf(RateLimited);
    expect(err.httpStatus).toBe(418);
    expect(adapter.rest.limiter.pausedForMs()).toBeGreaterThan(0);
    adapter.rest.limiter.resume();
  });

  it('openOrders lists resting orders only', async () => {
    const resting = restingBuy();
    await adapter.placeOrder(resting);
    const gone = restingBuy();
    await adapter.placeOrder(gone);
    await adapter.cancelOrder({ clientOrderId: gone.clientOrderId, symbol: 'BTCUSDT' });
    const open = await adapter.openOrders();
    const ids = open.map((o) => o.clientOrderId);
    expect(ids).toContain(resting.clientOrderId);
    expect(ids).not.toContain(gone.clientOrderId);
    expect(open.every((o) => o.status === 'new' || o.status === 'partially_filled')).toBe(true);
  });

  it('a dropped stream → disconnected, reconnect with back-off → connected, and events flow again', async () => {
    states.length = 0;
    const { dropped } = await control('POST', '/__sim/drop-streams');
    expect(dropped).toBeGreaterThanOrEqual(1);
    await waitFor('reconnect', () => states.length >= 2);
    expect(states).toEqual(['disconnected', 'connected']);
    const req = restingBuy();
    await adapter.placeOrder(req);
    await waitFor('ack after reconnect', () => eventsOf(req.clientOrderId!).find((e) => e.kind === 'acknowledged'));
  });

  it('a listenKey the venue drops is refused on reconnect and replaced by a new one', async () => {
    // A second adapter on the same key whose keep-alive runs every 150 ms: with the venue's TTL
    // set to 1 ms, the PUT makes its key expire, the venue closes the stream, the old key is
    // refused (0001 on PUT / 401 on upgrade) and the stream comes back on a new one.
    const own: StreamState[] = [];
    const ownEvents: OrderEvent[] = [];
    const second = new HashKeyAdapter(
      { restUrl: sim.restUrl, wsUrl: sim.wsUrl, apiKey: API_KEY, apiSecret: API_SECRET, rateLimits: perSecondLimits({ ordersPerSecond: 1000, queriesPerSecond: 1000 }) },
      logger,
      { stream: { pingIntervalMs: 100, keepAliveIntervalMs: 150, backoff: { initialMs: 50, maxMs: 200 } } },
    );
    second.onStreamState((st) => own.push(st));
    second.onEvent((e) => ownEvents.push(e));
    try {
      await second.start();
      await control('POST', '/__sim/config', { listenKeyTtlMs: 1 });
      await waitFor('disconnect on key expiry', () => own.includes('disconnected'), 4000);
      await control('POST', '/__sim/config', { listenKeyTtlMs: 3_600_000 });
      await waitFor('connected with a new key', () => own.length >= 3 && own[own.length - 1] === 'connected', 4000);
      expect(own.slice(0, 3)).toEqual(['connected', 'disconnected', 'connected']);
      expect(logLines.some((l) => /HTTP 401|"refused":true/.test(l))).toBe(true);
      const req = restingBuy();
      await second.placeOrder(req);
      await waitFor('ack on the new key', () => ownEvents.find((e) => e.clientOrderId === req.clientOrderId && e.kind === 'acknowledged'));
    } finally {
      await control('POST', '/__sim/config', { listenKeyTtlMs: 3_600_000 });
      await second.stop();
    }
  });

  it('answers the venue pings and stays connected across several ping intervals', async () => {
    states.length = 0;
    await new Promise((r) => setTimeout(r, 700));
    expect(states).toEqual([]);
  });

  it('never logs the secret, a signature or a full listenKey', () => {
    const all = logLines.join('\n');
    expect(logLines.length).toBeGreaterThan(0);
    expect(all).not.toContain(API_SECRET);
    expect(all).not.toMatch(/signature=/);
    expect(all).not.toMatch(/[0-9a-f]{64}/);
  });
});

describe('HashKeyUserStream heartbeat against a silent server', () => {
  it('drops a link whose pings go unanswered, then reconnects', async () => {
    const { WebSocketServer } = await import('ws');
    const { HashKeyUserStream } = await import('../../../src/venues/hashkey/hashkey-user-stream');
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    const port = (wss.address() as { port: number }).port;
    const paths: string[] = [];
    const received: string[] = [];
    // Connects, swallows our pings, says nothing: the link looks up but is dead.
    wss.on('connection', (ws, req) => {
      paths.push(req.url ?? '');
      ws.on('message', (d) => received.push(d.toString()));
    });
    let keys = 0;
    const rest = {
      createListenKey: async () => `key${++keys}`,
      keepAliveListenKey: async () => undefined,
      deleteListenKey: async () => undefined,
    };
    const own: StreamState[] = [];
    const stream = new HashKeyUserStream({ rest, wsUrl: `ws://127.0.0.1:${port}/api/v1/ws`, pingIntervalMs: 50, backoff: { initialMs: 20, maxMs: 50 } });
    stream.onState((st) => own.push(st));
    try {
      await stream.start();
      await waitFor('dead link detected and reconnected', () => own.length >= 3, 3000);
      expect(own.slice(0, 3)).toEqual(['connected', 'disconnected', 'connected']);
      expect(paths[0]).toBe('/api/v1/ws/key1');
      // The old key was not refused, so the reconnect reuses it.
      expect(paths[1]).toBe('/api/v1/ws/key1');
      expect(JSON.parse(received[0])).toEqual({ ping: expect.any(Number) });
    } finally {
      await stream.stop();
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
    }
  });
});
