// The venue's clock skewed past recvWindow (HashKey -1021, "timestamp outside recvWindow: resync
// clock", hashkey.md error table): the client measures the offset on its time endpoint, retries
// the refused request once, and goes on; a create refused for its timestamp was not placed
// (hashkey-constants: -1021 means nothing happened), so the retry places it exactly once.
import { HashKeyRestClient } from '../../../src/venues/hashkey/hashkey-rest-client';
import { startHashKeySimulator } from '../../../src/venues/hashkey/hashkey-simulator';
import { RunningSimulator } from '../../../src/venues/sim/simulator';
import { OrderRejected } from '../../../src/venues/venue';
import { RecordingProxy, methodAndPath, startRecordingProxy } from '../../support/recording-proxy';
import { jumpVenueClockAfterEachSync } from '../../support/venue-clock-skew';

const KEY = 'skew-key';
const SECRET = 'skew-secret';
let sim: RunningSimulator;
let proxy: RecordingProxy;
let restUrl: string;
/** Every REST request that reached the venue: method and path. */
const seen: string[] = [];
const clients: HashKeyRestClient[] = [];

beforeAll(async () => {
  sim = await startHashKeySimulator({
    credentials: [{ apiKey: KEY, apiSecret: SECRET }],
    rateLimits: { ordersPerSecond: 100_000, queriesPerSecond: 100_000 },
  });
  proxy = await startRecordingProxy(sim.restUrl, { onRequest: (req) => seen.push(methodAndPath(req)) });
  restUrl = proxy.url;
});

afterAll(async () => {
  for (const c of clients) c.close();
  await proxy.close();
  await sim.close();
});

const client = () => {
  const c = new HashKeyRestClient({ restUrl, apiKey: KEY, apiSecret: SECRET, rateLimits: { budgets: [], maxQueue: 100 } });
  clients.push(c);
  return c;
};

let n = 0;
const order = () => ({ clientOrderId: `skew${Date.now()}${n++}`, symbol: 'BTCUSDT', side: 'buy' as const, type: 'limit' as const, quantity: '0.001', price: '1000', timeInForce: 'GTC' as const });
const atVenue = (id: string) => sim.engine.allOrders().filter((o) => o.clientOrderId === id);

describe.each([
  ['ahead', +20_000],
  ['behind', -20_000],
])('HashKey with the venue clock %s of ours by more than recvWindow', (_name, skew) => {
  beforeEach(() => {
    sim.faults.arm({ kind: 'clockSkew', ms: skew }); // the simulator's clock fault
    seen.length = 0;
  });
  afterAll(() => sim.faults.clear());

  it('a create refused for its timestamp is resynchronised and retried once: placed exactly once; later ones go straight through', async () => {
    const c = client();
    const first = order();
    const placed = await c.createOrder(first);
    expect(placed.clientOrderId).toBe(first.clientOrderId);
    expect(atVenue(first.clientOrderId)).toHaveLength(1);
    expect(seen.filter((s) => s.includes('/spot/order'))).toHaveLength(2); // the refused one, the retry
    expect(seen.some((s) => s.startsWith('GET /api/v1/time'))).toBe(true);
    seen.length = 0;
    const second = order();
    await c.createOrder(second);
    expect(seen.filter((s) => s.includes('/spot/order'))).toHaveLength(1);
    expect(atVenue(second.clientOrderId)).toHaveLength(1);
  });

  it('a second refusal after the resync is not retried again: the create is rejected, never placed', async () => {
    const c = client();
    // The venue's clock jumps again right after each of our syncs: the retry is refused too.
    jumpVenueClockAfterEachSync((c as any).clock, sim.faults, 60_000);
    const o = order();
    const err = await c.createOrder(o).catch((e) => e);
    expect(err).toBeInstanceOf(OrderRejected);
    expect(err.code).toBe('-1021');
    expect(seen.filter((s) => s.includes('/spot/order'))).toHaveLength(2);
    expect(atVenue(o.clientOrderId)).toHaveLength(0);
  });
});
