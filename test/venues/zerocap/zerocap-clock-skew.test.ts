// Zerocap's clock off ours by more than its ±30 s timestamp window (zerocap.md "Authentication":
// 401 "Request expired"; nothing ran): the client measures the offset on `GET <base>/systems/get_time`
// (off the base, not off /orders), retries the refused request once and signs with the venue's
// time from then on; the order stream's upgrade (the same signed headers) comes up too.
import { RunningSimulator } from '../../../src/venues/sim/simulator';
import { AuthenticationFailed, StreamState } from '../../../src/venues/venue';
import { ZerocapAdapter } from '../../../src/venues/zerocap/zerocap-adapter';
import { ZerocapRestClient } from '../../../src/venues/zerocap/zerocap-rest-client';
import { startZerocapSimulator } from '../../../src/venues/zerocap/zerocap-simulator';
import { RecordingProxy, methodAndPath, startRecordingProxy } from '../../support/recording-proxy';
import { jumpVenueClockAfterEachSync, waitForStreamBack } from '../../support/venue-clock-skew';

const KEY = 'skew-key';
const SECRET = 'skew-secret';
let sim: RunningSimulator;
let proxy: RecordingProxy;
let restUrl: string;
/** Every REST request that reached the venue: method and path. */
const seen: string[] = [];
const clients: ZerocapRestClient[] = [];

beforeAll(async () => {
  sim = await startZerocapSimulator({ credentials: [{ apiKey: KEY, apiSecret: SECRET }], rateLimits: { ordersPerSecond: 100_000, queriesPerSecond: 100_000 } });
  proxy = await startRecordingProxy(sim.restUrl, { onRequest: (req) => seen.push(methodAndPath(req)) });
  restUrl = proxy.url;
});

afterAll(async () => {
  for (const c of clients) c.close();
  await proxy.close();
  await sim.close();
});

const client = () => {
  const c = new ZerocapRestClient({ restUrl, apiKey: KEY, apiSecret: SECRET });
  clients.push(c);
  return c;
};

let n = 0;
const fokBuy = () => ({ clientOrderId: `skew${Date.now()}${n++}`, symbol: 'BTC/USD', side: 'buy' as const, type: 'limit' as const, quantity: '0.5', price: '60000.30', timeInForce: 'FOK' as const });
const atVenue = (id: string) => sim.engine.allOrders().filter((o) => o.clientOrderId === id);
const creates = () => seen.filter((s) => s.endsWith('/orders/create_order')).length;

describe.each([
  ['ahead', +40_000],
  ['behind', -40_000],
])('Zerocap with the venue clock %s of ours by more than its 30 s window', (_name, skew) => {
  beforeEach(() => {
    sim.faults.arm({ kind: 'clockSkew', ms: skew });
    seen.length = 0;
  });
  afterAll(() => sim.faults.clear());

  it('a create refused as "Request expired" is resynchronised on /v2/systems/get_time and retried once: placed exactly once; later ones go straight through', async () => {
    const c = client();
    const first = fokBuy();
    const placed = await c.createOrder(first);
    expect(placed.clientOrderId).toBe(first.clientOrderId);
    expect(atVenue(first.clientOrderId)).toHaveLength(1);
    expect(creates()).toBe(2); // the refused one, the retry
    expect(seen).toContain('GET /v2/systems/get_time');
    seen.length = 0;
    const second = fokBuy();
    await c.createOrder(second);
    expect(creates()).toBe(1);
    expect(atVenue(second.clientOrderId)).toHaveLength(1);
  });

  it('a second refusal after the resync is not retried again: AuthenticationFailed, never placed', async () => {
    const c = client();
    jumpVenueClockAfterEachSync((c as any).clock, sim.faults, 90_000); // the venue jumps again
    const o = fokBuy();
    const err = await c.createOrder(o).catch((e) => e);
    expect(err).toBeInstanceOf(AuthenticationFailed);
    expect(err.venueText).toBe('Request expired');
    expect(creates()).toBe(2);
    expect(atVenue(o.clientOrderId)).toHaveLength(0);
  });

  it('the adapter starts (instruments, then the stream upgrade signed with the venue time) and places an order', async () => {
    const adapter = new ZerocapAdapter({ restUrl, wsUrl: sim.wsUrl, apiKey: KEY, apiSecret: SECRET }, undefined, { stream: { connectTimeoutMs: 2000 } });
    try {
      await adapter.start();
      const o = fokBuy();
      await adapter.placeOrder(o);
      expect(atVenue(o.clientOrderId)).toHaveLength(1);
    } finally {
      await adapter.stop();
    }
  });

  it('an order whose create outcome was unknown is found by its send window: the window is read in the venue clock (review: searched ±35 s of our clock, it missed an order stamped 40 s off and proved it absent)', async () => {
    const adapter = new ZerocapAdapter({ restUrl, wsUrl: sim.wsUrl, apiKey: KEY, apiSecret: SECRET }, undefined, { stream: { connectTimeoutMs: 2000 } });
    try {
      await adapter.start(); // signs with the venue's time from here
      const o = fokBuy();
      const from = Date.now();
      const placed = await adapter.placeOrder(o);
      const to = Date.now();
      // As the resolver asks after a create whose reply was lost: no venue id, our clock's send span.
      const found = await adapter.getOrder({ clientOrderId: o.clientOrderId, symbol: o.symbol, sentBetween: { from, to } });
      expect(found.clientOrderId).toBe(o.clientOrderId);
      expect(found.venueOrderId).toBe(placed.venueOrderId);
      expect(atVenue(o.clientOrderId)).toHaveLength(1);
    } finally {
      await adapter.stop();
    }
  });

  it('a stream reconnect refused (401) after the venue clock jumped resynchronises and comes back up', async () => {
    sim.faults.clear();
    const states: StreamState[] = [];
    const adapter = new ZerocapAdapter({ restUrl, wsUrl: sim.wsUrl, apiKey: KEY, apiSecret: SECRET }, undefined, {
      stream: { connectTimeoutMs: 2000, backoff: { initialMs: 50, maxMs: 200, factor: 2, jitter: 0 } },
    });
    adapter.onStreamState((s) => states.push(s));
    try {
      await adapter.start();
      sim.faults.arm({ kind: 'clockSkew', ms: skew });
      seen.length = 0;
      states.length = 0;
      sim.faults.dropStreams();
      await waitForStreamBack(states, { timeoutMs: 5000, pollMs: 10, what: 'stream not back' });
      expect(seen).toContain('GET /v2/systems/get_time');
    } finally {
      await adapter.stop();
    }
  });
});
