// Coinut's clock off ours by more than its login window (the WS login signs "<user>|<unix
// seconds>|<nonce>"; the window is unconfirmed, the simulator allows 60 s). Coinut documents no
// time endpoint and one status word for every refused login, so the client reads the venue's
// time from the Date header of a REST reply (RFC 9110: every 2xx/4xx reply of a server with a
// clock carries one; REST requests are signed over the body only, so the skew does not refuse
// them), and logs in again once when that moved its estimate by 2 s or more (less is the Date
// header's whole-second rounding). A refusal with the clock in step is a credentials problem and
// says so.
import { CoinutAdapter } from '../../../src/venues/coinut/coinut-adapter';
import { CoinutRunningSimulator, startCoinutSimulator } from '../../../src/venues/coinut/coinut-simulator';
import { perSecondLimits } from '../../../src/venues/common/rate-limiter';
import { AuthenticationFailed, PlaceOrderRequest, StreamState } from '../../../src/venues/venue';
import { RecordingProxy, startRecordingProxy } from '../../support/recording-proxy';
import { waitForStreamBack } from '../../support/venue-clock-skew';

const USER = 'desk1';
const KEY = 'c0ffee00-1111-2222-3333-444455556666';
const FAST = perSecondLimits({ ordersPerSecond: 100_000, queriesPerSecond: 100_000, maxQueue: 10_000 });
let sim: CoinutRunningSimulator;
let proxy: RecordingProxy;
let restUrl: string;
/** The `request` of every REST call that reached the venue. */
const seenRest: string[] = [];
const adapters: CoinutAdapter[] = [];

beforeAll(async () => {
  sim = await startCoinutSimulator({ credentials: [{ apiKey: KEY, username: USER }] });
  proxy = await startRecordingProxy(sim.restUrl, {
    onBody: (_req, body) => {
      try {
        seenRest.push(String(JSON.parse(body.toString()).request));
      } catch {
        seenRest.push('?');
      }
    },
  });
  restUrl = proxy.url;
});

afterAll(async () => {
  for (const a of adapters) await a.stop();
  await proxy.close();
  await sim.close();
});

const make = (key = KEY) => {
  const a = new CoinutAdapter({ restUrl, wsUrl: sim.wsUrl, apiKey: key, apiSecret: '', account: USER, rateLimits: FAST }, undefined, {
    backoff: { initialMs: 20, maxMs: 100, factor: 2, jitter: 0 },
  });
  adapters.push(a);
  return a;
};
let cid = 5000;
const limit = (): PlaceOrderRequest => ({ clientOrderId: String(cid++), symbol: 'BTCUSDT', side: 'buy', type: 'limit', quantity: '0.5', price: '59000', timeInForce: 'GTC' });
const atVenue = (id: string) => sim.engine.allOrders().filter((o) => o.clientOrderId === id);

describe.each([
  ['ahead', +90_000],
  ['behind', -90_000],
])('Coinut with the venue clock %s of ours by more than its login window', (_name, skew) => {
  beforeEach(() => {
    sim.faults.arm({ kind: 'clockSkew', ms: skew });
    seenRest.length = 0;
  });
  afterEach(() => sim.faults.clear());

  it('a login refused for its timestamp resynchronises on a REST reply’s Date and logs in again: the adapter starts and trades', async () => {
    const a = make();
    await a.start();
    expect(sim.connections(USER)).toBeGreaterThanOrEqual(1);
    expect(seenRest.length).toBeGreaterThanOrEqual(1); // the clock read (then the instruments)
    const o = limit();
    await a.placeOrder(o);
    expect(atVenue(o.clientOrderId)).toHaveLength(1);
    await a.stop();
  });

  it('a reconnect after the venue clock jumped logs in again with the venue time', async () => {
    sim.faults.clear();
    const a = make();
    const states: StreamState[] = [];
    a.onStreamState((s) => states.push(s));
    await a.start();
    sim.faults.arm({ kind: 'clockSkew', ms: skew });
    states.length = 0;
    sim.faults.dropStreams();
    await waitForStreamBack(states, { timeoutMs: 5000, pollMs: 10, what: 'not logged in again' });
    const o = limit();
    await a.placeOrder(o);
    expect(atVenue(o.clientOrderId)).toHaveLength(1);
    await a.stop();
  });
});

it('a login refused with the clock in step is not a timestamp problem: AuthenticationFailed that says so', async () => {
  const a = make('0badc0de-1111-2222-3333-444455556666');
  const err = await a.start().catch((e) => e);
  expect(err).toBeInstanceOf(AuthenticationFailed);
  expect(String(err.message)).toMatch(/not a timestamp problem/);
  await a.stop();
});
