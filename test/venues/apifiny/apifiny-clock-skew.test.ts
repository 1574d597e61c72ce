// Apifiny's clock ahead of ours by more than the JWT's life (30 s): its exp has passed by the
// venue's clock and the request is refused, 196634 "token error" (apifiny.md error table; nothing
// ran). The adapter measures the offset on the public `GET <base>/utils/currentTimeMillis`, retries
// the refused request once and counts every exp (the stream's too) from the venue's time. A venue
// clock behind ours refuses nothing: the token has no iat/nbf, only exp.
import { ApifinyAdapter } from '../../../src/venues/apifiny/apifiny-adapter';
import { nextApifinyIdClock } from '../../../src/venues/apifiny/apifiny-order-id';
import { RunningApifinySimulator, startApifinySimulator } from '../../../src/venues/apifiny/apifiny-simulator';
import { perSecondLimits } from '../../../src/venues/common/rate-limiter';
import { AuthenticationFailed, PlaceOrderRequest } from '../../../src/venues/venue';
import { RecordingProxy, methodAndPath, startRecordingProxy } from '../../support/recording-proxy';
import { jumpVenueClockAfterEachSync, waitForStreamBack } from '../../support/venue-clock-skew';

const KEY = 'skew-key';
const SECRET = 'skew-secret';
const ACCT = 'STA-00000001';
let sim: RunningApifinySimulator;
let proxy: RecordingProxy;
let restUrl: string;
/** Every REST request that reached the venue: method and path. */
const seen: string[] = [];
const adapters: ApifinyAdapter[] = [];

beforeAll(async () => {
  sim = await startApifinySimulator({ credentials: [{ apiKey: KEY, apiSecret: SECRET }], rateLimits: { ordersPerSecond: 100_000, queriesPerSecond: 100_000 }, pendingSubmitMs: 20 });
  proxy = await startRecordingProxy(sim.restUrl, { onRequest: (req) => seen.push(methodAndPath(req)) });
  restUrl = proxy.url;
});

afterAll(async () => {
  for (const a of adapters) await a.stop();
  await proxy.close();
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
    await waitForStreamBack(states, { timeoutMs: 8000, pollMs: 20, what: 'stream not back' });
    expect(clockReads()).toBe(1);
  });

  it('a second refusal after the resync is not retried again: AuthenticationFailed, never placed', async () => {
    const a = adapter();
    await a.start();
    jumpVenueClockAfterEachSync((a as any).rest.clock, sim.faults, 90_000); // the venue jumps again
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
