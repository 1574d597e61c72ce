// The shared simulator HTTP framework with a toy venue, over real HTTP and WebSocket on loopback.

import http from 'node:http';
import WebSocket from 'ws';
import { FaultInjector } from '../../../src/venues/sim/fault-injector';
import { MatchingEngine } from '../../../src/venues/sim/matching-engine';
import { SimHttpRequest, SimHttpServer, SimReply, SimRoute } from '../../../src/venues/sim/sim-http-server';
import { DEFAULT_SIM_INSTRUMENTS, PerKeyRateLimiter } from '../../../src/venues/sim/simulator';

interface ToyAuth {
  key: string;
}

function request(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request(base + path, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('SimHttpServer', () => {
  const faults = new FaultInjector();
  const engine = new MatchingEngine({ instruments: DEFAULT_SIM_INSTRUMENTS });
  const limiter = new PerKeyRateLimiter({ ordersPerSecond: 2, queriesPerSecond: 100 });
  const handled: string[] = [];
  const routes = new Map<string, SimRoute<ToyAuth>>([
    ['GET /open', { signed: false, handle: () => ({ status: 200, body: { open: true } }) }],
    [
      'POST /v2/thing',
      {
        signed: true,
        operation: 'create',
        rate: 'orders',
        handle: (req: SimHttpRequest, auth) => {
          handled.push(req.body);
          return { status: 200, body: { key: auth!.key, body: req.body, q: req.query.get('q') } };
        },
      },
    ],
  ]);
  let server: SimHttpServer<ToyAuth>;
  let base: string;
  let port: number;

  beforeAll(async () => {
    server = new SimHttpServer<ToyAuth>({
      routes,
      authenticate: (req) =>
        req.headers['api-key'] === 'good' ? { ok: true, auth: { key: 'good' } } : { ok: false, reply: { status: 401, body: 'Unauthorized' } },
      rateKey: (a) => a.key,
      replies: {
        noRoute: (req) => ({ status: 404, body: { error: `no ${req.method} ${req.path}` } }),
        rateLimited: { status: 429, body: 'slow down', headers: { 'retry-after': '1' } },
        banned: { status: 418, body: 'banned' },
        internalError: (status): SimReply => ({ status, body: 'boom' }),
      },
      control: { name: 'toy', engine, faults, settingKeys: [], configure: () => undefined },
      limiter,
      upgrade: (_req, path) =>
        path === '/ws'
          ? { accept: true, onOpen: (ws) => (ws.send('hello'), ws.on('message', (d) => ws.send(`echo ${d.toString()}`))) }
          : { accept: false, status: 401, statusText: 'Unauthorized' },
    });
    faults.onDropStreams(() => server.dropWebSockets());
    ({ port } = await server.listen('127.0.0.1', 0));
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(() => server.close());
  afterEach(() => {
    faults.clear();
    limiter.setLimits({ ordersPerSecond: 2, queriesPerSecond: 100 });
  });

  it('routes by method and path, runs the auth hook on signed routes only, answers text or JSON', async () => {
    expect(await request(base, 'GET', '/open')).toEqual({ status: 200, body: '{"open":true}' });
    expect(await request(base, 'POST', '/v2/thing?q=1', { 'api-key': 'bad' }, 'x')).toEqual({ status: 401, body: 'Unauthorized' });
    const ok = await request(base, 'POST', '/v2/thing?q=1', { 'api-key': 'good' }, '{"a":1}');
    expect(JSON.parse(ok.body)).toEqual({ key: 'good', body: '{"a":1}', q: '1' });
    expect(await request(base, 'GET', '/v2/thing')).toEqual({ status: 404, body: '{"error":"no GET /v2/thing"}' });
  });

  it('rate-limits per key with the venue reply', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await request(base, 'POST', '/v2/thing', { 'api-key': 'good' })).status);
    expect(statuses).toEqual([200, 200, 429]);
  });

  it('error5xxAfter runs the handler, then answers the venue 5xx; error5xxBefore does not run it', async () => {
    limiter.setLimits({ ordersPerSecond: 1000, queriesPerSecond: 1000 });
    faults.arm([{ kind: 'error5xxAfter', operation: 'create' }, { kind: 'error5xxBefore', operation: 'create', status: 502 }]);
    handled.length = 0;
    expect(await request(base, 'POST', '/v2/thing', { 'api-key': 'good' }, 'after')).toEqual({ status: 500, body: 'boom' });
    expect(await request(base, 'POST', '/v2/thing', { 'api-key': 'good' }, 'before')).toEqual({ status: 502, body: 'boom' });
    expect(handled).toEqual(['after']);
  });

  it('timeoutAfter runs the handler and holds the socket; a route without an operation never faults', async () => {
    limiter.setLimits({ ordersPerSecond: 1000, queriesPerSecond: 1000 });
    faults.arm({ kind: 'timeoutAfter', operation: 'any', holdMs: 100 });
    expect((await request(base, 'GET', '/open')).status).toBe(200);
    handled.length = 0;
    const t0 = Date.now();
    await expect(request(base, 'POST', '/v2/thing', { 'api-key': 'good' }, 'held')).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
    expect(handled).toEqual(['held']);
  });

  it('serves /__sim/ control requests', async () => {
    const r = await request(base, 'GET', '/__sim/health');
    expect(JSON.parse(r.body)).toMatchObject({ status: 'ok', venue: 'toy' });
  });

  it('WebSocket upgrades go through the hook: refused with its status, accepted to onOpen; dropStreams closes them', async () => {
    await expect(
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/other`);
        ws.once('open', resolve);
        ws.once('error', reject);
      }),
    ).rejects.toThrow(/401/);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    const first = await new Promise<string>((resolve) => ws.once('message', (d) => resolve(d.toString())));
    expect(first).toBe('hello');
    const closed = new Promise((r) => ws.once('close', r));
    expect(faults.dropStreams()).toBe(1);
    await closed;
  });

  it('silenceStreams: the WebSocket stays open but nothing flows either way (no data, no pong) for ms, then it is destroyed', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    const got: string[] = [];
    ws.on('message', (d) => got.push(d.toString()));
    let pongs = 0;
    ws.on('pong', () => pongs++);
    await new Promise((r) => ws.once('open', r));
    await new Promise((r) => setTimeout(r, 50));
    const closed = new Promise((r) => ws.once('close', r));
    expect(faults.silenceStreams(400)).toBe(1);
    ws.send('during');
    ws.ping();
    await new Promise((r) => setTimeout(r, 300));
    expect({ got, pongs, open: ws.readyState === WebSocket.OPEN }).toEqual({ got: ['hello'], pongs: 0, open: true });
    await closed;
    expect(got).toEqual(['hello']);
    // A new connection is not silenced.
    const again = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    expect(await new Promise<string>((resolve) => again.once('message', (d) => resolve(d.toString())))).toBe('hello');
    again.terminate();
  });
});
