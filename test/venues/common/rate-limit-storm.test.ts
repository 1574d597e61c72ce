// A venue's 429 over real HTTP (the Zerocap simulator, whose 429 asks for a 1 s wait; any venue's
// adapter shares the limiter): orders placed during the pause are held, none reaches the venue
// before the pause ends, then all are sent and placed; an order that would wait longer than the
// session's bound is refused with a Text naming the wait, and never sent.
import { perSecondLimits } from '../../../src/venues/common/rate-limiter';
import { RunningSimulator } from '../../../src/venues/sim/simulator';
import { ZerocapAdapter } from '../../../src/venues/zerocap/zerocap-adapter';
import { startZerocapSimulator } from '../../../src/venues/zerocap/zerocap-simulator';
import { PlaceOrderRequest, RateLimited } from '../../../src/venues/venue';
import { RecordingProxy, startRecordingProxy } from '../../support/recording-proxy';

const API_KEY = 'zc-storm-key';
const API_SECRET = 'zc-storm-secret';

let sim: RunningSimulator;
let proxy: RecordingProxy;
let proxyUrl: string;
/** When each REST request reached the venue (through the counting proxy), ms. */
const arrivals: { at: number; method: string; url: string }[] = [];
const adapters: ZerocapAdapter[] = [];

let seq = 0;
const fokBuy = (): PlaceOrderRequest => ({
  clientOrderId: `S${Date.now().toString(36)}${(seq++).toString(36)}`,
  symbol: 'BTC/USD',
  side: 'buy',
  type: 'limit',
  quantity: '0.001',
  price: '60000.30',
  timeInForce: 'FOK',
});

function adapter(maxQueueWaitMs?: number): ZerocapAdapter {
  const a = new ZerocapAdapter({
    restUrl: proxyUrl,
    wsUrl: sim.wsUrl,
    apiKey: API_KEY,
    apiSecret: API_SECRET,
    rateLimits: { ...perSecondLimits({ ordersPerSecond: 1000, queriesPerSecond: 1000, maxQueue: 3 }), maxQueueWaitMs },
  });
  adapters.push(a);
  return a;
}

beforeAll(async () => {
  sim = await startZerocapSimulator({
    credentials: [{ apiKey: API_KEY, apiSecret: API_SECRET }],
    rateLimits: { ordersPerSecond: 10_000, queriesPerSecond: 10_000 },
  });
  sim.engine.configure({ liquidity: { 'BTC/USD': { depth: 3, levelQty: '1', spreadTicks: 10 } } });
  proxy = await startRecordingProxy(sim.restUrl, { onRequest: (req) => arrivals.push({ at: Date.now(), method: req.method ?? '', url: req.url ?? '' }) });
  proxyUrl = proxy.url;
});

afterEach(() => sim.faults.clear());

afterAll(async () => {
  for (const a of adapters) await a.stop();
  await proxy.close();
  await sim.close();
});

const placedAtVenue = (ids: string[]) => sim.engine.allOrders().filter((o) => ids.includes(o.clientOrderId ?? ''));

describe('a venue 429 storm over real HTTP', () => {
  it('orders placed during the pause wait for it, none is sent into it, then all are placed; a full queue refuses at once', async () => {
    const a = adapter();
    sim.faults.arm({ kind: 'rateLimit429', operation: 'create', count: 1 });
    const first = fokBuy();
    const e = await a.placeOrder(first).catch((err) => err);
    expect(e).toBeInstanceOf(RateLimited);
    const pausedAt = Date.now();
    const before = arrivals.length;
    const held = [fokBuy(), fokBuy(), fokBuy()];
    const results = held.map((o) => a.placeOrder(o));
    // The queue holds 3: a fourth is refused at once, and says why.
    const full = await a.placeOrder(fokBuy()).catch((err) => err);
    expect(full).toBeInstanceOf(RateLimited);
    expect(full.message).toMatch(/rate limit queue full .*not sent, retry after \d+ s/);
    const placed = await Promise.all(results);
    expect(placed.map((o) => o.status)).toEqual(['filled', 'filled', 'filled']);
    const during = arrivals.slice(before);
    expect(during).toHaveLength(3);
    for (const r of during) expect(r.at - pausedAt).toBeGreaterThanOrEqual(1000 - 50);
    // Each placed exactly once; the refused ones never reached the venue.
    expect(placedAtVenue(held.map((o) => o.clientOrderId!))).toHaveLength(3);
    expect(placedAtVenue([first.clientOrderId!])).toHaveLength(0);
  });

  it('an order that would wait longer than the bound is refused with a Text naming the venue\'s wait, and never sent', async () => {
    const a = adapter(300);
    sim.faults.arm({ kind: 'rateLimit429', operation: 'create', count: 1 });
    await expect(a.placeOrder(fokBuy())).rejects.toBeInstanceOf(RateLimited);
    const before = arrivals.length;
    const late = fokBuy();
    const e = await a.placeOrder(late).catch((err) => err);
    expect(e).toBeInstanceOf(RateLimited);
    expect(e.message).toMatch(/venue rate limited us and asked to pause 1 s, longer than the 0.3 s a request may wait; not sent, retry after 1 s/);
    await new Promise((r) => setTimeout(r, 1100));
    expect(arrivals.length).toBe(before);
    expect(placedAtVenue([late.clientOrderId!])).toHaveLength(0);
  });
});
