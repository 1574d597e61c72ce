import { perSecondLimits } from '../../../src/venues/common/rate-limiter';
import { APIFINY_RATE_LIMIT_WAIT_MS } from '../../../src/venues/apifiny/apifiny-constants';
// The Apifiny simulator over real HTTP and WS on 127.0.0.1: requests built and signed by hand
// (the wire), behaviour also through ApifinyRestClient.

import http from 'node:http';
import WebSocket from 'ws';
import { apifinyJwt, apifinyQueryString, sha256Hex } from '../../../src/venues/apifiny/apifiny-auth';
import { ApifinyRestClient } from '../../../src/venues/apifiny/apifiny-rest-client';
import { RunningApifinySimulator, startApifinySimulator } from '../../../src/venues/apifiny/apifiny-simulator';
import { OrderNotFound, OrderRejected, OutcomeUnknown } from '../../../src/venues/venue';

const KEY = 'ap-key';
const SECRET = 'ap-secret';
const ACCT = 'STA-00000001';
const CREDS = { accountId: ACCT, secretKeyId: KEY, secret: SECRET };
const exp = () => Math.floor(Date.now() / 1000) + 30;

let seq = 0;
const newId = () => `00000001${'5'}${Date.now()}${String(seq++ % 1000).padStart(3, '0')}`;

interface Reply {
  status: number;
  body: any;
}

function raw(url: string, method: string, opts: { body?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: opts.headers }, (res) => {
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
        resolve({ status: res.statusCode!, body });
      });
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

function post(base: string, path: string, body: object | string, o: { token?: string; digestOf?: string } = {}): Promise<Reply> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const token = o.token ?? apifinyJwt(CREDS, exp(), sha256Hex(o.digestOf ?? text));
  return raw(base + path, 'POST', { body: text, headers: { signature: token, 'content-type': 'application/json' } });
}

function get(base: string, path: string, params: Record<string, string>, o: { token?: string } = {}): Promise<Reply> {
  const q = apifinyQueryString(params);
  const token = o.token ?? apifinyJwt(CREDS, exp(), q === '' ? undefined : sha256Hex(q));
  return raw(`${base}${path}${q ? '?' + q : ''}`, 'GET', { headers: { signature: token } });
}

const limitBody = (orderId: string, over: Record<string, unknown> = {}, venue = 'BINANCE') => ({
  accountId: ACCT,
  venue,
  orderId,
  orderInfo: { symbol: 'BTCUSDT', orderType: 'LIMIT', timeInForce: 1, orderSide: 'BUY', limitPrice: '59000', quantity: '0.5', ...over },
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A WS client on the order stream collecting every frame. */
async function openStream(url: string, token = apifinyJwt(CREDS, exp())): Promise<{ ws: WebSocket; frames: any[]; raw: string[] }> {
  const ws = new WebSocket(url, { headers: { signature: token } });
  const frames: any[] = [];
  const rawFrames: string[] = [];
  ws.on('message', (d) => {
    rawFrames.push(String(d));
    frames.push(JSON.parse(String(d)));
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, frames, raw: rawFrames };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}

describe('Apifiny simulator', () => {
  let sim: RunningApifinySimulator;
  const base = () => sim.restUrl;

  beforeAll(async () => {
    sim = await startApifinySimulator({
      credentials: [{ apiKey: KEY, apiSecret: SECRET }],
      rateLimits: { ordersPerSecond: 10_000, queriesPerSecond: 10_000 },
      pendingSubmitMs: 60,
      streamPingIntervalMs: 100,
    });
  });
  afterAll(() => sim.close());
  afterEach(() => sim.faults.clear());

  it('serves both URL styles, as apifiny.md lists them', async () => {
    expect(sim.restUrl).toMatch(/\/ac\/v2\/BINANCE$/);
    expect(sim.wsUrl).toMatch(/\/ac\/ws\/v2\/BINANCE\/order$/);
    const t1 = await raw(sim.restUrl + '/utils/currentTimeMillis', 'GET');
    expect(t1.body).toEqual({ result: expect.any(Number), error: null });
    const symbols = await raw(sim.colocatedRestUrl + '/utils/listSymbolInfo?venue=BINANCE', 'GET');
    expect(symbols.body.result[0]).toMatchObject({ symbol: 'BTCUSDT', tickSize: 0.01, stepSize: 0.00001, status: 'enabled' });
  });

  it('auth: no token, wrong HMAC, expired exp → 196634; digest of other bytes → 2097162; other account → 2097163; other venue → 131130', async () => {
    const body = limitBody(newId());
    expect((await post(base(), '/order/newOrder', body, { token: '' })).body.error.code).toBe(196634);
    expect((await post(base(), '/order/newOrder', body, { token: apifinyJwt({ ...CREDS, secret: 'wrong' }, exp(), sha256Hex(JSON.stringify(body))) })).body.error.code).toBe(196634);
    expect((await post(base(), '/order/newOrder', body, { token: apifinyJwt(CREDS, Math.floor(Date.now() / 1000) - 5, sha256Hex(JSON.stringify(body))) })).body).toEqual({
      result: null,
      error: { code: 196634, message: 'token error: token expired' },
    });
    // The digest must be over exactly the bytes sent: pretty-printed JSON is other bytes.
    expect((await post(base(), '/order/newOrder', JSON.stringify(body, null, 1), { digestOf: JSON.stringify(body) })).body.error.code).toBe(2097162);
    expect((await post(base(), '/order/newOrder', { ...body, accountId: 'STA-00000002' })).body.error.code).toBe(2097163);
    expect((await post(base(), '/order/newOrder', limitBody(newId(), {}, 'HUOBI'))).body.error.code).toBe(131130);
    // A GET with parameters needs their digest; one without parameters none.
    const q = apifinyQueryString({ accountId: ACCT, venue: 'BINANCE' });
    const noDigest = await raw(`${base()}/order/listOpenOrder?${q}`, 'GET', { headers: { signature: apifinyJwt(CREDS, exp()) } });
    expect(noDigest.body.error.code).toBe(2097162);
    expect((await get(base(), '/order/listOpenOrder', { accountId: ACCT, venue: 'BINANCE' })).body.error).toBeNull();
  });

  it('order id rule (327978), embedded timestamp (327834) and duplicate (327722)', async () => {
    expect((await post(base(), '/order/newOrder', limitBody('123'))).body.error.code).toBe(327978);
    expect((await post(base(), '/order/newOrder', limitBody('00000002' + Date.now() + '001'))).body.error.code).toBe(327978);
    expect((await post(base(), '/order/newOrder', limitBody('00000001' + '1500000000000' + '001'))).body.error.code).toBe(327834);
    const id = newId();
    expect((await post(base(), '/order/newOrder', limitBody(id))).body.error).toBeNull();
    expect((await post(base(), '/order/newOrder', limitBody(id))).body.error).toEqual({ code: 327722, message: 'original orderId duplicate' });
    expect((await post(base(), '/order/newOrder', limitBody(newId(), { timeInForce: 2 }))).body.error.code).toBe(131082);
  });

  it('PENDING_SUBMIT first; a cancel then is 328026; once SUBMITTED it cancels; a second cancel is 327802', async () => {
    const id = newId();
    const created = await post(base(), '/order/newOrder', limitBody(id));
    expect(created.body.result[0]).toMatchObject({ orderId: id, orderStatus: 'PENDING_SUBMIT', venue: 'BINANCE', accountId: 'STA-BINANCE_00000001', limitPrice: 59000, quantity: 0.5 });
    const early = await post(base(), '/order/cancelOrder', { accountId: ACCT, venue: 'BINANCE', orderId: id });
    expect(early.body.error.code).toBe(328026);
    await sleep(120);
    const q = await get(base(), '/order/queryOrderInfo', { accountId: ACCT, venue: 'BINANCE', orderId: id });
    expect(q.body.result[0]).toMatchObject({ orderStatus: 'SUBMITTED', filledCumulativeQuantity: 0 });
    const cancel = await post(base(), '/order/cancelOrder', { accountId: ACCT, venue: 'BINANCE', orderId: id });
    expect(cancel.body.result[0]).toMatchObject({ orderStatus: 'CANCELLED', cancelledUpdatedAt: expect.any(Number) });
    expect((await post(base(), '/order/cancelOrder', { accountId: ACCT, venue: 'BINANCE', orderId: id })).body.error.code).toBe(327802);
    expect((await post(base(), '/order/cancelOrder', { accountId: ACCT, venue: 'BINANCE', orderId: newId() })).body.error.code).toBe(327706);
  });

  it('the order stream: JWT header required; a push per status change; IOC remainder → PART_FILLED (final); server pings', async () => {
    await expect(openStream(sim.wsUrl, apifinyJwt({ ...CREDS, secret: 'x' }, exp()))).rejects.toThrow(/401/);
    const s = await openStream(sim.wsUrl);
    try {
      const id = newId();
      // 5 ask levels of 1 BTC each: 6 BTC IOC takes all 5 (one fill per level) and the rest is killed.
      await post(base(), '/order/newOrder', limitBody(id, { timeInForce: 3, limitPrice: '60000.05', quantity: '6' }));
      await until(() => s.frames.some((f) => f.payload?.orderId === id && f.payload.orderStatus === 'PART_FILLED'));
      const mine = s.frames.filter((f) => f.payload?.orderId === id).map((f) => f.payload);
      expect(mine.map((p) => p.orderStatus)).toEqual(['PENDING_SUBMIT', 'SUBMITTED', 'SUBMITTED', 'SUBMITTED', 'SUBMITTED', 'SUBMITTED', 'SUBMITTED', 'PART_FILLED']);
      expect(mine.slice(2, 7).map((p) => [p.lastFilledQuantity, p.lastFilledPrice, p.filledCumulativeQuantity])).toEqual([
        [1, 60000.01, 1],
        [1, 60000.02, 2],
        [1, 60000.03, 3],
        [1, 60000.04, 4],
        [1, 60000.05, 5],
      ]);
      expect(mine[7]).toMatchObject({ filledCumulativeQuantity: 5, openQuantity: 0, filledAveragePrice: 60000.03 });
      // Decimals are JSON numbers on the wire, as in apifiny.md's sample.
      expect(s.raw.find((r) => r.includes('"PART_FILLED"'))).toMatch(/"filledCumulativeQuantity":5,/);
      const fills = await get(base(), '/order/listFilledOrder', { accountId: ACCT, venue: 'BINANCE', orderId: id });
      expect(fills.body.result).toHaveLength(5);
      await until(() => s.frames.some((f) => typeof f.ping === 'number'));
    } finally {
      s.ws.terminate();
    }
  });

  it('faults: 5xx after create leaves the order at the venue; 429 with 131114; the REST client maps them', async () => {
    const client = new ApifinyRestClient({ restUrl: sim.restUrl, credentials: CREDS, exchange: 'BINANCE', urlNamesExchange: true, rateLimits: perSecondLimits({ ordersPerSecond: 1000, queriesPerSecond: 1000 }) });
    try {
      sim.faults.arm({ kind: 'error5xxAfter', operation: 'create' });
      const id = newId();
      await expect(
        client.newOrder({ clientOrderId: id, symbol: 'BTCUSDT', side: 'buy', type: 'limit', quantity: '0.5', price: '59000', timeInForce: 'GTC' }),
      ).rejects.toBeInstanceOf(OutcomeUnknown);
      expect((await client.queryOrderInfo(id)).clientOrderId).toBe(id);
      await expect(client.queryOrderInfo(newId())).rejects.toBeInstanceOf(OrderNotFound);
      expect((await client.listSymbolInfo()).map((i) => i.symbol)).toContain('BTCUSDT');
      await expect(
        client.newOrder({ clientOrderId: id, symbol: 'BTCUSDT', side: 'buy', type: 'limit', quantity: '0.5', price: '59000', timeInForce: 'FOK' }),
      ).rejects.toBeInstanceOf(OrderRejected);
      // Last: a 429 pauses the client's limiter for the venue's window; the next request waits it out.
      sim.faults.arm({ kind: 'rateLimit429', operation: 'query' });
      await expect(client.queryOrderInfo(id)).rejects.toMatchObject({ code: '131114', httpStatus: 429 });
      const t0 = Date.now();
      expect((await client.queryOrderInfo(id)).clientOrderId).toBe(id);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(APIFINY_RATE_LIMIT_WAIT_MS - 50);
    } finally {
      client.close();
    }
  });
});
