// The Zerocap simulator over real HTTP and WebSocket on 127.0.0.1. Requests are built and signed
// by hand here (not through the adapter), exactly as zerocap.md describes the wire.

import { createHmac } from 'node:crypto';
import http from 'node:http';
import WebSocket from 'ws';
import { parseJsonNumbersAsText } from '../../../src/venues/sim/sim-json';
import { RunningSimulator, SimulatorOptions } from '../../../src/venues/sim/simulator';
import { startZerocapSimulator } from '../../../src/venues/zerocap/zerocap-simulator';

const KEY = 'zc-key';
const SECRET = 'zc-secret';
const OTHER = 'zc-other';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const agent = new http.Agent({ keepAlive: true });

interface Reply {
  status: number;
  text: string;
  body: any;
  headers: http.IncomingHttpHeaders;
}

function request(url: string, method: string, opts: { body?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers: opts.headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let body: unknown = text;
        try {
          body = parseJsonNumbersAsText(text);
        } catch {
          /* plain text */
        }
        resolve({ status: res.statusCode!, text, body, headers: res.headers });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

function authHeaders(o: { apiKey?: string; secret?: string; timestamp?: string } = {}): Record<string, string> {
  const timestamp = o.timestamp ?? String(Math.floor(Date.now() / 1000));
  return {
    'api-key': o.apiKey ?? KEY,
    timestamp,
    signature: createHmac('sha256', o.secret ?? SECRET).update(timestamp).digest('hex'),
  };
}

const post = (sim: RunningSimulator, path: string, body: unknown, auth: Parameters<typeof authHeaders>[0] = {}) =>
  request(sim.restUrl + path, 'POST', {
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { ...authHeaders(auth), 'content-type': 'application/json' },
  });
const get = (sim: RunningSimulator, path: string, auth: Parameters<typeof authHeaders>[0] = {}) =>
  request(sim.restUrl + path, 'GET', { headers: authHeaders(auth) });
const control = (sim: RunningSimulator, method: string, path: string, body?: unknown) =>
  request(`http://127.0.0.1:${sim.port}/__sim/${path}`, method, {
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });

let ids = 0;
const order = (over: Record<string, unknown> = {}) => ({
  symbol: 'BTC/USD',
  side: 'buy',
  type: 'limit',
  amount: '1.5',
  price: '60000.20',
  client_order_id: `C-${++ids}`,
  coinroutes_customer_id: 0,
  ...over,
});

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 2000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

class Stream {
  readonly messages: any[] = [];
  readonly raw: string[] = [];
  closed = false;
  closeCode: number | undefined;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      this.raw.push(d.toString());
      this.messages.push(parseJsonNumbersAsText(d.toString()));
    });
    ws.on('close', (code) => {
      this.closed = true;
      this.closeCode = code;
    });
  }

  static async open(sim: RunningSimulator, headers = authHeaders(), path = ''): Promise<Stream> {
    const ws = new WebSocket(sim.wsUrl + path, { headers });
    const s = new Stream(ws);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return s;
  }

  send(o: unknown): void {
    this.ws.send(typeof o === 'string' ? o : JSON.stringify(o));
  }

  async subscribe(): Promise<void> {
    this.send({ type: 'order' });
    this.send({ type: 'trade' });
    await waitFor('subscription acks', () => this.messages.filter((m) => /Subscription successful/.test(m.message ?? '')).length === 2);
  }

  ofType(type: string): any[] {
    return this.messages.filter((m) => m.type === type);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const done = new Promise<void>((r) => this.ws.once('close', () => r()));
    this.ws.close();
    return done;
  }
}

const sims: RunningSimulator[] = [];
const streams: Stream[] = [];
async function startSim(over: Partial<SimulatorOptions> = {}): Promise<RunningSimulator> {
  const sim = await startZerocapSimulator({
    credentials: [
      { apiKey: KEY, apiSecret: SECRET },
      { apiKey: OTHER, apiSecret: 'other-secret' },
    ],
    rateLimits: { ordersPerSecond: 100_000, queriesPerSecond: 100_000 },
    ...over,
  });
  sims.push(sim);
  return sim;
}
async function openStream(sim: RunningSimulator, headers = authHeaders()): Promise<Stream> {
  const s = await Stream.open(sim, headers);
  streams.push(s);
  return s;
}

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startSim();
  // Asks at 60000.10 / 60000.20 / 60000.30, 1 BTC each.
  sim.engine.configure({ liquidity: { 'BTC/USD': { depth: 3, levelQty: '1', spreadTicks: 10 } } });
});
afterEach(async () => {
  sim.faults.clear();
  await control(sim, 'POST', 'config', { restNextOrders: 0, restAllOrders: false, restingOrderTtlMs: 0, rejectNextOrders: 0 });
  await Promise.all(streams.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await Promise.all(sims.map((s) => s.close()));
  agent.destroy();
});

describe('URLs', () => {
  it('REST and WS base URLs end in /v2, as zerocap.md lists them; paths outside /v2 are 404', async () => {
    expect(sim.restUrl).toBe(`http://127.0.0.1:${sim.port}/v2`);
    expect(sim.wsUrl).toBe(`ws://127.0.0.1:${sim.port}/v2`);
    const outside = await request(`http://127.0.0.1:${sim.port}/orders/create_order`, 'POST', { headers: authHeaders(), body: '{}' });
    expect(outside.status).toBe(404);
    expect(outside.body).toEqual({ error_code: '404', error_message: 'Not Found' });
  });
});

describe('authentication', () => {
  it("accepts zerocap.md's vector verbatim (clock pinned near 1692346145)", async () => {
    const pinned = await startSim({ credentials: [{ apiKey: 'vector', apiSecret: 'test-secret' }], clock: () => 1692346145_000 + 20_000 });
    const r = await request(pinned.restUrl + '/orders/fetch_orders', 'POST', {
      headers: { 'api-key': 'vector', timestamp: '1692346145', signature: 'd5eef256e590e4ccfb0c0da71057ff76435b9accf7fbda7f0ab43ac8383832cf' },
      body: '{}',
    });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ order_list: [], status: 'success', total: '0', page: '1' });
  });

  it('wrong signature, unknown or missing key → 401 with the error object; nothing is created', async () => {
    const before = sim.engine.allOrders().length;
    const bad = await post(sim, '/orders/create_order', order(), { secret: 'wrong' });
    expect(bad.status).toBe(401);
    expect(bad.body).toEqual({ error_code: '401', error_message: 'Invalid signature' });
    const unknown = await post(sim, '/orders/create_order', order(), { apiKey: 'nobody' });
    expect(unknown.body).toEqual({ error_code: '401', error_message: 'Unauthorized' });
    const none = await request(sim.restUrl + '/orders/create_order', 'POST', { body: JSON.stringify(order()) });
    expect(none.status).toBe(401);
    expect(sim.engine.allOrders().length).toBe(before);
  });

  it('a timestamp more than 30 s away (either way) → 401 Request expired; 29 s is fine; a decimal timestamp is signed as sent', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const off of [-32, 32]) {
      const r = await get(sim, '/orders/fetch_order?id=x', { timestamp: String(now + off) });
      expect(r.status).toBe(401);
      expect(r.body.error_message).toBe('Request expired');
    }
    expect((await get(sim, '/orders/fetch_order?id=x', { timestamp: String(now - 28) })).status).toBe(404);
    expect((await get(sim, '/orders/fetch_order?id=x', { timestamp: `${now}.25` })).status).toBe(404);
  });
});

describe('orders over REST', () => {
  it('a fillable limit order closes at once, filled, one trade per level at its own price; numbers are JSON numbers', async () => {
    const body = order({ amount: '2.5', price: '60000.30' });
    const r = await post(sim, '/orders/create_order', body);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      status: 'closed',
      symbol: 'BTC/USD',
      type: 'limit',
      time_in_force: 'FOK',
      side: 'buy',
      price: '60000.3',
      amount: '2.5',
      filled: '2.5',
      remaining: '0',
      fee: '0',
      error_message: '',
      client_order_id: body.client_order_id,
    });
    expect(r.body.id).toMatch(UUID);
    expect(r.body.trades.map((t: any) => [t.price, t.amount, t.order, t.taker_or_maker])).toEqual([
      ['60000.1', '1', r.body.id, 'taker'],
      ['60000.2', '1', r.body.id, 'taker'],
      ['60000.3', '0.5', r.body.id, 'taker'],
    ]);
    expect(r.body.average).toBe('60000.18');
    expect(r.text).toMatch(/"amount":2\.5,/);
    expect(r.text).toMatch(/"filled":2\.5,/);
  });

  it('amounts may come as JSON numbers and keep their exact value', async () => {
    const r = await post(sim, '/orders/create_order', `{"symbol":"BTC/USD","side":"buy","type":"limit","amount":0.1,"price":60000.10,"client_order_id":"num"}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ filled: '0.1', status: 'closed' });
  });

  it('not fillable whole at the price → closed, filled 0, with an error_message (the FOK kill)', async () => {
    const r = await post(sim, '/orders/create_order', order({ amount: '5', price: '60000.30' }));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'closed', filled: '0', remaining: '0', error_message: 'Order could not be filled at the limit price', trades: [] });
    const below = await post(sim, '/orders/create_order', order({ price: '59000' }));
    expect(below.body).toMatchObject({ status: 'closed', filled: '0' });
  });

  it('bad input → 400 with the error object', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ symbol: 'DOGE/USD' }, 'Invalid symbol: DOGE/USD'],
      [{ symbol: 'BTCUSD' }, 'Invalid symbol: BTCUSD'],
      [{ side: 'BUY' }, 'Invalid side'],
      [{ type: 'stop' }, 'Invalid type'],
      [{ amount: '-1' }, 'Invalid amount'],
      [{ amount: '0.000001' }, 'Invalid amount: step size is 0.00001'],
      [{ price: '0' }, 'Invalid price'],
      [{ price: '60000.001' }, 'Invalid price: tick size is 0.01'],
      [{ client_order_id: 'x'.repeat(65) }, 'Invalid client_order_id'],
    ];
    for (const [over, message] of cases) {
      const r = await post(sim, '/orders/create_order', order(over));
      expect([r.status, r.body]).toEqual([400, { error_code: '400', error_message: message }]);
    }
    expect((await post(sim, '/orders/create_order', 'not json')).body.error_message).toBe('Invalid request body');
  });

  it('client_order_id is not required to be unique', async () => {
    const a = await post(sim, '/orders/create_order', order({ client_order_id: 'same' }));
    const b = await post(sim, '/orders/create_order', order({ client_order_id: 'same' }));
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.body.id).not.toBe(b.body.id);
  });

  it('fetch_order by id; unknown, other account → 404; no id → 400', async () => {
    const created = await post(sim, '/orders/create_order', order({ amount: '0.5' }));
    const r = await get(sim, `/orders/fetch_order?id=${created.body.id}`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual(created.body);
    const unknown = await get(sim, '/orders/fetch_order?id=00000000-0000-0000-0000-000000000000');
    expect([unknown.status, unknown.body]).toEqual([404, { error_code: '404', error_message: 'Order not found' }]);
    expect((await get(sim, `/orders/fetch_order?id=${created.body.id}`, { apiKey: OTHER, secret: 'other-secret' })).status).toBe(404);
    expect((await get(sim, '/orders/fetch_order')).status).toBe(400);
  });

  it('fetch_orders: filters (status, symbol, side, ids, time), paging and sort order', async () => {
    const fresh = await startSim();
    const t0 = Date.now();
    const made: any[] = [];
    for (const o of [order({ amount: '0.1' }), order({ symbol: 'ETH/USD', price: '3000.01', amount: '0.1' }), order({ side: 'sell', price: '59999.99', amount: '0.2' })]) {
      made.push((await post(fresh, '/orders/create_order', o)).body);
    }
    await control(fresh, 'POST', 'config', { restNextOrders: 1 });
    made.push((await post(fresh, '/orders/create_order', order({ price: '59000' }))).body);
    const list = async (b: Record<string, unknown>) => (await post(fresh, '/orders/fetch_orders', b)).body;
    const all = await list({});
    expect(all.total).toBe('4');
    expect(all.order_list.map((o: any) => o.id)).toEqual(made.map((o) => o.id).reverse());
    expect((await list({ sort_order: 'asc' })).order_list[0].id).toBe(made[0].id);
    expect((await list({ status: 'open' })).order_list.map((o: any) => o.id)).toEqual([made[3].id]);
    expect((await list({ symbol: 'ETH/USD' })).order_list.map((o: any) => o.id)).toEqual([made[1].id]);
    expect((await list({ side: 'sell' })).order_list.map((o: any) => o.id)).toEqual([made[2].id]);
    expect((await list({ ids: `${made[0].id},${made[2].id}` })).total).toBe('2');
    expect((await list({ start_datetime: t0 - 1000, end_datetime: Date.now() + 1000 })).total).toBe('4');
    expect((await list({ start_datetime: Date.now() + 60_000 })).total).toBe('0');
    const page2 = await list({ limit: 3, page: 2 });
    expect([page2.page, page2.total, page2.order_list.length]).toEqual(['2', '4', 1]);
    expect((await post(fresh, '/orders/fetch_orders', { limit: 0 })).status).toBe(400);
  });
});

describe('venue rejects (told through /__sim/)', () => {
  it('rejectNextOrders: the next create fails the risk check with 400 "Insufficient balance" and places nothing; the one after is normal', async () => {
    const before = sim.engine.allOrders().length;
    await control(sim, 'POST', 'config', { rejectNextOrders: 1 });
    const r = await post(sim, '/orders/create_order', order({ amount: '0.1', price: '60000.10' }));
    expect([r.status, r.body]).toEqual([400, { error_code: '400', error_message: 'Insufficient balance' }]);
    expect(sim.engine.allOrders().length).toBe(before);
    const next = await post(sim, '/orders/create_order', order({ amount: '0.1', price: '60000.10' }));
    expect([next.status, next.body.status, next.body.filled]).toEqual([200, 'closed', '0.1']);
    expect((await control(sim, 'POST', 'config', { rejectNextOrders: -1 })).status).toBe(400);
  });
});

describe('resting orders (told through /__sim/)', () => {
  it('restNextOrders: the order stays open; /__sim/trade fills it at its price; it closes when filled', async () => {
    await control(sim, 'POST', 'config', { restNextOrders: 1 });
    const r = await post(sim, '/orders/create_order', order({ amount: '1', price: '59000' }));
    expect(r.body).toMatchObject({ status: 'open', filled: '0', remaining: '1' });
    const next = await post(sim, '/orders/create_order', order({ amount: '1', price: '59000' }));
    expect(next.body.status).toBe('closed'); // only one was told to rest
    await control(sim, 'POST', 'trade', { symbol: 'BTC/USD', side: 'sell', qty: '0.4' });
    const part = await get(sim, `/orders/fetch_order?id=${r.body.id}`);
    expect(part.body).toMatchObject({ status: 'open', filled: '0.4', remaining: '0.6' });
    expect(part.body.trades[0]).toMatchObject({ price: '59000', amount: '0.4', taker_or_maker: 'maker' });
    await control(sim, 'POST', 'trade', { symbol: 'BTC/USD', side: 'sell', qty: '0.6' });
    expect((await get(sim, `/orders/fetch_order?id=${r.body.id}`)).body).toMatchObject({ status: 'closed', filled: '1', remaining: '0' });
  });

  it('restingOrderTtlMs closes a resting order unfilled (closed, filled < amount); /__sim/ says expired, since nobody canceled it', async () => {
    await control(sim, 'POST', 'config', { restNextOrders: 1, restingOrderTtlMs: 50 });
    const r = await post(sim, '/orders/create_order', order({ amount: '1', price: '59000' }));
    expect(r.body.status).toBe('open');
    await waitFor('ttl', () => sim.engine.allOrders().find((o) => o.clientOrderId === r.body.client_order_id && o.status !== 'new'));
    expect(sim.engine.allOrders().find((o) => o.clientOrderId === r.body.client_order_id)!.status).toBe('expired');
    expect((await get(sim, `/orders/fetch_order?id=${r.body.id}`)).body).toMatchObject({ status: 'closed', filled: '0' });
  });

  it('maxOrderNotional: an order above the account risk limit gets 400 and is not created; 0 lifts the limit', async () => {
    await control(sim, 'POST', 'config', { maxOrderNotional: '1000' });
    const before = sim.engine.allOrders().length;
    const r = await post(sim, '/orders/create_order', order({ amount: '0.1', price: '60000' }));
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ error_code: '400', error_message: 'Risk limit exceeded: order notional 6000 above 1000' });
    expect(sim.engine.allOrders().length).toBe(before);
    const small = await post(sim, '/orders/create_order', order({ amount: '0.01', price: '61000' }));
    expect(small.status).toBe(200);
    await control(sim, 'POST', 'config', { maxOrderNotional: '0' });
    expect((await post(sim, '/orders/create_order', order({ amount: '0.1', price: '61000' }))).status).toBe(200);
    expect((await control(sim, 'POST', 'config', { maxOrderNotional: 'lots' })).status).toBe(400);
  });

  it('config validation', async () => {
    expect((await control(sim, 'POST', 'config', { restNextOrders: -1 })).status).toBe(400);
    expect((await control(sim, 'POST', 'config', { restAllOrders: 'yes' })).status).toBe(400);
    expect((await control(sim, 'GET', 'health')).body).toMatchObject({ status: 'ok', venue: 'zerocap' });
  });
});

describe('stream', () => {
  it('bad headers: the upgrade succeeds, then the documented 401 error, then close', async () => {
    const s = await openStream(sim, authHeaders({ secret: 'wrong' }));
    await waitFor('closed', () => s.closed);
    expect(s.messages).toEqual([{ type: 'error', error_code: '401', error_message: 'Unauthorized' }]);
    const stale = await openStream(sim, authHeaders({ timestamp: String(Math.floor(Date.now() / 1000) - 40) }));
    await waitFor('closed', () => stale.closed);
    expect(stale.messages[0].error_code).toBe('401');
  });

  it('connect message, subscription acks, ping → pong, bad input → 400 error', async () => {
    const s = await openStream(sim);
    await waitFor('welcome', () => s.messages.length === 1);
    expect(s.messages[0]).toEqual({ type: 'message', message: 'Successfully connected.' });
    s.send({ type: 'order' });
    s.send({ type: 'trade' });
    s.send({ type: 'price', symbol: 'USDT/AUD' });
    s.send({ type: 'message', message: 'ping' });
    s.send('nonsense');
    await waitFor('5 replies', () => s.messages.length === 6);
    expect(s.messages.slice(1)).toEqual([
      { type: 'message', message: 'order Subscription successful.' },
      { type: 'message', message: 'trade Subscription successful.' },
      { type: 'message', message: 'price Subscription successful.' },
      { type: 'message', message: 'pong' },
      { type: 'error', error_code: '400', error_message: 'invalid message' },
    ]);
  });

  it('a filled order: open push, one trade push per fill (camelCase, string ms), then closed with its trades; no client_order_id', async () => {
    const s = await openStream(sim);
    await s.subscribe();
    const other = await openStream(sim, authHeaders({ apiKey: OTHER, secret: 'other-secret' }));
    await other.subscribe();
    const r = await post(sim, '/orders/create_order', order({ amount: '1.5', price: '60000.20' }));
    await waitFor('closed push', () => s.ofType('order').find((m) => m.data.status === 'closed'));
    const pushes = s.messages.filter((m) => m.type === 'order' || m.type === 'trade');
    expect(pushes.map((m) => [m.type, m.data.status ?? m.data.price])).toEqual([
      ['order', 'open'],
      ['trade', '60000.1'],
      ['trade', '60000.2'],
      ['order', 'closed'],
    ]);
    const [open, t1, , closed] = pushes;
    expect(open.data).toMatchObject({ id: r.body.id, filled: '0', trades: [] });
    expect(open.data.client_order_id).toBeUndefined();
    expect(t1.data).toMatchObject({ order: r.body.id, symbol: 'BTC/USD', takerOrMaker: 'taker', amount: '1', orderFrom: 'coinroutes' });
    expect(typeof JSON.parse(s.raw.find((x) => x.includes('"type":"trade"'))!).data.timestamp).toBe('string');
    expect(closed.data).toMatchObject({ id: r.body.id, filled: '1.5', trades: [{}, {}] });
    const rawClosed = JSON.parse(s.raw.find((x) => x.includes('"status":"closed"'))!);
    expect([typeof rawClosed.data.remaining, typeof rawClosed.data.fee, typeof rawClosed.data.filled]).toEqual(['string', 'string', 'number']);
    await new Promise((r2) => setTimeout(r2, 30));
    expect(other.messages.filter((m) => m.type === 'order' || m.type === 'trade')).toEqual([]);
  });

  it('only subscribed channels are pushed; a killed FOK pushes only closed', async () => {
    const s = await openStream(sim);
    s.send({ type: 'order' });
    await waitFor('ack', () => s.messages.length === 2);
    await post(sim, '/orders/create_order', order({ amount: '9', price: '60000.30' }));
    await waitFor('closed push', () => s.ofType('order').length === 1);
    expect(s.ofType('order')[0].data).toMatchObject({ status: 'closed', filled: '0', error_message: 'Order could not be filled at the limit price' });
    expect(s.ofType('trade')).toEqual([]);
  });

  it('a silent client is closed after streamIdleTimeoutMs', async () => {
    const idle = await startSim();
    await control(idle, 'POST', 'config', { streamIdleTimeoutMs: 100 });
    const s = await Stream.open(idle);
    streams.push(s);
    await waitFor('idle close', () => s.closed, 3000);
  });
});

describe('faults', () => {
  it('error5xxAfter on create: 500 text, the order exists and fetch_orders shows it with its client_order_id', async () => {
    await control(sim, 'POST', 'faults', { kind: 'error5xxAfter', operation: 'create' });
    const body = order({ amount: '0.5' });
    const r = await post(sim, '/orders/create_order', body);
    expect([r.status, r.text]).toEqual([500, 'Internal Server Error']);
    const list = (await post(sim, '/orders/fetch_orders', { symbol: 'BTC/USD', limit: 5 })).body.order_list;
    expect(list.find((o: any) => o.client_order_id === body.client_order_id)).toMatchObject({ status: 'closed', filled: '0.5' });
  });

  it('error5xxBefore: nothing created; 429 with Retry-After; timeoutAfter holds then drops the socket', async () => {
    await control(sim, 'POST', 'faults', [
      { kind: 'error5xxBefore', operation: 'create' },
      { kind: 'rateLimit429', operation: 'create' },
      { kind: 'timeoutAfter', operation: 'create', holdMs: 100 },
    ]);
    const a = order();
    expect((await post(sim, '/orders/create_order', a)).status).toBe(503);
    expect(sim.engine.allOrders().some((o) => o.clientOrderId === a.client_order_id)).toBe(false);
    const limited = await post(sim, '/orders/create_order', order());
    expect([limited.status, limited.body, limited.headers['retry-after']]).toEqual([429, { error_code: '429', error_message: 'Too Many Requests' }, '1']);
    const held = order({ amount: '0.1' });
    await expect(post(sim, '/orders/create_order', held)).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(sim.engine.allOrders().find((o) => o.clientOrderId === held.client_order_id)?.status).toBe('filled');
  });

  it('the published rate limit answers 429', async () => {
    const limited = await startSim({ rateLimits: { ordersPerSecond: 2, queriesPerSecond: 2 } });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await post(limited, '/orders/create_order', order({ amount: '0.1' }))).status);
    expect(statuses).toEqual([200, 200, 429]);
  });

  it('dropStreams closes every stream; a suppressStreamEvents fault swallows a push', async () => {
    const s = await openStream(sim);
    await s.subscribe();
    await control(sim, 'POST', 'faults', { kind: 'suppressStreamEvents', count: 1 });
    await post(sim, '/orders/create_order', order({ amount: '0.1' }));
    await waitFor('closed push', () => s.ofType('order').length === 1);
    expect(s.ofType('order')[0].data.status).toBe('closed'); // the `open` push was swallowed
    const r = await control(sim, 'POST', 'drop-streams');
    expect(r.body.dropped).toBe('1');
    await waitFor('closed', () => s.closed);
  });
});
