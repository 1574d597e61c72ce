// The Coinut simulator over real WebSockets and HTTP on 127.0.0.1, with frames built by hand.

import { createHmac } from 'node:crypto';
import http from 'node:http';
import WebSocket from 'ws';
import { CoinutRunningSimulator, startCoinutSimulator } from '../../../src/venues/coinut/coinut-simulator';

const USER = 'alice';
const KEY = 'ec9dd76b-71da-4ab9-bb65-1a19d1184b84';
const OTHER = 'bob';
const OTHER_KEY = 'b45e65ff-d4c4-433c-b032-093423b1aaa4';
const hmac = (key: string, s: string) => createHmac('sha256', key).update(s).digest('hex');

/** A raw WS client: every frame parsed and kept; waits for a frame matching a predicate. */
class RawWs {
  readonly frames: any[] = [];
  private waiters: { pred: (f: any) => boolean; resolve: (f: any) => void }[] = [];
  closed = false;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const f = JSON.parse(String(d));
      this.frames.push(f);
      const w = this.waiters.find((x) => x.pred(f));
      if (w) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(f);
      }
    });
    ws.on('close', () => (this.closed = true));
  }

  static open(url: string): Promise<RawWs> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once('open', () => resolve(new RawWs(ws)));
      ws.once('error', reject);
    });
  }

  send(o: object): void {
    this.ws.send(JSON.stringify(o));
  }

  next(pred: (f: any) => boolean, ms = 2000): Promise<any> {
    const have = this.frames.find(pred);
    if (have) return Promise.resolve(have);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no matching frame')), ms);
      this.waiters.push({ pred, resolve: (f) => (clearTimeout(t), resolve(f)) });
    });
  }

  /** The frame answering `nonce` (an object, or an array whose elements carry it). */
  reply(nonce: number): Promise<any> {
    return this.next((f) => (Array.isArray(f) ? f.some((m) => m.nonce === nonce) : f.nonce === nonce));
  }

  async login(user = USER, key = KEY, nonce = 1): Promise<any> {
    const ts = Math.floor(Date.now() / 1000);
    this.send({ request: 'login', username: user, nonce, hmac_sha256: hmac(key, `${user}|${ts}|${nonce}`), timestamp: ts });
    return this.reply(nonce);
  }

  close(): void {
    this.ws.terminate();
  }
}

function post(sim: CoinutRunningSimulator, body: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(sim.restUrl + '/', { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          /* text */
        }
        resolve({ status: res.statusCode!, body: parsed });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const signedPost = (sim: CoinutRunningSimulator, o: object, key = KEY, user = USER) => {
  const body = JSON.stringify(o);
  return post(sim, body, { 'X-USER': user, 'X-SIGNATURE': hmac(key, body) });
};

describe('Coinut simulator', () => {
  let sim: CoinutRunningSimulator;
  const sockets: RawWs[] = [];
  const open = async (): Promise<RawWs> => {
    const s = await RawWs.open(sim.wsUrl);
    sockets.push(s);
    return s;
  };
  const BTC = 2;

  beforeAll(async () => {
    sim = await startCoinutSimulator({
      credentials: [
        { apiKey: KEY, username: USER },
        { apiKey: OTHER_KEY, username: OTHER },
      ],
    });
  });
  afterEach(() => {
    sim.faults.clear();
    for (const s of sockets.splice(0)) s.close();
  });
  afterAll(() => sim.close());

  it('serves the WS at the root path and REST at POST / (URLs without a path)', () => {
    expect(sim.wsUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    expect(sim.restUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('login: the HMAC over username|ts|nonce is checked; a bad one gets the venue error; private requests need a login', async () => {
    const ws = await open();
    ws.send({ request: 'user_open_orders', inst_id: BTC, nonce: 7 });
    expect(await ws.reply(7)).toEqual({ nonce: 7, reply: 'user_open_orders', status: ['NOT_LOGGED_IN'] });
    const ts = Math.floor(Date.now() / 1000);
    ws.send({ request: 'login', username: USER, nonce: 8, hmac_sha256: hmac(OTHER_KEY, `${USER}|${ts}|8`), timestamp: ts });
    expect(await ws.reply(8)).toEqual({ nonce: 8, reply: 'login', status: ['AUTHENTICATION_FAILED'] });
    // Signed for another nonce than the one sent: refused too.
    ws.send({ request: 'login', username: USER, nonce: 9, hmac_sha256: hmac(KEY, `${USER}|${ts}|10`), timestamp: ts });
    expect((await ws.reply(9)).status).toEqual(['AUTHENTICATION_FAILED']);
    const ok = await ws.login(USER, KEY, 11);
    expect(ok).toMatchObject({ nonce: 11, reply: 'login', status: ['OK'], username: USER, api_key: KEY });
    expect(sim.connections(USER)).toBe(1);
    // Public requests work before login on another connection.
    const anon = await open();
    anon.send({ request: 'hb', nonce: 3 });
    expect(await anon.reply(3)).toEqual({ nonce: 3, reply: 'hb', status: ['OK'] });
  });

  it('nonces: out of range or still outstanding on the connection → INVALID_NONCE', async () => {
    const ws = await open();
    await ws.login();
    ws.send({ request: 'hb', nonce: 16777216 });
    expect(await ws.next((f) => f.nonce === 16777216)).toMatchObject({ status: ['INVALID_NONCE'] });
    ws.send({ request: 'hb', nonce: 0 });
    expect(await ws.next((f) => f.nonce === 0)).toMatchObject({ status: ['INVALID_NONCE'] });
    await setReplyDelay(sim, 150);
    try {
      ws.send({ request: 'hb', nonce: 42 });
      ws.send({ request: 'hb', nonce: 42 });
      const first = await ws.next((f) => f.nonce === 42);
      expect(first.status).toEqual(['INVALID_NONCE']); // the reuse is refused at once
      const second = await ws.next((f) => f.nonce === 42 && f.status[0] === 'OK');
      expect(second).toEqual({ nonce: 42, reply: 'hb', status: ['OK'] });
      // Once answered, the nonce may be used again.
      ws.send({ request: 'hb', nonce: 42 });
      await ws.next((f) => f.nonce === 42 && f !== second && f.status[0] === 'OK');
    } finally {
      await setReplyDelay(sim, 0);
    }
  });

  it('inst_list lists SPOT instruments by name with inst_id and decimal_places', async () => {
    const ws = await open();
    ws.send({ request: 'inst_list', sec_type: 'SPOT', nonce: 5 });
    const r = await ws.reply(5);
    expect(r.SPOT.BTCUSDT).toEqual([{ base: 'BTC', quote: 'USDT', inst_id: 2, decimal_places: 2 }]);
    expect(r.SPOT.LTCBTC).toEqual([{ base: 'LTC', quote: 'BTC', inst_id: 1, decimal_places: 5 }]);
    expect(r).toMatchObject({ reply: 'inst_list', status: ['OK'], nonce: 5 });
  });

  it('a resting limit order: one order_accepted, also pushed to the account\'s other connection, never to another account', async () => {
    const a = await open();
    const b = await open();
    const c = await open();
    await a.login();
    await b.login(USER, KEY, 2);
    await c.login(OTHER, OTHER_KEY, 3);
    a.send({ request: 'new_order', nonce: 100, inst_id: BTC, price: '59000.5', qty: '0.25', client_ord_id: 1345, side: 'BUY' });
    const r = await a.reply(100);
    expect(r).toMatchObject({ nonce: 100, status: ['OK'], open_qty: '0.25', inst_id: BTC, qty: '0.25', client_ord_id: 1345, order_price: '59000.5', reply: 'order_accepted', side: 'BUY' });
    expect(typeof r.order_id).toBe('number');
    expect(typeof r.trans_id).toBe('number');
    expect(await b.next((f) => f.reply === 'order_accepted' && f.order_id === r.order_id)).toEqual(r);
    await new Promise((res) => setTimeout(res, 50));
    expect(c.frames.filter((f) => f.reply === 'order_accepted')).toHaveLength(0);

    a.send({ request: 'user_open_orders', inst_id: BTC, nonce: 101 });
    const open1 = await a.reply(101);
    expect(open1.orders).toContainEqual(expect.objectContaining({ order_id: r.order_id, open_qty: '0.25', price: '59000.5', client_ord_id: 1345, qty: '0.25', side: 'BUY' }));

    // Another trader takes 0.1: a fill pushed to both connections, without a nonce.
    sim.engine.trade('BTCUSDT', 'sell', '0.1');
    const push = await a.next((f) => f.reply === 'order_filled' && f.order.order_id === r.order_id);
    expect(push.nonce).toBeUndefined();
    expect(push).toMatchObject({ fill_price: '59000.5', fill_qty: '0.1', status: ['OK'], order: { open_qty: '0.15', qty: '0.25', client_ord_id: 1345 } });
    expect(push.trans_id).toBeGreaterThan(r.trans_id);
    await b.next((f) => f.reply === 'order_filled' && f.trans_id === push.trans_id);

    a.send({ request: 'cancel_order', inst_id: BTC, order_id: r.order_id, nonce: 102 });
    expect(await a.reply(102)).toMatchObject({ nonce: 102, reply: 'cancel_order', order_id: r.order_id, client_ord_id: 1345, status: ['OK'] });
    a.send({ request: 'cancel_order', inst_id: BTC, order_id: r.order_id, nonce: 103 });
    expect(await a.reply(103)).toEqual({ nonce: 103, reply: 'cancel_order', order_id: r.order_id, status: ['INVALID_ORDER_ID'] });

    a.send({ request: 'trade_history', inst_id: BTC, start: 0, limit: 100, nonce: 104 });
    const h = await a.reply(104);
    expect(h.trades[0]).toMatchObject({ trans_id: push.trans_id, fill_qty: '0.1', fill_price: '59000.5', order: { order_id: r.order_id, open_qty: '0.15' } });
    expect(h.trades[0].commission).toEqual({ amount: '0.00005', currency: 'BTC' });
  });

  it('a crossing order fills level by level: one array frame of order_filled at their own prices; a market rest is rejected NOT_ENOUGH_LIQUIDTY', async () => {
    const a = await open();
    await a.login();
    a.send({ request: 'new_order', nonce: 200, inst_id: BTC, price: '60000.03', qty: '25', client_ord_id: 7, side: 'BUY' });
    const r = await a.reply(200);
    expect(Array.isArray(r)).toBe(true);
    expect(r.map((m: any) => [m.reply, m.fill_qty ?? m.open_qty, m.fill_price ?? m.order_price])).toEqual([
      ['order_filled', '10', '60000.01'],
      ['order_filled', '10', '60000.02'],
      ['order_filled', '5', '60000.03'],
    ]);
    expect(r[2].order.open_qty).toBe('0');
    expect(new Set(r.map((m: any) => m.trans_id)).size).toBe(3);

    // Partly crossing: fills, then order_accepted for the resting rest.
    a.send({ request: 'new_order', nonce: 201, inst_id: BTC, price: '60000.01', qty: '12', client_ord_id: 8, side: 'BUY' });
    const p = await a.reply(201);
    expect(p.map((m: any) => m.reply)).toEqual(['order_filled', 'order_accepted']);
    expect(p[1]).toMatchObject({ open_qty: '2', qty: '12' });

    // Market (no price): no order_accepted; what the book cannot fill is rejected.
    a.send({ request: 'new_order', nonce: 202, inst_id: BTC, qty: '55', client_ord_id: 9, side: 'BUY' });
    const m = await a.reply(202);
    expect(m.map((x: any) => x.reply)).toEqual(['order_filled', 'order_filled', 'order_filled', 'order_filled', 'order_filled', 'order_rejected']);
    expect(m[5]).toMatchObject({ reasons: ['NOT_ENOUGH_LIQUIDTY'], open_qty: '5', qty: '55', status: ['OK'] });
    a.send({ request: 'cancel_order', inst_id: BTC, order_id: p[1].order_id, nonce: 203 });
    await a.reply(203);
  });

  it('order checks become order_rejected with the wiki reasons (balance, client id, precision, instrument)', async () => {
    const a = await open();
    await a.login();
    const order = (nonce: number, o: object) => {
      a.send({ request: 'new_order', nonce, inst_id: BTC, price: '50000', qty: '1', side: 'BUY', client_ord_id: 5, ...o });
      return a.reply(nonce);
    };
    expect((await order(300, { client_ord_id: 16777216 })).reasons).toEqual(['INVALID_CLIENT_ORD_ID']);
    expect((await order(301, { inst_id: 999 })).reasons).toEqual(['INVALID_INSTRUMENT']);
    expect((await order(302, { price: '50000.001' })).reasons).toEqual(['INVALID_PRICE']);
    expect((await order(303, { qty: '0.000000001' })).reasons).toEqual(['INVALID_QUANTITY']);
    await config(sim, { balances: { USDT: '1000' } });
    try {
      const r = await order(304, {});
      expect(r).toMatchObject({ reply: 'order_rejected', status: ['OK'], reasons: ['NOT_ENOUGH_BALANCE'], client_ord_id: 5, qty: '1', open_qty: '1' });
      expect(typeof r.order_id).toBe('number');
    } finally {
      await config(sim, { balances: {} });
    }
    // client_ord_id is not unique-enforced.
    expect((await order(305, { client_ord_id: 77 })).reply).toBe('order_accepted');
    expect((await order(306, { client_ord_id: 77 })).reply).toBe('order_accepted');
  });

  it('REST POST /: signed by X-USER + X-SIGNATURE over the body; same replies; events reach the WS', async () => {
    const ws = await open();
    await ws.login();
    const bad = await post(sim, JSON.stringify({ request: 'user_open_orders', inst_id: BTC, nonce: 1 }), { 'X-USER': USER, 'X-SIGNATURE': 'f'.repeat(64) });
    expect(bad).toEqual({ status: 401, body: { status: ['AUTHENTICATION_FAILED'] } });
    const r = await signedPost(sim, { request: 'new_order', nonce: 2, inst_id: 3, price: '2000', qty: '1.5', client_ord_id: 99, side: 'BUY' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ reply: 'order_accepted', client_ord_id: 99, nonce: 2 });
    await ws.next((f) => f.reply === 'order_accepted' && f.order_id === r.body.order_id);
    const c = await signedPost(sim, { request: 'cancel_order', inst_id: 3, order_id: r.body.order_id, nonce: 3 });
    expect(c.body).toMatchObject({ reply: 'cancel_order', status: ['OK'] });
  });

  it('REST faults: 5xx after the order was created, 429', async () => {
    await arm(sim, { kind: 'error5xxAfter', operation: 'create' });
    const r = await signedPost(sim, { request: 'new_order', nonce: 4, inst_id: 3, price: '2001', qty: '1', client_ord_id: 4242, side: 'SELL' });
    expect(r.status).toBe(500);
    expect(sim.engine.allOrders().filter((o) => o.clientOrderId === '4242')).toHaveLength(1);
    await arm(sim, { kind: 'rateLimit429', operation: 'openOrders' });
    expect((await signedPost(sim, { request: 'user_open_orders', inst_id: 3, nonce: 5 })).status).toBe(429);
  });

  it('WS faults: a dropped connection after the order was created; a create never answered', async () => {
    const a = await open();
    const b = await open();
    await a.login();
    await b.login(USER, KEY, 2);
    await arm(sim, { kind: 'dropConnectionAfter', operation: 'create' });
    a.send({ request: 'new_order', nonce: 400, inst_id: BTC, price: '58000', qty: '0.5', client_ord_id: 4000, side: 'BUY' });
    const seen = await b.next((f) => f.reply === 'order_accepted' && f.client_ord_id === 4000);
    await new Promise((res) => setTimeout(res, 50));
    expect(a.closed).toBe(true);
    expect(a.frames.some((f) => f.nonce === 400)).toBe(false);
    await arm(sim, { kind: 'timeoutAfter', operation: 'create' });
    b.send({ request: 'new_order', nonce: 401, inst_id: BTC, price: '58000', qty: '0.5', client_ord_id: 4001, side: 'BUY' });
    await new Promise((res) => setTimeout(res, 100));
    expect(b.frames.some((f) => f.nonce === 401)).toBe(false);
    expect(b.closed).toBe(false);
    expect(sim.engine.openOrders(USER, 'BTCUSDT').map((o) => o.clientOrderId)).toEqual(expect.arrayContaining(['4000', '4001']));
    for (const o of sim.engine.openOrders(USER, 'BTCUSDT')) sim.engine.cancel(USER, { orderId: o.orderId });
    expect(seen.order_id).toBeGreaterThan(0);
  });
});

function control(sim: CoinutRunningSimulator, path: string, body: object): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(sim.restUrl + path, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

async function config(sim: CoinutRunningSimulator, body: object): Promise<void> {
  const r = await control(sim, '/__sim/config', body);
  if (r.status !== 200) throw new Error(JSON.stringify(r.body));
}

const setReplyDelay = (sim: CoinutRunningSimulator, ms: number) => config(sim, { replyDelayMs: ms });

async function arm(sim: CoinutRunningSimulator, rule: object): Promise<void> {
  const r = await control(sim, '/__sim/faults', rule);
  if (r.status !== 200) throw new Error(JSON.stringify(r.body));
}
