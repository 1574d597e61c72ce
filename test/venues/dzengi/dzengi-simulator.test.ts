import { perSecondLimits } from '../../../src/venues/common/rate-limiter';
// The Dzengi simulator over real HTTP (and its WS /connect) on 127.0.0.1: wire details with
// requests built by hand, behaviour through DzengiRestClient (which is tested along the way).

import { createHmac } from 'node:crypto';
import http from 'node:http';
import WebSocket from 'ws';
import { DzengiRestClient } from '../../../src/venues/dzengi/dzengi-rest-client';
import { engineIdFromUuid, startDzengiSimulator, uuidFromEngineId } from '../../../src/venues/dzengi/dzengi-simulator';
import { RunningSimulator } from '../../../src/venues/sim/simulator';
import { OrderNotFound, OrderRejected, OutcomeUnknown, PlaceOrderRequest, RateLimited } from '../../../src/venues/venue';

const KEY = 'dz-key';
const SECRET = 'dz-secret';
const HIGH_LIMITS = { ordersPerSecond: 100_000, queriesPerSecond: 100_000 };

// dzengi.md's official vector 1 and its key pair.
const VEC_KEY = 'vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A';
const VEC_SECRET = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j';
const VEC_TS = 1499827319559;
const VEC = 'symbol=LTC%2FBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559';
const VEC_SIG = 'ebec6528b2beb508b2417fa33453a4ad28c1aae8097bb243caa60d0524036f50';

interface HttpResult {
  status: number;
  body: any;
  headers: http.IncomingHttpHeaders;
}

function raw(base: string, method: string, pathAndQuery: string, opts: { body?: string; headers?: Record<string, string> } = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(base + pathAndQuery, { method, headers: opts.headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          /* text */
        }
        resolve({ status: res.statusCode!, body, headers: res.headers });
      });
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

const sign = (secret: string, s: string) => createHmac('sha256', secret).update(s).digest('hex');
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** A signed GET/DELETE (query) or POST (form body) with the given already-encoded params. */
function signedRaw(sim: RunningSimulator, method: string, path: string, encoded: string, o: { key?: string; secret?: string; ts?: number } = {}) {
  const payload = `${encoded}${encoded ? '&' : ''}timestamp=${o.ts ?? Date.now()}`;
  const full = `${payload}&signature=${sign(o.secret ?? SECRET, payload)}`;
  const headers = { 'X-MBX-APIKEY': o.key ?? KEY };
  return method === 'POST'
    ? raw(sim.restUrl, method, path, { body: full, headers: { ...headers, ...FORM } })
    : raw(sim.restUrl, method, `${path}?${full}`, { headers });
}

const limitBuy = (over: Partial<PlaceOrderRequest> = {}): PlaceOrderRequest => ({
  clientOrderId: 'GW-1',
  symbol: 'BTC/USD',
  side: 'buy',
  type: 'limit',
  quantity: '0.01',
  price: '50000',
  timeInForce: 'GTC',
  ...over,
});

describe('Dzengi simulator', () => {
  let sim: RunningSimulator;
  let client: DzengiRestClient;

  beforeAll(async () => {
    sim = await startDzengiSimulator({ credentials: [{ apiKey: KEY, apiSecret: SECRET }], rateLimits: HIGH_LIMITS });
    client = new DzengiRestClient({ restUrl: sim.restUrl, apiKey: KEY, apiSecret: SECRET, rateLimits: perSecondLimits({ ordersPerSecond: 1000, queriesPerSecond: 1000 }) });
  });
  afterAll(async () => {
    client.close();
    await sim.close();
  });
  afterEach(() => sim.faults.clear());

  it('serves the URLs as dzengi.md lists them: REST base without path, WS on /connect', () => {
    expect(sim.restUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sim.wsUrl).toBe(`ws://127.0.0.1:${sim.port}/connect`);
  });

  it('maps engine ids to UUID-shaped order ids and back', () => {
    const uuid = uuidFromEngineId('1645281669295000001');
    expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(engineIdFromUuid(uuid)).toBe('1645281669295000001');
    expect(engineIdFromUuid('not-a-uuid')).toBeUndefined();
  });

  it('publishes time, spot instruments with / in their symbol, and its rate limits', async () => {
    expect(await client.serverTime()).toBeGreaterThan(0);
    const info = await client.exchangeInfo();
    expect(info.instruments.map((i) => i.symbol)).toEqual(['BTC/USD', 'ETH/USD', 'LTC/BTC']);
    expect(info.instruments[0]).toEqual({ symbol: 'BTC/USD', tickSize: '0.01', stepSize: '0.0001', minQty: '0.0001', maxQty: '1000000', minNotional: '5' });
    expect(info.limits.ordersPerSecond).toBe(100_000);
  });

  describe('authentication', () => {
    it('accepts the official vector-1 request byte for byte (LTC%2FBTC in the body and the signed string)', async () => {
      const s = await startDzengiSimulator({ credentials: [{ apiKey: VEC_KEY, apiSecret: VEC_SECRET }], clock: () => VEC_TS + 10 });
      try {
        const r = await raw(s.restUrl, 'POST', '/api/v2/order', { body: `${VEC}&signature=${VEC_SIG}`, headers: { 'X-MBX-APIKEY': VEC_KEY, ...FORM } });
        expect(r.status).toBe(200);
        // No newOrderRespType: ACK, and no client order id anywhere.
        expect(Object.keys(r.body).sort()).toEqual(['orderId', 'symbol', 'transactTime']);
        expect(r.body.symbol).toBe('LTC/BTC');
        // The same parameters as a query string sign the same.
        const q = await raw(s.restUrl, 'POST', `/api/v2/order?${VEC}&signature=${VEC_SIG}`, { headers: { 'X-MBX-APIKEY': VEC_KEY } });
        expect(q.status).toBe(200);
        // A raw `/` on the wire is not what was signed.
        const slash = VEC.replace('LTC%2FBTC', 'LTC/BTC');
        const bad = await raw(s.restUrl, 'POST', '/api/v2/order', { body: `${slash}&signature=${VEC_SIG}`, headers: { 'X-MBX-APIKEY': VEC_KEY, ...FORM } });
        expect(bad.body).toEqual({ code: -1022, msg: 'Signature for this request is not valid.' });
      } finally {
        await s.close();
      }
    });

    it('answers the venue codes for key, signature, parameters and recvWindow', async () => {
      const q = 'symbol=BTC%2FUSD';
      expect((await raw(sim.restUrl, 'GET', `/api/v2/openOrders?${q}&timestamp=1&signature=x`)).body.code).toBe(-2014);
      const unknown = await signedRaw(sim, 'GET', '/api/v2/openOrders', q, { key: 'nope' });
      expect([unknown.status, unknown.body.code]).toEqual([401, -2015]);
      const wrong = await signedRaw(sim, 'GET', '/api/v2/openOrders', q, { secret: 'wrong' });
      expect([wrong.status, wrong.body.code]).toEqual([400, -1022]);
      expect((await raw(sim.restUrl, 'GET', `/api/v2/openOrders?${q}&timestamp=${Date.now()}`, { headers: { 'X-MBX-APIKEY': KEY } })).body.code).toBe(-1102);
      expect((await signedRaw(sim, 'GET', '/api/v2/openOrders', q, { ts: Date.now() - 6000 })).body).toEqual({
        code: -1021,
        msg: 'Timestamp for this request is outside of the recvWindow.',
      });
      expect((await signedRaw(sim, 'GET', '/api/v2/openOrders', `${q}&recvWindow=10000`, { ts: Date.now() - 6000 })).status).toBe(200);
      expect((await signedRaw(sim, 'GET', '/api/v2/openOrders', q, { ts: Date.now() + 5000 })).body.code).toBe(-1021);
      expect((await signedRaw(sim, 'GET', '/api/v2/openOrders', `${q}&recvWindow=60001`)).body.code).toBe(-1128);
    });

    it('signs query + body concatenated when both carry parameters, the query winning a duplicate key', async () => {
      const query = 'symbol=BTC%2FUSD&side=BUY&type=LIMIT&quantity=0.01';
      const bodyNoSig = `price=40000&timeInForce=GTC&newOrderRespType=RESULT&timestamp=${Date.now()}`;
      const sig = sign(SECRET, query + bodyNoSig);
      const r = await raw(sim.restUrl, 'POST', `/api/v2/order?${query}`, { body: `${bodyNoSig}&signature=${sig}`, headers: { 'X-MBX-APIKEY': KEY, ...FORM } });
      expect(r.status).toBe(200);
      expect(r.body.origQty).toBe('0.01');
      const dupBody = `quantity=0.02&price=40000&timeInForce=GTC&newOrderRespType=RESULT&timestamp=${Date.now()}`;
      const r2 = await raw(sim.restUrl, 'POST', `/api/v2/order?${query}`, {
        body: `${dupBody}&signature=${sign(SECRET, query + dupBody)}`,
        headers: { 'X-MBX-APIKEY': KEY, ...FORM },
      });
      expect(r2.body.origQty).toBe('0.01');
    });
  });

  describe('orders', () => {
    it('rests a limit order: NEW, UUID id, no client id; openOrders, fetchOrder (CREATED, its own field names), cancel', async () => {
      const placed = await client.createOrder(limitBuy());
      expect(placed).toMatchObject({ clientOrderId: 'GW-1', symbol: 'BTC/USD', status: 'new', rawStatus: 'NEW', quantity: '0.01', filledQty: '0.0', price: '50000' });
      expect(placed.venueOrderId).toMatch(/^[0-9a-f]{8}-/);
      const open = await client.openOrders('BTC/USD');
      expect(open.map((o) => o.venueOrderId)).toContain(placed.venueOrderId);
      const key = { venueOrderId: placed.venueOrderId, symbol: 'BTC/USD' };
      const wire = await signedRaw(sim, 'GET', '/api/v2/fetchOrder', `symbol=BTC%2FUSD&orderId=${placed.venueOrderId}`);
      expect(wire.body).toMatchObject({ status: 'CREATED', quantity: '0.01', timeInForceType: 'GTC', fills: [] });
      expect(wire.body.executedQty).toBeUndefined();
      expect(await client.fetchOrder(key)).toMatchObject({ status: 'new', rawStatus: 'CREATED', clientOrderId: '' });
      const canceled = await client.cancelOrder(key);
      expect(canceled).toMatchObject({ status: 'canceled', rawStatus: 'CANCELED' });
      await expect(client.cancelOrder(key)).rejects.toMatchObject({ constructor: OrderRejected, reason: 'too_late', code: '-2011' });
      expect((await client.openOrders('BTC/USD')).map((o) => o.venueOrderId)).not.toContain(placed.venueOrderId);
    });

    it('needs the symbol to find an order; another symbol or a made-up id does not exist', async () => {
      const placed = await client.createOrder(limitBuy());
      expect((await signedRaw(sim, 'GET', '/api/v2/fetchOrder', `orderId=${placed.venueOrderId}`)).body.code).toBe(-1102);
      await expect(client.fetchOrder({ venueOrderId: placed.venueOrderId, symbol: 'ETH/USD' })).rejects.toBeInstanceOf(OrderNotFound);
      await expect(client.fetchOrder({ venueOrderId: uuidFromEngineId('1'), symbol: 'BTC/USD' })).rejects.toBeInstanceOf(OrderNotFound);
      await expect(client.cancelOrder({ venueOrderId: uuidFromEngineId('1'), symbol: 'BTC/USD' })).rejects.toBeInstanceOf(OrderNotFound);
      await client.cancelOrder({ venueOrderId: placed.venueOrderId, symbol: 'BTC/USD' });
    });

    it('fills across levels: one trade per fill at its own price in myTrades; SELL executedQty is negative on the wire', async () => {
      const before = Date.now();
      const buy = await client.createOrder(limitBuy({ quantity: '25', price: '60000.05' }));
      expect(buy).toMatchObject({ status: 'filled', filledQty: '25.0' });
      const trades = (await client.myTrades({ symbol: 'BTC/USD', startTime: before })).filter((t) => t.venueOrderId === buy.venueOrderId);
      expect(trades.map((t) => [t.fill.qty, t.fill.price])).toEqual([
        ['10.0', '60000.01'],
        ['10.0', '60000.02'],
        ['5.0', '60000.03'],
      ]);
      expect(new Set(trades.map((t) => t.fill.fillId)).size).toBe(3);

      const body = `symbol=BTC%2FUSD&side=SELL&type=LIMIT&timeInForce=GTC&quantity=0.5&price=59999&newOrderRespType=RESULT`;
      const sell = await signedRaw(sim, 'POST', '/api/v2/order', body);
      expect(sell.body).toMatchObject({ status: 'FILLED', side: 'SELL', executedQty: '-0.5' });
      const mapped = await client.fetchOrder({ venueOrderId: sell.body.orderId, symbol: 'BTC/USD' });
      expect(mapped).toMatchObject({ side: 'sell', status: 'filled', filledQty: '0.5' });
    });

    it('fills a resting order from an external trade; openOrders shows the partial fill (negative for a SELL)', async () => {
      const sell = await client.createOrder(limitBuy({ side: 'sell', price: '70000', quantity: '1' }));
      sim.engine.trade('BTC/USD', 'buy', '0.4', '70000');
      const wire = await signedRaw(sim, 'GET', '/api/v2/openOrders', 'symbol=BTC%2FUSD');
      expect(wire.body.find((o: any) => o.orderId === sell.venueOrderId)).toMatchObject({ status: 'PARTIALLY_FILLED', executedQty: '-0.4', working: true });
      const open = (await client.openOrders('BTC/USD')).find((o) => o.venueOrderId === sell.venueOrderId)!;
      expect(open).toMatchObject({ status: 'partially_filled', filledQty: '0.4' });
      await client.cancelOrder({ venueOrderId: sell.venueOrderId, symbol: 'BTC/USD' });
    });

    it('market orders are FOK with FULL fills, and cannot be canceled (LIMIT only)', async () => {
      const m = await client.createOrder(limitBuy({ type: 'market', price: undefined, timeInForce: 'FOK', quantity: '0.02' }));
      expect(m).toMatchObject({ type: 'market', status: 'filled', timeInForce: 'FOK', filledQty: '0.02' });
      expect(m.avgPrice).toBe('60000.01');
      await expect(client.cancelOrder({ venueOrderId: m.venueOrderId, symbol: 'BTC/USD' })).rejects.toMatchObject({
        constructor: OrderRejected,
        reason: 'unsupported',
      });
      const ioc = await signedRaw(sim, 'POST', '/api/v2/order', 'symbol=BTC%2FUSD&side=BUY&type=MARKET&quantity=0.01&timeInForce=IOC');
      expect(ioc.body.code).toBe(-1128);
    });

    it('IOC remainders and unfillable FOK orders end EXPIRED', async () => {
      const ioc = await client.createOrder(limitBuy({ timeInForce: 'IOC', quantity: '15', price: '60000.01' }));
      expect(ioc).toMatchObject({ status: 'expired', rawStatus: 'EXPIRED', filledQty: '10.0' });
      const fok = await client.createOrder(limitBuy({ timeInForce: 'FOK', quantity: '15', price: '60000.01' }));
      expect(fok).toMatchObject({ status: 'expired', rawStatus: 'EXPIRED', filledQty: '0.0' });
    });

    it('rounds excess quantity decimals down and excess price decimals up', async () => {
      const r = await signedRaw(
        sim,
        'POST',
        '/api/v2/order',
        'symbol=BTC%2FUSD&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01239&price=50000.001&newOrderRespType=RESULT',
      );
      expect(r.body).toMatchObject({ origQty: '0.0123', price: '50000.01', status: 'NEW' });
      await client.cancelOrder({ venueOrderId: r.body.orderId, symbol: 'BTC/USD' });
    });

    it('refuses bad orders with the venue codes', async () => {
      await expect(client.createOrder(limitBuy({ symbol: 'DOGE/USD' }))).rejects.toMatchObject({ reason: 'unknown_symbol', code: '-1121' });
      await expect(client.createOrder(limitBuy({ quantity: '0.00001' }))).rejects.toMatchObject({ reason: 'invalid_order', code: '-1013' });
      const unknownParam = await signedRaw(sim, 'POST', '/api/v2/order', 'symbol=BTC%2FUSD&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=1&newClientOrderId=x');
      expect(unknownParam.body.code).toBe(-1104);
      const noTif = await signedRaw(sim, 'POST', '/api/v2/order', 'symbol=BTC%2FUSD&side=BUY&type=LIMIT&quantity=1&price=50000');
      expect(noTif.body.code).toBe(-1102);
      expect((await raw(sim.restUrl, 'GET', '/api/v1/nothing')).status).toBe(404);
    });
  });

  describe('faults', () => {
    it('5xx after create: the outcome is unknown and the order exists', async () => {
      sim.faults.arm({ kind: 'error5xxAfter', operation: 'create' });
      const before = (await client.openOrders('ETH/USD')).length;
      const err = await client.createOrder(limitBuy({ symbol: 'ETH/USD', price: '2000', quantity: '0.01' })).catch((e) => e);
      expect(err).toBeInstanceOf(OutcomeUnknown);
      expect(err.httpStatus).toBe(500);
      const open = await client.openOrders('ETH/USD');
      expect(open.length).toBe(before + 1);
      for (const o of open) await client.cancelOrder({ venueOrderId: o.venueOrderId, symbol: 'ETH/USD' });
    });

    it('timeout after create: the outcome is unknown and the order exists', async () => {
      const quick = new DzengiRestClient({ restUrl: sim.restUrl, apiKey: KEY, apiSecret: SECRET, requestTimeoutMs: 300 });
      try {
        sim.faults.arm({ kind: 'timeoutAfter', operation: 'create', holdMs: 2000 });
        const err = await quick.createOrder(limitBuy({ symbol: 'ETH/USD', price: '2000', quantity: '0.01' })).catch((e) => e);
        expect(err).toBeInstanceOf(OutcomeUnknown);
        const open = await client.openOrders('ETH/USD');
        expect(open.length).toBe(1);
        await client.cancelOrder({ venueOrderId: open[0].venueOrderId, symbol: 'ETH/USD' });
      } finally {
        quick.close();
      }
    });

    it('429 is a rate limit with the venue wait, and nothing was placed', async () => {
      const own = new DzengiRestClient({ restUrl: sim.restUrl, apiKey: KEY, apiSecret: SECRET });
      try {
        sim.faults.arm({ kind: 'rateLimit429', operation: 'create' });
        const err = await own.createOrder(limitBuy({ symbol: 'ETH/USD', price: '2000', quantity: '0.01' })).catch((e) => e);
        expect(err).toBeInstanceOf(RateLimited);
        expect(err.retryAfterMs).toBe(60_000);
        expect(await client.openOrders('ETH/USD')).toEqual([]);
      } finally {
        own.close();
      }
    });

    it('enforces its per-key limits with 429 -1003', async () => {
      const s = await startDzengiSimulator({ credentials: [{ apiKey: KEY, apiSecret: SECRET }], rateLimits: { ordersPerSecond: 1, queriesPerSecond: 1 } });
      try {
        expect((await signedRaw(s, 'GET', '/api/v2/openOrders', '')).status).toBe(200);
        const r = await signedRaw(s, 'GET', '/api/v2/openOrders', '');
        expect([r.status, r.body.code, r.headers['retry-after']]).toEqual([429, -1003, '60']);
      } finally {
        await s.close();
      }
    });
  });

  describe('WebSocket /connect', () => {
    it('answers pings and pushes no own-order events', async () => {
      const ws = new WebSocket(sim.wsUrl);
      const frames: any[] = [];
      ws.on('message', (d) => frames.push(JSON.parse(String(d))));
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      ws.send(JSON.stringify({ destination: 'ping', correlationId: 1, payload: {} }));
      const placed = await client.createOrder(limitBuy());
      await client.cancelOrder({ venueOrderId: placed.venueOrderId, symbol: 'BTC/USD' });
      await new Promise((r) => setTimeout(r, 100));
      expect(frames).toEqual([{ status: 'OK', destination: 'ping', correlationId: '1', payload: {} }]);
      const closed = new Promise((r) => ws.once('close', r));
      sim.faults.arm({ kind: 'dropStreams' });
      await closed;
    });
  });
});
