// The HashKey simulator over real HTTP and WebSocket on 127.0.0.1. Requests are built and signed
// here, by hand (not through the adapter), exactly as hashkey.md describes the wire.

import { createHmac } from 'node:crypto';
import http from 'node:http';
import WebSocket from 'ws';
import { startHashKeySimulator } from '../../../src/venues/hashkey/hashkey-simulator';
import { RunningSimulator, SimulatorOptions } from '../../../src/venues/sim/simulator';

const KEY = 'key-A';
const SECRET = 'secret-A';
const OTHER_KEY = 'key-B';
const HIGH_LIMITS = { ordersPerSecond: 100_000, queriesPerSecond: 100_000 };

const agent = new http.Agent({ keepAlive: true });

function hmacHex(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('hex');
}

interface HttpResult {
  status: number;
  body: any;
  headers: http.IncomingHttpHeaders;
}

function httpRequest(
  base: string,
  method: string,
  pathAndQuery: string,
  opts: { body?: string; headers?: Record<string, string> } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(base + pathAndQuery, { method, agent, headers: opts.headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: text === '' ? undefined : JSON.parse(text), headers: res.headers }));
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

interface SignOpts {
  in?: 'query' | 'body';
  apiKey?: string;
  secret?: string;
  timestamp?: number;
  /** Extra raw text sent in the other part (query or body), signed with the rest. */
  other?: string;
}

/** A signed request: params (+ timestamp) urlencoded in order, signature appended last. */
function signed(sim: RunningSimulator, method: string, path: string, params: Record<string, string> = {}, o: SignOpts = {}) {
  const qs = new URLSearchParams({ ...params, timestamp: String(o.timestamp ?? Date.now()) }).toString();
  const headers: Record<string, string> = { 'X-HK-APIKEY': o.apiKey ?? KEY };
  const secret = o.secret ?? SECRET;
  if (o.in === 'body') {
    const query = o.other ?? '';
    const sig = hmacHex(secret, query + qs);
    headers['content-type'] = 'application/x-www-form-urlencoded';
    return httpRequest(sim.restUrl, method, path + (query ? `?${query}` : ''), { body: `${qs}&signature=${sig}`, headers });
  }
  const body = o.other;
  if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
  const sig = hmacHex(secret, qs + (body ?? ''));
  return httpRequest(sim.restUrl, method, `${path}?${qs}&signature=${sig}`, { body, headers });
}

function control(sim: RunningSimulator, method: string, path: string, body?: unknown) {
  return httpRequest(sim.restUrl, method, `/__sim/${path}`, {
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
}

const limit = (over: Record<string, string> = {}) => ({
  symbol: 'BTCUSDT',
  side: 'BUY',
  type: 'LIMIT',
  quantity: '0.5',
  price: '59000',
  ...over,
});

async function waitFor<T>(probe: () => T | undefined, timeoutMs = 2000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Stream {
  readonly frames: string[] = [];
  closed = false;
  answerPings = true;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const text = d.toString();
      const msg = JSON.parse(text);
      if (msg && typeof msg === 'object' && 'ping' in msg && !Array.isArray(msg)) {
        if (this.answerPings) ws.send(JSON.stringify({ pong: msg.ping }));
        return;
      }
      this.frames.push(text);
    });
    ws.on('close', () => (this.closed = true));
  }

  static async open(sim: RunningSimulator, apiKey = KEY, secret = SECRET): Promise<Stream> {
    const r = await signed(sim, 'POST', '/api/v1/userDataStream', {}, { apiKey, secret });
    expect(r.status).toBe(200);
    return Stream.connect(sim, r.body.listenKey);
  }

  static connect(sim: RunningSimulator, listenKey: string): Promise<Stream> {
    const ws = new WebSocket(`${sim.wsUrl}/${listenKey}`);
    const s = new Stream(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(s));
      ws.once('error', reject);
    });
  }

  /** executionReports, frames unwrapped. */
  reports(): any[] {
    return this.frames.flatMap((f) => [JSON.parse(f)].flat()).filter((e) => e.e === 'executionReport');
  }

  reportsFor(clientOrderId: string): any[] {
    return this.reports().filter((e) => e.c === clientOrderId);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const done = new Promise((r) => this.ws.once('close', r));
    this.ws.close();
    await done;
  }
}

const EXECUTION_REPORT_KEYS = ['e', 'E', 's', 'c', 'S', 'o', 'f', 'q', 'p', 'X', 'i', 'l', 'z', 'L', 'n', 'N', 'd', 'V', 'Z', 'r', 'O', 'm'];

const started: RunningSimulator[] = [];
const streams: Stream[] = [];

async function startSim(over: Partial<SimulatorOptions> = {}): Promise<RunningSimulator> {
  const sim = await startHashKeySimulator({
    credentials: [
      { apiKey: KEY, apiSecret: SECRET },
      { apiKey: OTHER_KEY, apiSecret: 'secret-B' },
    ],
    rateLimits: HIGH_LIMITS,
    cancelConfirmDelayMs: 20,
    ...over,
  });
  started.push(sim);
  return sim;
}

async function openStream(sim: RunningSimulator, apiKey = KEY, secret = SECRET): Promise<Stream> {
  const s = await Stream.open(sim, apiKey, secret);
  streams.push(s);
  return s;
}

let sim: RunningSimulator;
let ids = 0;
const cid = (p = 'T') => `${p}-${++ids}`;

beforeAll(async () => {
  sim = await startSim();
  // Three ask levels 60000.10 / 60000.20 / 60000.30, 1 BTC each.
  sim.engine.configure({ liquidity: { BTCUSDT: { depth: 3, levelQty: '1', spreadTicks: 10 } } });
});

afterEach(async () => {
  sim.faults.clear();
  sim.engine.configure({ fillSlices: 1 });
  await Promise.all(streams.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  await Promise.all(started.map((s) => s.close()));
  agent.destroy();
});

describe('authentication', () => {
  test("our signing helper reproduces hashkey.md's test vectors", () => {
    expect(hmacHex('test-secret', 'symbol=ETHUSDT&side=BUY&type=LIMIT&price=3000&quantity=0.01&timestamp=1714311403031')).toBe(
      '8daf783599a36370e597837bd4641b1b8550e316054600581aa9c56d8798b239',
    );
    expect(
      hmacHex(
        'test-secret',
        'symbol=ETHUSDT&side=BUY&type=LIMIT&price=3000&quantity=0.01&newClientOrderId=FIX-1&timeInForce=GTC&recvWindow=5000&timestamp=1714311403031',
      ),
    ).toBe('a416619a2b5078bdb920c6c1ff58842ca169558be163fe4ad297d81ccb123f66');
  });

  test('the simulator accepts the test-vector requests verbatim (clock pinned to the vector time)', async () => {
    const pinned = await startSim({ credentials: [{ apiKey: 'vector', apiSecret: 'test-secret' }], clock: () => 1714311403031 + 50 });
    const headers = { 'X-HK-APIKEY': 'vector' };
    const r2 = await httpRequest(
      pinned.restUrl,
      'POST',
      '/api/v1/spot/order?symbol=ETHUSDT&side=BUY&type=LIMIT&price=3000&quantity=0.01&newClientOrderId=FIX-1&timeInForce=GTC&recvWindow=5000&timestamp=1714311403031&signature=a416619a2b5078bdb920c6c1ff58842ca169558be163fe4ad297d81ccb123f66',
      { headers },
    );
    expect(r2.status).toBe(200);
    expect(r2.body).toMatchObject({ symbol: 'ETHUSDT', clientOrderId: 'FIX-1', status: 'NEW', price: '3000', origQty: '0.01' });
    // Signature case does not matter.
    const r1 = await httpRequest(
      pinned.restUrl,
      'POST',
      '/api/v1/spot/order?symbol=ETHUSDT&side=BUY&type=LIMIT&price=3000&quantity=0.01&timestamp=1714311403031&signature=8DAF783599A36370E597837BD4641B1B8550E316054600581AA9C56D8798B239',
      { headers },
    );
    expect(r1.status).toBe(200);
    expect(r1.body.status).toBe('NEW');
  });

  test('a wrong signature, an unknown key or a missing key is refused', async () => {
    const bad = await signed(sim, 'GET', '/api/v1/spot/openOrders', {}, { secret: 'wrong' });
    expect(bad.status).toBe(401);
    expect(bad.body).toEqual({ code: '0001', msg: 'Incorrect signature' });
    const unknown = await signed(sim, 'GET', '/api/v1/spot/openOrders', {}, { apiKey: 'nobody' });
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual({ code: '0102', msg: 'Invalid APIKey' });
    const missing = await httpRequest(sim.restUrl, 'GET', `/api/v1/spot/openOrders?timestamp=${Date.now()}&signature=00`);
    expect(missing.body.code).toBe('0102');
    const unsigned = await httpRequest(sim.restUrl, 'GET', `/api/v1/spot/openOrders?timestamp=${Date.now()}`, {
      headers: { 'X-HK-APIKEY': KEY },
    });
    expect(unsigned.status).toBe(400);
    expect(unsigned.body.code).toBe('0001');
  });

  test('a timestamp outside recvWindow is refused with -1021', async () => {
    const old = await signed(sim, 'GET', '/api/v1/spot/openOrders', {}, { timestamp: Date.now() - 6000 });
    expect(old.status).toBe(400);
    expect(old.body.code).toBe('-1021');
    const widened = await signed(sim, 'GET', '/api/v1/spot/openOrders', { recvWindow: '10000' }, { timestamp: Date.now() - 6000 });
    expect(widened.status).toBe(200);
    const ahead = await signed(sim, 'GET', '/api/v1/spot/openOrders', {}, { timestamp: Date.now() + 3000 });
    expect(ahead.body.code).toBe('-1021');
    const missing = await httpRequest(sim.restUrl, 'GET', `/api/v1/spot/openOrders?signature=${hmacHex(SECRET, '')}`, {
      headers: { 'X-HK-APIKEY': KEY },
    });
    expect(missing.body).toEqual({ code: '0001', msg: "Required field 'timestamp' missing or invalid" });
  });

  test('parameters may all travel in a form-urlencoded body', async () => {
    const id = cid();
    const r = await signed(sim, 'POST', '/api/v1.1/spot/order', limit({ newClientOrderId: id }), { in: 'body' });
    expect(r.status).toBe(200);
    expect(r.body.clientOrderId).toBe(id);
  });

  test('with parameters in both query string and body, only the query string is used', async () => {
    // Split parameters: the signature covers query + body, but the body's symbol is ignored.
    const split = await signed(sim, 'POST', '/api/v1.1/spot/order', { side: 'BUY', type: 'LIMIT', quantity: '0.5', price: '59000' }, {
      other: 'symbol=BTCUSDT',
    });
    expect(split.status).toBe(400);
    expect(split.body).toEqual({ code: -100012, msg: 'Parameter symbol [String] missing!' });
    // Both carry a symbol: the query's wins.
    const id = cid();
    const both = await signed(sim, 'POST', '/api/v1.1/spot/order', limit({ symbol: 'ETHUSDT', price: '2900', newClientOrderId: id }), {
      other: 'symbol=BTCUSDT&price=59000',
    });
    expect(both.status).toBe(200);
    expect(both.body).toMatchObject({ symbol: 'ETHUSDT', price: '2900' });
  });
});

describe('orders over REST', () => {
  test('exchangeInfo publishes tick, step, min qty and min notional filters', async () => {
    const r = await httpRequest(sim.restUrl, 'GET', '/api/v1/exchangeInfo');
    expect(r.status).toBe(200);
    const btc = r.body.symbols.find((s: any) => s.symbol === 'BTCUSDT');
    expect(btc).toMatchObject({ baseAsset: 'BTC', quoteAsset: 'USDT', status: 'TRADING' });
    const filters = Object.fromEntries(btc.filters.map((f: any) => [f.filterType, f]));
    expect(filters.PRICE_FILTER.tickSize).toBe('0.01');
    expect(filters.LOT_SIZE).toMatchObject({ stepSize: '0.00001', minQty: '0.00001' });
    expect(filters.MIN_NOTIONAL).toBeDefined();
    expect(r.body.symbols.map((s: any) => s.symbol)).toEqual(['BTCUSDT', 'ETHUSDT', 'SOLUSDT']);
  });

  test('create, query, partial fill, trades, open orders, cancel, query again', async () => {
    const id = cid();
    const created = await signed(sim, 'POST', '/api/v1.1/spot/order', limit({ newClientOrderId: id, side: 'SELL', price: '60100' }));
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      symbol: 'BTCUSDT',
      clientOrderId: id,
      status: 'NEW',
      side: 'SELL',
      type: 'LIMIT',
      timeInForce: 'GTC',
      origQty: '0.5',
      executedQty: '0',
      price: '60100',
    });
    const orderId = created.body.orderId;
    expect(orderId).toMatch(/^\d{19}$/);

    const byId = await signed(sim, 'GET', '/api/v1/spot/order', { orderId });
    const byClientId = await signed(sim, 'GET', '/api/v1/spot/order', { origClientOrderId: id });
    expect(byId.body).toEqual(byClientId.body);
    expect(byId.body).toMatchObject({ orderId, status: 'NEW', exchangeId: '301', avgPrice: '0', cumulativeQuoteQty: '0' });

    const t = await control(sim, 'POST', 'trade', { symbol: 'BTCUSDT', side: 'buy', qty: '0.2', price: '60100' });
    expect(t.status).toBe(200);
    expect(t.body.fills).toHaveLength(1);

    const open = await signed(sim, 'GET', '/api/v1/spot/openOrders', { symbol: 'BTCUSDT' });
    const mine = open.body.find((o: any) => o.orderId === orderId);
    expect(mine).toMatchObject({ status: 'PARTIALLY_FILLED', executedQty: '0.2', avgPrice: '60100' });

    const trades = await signed(sim, 'GET', '/api/v1/account/trades', { clientOrderId: id });
    expect(trades.status).toBe(200);
    expect(trades.body).toHaveLength(1);
    expect(trades.body[0]).toMatchObject({
      orderId,
      clientOrderId: id,
      price: '60100',
      qty: '0.2',
      commissionAsset: 'USDT',
      isMaker: true,
      isBuyer: false,
    });
    expect(trades.body[0].ticketId).toMatch(/^\d{19}$/);
    expect(trades.body[0].id).not.toBe(trades.body[0].ticketId);
    const byOrderId = await signed(sim, 'GET', '/api/v1/account/trades', { orderId });
    expect(byOrderId.body).toEqual(trades.body);

    const canceled = await signed(sim, 'DELETE', '/api/v1/spot/order', { clientOrderId: id });
    expect(canceled.status).toBe(200);
    // Acknowledged with the status it had; the final state follows.
    expect(canceled.body).toMatchObject({ orderId, status: 'PARTIALLY_FILLED', executedQty: '0.2' });
    const after = await signed(sim, 'GET', '/api/v1/spot/order', { orderId });
    expect(after.body.status).toBe('PARTIALLY_CANCELED');

    const again = await signed(sim, 'DELETE', '/api/v1/spot/order', { orderId });
    expect(again.status).toBe(400);
    expect(again.body.code).toBe('-2011');
    const notFound = await signed(sim, 'GET', '/api/v1/spot/order', { orderId: '1234567890123456789' });
    expect(notFound.status).toBe(400);
    expect(notFound.body).toEqual({ code: '0211', msg: 'Order not found' });
    const cancelUnknown = await signed(sim, 'DELETE', '/api/v1/spot/order', { clientOrderId: 'never-sent' });
    expect(cancelUnknown.body.code).toBe('0211');
  });

  test('accounts do not see each other', async () => {
    const id = cid();
    const r = await signed(sim, 'POST', '/api/v1.1/spot/order', limit({ newClientOrderId: id }));
    const other = await signed(sim, 'GET', '/api/v1/spot/order', { orderId: r.body.orderId }, { apiKey: OTHER_KEY, secret: 'secret-B' });
    expect(other.body.code).toBe('0211');
  });

  test('market orders: v1.1 quantity is base, v1.1 amount and v1 BUY quantity are quote', async () => {
    const base = await signed(sim, 'POST', '/api/v1.1/spot/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '1.5' });
    expect(base.body).toMatchObject({ status: 'FILLED', timeInForce: 'IOC', type: 'MARKET', price: '0', origQty: '1.5', executedQty: '1.5', reqAmount: '0' });
    const v11amount = await signed(sim, 'POST', '/api/v1.1/spot/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', amount: '600.001' });
    expect(v11amount.body).toMatchObject({ status: 'FILLED', origQty: '0', executedQty: '0.01', reqAmount: '600.001' });
    const v1 = await signed(sim, 'POST', '/api/v1/spot/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '600.001' });
    expect(v1.body).toMatchObject({ status: 'FILLED', origQty: '0', executedQty: '0.01', reqAmount: '600.001' });
    const v1sell = await signed(sim, 'POST', '/api/v1/spot/order', { symbol: 'BTCUSDT', side: 'SELL', type: 'MARKET', quantity: '0.01' });
    expect(v1sell.body).toMatchObject({ status: 'FILLED', origQty: '0.01', executedQty: '0.01' });
    // More than the book: the remainder is killed.
    const big = await signed(sim, 'POST', '/api/v1.1/spot/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '5' });
    expect(big.body).toMatchObject({ status: 'PARTIALLY_CANCELED', executedQty: '3' });
  });

  test('refusals carry the venue codes', async () => {
    const post = (p: Record<string, string>) => signed(sim, 'POST', '/api/v1.1/spot/order', p);
    expect((await post(limit({ symbol: 'DOGEUSDT' }))).body).toEqual({ code: '0201', msg: 'Instrument not found' });
    expect((await post(limit({ price: '59000.001' }))).body.code).toBe('0209');
    expect((await post(limit({ quantity: '0.000001' }))).body.code).toBe('0209');
    expect((await post(limit({ price: 'abc' }))).body.code).toBe('0207');
    expect((await post(limit({ type: 'STOP' }))).body.code).toBe('0206');
    expect((await post(limit({ timeInForce: 'IOC' }))).body).toEqual({ code: '0001', msg: "Required field 'timeInForce' missing or invalid" });
    expect((await post(limit({ side: 'HOLD' }))).body.code).toBe('0001');
    const maker = await post(limit({ type: 'LIMIT_MAKER', price: '60000.10', newClientOrderId: cid() }));
    expect(maker.status).toBe(400);
    expect(maker.body.code).toBe('-1139');
    const fok = await post(limit({ quantity: '5', price: '60000.30', timeInForce: 'FOK', newClientOrderId: cid() }));
    expect(fok.status).toBe(400);
    expect(fok.body.code).toBe('-1142');
    const fokOk = await post(limit({ quantity: '2', price: '60000.30', timeInForce: 'FOK' }));
    expect(fokOk.body.status).toBe('FILLED');
  });

  test('a duplicate newClientOrderId is refused with -1141 and creates nothing', async () => {
    const id = cid();
    expect((await signed(sim, 'POST', '/api/v1.1/spot/order', limit({ newClientOrderId: id }))).status).toBe(200);
    const dup = await signed(sim, 'POST', '/api/v1.1/spot/order', limit({ newClientOrderId: id }));
    expect(dup.status).toBe(400);
    expect(dup.body).toEqual({ code: '-1141', msg: 'Duplicate order' });
    expect(sim.engine.allOrders().filter((o) => o.clientOrderId === id)).toHaveLength(1);
  });
});

describe('user data stream', () => {
  test('a crossing order arrives as one array frame: NEW then each fill', async () => {
    const s = await openStream(sim);
    const id = cid();
    await signed(sim, 'POST', '/api/v1.1/spot/order', limit({ newClientOrderId: id, quantity: '2.5', price: '60000.30' }));
    const reports = await waitFor(() => (s.reportsFor(id).length === 4 ? s.reportsFor(id) : undefined));
    expect(s.frames).toHaveLength(1);
    expect(s.frames[0].startsWith('[')).toBe(true);
    expect(reports.map((r) => [r.X, r.l, r.L, r.z])).toEqual([
      ['NEW', '0', '0', '0'],
      ['PARTIALLY_FILLED', '1', '60000.1', '1'],
      ['PARTIALLY_FILLED', '1', '60000.2', '2'],
      ['FILLED', '0.5', '60000.3', '2.5'],
    ]);
    for (const r of reports) {
      expect(Object.keys(r).sort()).toEqual([...EXECUTION_REPORT_KEYS].sort());
      expect(r.i).toMatch(/^\d{19}$/);
      for (const k of EXECUTION_REPORT_KEYS) if (k !== 'm') expect(typeof r[k]).toBe('string');
      expect(typeof r.m).toBe('boolean');
    }
    const fills = reports.slice(1);
    expect(new Set(fills.map((r) => r.d)).size).toBe(3);
    expect(fills.every((r) => /^\d{19}$/.test(r.d) && r.N === 'BTC' && r.n === String(Number(r.l) * 0.001))).toBe(true);
    expect(reports[3]).toMatchObject({ e: 'executionReport', s: 'BTCUSDT', c: id, S: 'BUY', o: 'LIMIT', f: 'GTC', q: '2.5', p: '60000.3', V: '60000.18', Z: '150000.45', r: '0' });
  });

  test('fillSlices on the control API gives several partial fills at one price', async () => {
    const s = await openStream(sim);
    expect((await control(sim, 'POST', 'config', { fillSlices: 3 })).status).toBe(200);
    const id = cid();
    await signed(sim, 'POST', '/api/v1.1/spot/order', limit({ newClientOrderId: id, quantity: '0.3', price: '60000.10' }));
    const fills = await waitFor(() => {
      const r = s.reportsFor(id).filter((x) => x.l !== '0');
      return r.length === 3 ? r : undefined;
    });
    expect(fills.map((r) => [r.X, r.l, r.L])).toEqual([
      ['PARTIALLY_FILLED', '0.1', '60000.1'],
      ['PARTIALLY_FILLED', '0.1', '60000.1'],
      ['FILLED', '0.1', '60000.1'],
    ]);
  });

  test('a resting order: NEW, partial and full fills from external trades', async () => {
    const s = await openStream(sim);
    const id = cid();
    await signed(sim, 'POST', '/api/v1.1/spot/order', limit({ newClientOrderId: id, quantity: '1', price: '59990' }));
    await waitFor(() => s.reportsFor(id).length === 1);
    await control(sim, 'POST', 'trade', { symbol: 'BTCUSDT', side: 'sell', qty: '0.4', price: '59990' });
    await control(sim, 'POST', 'trade', { symbol: 'BTCUSDT', side: 'sell', qty: '0.6' });
    const reports = await waitFor(() => (s.reportsFor(id).length === 3 ? s.reportsFor(id) : undefined));
    expect(reports.map((r) => [r.X, r.l, r.z, r.m])).toEqual([
      ['NEW', '0', '0', false],
      ['PARTIALLY_FILLED', '0.4', '0.4', true],
      ['FILLED', '0.6', '1', true],
    ]);
  });

  test('a cancel is acknowledged NEW over REST; CANCELED follows on the stream', async () => {
    const s = await openStream(sim);
    const id = cid();
    await signed(sim, 'POST', '/api/v1.1/spot/order', limit({ newClientOrderId: id }));
    await waitFor(() => s.reportsFor(id).length === 1);
    const sentAt = Date.now();
    const r = await signed(sim, 'DELETE', '/api/v1/spot/order', { clientOrderId: id });
    expect(r.body.status).toBe('NEW');
    const canceled = await waitFor(() => s.reportsFor(id).find((x) => x.X === 'CANCELED'));
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(15);
    expect(canceled).toMatchObject({ c: id, z: '0', r: '0' });
  });

  test('a pending cancel confirmation does not hold back other orders’ events', async () => {
    const slow = await startSim({ cancelConfirmDelayMs: 1000 });
    const s = await openStream(slow);
    const a = cid();
    const b = cid();
    await signed(slow, 'POST', '/api/v1.1/spot/order', limit({ newClientOrderId: a }));
    await signed(slow, 'DELETE', '/api/v1/spot/order', { clientOrderId: a });
    await signed(slow, 'POST', '/api/v1.1/spot/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.1', newClientOrderId: b });
    await waitFor(() => s.reportsFor(b).find((r) => r.X === 'FILLED'), 800, 'the market order, before the cancel confirmation');
    expect(s.reportsFor(a).map((r) => r.X)).toEqual(['NEW']);
    await waitFor(() => s.reportsFor(a).find((r) => r.X === 'CANCELED'), 3000);
  });

  test('another account sees none of my events', async () => {
    const mine = await openStream(sim);
    const theirs = await openStream(sim, OTHER_KEY, 'secret-B');
    const id = cid();
    await signed(sim, 'POST', '/api/v1.1/spot/order', limit({ newClientOrderId: id }));
    await waitFor(() => mine.reportsFor(id).length === 1);
    await sleep(30);
    expect(theirs.frames).toEqual([]);
  });

  test('client {"ping":x} is answered {"pong":x}', async () => {
    const s = await openStream(sim);
    const pong = new Promise<string>((resolve) => s.ws.once('message', (d) => resolve(d.toString())));
    s.ws.send(JSON.stringify({ ping: 1722000000000 }));
    expect(JSON.parse(await pong)).toEqual({ pong: 1722000000000 });
  });

  test('the server pings and drops a client after two unanswered pings', async () => {
    const fast = await startSim({ streamPingIntervalMs: 40 });
    const silent = await openStream(fast);
    silent.answerPings = false;
    const polite = await openStream(fast);
    await waitFor(() => silent.closed, 2000, 'silent client dropped');
    expect(polite.closed).toBe(false);
  });

  test('listenKey keep-alive and close; an unknown listenKey cannot connect', async () => {
    const created = await signed(sim, 'POST', '/api/v1/userDataStream');
    const listenKey = created.body.listenKey;
    expect(listenKey).toMatch(/^[0-9a-f]{64}$/);
    const s = await Stream.connect(sim, listenKey);
    streams.push(s);
    expect((await signed(sim, 'PUT', '/api/v1/userDataStream', { listenKey })).body).toEqual({});
    expect((await signed(sim, 'PUT', '/api/v1/userDataStream', { listenKey }, { apiKey: OTHER_KEY, secret: 'secret-B' })).status).toBe(400);
    expect((await signed(sim, 'DELETE', '/api/v1/userDataStream', { listenKey })).status).toBe(200);
    await waitFor(() => s.closed);
    expect((await signed(sim, 'PUT', '/api/v1/userDataStream', { listenKey })).status).toBe(400);
    await expect(Stream.connect(sim, listenKey)).rejects.toThrow(/401/);
  });

  test('an expired listenKey closes its streams', async () => {
    const short = await startSim();
    expect((await control(short, 'POST', 'config', { listenKeyTtlMs: 50 })).status).toBe(200);
    const s = await openStream(short);
    await waitFor(() => s.closed, 3000, 'expiry');
  });

  test('streamFraming "object" sends one plain object per frame', async () => {
    const plain = await startSim();
    plain.engine.configure({ liquidity: { BTCUSDT: { depth: 1, levelQty: '1' } } });
    await control(plain, 'POST', 'config', { streamFraming: 'object' });
    const s = await openStream(plain);
    await signed(plain, 'POST', '/api/v1.1/spot/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.5' });
    await waitFor(() => s.frames.length === 2);
    expect(s.frames.map((f) => JSON.parse(f).X)).toEqual(['NEW', 'FILLED']);
    expect(s.frames.every((f) => f.startsWith('{'))).toBe(true);
  });
});

describe('rate limits', () => {
  test('over the per-key limit the venue answers 429 with its body', async () => {
    const limited = await startSim({ rateLimits: { ordersPerSecond: 3, queriesPerSecond: 2 } });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await signed(limited, 'POST', '/api/v1.1/spot/order', limit())).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const q = [];
    for (let i = 0; i < 3; i++) q.push(await signed(limited, 'GET', '/api/v1/spot/openOrders'));
    expect(q.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(q[2].body).toEqual({ code: '0003', msg: 'Rate limit exceeded' });
    expect(q[2].headers['retry-after']).toBe('60');
    // Limits are per key.
    expect((await signed(limited, 'GET', '/api/v1/spot/openOrders', {}, { apiKey: OTHER_KEY, secret: 'secret-B' })).status).toBe(200);
    // The window slides: a second later the key may send again.
    await sleep(1010);
    expect((await signed(limited, 'POST', '/api/v1.1/spot/order', limit())).status).toBe(200);
  });
});

describe('faults', () => {
  const exists = async (id: string) => (await signed(sim, 'GET', '/api/v1/spot/order', { origClientOrderId: id })).body.status;

  test('error5xxAfter on create: 500, yet the order was created', async () => {
    await control(sim, 'POST', 'faults', { kind: 'error5xxAfter', operation: 'create' });
    const id = cid();
    const r = await signed(sim, 'POST', '/api/v1.1/spot/order', limit({ newClientOrderId: id }));
    expect(r.status).toBe(500);
    expect(r.body).toEqual({ code: '-1001', msg: 'Internal error' });
    expect(await exists(id)).toBe('NEW');
  });

  test('error5xxBefore: 503 and nothing happened; the rule fires count times, for its operation only', async () => {
    sim.faults.arm({ kind: 'error5xxBefore', operation: 'create', count: 2 });
    const q = await signed(sim, 'GET', '/api/v1/spot/openOrders');
    expect(q.status).toBe(200);
    const a = cid();
    const b = cid();
    const c = cid();
    expect((await signed(sim, 'POST', '/api/v1.1/spot/order', limit({ newClientOrderId: a }))).status).toBe(503);
    expect((await signed(sim, 'POST', '/api/v1.1/spot/order', limit({ newClientOrderId: b }))).status).toBe(503);
    expect((await signed(sim, 'POST', '/api/v1.1/spot/order', limit({ newClientOrderId: c }))).status).toBe(200);
    expect(await exists(a)).toBeUndefined();
    expect(await exists(c)).toBe('NEW');
  });

  test('timeoutAfter: the order is placed, no reply, the socket is dropped after holdMs', async () => {
    sim.faults.arm({ kind: 'timeoutAfter', operation: 'create', holdMs: 150 });
    const id = cid();
    const t0 = Date.now();
    await expect(signed(sim, 'POST', '/api/v1.1/spot/order', limit({ newClientOrderId: id }))).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(await exists(id)).toBe('NEW');
  });

  test('dropConnectionAfter on cancel: the cancel happened, the connection died without a reply', async () => {
    const id = cid();
    await signed(sim, 'POST', '/api/v1.1/spot/order', limit({ newClientOrderId: id }));
    sim.faults.arm({ kind: 'dropConnectionAfter', operation: 'cancel' });
    await expect(signed(sim, 'DELETE', '/api/v1/spot/order', { clientOrderId: id })).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(await exists(id)).toBe('CANCELED');
  });

  test('rateLimit429 and ban418 answer without performing', async () => {
    await control(sim, 'POST', 'faults', [
      { kind: 'rateLimit429', operation: 'create' },
      { kind: 'ban418', operation: 'create' },
    ]);
    const a = cid();
    const b = cid();
    const r429 = await signed(sim, 'POST', '/api/v1.1/spot/order', limit({ newClientOrderId: a }));
    const r418 = await signed(sim, 'POST', '/api/v1.1/spot/order', limit({ newClientOrderId: b }));
    expect([r429.status, r418.status]).toEqual([429, 418]);
    expect(r429.body.code).toBe('0003');
    expect(await exists(a)).toBeUndefined();
    expect(await exists(b)).toBeUndefined();
  });

  test('faults on query, openOrders and listenKey operations', async () => {
    sim.faults.arm([
      { kind: 'error5xxBefore', operation: 'query' },
      { kind: 'error5xxBefore', operation: 'openOrders', status: 502 },
      { kind: 'error5xxBefore', operation: 'listenKey' },
    ]);
    expect((await signed(sim, 'GET', '/api/v1/spot/order', { orderId: '1' })).status).toBe(503);
    expect((await signed(sim, 'GET', '/api/v1/spot/openOrders')).status).toBe(502);
    expect((await signed(sim, 'POST', '/api/v1/userDataStream')).status).toBe(503);
    expect(sim.faults.pending()).toEqual([]);
  });

  test('dropStreams closes every user stream; the listenKey still works for a reconnect', async () => {
    const created = await signed(sim, 'POST', '/api/v1/userDataStream');
    const a = await Stream.connect(sim, created.body.listenKey);
    const b = await openStream(sim, OTHER_KEY, 'secret-B');
    streams.push(a);
    const r = await control(sim, 'POST', 'drop-streams');
    expect(r.body.dropped).toBeGreaterThanOrEqual(2);
    await waitFor(() => a.closed && b.closed);
    const again = await Stream.connect(sim, created.body.listenKey);
    streams.push(again);
    // Armed as a rule it fires at once too.
    await control(sim, 'POST', 'faults', { kind: 'dropStreams' });
    await waitFor(() => again.closed);
  });

  test('suppressStreamEvents swallows the next n events', async () => {
    const s = await openStream(sim);
    await control(sim, 'POST', 'faults', { kind: 'suppressStreamEvents', count: 1 });
    const id = cid();
    await signed(sim, 'POST', '/api/v1.1/spot/order', limit({ newClientOrderId: id, quantity: '1', price: '60000.10' }));
    const got = await waitFor(() => (s.reportsFor(id).length > 0 ? s.reportsFor(id) : undefined));
    await sleep(30);
    expect(s.reportsFor(id).map((r) => r.X)).toEqual(['FILLED']);
    expect(got).toHaveLength(1);
  });

  test('delayStreamMs holds events back (after the REST reply) and keeps their order', async () => {
    const s = await openStream(sim);
    sim.faults.arm({ kind: 'delayStreamMs', ms: 150 });
    const id = cid();
    const t0 = Date.now();
    const r = await signed(sim, 'POST', '/api/v1.1/spot/order', limit({ newClientOrderId: id, quantity: '1', price: '60000.10' }));
    expect(r.body.status).toBe('FILLED');
    expect(s.reportsFor(id)).toEqual([]);
    await waitFor(() => s.reportsFor(id).length === 2);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(s.reportsFor(id).map((x) => x.X)).toEqual(['NEW', 'FILLED']);
  });

  test('bad fault rules are refused by the control API', async () => {
    const r = await control(sim, 'POST', 'faults', { kind: 'explode' });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/unknown fault kind/);
    expect(sim.faults.pending()).toEqual([]);
  });
});

describe('control API', () => {
  test('health, orders for assertions, and config validation', async () => {
    const health = await control(sim, 'GET', 'health');
    expect(health.body).toMatchObject({ status: 'ok', venue: 'hashkey' });
    const id = cid();
    await signed(sim, 'POST', '/api/v1.1/spot/order', limit({ newClientOrderId: id, quantity: '1', price: '60000.10' }));
    const orders = await control(sim, 'GET', `orders?clientOrderId=${id}`);
    expect(orders.body.orders).toHaveLength(1);
    expect(orders.body.orders[0]).toMatchObject({ account: KEY, clientOrderId: id, status: 'filled', cumQty: '1' });
    expect(orders.body.orders[0].fills).toHaveLength(1);
    expect((await control(sim, 'POST', 'config', { nonsense: 1 })).status).toBe(400);
    expect((await control(sim, 'POST', 'config', { fillSlices: 0 })).status).toBe(400);
    expect((await control(sim, 'POST', 'trade', { symbol: 'BTCUSDT', side: 'up', qty: '1' })).status).toBe(400);
    expect((await control(sim, 'GET', 'nope')).status).toBe(404);
  });
});
