// Apifiny's clock ahead of ours by more than the JWT's life (30 s): its exp has passed by the
// venue's clock and the request is refused, 196634 "token error" (apifiny.md error table; nothing
// ran). The adapter measures the offset on the public `GET <base>/utils/currentTimeMillis`, retries
// the refused request once and counts every exp (the stream's too) from the venue's time. A venue
// clock behind ours refuses nothing: the token has no iat/nbf, only exp.
import http from 'node:http';
import { ApifinyAdapter } from '../../../src/venues/apifiny/apifiny-adapter';
import { nextApifinyIdClock } from '../../../src/venues/apifiny/apifiny-order-id';
import { RunningApifinySimulator, startApifinySimulator } from '../../../src/venues/apifiny/apifiny-simulator';
import { perSecondLimits } from '../../../src/venues/common/rate-limiter';
import { AuthenticationFailed, PlaceOrderRequest } from '../../../src/venues/venue';

const KEY = 'skew-key';
const SECRET = 'skew-secret';
const ACCT = 'STA-00000001';
let sim: RunningApifinySimulator;
let proxy: http.Server;
let restUrl: string;
/** Every REST request that reached the venue: method and path. */
const seen: string[] = [];
const adapters: ApifinyAdapter[] = [];

beforeAll(async () => {
  sim = await startApifinySimulator({ credentials: [{ apiKey: KEY, apiSecret: SECRET }], rateLimits: { ordersPerSecond: 100_000, queriesPerSecond: 100_000 }, pendingSubmitMs: 20 });
  const target = new URL(sim.restUrl);
  proxy = http.createServer((req, res) => {
    seen.push(`${req.method} ${(req.url ?? '').split('?')[0]}`);
    const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  restUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}${target.pathname}`;
});

afterAll(async () => {
  for (const a of adapters) await a.stop();
  await new Promise((r) => proxy.close(r));
  await sim.close();
});

const adapter = () => {
  const a = new ApifinyAdapter({ restUrl, wsUrl: sim.wsUrl, apiKey: KEY, apiSecret: SECRET, account: ACCT, rateLimits: perSecondLimits({ ordersPerSecond: 1000, queriesPerSecond: 1000 }) }, undefined, {
    stream: { connectTimeoutMs: 2000 },
  });
  adapters.push(a);
  return a;
};
let last: { ms: number; seq: number } | undefined;
const order = (a: ApifinyAdapter): PlaceOrderRequest => {
  last = nextApifinyIdClock(last, Date.now());
  return { clientOrderId: a.clientOrderIdFor('7', last.ms * 1000 + last.seq), symbol: 'BTCUSDT', side: 'buy', type: 'limit', quantity: '0.5', price: '59000', timeInForce: 'GTC' };
};
const atVenue = (id: string) => sim.engine.allOrders().filter((o) => o.clientOrderId === id);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The venue's engine gets an order after PENDING_SUBMIT (20 ms here): wait well past it, then count. */
const atVenueSettled = async (id: string) => {
  await sleep(150);
  return atVenue(id);
};
const creates = () => seen.filter((s) => s.endsWith('/order/newOrder')).length;
const clockReads = () => seen.filter((s) => s.endsWith('/utils/currentTimeMillis')).length;

describe('Apifiny with the venue clock 40 s ahead of ours (past the token life of 30 s)', () => {
  beforeEach(() => {
    sim.faults.arm({ kind: 'clockSkew', ms: 40_000 });
    seen.length = 0;
  });
  afterEach(() => sim.faults.clear());

  it('the adapter starts: its stream token counts from the venue time measured at start-up', async () => {
    const a = adapter();
    await a.start();
    expect(clockReads()).toBeGreaterThanOrEqual(1);
  });

  it('a create refused with "token error" after the venue clock jumped is resynchronised and retried once: placed exactly once; later ones go straight through', async () => {
    sim.faults.clear();
    const a = adapter();
    await a.start(); // in step with the venue
    sim.faults.arm({ kind: 'clockSkew', ms: 40_000 }); // then the venue's clock jumps ahead
    seen.length = 0;
    const first = order(a);
    await a.placeOrder(first);
    expect(await atVenueSettled(first.clientOrderId)).toHaveLength(1);
    expect(creates()).toBe(2); // the refused one, the retry
    expect(clockReads()).toBe(1);
    seen.length = 0;
    const second = order(a);
    await a.placeOrder(second);
    expect(creates()).toBe(1);
    expect(await atVenueSettled(second.clientOrderId)).toHaveLength(1);
  });

  it('a stream reconnect refused (401: its token expired by the venue clock) resynchronises and comes back up', async () => {
    sim.faults.clear();
    const a = adapter();
    const states: string[] = [];
    a.onStreamState((st) => states.push(st));
    await a.start();
    sim.faults.arm({ kind: 'clockSkew', ms: 40_000 });
    seen.length = 0;
    sim.faults.dropStreams();
    const deadline = Date.now() + 8000;
    while (states[states.length - 1] !== 'connected' || !states.includes('disconnected')) {
      if (Date.now() > deadline) throw new Error(`stream not back: ${states.join(',')}`);
      await sleep(20);
    }
    expect(clockReads()).toBe(1);
  });

  it('a second refusal after the resync is not retried again: AuthenticationFailed, never placed', async () => {
    const a = adapter();
    await a.start();
    const clock = (a as any).rest.clock;
    const realSync = clock.sync.bind(clock);
    clock.sync = async () => {
      const r = await realSync();
      sim.faults.arm({ kind: 'clockSkew', ms: sim.faults.clockOffsetMs + 90_000 }); // the venue jumps again
      return r;
    };
    sim.faults.arm({ kind: 'clockSkew', ms: 100_000 });
    seen.length = 0;
    const o = order(a);
    const err = await a.placeOrder(o).catch((e) => e);
    expect(err).toBeInstanceOf(AuthenticationFailed);
    expect(err.code).toBe('196634');
    expect(creates()).toBe(2);
    expect(await atVenueSettled(o.clientOrderId)).toHaveLength(0);
  });
});

describe('Apifiny with the venue clock 40 s behind ours', () => {
  beforeEach(() => {
    sim.faults.arm({ kind: 'clockSkew', ms: -40_000 });
    seen.length = 0;
  });
  afterEach(() => sim.faults.clear());

  it('nothing is refused (exp only lies further ahead by the venue clock): one create each', async () => {
    const a = adapter();
    await a.start();
    seen.length = 0;
    const o = order(a);
    await a.placeOrder(o);
    expect(creates()).toBe(1);
    expect(await atVenueSettled(o.clientOrderId)).toHaveLength(1);
  });
});
