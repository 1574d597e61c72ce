// HttpJsonClient against a local http.createServer: replies of any status come back as data, and
// every failure says whether the request may have reached the server (sent) without the signature.

import * as http from 'node:http';
import * as net from 'node:net';
import { AddressInfo } from 'node:net';
import { HttpJsonClient, HttpRequestError } from '../../../src/venues/common/http-json-client';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

let server: http.Server;
let baseUrl: string;
let handler: Handler;
/** Every TCP connection the server accepted since the last reset. */
let connections: net.Socket[] = [];
let client: HttpJsonClient | undefined;

const SECRET_SIG = 'deadbeefcafe0123456789signaturevalue';

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  server.on('connection', (s) => connections.push(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  connections = [];
  handler = (_req, res) => res.end('{}');
});

afterEach(() => {
  client?.close();
  client = undefined;
  jest.restoreAllMocks();
});

const newClient = (opts: Partial<ConstructorParameters<typeof HttpJsonClient>[0]> = {}) =>
  (client = new HttpJsonClient({ baseUrl, timeoutMs: 2000, ...opts }));

const failureOf = (p: Promise<unknown>): Promise<HttpRequestError> =>
  p.then(
    () => {
      throw new Error('expected the request to fail');
    },
    (e: unknown) => {
      expect(e).toBeInstanceOf(HttpRequestError);
      return e as HttpRequestError;
    },
  );

describe('HttpJsonClient replies', () => {
  it('returns status, headers and the body as text, leaving 19-digit ids untouched', async () => {
    handler = (req, res, body) => {
      res.writeHead(201, { 'content-type': 'application/json', 'x-seen': `${req.method} ${req.url} ${req.headers['x-hk-apikey']} ${body}` });
      res.end('{"orderId":1234567890123456789,"price":"50000.00"}');
    };
    const res = await newClient().request({ method: 'POST', path: '/api/v1/order?a=1&b=2', headers: { 'X-HK-APIKEY': 'k1' }, body: 'x=1' });
    expect(res.status).toBe(201);
    expect(res.headers['x-seen']).toBe('POST /api/v1/order?a=1&b=2 k1 x=1');
    expect(res.body).toBe('{"orderId":1234567890123456789,"price":"50000.00"}');
  });

  it('treats error statuses as replies, with their body', async () => {
    handler = (_req, res) => {
      res.writeHead(429, { 'retry-after': '60' });
      res.end('{"code":"-1003","msg":"Too many requests"}');
    };
    const res = await newClient().request({ method: 'GET', path: '/x' });
    expect(res).toMatchObject({ status: 429, body: '{"code":"-1003","msg":"Too many requests"}' });
    expect(res.headers['retry-after']).toBe('60');
  });

  it('does not follow redirects', async () => {
    let hits = 0;
    handler = (_req, res) => {
      hits++;
      res.writeHead(302, { location: '/elsewhere' });
      res.end();
    };
    const res = await newClient().request({ method: 'GET', path: '/x' });
    expect(res.status).toBe(302);
    expect(hits).toBe(1);
  });

  it('decodes utf8 split across chunks', async () => {
    const text = '{"msg":"Größe — 订单"}';
    const bytes = Buffer.from(text, 'utf8');
    handler = (_req, res) => {
      res.writeHead(200, { 'content-length': bytes.length });
      res.write(bytes.subarray(0, 12)); // inside "ö"
      setTimeout(() => res.end(bytes.subarray(12)), 10);
    };
    expect((await newClient().request({ method: 'GET', path: '/x' })).body).toBe(text);
  });

  it('joins a base URL path prefix and sends content-length 0 on a body-less POST', async () => {
    handler = (req, res) => res.end(`${req.url} ${req.headers['content-length']} ${req.headers['transfer-encoding'] ?? '-'}`);
    const res = await newClient({ baseUrl: `${baseUrl}/prefix/` }).request({ method: 'POST', path: '/api?q=1' });
    expect(res.body).toBe('/prefix/api?q=1 0 -');
  });
});

describe('HttpJsonClient failures', () => {
  it('no reply within the timeout → ETIMEDOUT, sent: true, on time', async () => {
    handler = () => undefined; // never answers
    const t0 = Date.now();
    const err = await failureOf(newClient().request({ method: 'POST', path: `/order?x=1&signature=${SECRET_SIG}`, timeoutMs: 150 }));
    expect(err).toMatchObject({ code: 'ETIMEDOUT', sent: true, method: 'POST' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('a reply whose body stalls times out too (the deadline covers the body)', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-length': 100 });
      res.write('{"a":');
    };
    const err = await failureOf(newClient().request({ method: 'GET', path: '/x', timeoutMs: 150 }));
    expect(err).toMatchObject({ code: 'ETIMEDOUT', sent: true });
  });

  it('connection refused → ECONNREFUSED, sent: false', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const err = await failureOf(
      newClient({ baseUrl: `http://127.0.0.1:${port}` }).request({ method: 'POST', path: `/order?signature=${SECRET_SIG}` }),
    );
    expect(err).toMatchObject({ code: 'ECONNREFUSED', sent: false });
  });

  it('a read whose socket the server closed under us is sent once more; a write never is (unless marked idempotent)', async () => {
    let calls = 0;
    handler = (req, res) => {
      calls += 1;
      if (calls % 2 === 1) req.socket.destroy();
      else res.end('{"ok":true}');
    };
    expect((await newClient().request({ method: 'GET', path: '/x' })).body).toBe('{"ok":true}');
    expect(calls).toBe(2);
    calls = 0;
    expect(await failureOf(newClient().request({ method: 'POST', path: '/order' }))).toMatchObject({ code: 'ECONNRESET' });
    expect(calls).toBe(1);
    calls = 0;
    expect((await newClient().request({ method: 'POST', path: '/orders/fetch', idempotent: true })).body).toBe('{"ok":true}');
    expect(calls).toBe(2);
  });

  it('connection reset after the request arrived → ECONNRESET, sent: true', async () => {
    handler = (req) => req.socket.destroy();
    const err = await failureOf(newClient().request({ method: 'POST', path: '/order' }));
    expect(err).toMatchObject({ code: 'ECONNRESET', sent: true });
  });

  it('a reply cut off in the middle of the body → sent: true', async () => {
    handler = (req, res) => {
      res.writeHead(200, { 'content-length': 100 });
      res.write('{"a":', () => setTimeout(() => req.socket.destroy(), 10));
    };
    const err = await failureOf(newClient().request({ method: 'GET', path: '/x' }));
    expect(err.sent).toBe(true);
    expect(err.code).toBe('ECONNRESET');
  });

  it('timing out while waiting for a pooled socket → sent: false (nothing went out)', async () => {
    handler = () => undefined;
    const c = newClient({ maxSockets: 1 });
    const first = failureOf(c.request({ method: 'POST', path: '/a', timeoutMs: 400 }));
    const second = await failureOf(c.request({ method: 'POST', path: '/b', timeoutMs: 100 }));
    expect(second).toMatchObject({ code: 'ETIMEDOUT', sent: false });
    expect(await first).toMatchObject({ code: 'ETIMEDOUT', sent: true });
    expect(connections).toHaveLength(1);
  });

  it('a request written into a socket the server does not read (bytes out, write not finished) times out as sent: true', async () => {
    // The server takes the connection but never reads: a 4 MB body fills both socket buffers, so
    // the write has started and cannot finish before the deadline.
    const raw = net.createServer(() => undefined);
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    const held: net.Socket[] = [];
    raw.on('connection', (s) => held.push(s.pause()));
    try {
      const c = newClient({ baseUrl: `http://127.0.0.1:${(raw.address() as AddressInfo).port}` });
      const err = await failureOf(c.request({ method: 'POST', path: '/order', body: 'x'.repeat(4 * 1024 * 1024), timeoutMs: 300 }));
      expect(err).toMatchObject({ code: 'ETIMEDOUT', sent: true });
      expect(held).toHaveLength(1);
    } finally {
      for (const s of held) s.destroy();
      await new Promise<void>((resolve) => raw.close(() => resolve()));
    }
  });

  it('under load, sent: false only for requests the server never received (queued behind maxSockets, then timed out)', async () => {
    const received = new Set<string>();
    // Some replies come after the deadline: sockets are destroyed and the agent opens new ones for the queue.
    handler = (req, res) => {
      received.add(String(req.headers['x-n']));
      setTimeout(() => res.end('{}'), Number(req.headers['x-n']) % 3 === 0 ? 400 : 5);
    };
    const c = newClient({ maxSockets: 4 });
    const notSent: string[] = [];
    await Promise.all(
      Array.from({ length: 200 }, (_, n) =>
        c.request({ method: 'POST', path: '/order', headers: { 'x-n': String(n) }, body: '{}', timeoutMs: 250 }).catch((e: HttpRequestError) => {
          if (!e.sent) notSent.push(String(n));
        }),
      ),
    );
    await new Promise((r) => setTimeout(r, 500)); // anything still on its way has arrived
    expect(notSent.length).toBeGreaterThan(0); // the case under test happened
    expect(notSent.filter((n) => received.has(n))).toEqual([]);
  });

  it('never shows the signature in an error: message, stack, fields or JSON', async () => {
    handler = () => undefined;
    const path = `/api/v1.1/spot/order?symbol=BTCUSDT&timestamp=1&signature=${SECRET_SIG}`;
    const timedOut = await failureOf(newClient().request({ method: 'POST', path, timeoutMs: 50 }));
    const refused = await failureOf(
      new HttpJsonClient({ baseUrl: 'http://127.0.0.1:1' }).request({ method: 'GET', path }),
    );
    for (const err of [timedOut, refused]) {
      const everything = [err.message, err.stack, JSON.stringify(err), err.path, String(err)].join('\n');
      expect(everything).not.toContain(SECRET_SIG);
      expect(err.message).toContain('signature=[redacted]');
      expect(err.message).toContain('symbol=BTCUSDT');
    }
  });

  it('redacts every configured key, case-insensitively', () => {
    const c = newClient({ redactQueryKeys: ['signature', 'sign'] });
    expect(c.redact('/p?a=1&Signature=abc&sign=def&signed=keep')).toBe('/p?a=1&Signature=[redacted]&sign=[redacted]&signed=keep');
  });
});

describe('HttpJsonClient keep-alive', () => {
  it('many sequential requests share one connection', async () => {
    const c = newClient();
    for (let i = 0; i < 200; i++) expect((await c.request({ method: i % 2 ? 'GET' : 'POST', path: `/r${i}` })).status).toBe(200);
    expect(connections.length).toBeLessThanOrEqual(2);
  });

  it('concurrent requests open at most maxSockets connections', async () => {
    handler = (_req, res) => setTimeout(() => res.end('{}'), 2);
    const c = newClient({ maxSockets: 4 });
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => c.request({ method: 'POST', path: `/r${i}` })));
    expect(replies.every((r) => r.status === 200)).toBe(true);
    expect(connections.length).toBeLessThanOrEqual(4);
  });

  it('sets TCP keep-alive once per socket, not once per request', async () => {
    const spy = jest.spyOn(net.Socket.prototype, 'setKeepAlive');
    const c = newClient();
    for (let i = 0; i < 50; i++) await c.request({ method: 'GET', path: `/r${i}` });
    expect(connections.length).toBeLessThanOrEqual(2);
    expect(spy.mock.calls.length).toBeLessThanOrEqual(connections.length);
  });

  it('a socket the server closed while idle is replaced, not reused', async () => {
    const c = newClient();
    await c.request({ method: 'GET', path: '/a' });
    for (const s of connections) s.destroy();
    await new Promise((r) => setTimeout(r, 20));
    expect((await c.request({ method: 'POST', path: '/b' })).status).toBe(200);
    expect(connections).toHaveLength(2);
  });
});
