// The common reconnecting WebSocket against a real ws server on loopback.

import type { IncomingMessage } from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';
import { ReconnectingWebSocket } from '../../../src/venues/common/reconnecting-websocket';
import type { StreamState } from '../../../src/venues/venue';

async function waitFor(what: string, probe: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Server {
  wss: WebSocketServer;
  port: number;
  requests: IncomingMessage[];
  received: string[];
  sockets: WebSocket[];
}

async function server(onConnection?: (ws: WebSocket) => void, verifyClient?: (req: IncomingMessage) => boolean): Promise<Server> {
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    verifyClient: verifyClient ? (info: { req: IncomingMessage }) => verifyClient(info.req) : undefined,
  });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const s: Server = { wss, port: (wss.address() as { port: number }).port, requests: [], received: [], sockets: [] };
  wss.on('connection', (ws, req) => {
    s.requests.push(req);
    s.sockets.push(ws);
    ws.on('message', (d) => s.received.push(d.toString()));
    onConnection?.(ws);
  });
  return s;
}

async function closeServer(s: Server): Promise<void> {
  for (const c of s.wss.clients) c.terminate();
  await new Promise<void>((r) => s.wss.close(() => r()));
}

describe('ReconnectingWebSocket', () => {
  const open: ReconnectingWebSocket[] = [];
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.stop()));
    await Promise.all(servers.splice(0).map(closeServer));
  });

  it('builds URL and headers per attempt, runs onOpen before connected, reconnects after a drop', async () => {
    // Echo server: answers "sub" with "ack".
    const s = await server((ws) => ws.on('message', (d) => d.toString() === 'sub' && ws.send('ack')));
    servers.push(s);
    let attempt = 0;
    const states: StreamState[] = [];
    const frames: string[] = [];
    let acked: (() => void) | undefined;
    const c = new ReconnectingWebSocket({
      name: 'test',
      target: () => ({ url: `ws://127.0.0.1:${s.port}/v2`, headers: { attempt: String(++attempt) } }),
      pingIntervalMs: 10_000,
      backoff: { initialMs: 10, maxMs: 20 },
      onOpen: (link) =>
        new Promise<void>((resolve) => {
          acked = resolve;
          link.send('sub');
        }),
    });
    open.push(c);
    c.onState((st) => states.push(st));
    c.onMessage((t) => {
      frames.push(t);
      if (t === 'ack') acked?.();
    });
    await c.start();
    expect(states).toEqual(['connected']);
    expect(frames).toEqual(['ack']);
    expect(s.requests[0].url).toBe('/v2');
    expect(s.requests[0].headers.attempt).toBe('1');
    s.sockets[0].terminate();
    await waitFor('reconnected', () => states.length >= 3);
    expect(states).toEqual(['connected', 'disconnected', 'connected']);
    expect(s.requests[1].headers.attempt).toBe('2');
    expect(s.received).toEqual(['sub', 'sub']);
  });

  it('a greeting the server sends with the upgrade reaches the opening step', async () => {
    // Sent on connection: it arrives in the same read as the upgrade reply, right after 'open'.
    const s = await server((ws) => ws.send('hello'));
    servers.push(s);
    let greeted: (() => void) | undefined;
    const c = new ReconnectingWebSocket({
      name: 'test',
      target: () => ({ url: `ws://127.0.0.1:${s.port}` }),
      pingIntervalMs: 10_000,
      connectTimeoutMs: 500,
      onOpen: () => new Promise<void>((resolve) => (greeted = resolve)),
    });
    open.push(c);
    c.onMessage((t) => t === 'hello' && greeted?.());
    await c.start();
    expect(c.connected).toBe(true);
  });

  it('sends the client ping every interval and drops a link that stays silent', async () => {
    const s = await server();
    servers.push(s);
    const states: StreamState[] = [];
    const c = new ReconnectingWebSocket({
      name: 'test',
      target: () => ({ url: `ws://127.0.0.1:${s.port}` }),
      pingIntervalMs: 40,
      ping: () => ({ type: 'message', message: 'ping' }),
      backoff: { initialMs: 10, maxMs: 20 },
    });
    open.push(c);
    c.onState((st) => states.push(st));
    await c.start();
    await waitFor('dead link detected and reconnected', () => states.length >= 3);
    expect(states.slice(0, 3)).toEqual(['connected', 'disconnected', 'connected']);
    expect(JSON.parse(s.received[0])).toEqual({ type: 'message', message: 'ping' });
  });

  it('a link silent for one ping interval plus the pong timeout is dropped, even when it speaks again right after (wall clock and timers disagreeing)', async () => {
    // The server answers nothing, then sends a frame once the interval plus the timeout (and a
    // margin) have passed: by then the link must have been dropped. The wall clock runs slow
    // against the timers (NTP slewing, a loop's cached clock): a deadline measured with Date.now()
    // on the next ping tick is missed by a few ms, and the late frame revives a link that was
    // silent for longer than the timeout. Seen in the fault suite: a HashKey stream silent 25 s
    // (10 s pings) was never dropped and the fills made meanwhile were never looked up.
    const intervalMs = 100;
    const realNow = Date.now.bind(Date);
    const t0 = realNow();
    const slowClock = jest.spyOn(Date, 'now').mockImplementation(() => t0 + Math.floor((realNow() - t0) * 0.9));
    try {
      const s = await server((ws) => {
        setTimeout(() => ws.readyState === WebSocket.OPEN && ws.send('late'), 2 * intervalMs + 60);
      });
      servers.push(s);
      const states: StreamState[] = [];
      const c = new ReconnectingWebSocket({
        name: 'test',
        target: () => ({ url: `ws://127.0.0.1:${s.port}` }),
        pingIntervalMs: intervalMs,
        ping: () => 'ping',
        backoff: { initialMs: 5000, maxMs: 5000 },
      });
      open.push(c);
      c.onState((st) => states.push(st));
      await c.start();
      await new Promise((r) => setTimeout(r, 4 * intervalMs));
      expect(states).toEqual(['connected', 'disconnected']);
    } finally {
      slowClock.mockRestore();
    }
  });

  it('a stalled event loop is not a silent link: the pong that came while this process could not run is read before the deadline counts', async () => {
    // A saturated VM: the process gets no CPU for several pong timeouts right after a ping. The
    // server answered in time, but the deadline's timer runs before the socket is read. Seen in
    // the soak: Coinut's link dropped for "missed heartbeats" with creates in flight.
    const s = await server((ws) => ws.on('message', () => ws.send('pong')));
    servers.push(s);
    const states: StreamState[] = [];
    let stalled = false;
    const c = new ReconnectingWebSocket({
      name: 'test',
      target: () => ({ url: `ws://127.0.0.1:${s.port}` }),
      pingIntervalMs: 100,
      pongTimeoutMs: 200,
      ping: () => {
        if (!stalled) {
          stalled = true;
          // The ping goes out right after the deadline is armed, then nothing runs for 800 ms.
          setImmediate(() => {
            const end = Date.now() + 800;
            while (Date.now() < end) {
              /* busy */
            }
          });
        }
        return 'ping';
      },
      backoff: { initialMs: 10, maxMs: 20 },
    });
    open.push(c);
    c.onState((st) => states.push(st));
    await c.start();
    await waitFor('the stall', () => stalled);
    await new Promise((r) => setTimeout(r, 500));
    expect(states).toEqual(['connected']);
  });

  it('a link that answers stays up across many ping intervals', async () => {
    const s = await server((ws) => ws.on('message', () => ws.send('pong')));
    servers.push(s);
    const states: StreamState[] = [];
    const c = new ReconnectingWebSocket({ name: 'test', target: () => ({ url: `ws://127.0.0.1:${s.port}` }), pingIntervalMs: 30, ping: () => 'ping' });
    open.push(c);
    c.onState((st) => states.push(st));
    await c.start();
    await new Promise((r) => setTimeout(r, 300));
    expect(states).toEqual(['connected']);
    expect(s.received.length).toBeGreaterThanOrEqual(5);
  });

  it('a refused first attempt rejects start with the HTTP status; later refusals back off and report each failure', async () => {
    let refuse = true;
    const s = await server(undefined, () => !refuse);
    servers.push(s);
    const failures: (number | undefined)[] = [];
    const c = new ReconnectingWebSocket({
      name: 'test',
      target: () => ({ url: `ws://127.0.0.1:${s.port}` }),
      pingIntervalMs: 10_000,
      backoff: { initialMs: 10, maxMs: 40, jitter: 0 },
      onConnectFailure: (f) => failures.push(f.httpStatus),
    });
    await expect(c.start()).rejects.toThrow(/HTTP 401/);
    expect(failures).toEqual([401]);
    refuse = false;
    open.push(c);
    await c.start();
    expect(c.connected).toBe(true);
    refuse = true;
    const states: StreamState[] = [];
    c.onState((st) => states.push(st));
    s.sockets[0].terminate();
    await waitFor('three refused reconnects', () => failures.length >= 4);
    expect(c.reconnectAttempts).toBeGreaterThanOrEqual(3);
    refuse = false;
    await waitFor('reconnected', () => states.includes('connected'), 3000);
    expect(states).toEqual(['disconnected', 'connected']);
  });

  it('an onOpen that fails or never finishes fails the attempt', async () => {
    const s = await server();
    servers.push(s);
    const c = new ReconnectingWebSocket({
      name: 'test',
      target: () => ({ url: `ws://127.0.0.1:${s.port}` }),
      pingIntervalMs: 10_000,
      connectTimeoutMs: 100,
      onOpen: () => new Promise<void>(() => undefined),
    });
    await expect(c.start()).rejects.toThrow(/opening step timed out/);
    expect(c.connected).toBe(false);
    const d = new ReconnectingWebSocket({
      name: 'test',
      target: () => ({ url: `ws://127.0.0.1:${s.port}` }),
      pingIntervalMs: 10_000,
      onOpen: () => {
        throw new Error('401 Unauthorized');
      },
    });
    await expect(d.start()).rejects.toThrow(/401 Unauthorized/);
  });
});
