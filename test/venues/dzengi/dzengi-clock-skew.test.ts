// Dzengi's clock skewed past recvWindow (-1021, "resync clock, retry", dzengi.md error table): the
// client measures the offset on GET /api/v2/time and retries the refused request once; a create
// refused for its timestamp was not placed (dzengi.md: the server accepts only timestamps inside
// the window), so the retry places it exactly once.
import { DzengiRestClient } from '../../../src/venues/dzengi/dzengi-rest-client';
import { startDzengiSimulator } from '../../../src/venues/dzengi/dzengi-simulator';
import { RunningSimulator } from '../../../src/venues/sim/simulator';
import { RecordingProxy, methodAndPath, startRecordingProxy } from '../../support/recording-proxy';

const KEY = 'skew-key';
const SECRET = 'skew-secret';
let sim: RunningSimulator;
let proxy: RecordingProxy;
let restUrl: string;
const seen: string[] = [];
const clients: DzengiRestClient[] = [];

beforeAll(async () => {
  sim = await startDzengiSimulator({
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

const order = () => ({ symbol: 'BTC/USD', side: 'buy' as const, type: 'limit' as const, quantity: '0.001', price: '10000', timeInForce: 'GTC' as const });

describe.each([
  ['ahead', +20_000],
  ['behind', -20_000],
])('Dzengi with the venue clock %s of ours by more than recvWindow', (_name, skew) => {
  it('a create refused for its timestamp is resynchronised and retried once: placed exactly once; the next goes straight through', async () => {
    sim.faults.arm({ kind: 'clockSkew', ms: skew }); // the simulator's clock fault
    seen.length = 0;
    const c = new DzengiRestClient({ restUrl, apiKey: KEY, apiSecret: SECRET, rateLimits: { budgets: [], maxQueue: 100 } });
    clients.push(c);
    const before = sim.engine.allOrders().length;
    await c.createOrder(order());
    expect(sim.engine.allOrders().length).toBe(before + 1);
    expect(seen.filter((s) => s.startsWith('POST /api/v2/order'))).toHaveLength(2);
    expect(seen.some((s) => s.startsWith('GET /api/v2/time'))).toBe(true);
    seen.length = 0;
    await c.createOrder(order());
    expect(sim.engine.allOrders().length).toBe(before + 2);
    expect(seen.filter((s) => s.startsWith('POST /api/v2/order'))).toHaveLength(1);
    sim.faults.clear();
  });
});
