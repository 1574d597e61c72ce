// Coinut's clock comes from the Date header of a REST reply, read when a login is refused (one
// status word for every refusal, a timestamp outside the window among them). Over real HTTP and WS
// against the simulator, with a proxy in front of its REST side that plays a cache or a proxy:
//   - a reply that is not the venue's clock just now (a 5xx, a cached reply with Age, a Date that
//     jumps by more than the bound) must not move the offset the next login signs with;
//   - Date has whole-second resolution, so a move of 1 s is rounding, not a timestamp problem:
//     no second login; a move of 3 s is one: a second login.
import http from 'node:http';
import { CoinutWsClient } from '../../../src/venues/coinut/coinut-ws-client';
import { CoinutRunningSimulator, startCoinutSimulator } from '../../../src/venues/coinut/coinut-simulator';
import { VENUE_DATE_MAX_JUMP_MS } from '../../../src/venues/coinut/coinut-venue-time';
import { AuthenticationFailed } from '../../../src/venues/venue';

jest.setTimeout(10_000);

const USER = 'desk1';
const KEY = 'c0ffee00-1111-2222-3333-444455556666';
const WRONG_KEY = '0badc0de-1111-2222-3333-444455556666';
/** The venue clock ahead of ours by more than its 60 s login window. */
const SKEW_MS = 90_000;

/** What the proxy does to a REST reply: pass it on, or rewrite its Date (ms from `dateBase()`), add Age, answer 503 itself. */
type ProxyMode = { kind: 'pass' } | { kind: 'rewrite'; dateMs: () => number; age?: string; status?: number };
let mode: ProxyMode = { kind: 'pass' };

let sim: CoinutRunningSimulator;
let proxy: http.Server;
let restUrl: string;
const clients: CoinutWsClient[] = [];

beforeAll(async () => {
  sim = await startCoinutSimulator({ credentials: [{ apiKey: KEY, username: USER }] });
  const target = new URL(sim.restUrl);
  proxy = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
        const body: Buffer[] = [];
        r.on('data', (c: Buffer) => body.push(c));
        r.on('end', () => {
          const m = mode;
          const headers = { ...r.headers };
          let status = r.statusCode ?? 502;
          let out = Buffer.concat(body);
          if (m.kind === 'rewrite') {
            headers.date = new Date(m.dateMs()).toUTCString();
            if (m.age !== undefined) headers.age = m.age;
            if (m.status !== undefined) {
              status = m.status;
              out = Buffer.from('<html>Service Unavailable</html>');
              headers['content-type'] = 'text/html';
            }
          }
          headers['content-length'] = String(out.length);
          delete headers['transfer-encoding'];
          res.writeHead(status, headers);
          res.end(out);
        });
      });
      up.on('error', () => res.destroy());
      up.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  restUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
});

afterEach(async () => {
  for (const c of clients.splice(0)) await c.stop();
  sim.faults.clear();
  mode = { kind: 'pass' };
});

afterAll(async () => {
  await new Promise((r) => proxy.close(r));
  await sim.close();
});

/** A client; `warnings` collects the messages it logs at warn (a second login is announced there). */
const make = (opts: { key?: string; clock?: () => number } = {}) => {
  const warnings: string[] = [];
  const noop = () => undefined;
  const c = new CoinutWsClient({
    wsUrl: sim.wsUrl,
    restUrl,
    username: USER,
    apiKey: opts.key ?? KEY,
    clock: opts.clock,
    backoff: { initialMs: 20, maxMs: 100, factor: 2, jitter: 0 },
    logger: { debug: noop, info: noop, error: noop, warn: (_o, msg) => warnings.push(String(msg)) },
  });
  clients.push(c);
  return { c, warnings };
};
const SECOND_LOGIN = 'coinut login refused: clock resynchronised, logging in again';

describe('a REST reply that is not the venue clock just now does not move the offset (venue 90 s ahead, first login refused)', () => {
  beforeEach(() => sim.faults.arm({ kind: 'clockSkew', ms: SKEW_MS }));

  it('the proxy passes the venue reply on: the Date resyncs, the second login succeeds (the proxy itself is harmless)', async () => {
    const { c, warnings } = make();
    await c.start();
    expect(c.connected).toBe(true);
    expect(warnings).toContain(SECOND_LOGIN);
  });

  it.each([
    ['a 503 from the proxy, with the proxy’s own Date 2 min behind ours', { kind: 'rewrite', status: 503, dateMs: () => Date.now() - 120_000 }],
    ['a cached reply (Age: 200) whose Date is from 200 s ago at the venue', { kind: 'rewrite', age: '200', dateMs: () => Date.now() + SKEW_MS - 200_000 }],
    ['a reply whose Date is further than the bound from our clock', { kind: 'rewrite', dateMs: () => Date.now() + VENUE_DATE_MAX_JUMP_MS + 120_000 }],
  ] as [string, ProxyMode][])('%s: ignored, no login signed with it; the error says the clock could not be read', async (_name, m) => {
    mode = m;
    const { c, warnings } = make();
    const err = await c.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationFailed);
    expect(warnings).not.toContain(SECOND_LOGIN);
    expect(String((err as Error).message)).toMatch(/clock could not be read/);
  });
});

describe('Date headers have whole seconds: an offset move of 1 s is rounding (a refused login with a wrong key)', () => {
  // Our clock stands still in the middle of a second, so the offset the Date gives is exact.
  const at = () => Math.floor(Date.now() / 1000) * 1000 + 500;

  it('the Date reads 1 s ahead of ours (offset 0 → 1 s): no second login, a credentials error', async () => {
    const now = at();
    mode = { kind: 'rewrite', dateMs: () => now + 1_000 - 500 };
    const { c, warnings } = make({ key: WRONG_KEY, clock: () => now });
    const err = await c.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationFailed);
    expect(warnings).not.toContain(SECOND_LOGIN);
    expect(String((err as Error).message)).toMatch(/not a timestamp problem/);
  });

  it('the Date reads 3 s ahead of ours (offset 0 → 3 s): a second login with the venue time', async () => {
    const now = at();
    mode = { kind: 'rewrite', dateMs: () => now + 3_000 - 500 };
    const { c, warnings } = make({ key: WRONG_KEY, clock: () => now });
    const err = await c.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationFailed);
    expect(warnings).toContain(SECOND_LOGIN);
    expect(String((err as Error).message)).toMatch(/also with the venue's time/);
  });
});
