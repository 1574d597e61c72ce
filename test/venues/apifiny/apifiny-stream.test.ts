// The Apifiny order stream's silence watch against a real ws server on loopback: Apifiny sends
// nothing but its ~30 s pings when idle, so a link with no frame for silenceTimeoutMs is dead and
// must be dropped then, not up to a whole silence timeout later.
import { WebSocketServer } from 'ws';
import { ApifinyStream } from '../../../src/venues/apifiny/apifiny-stream';
import type { StreamState } from '../../../src/venues/venue';

test('a link silent for silenceTimeoutMs is dropped within about that long, not up to twice as long', async () => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const port = (wss.address() as { port: number }).port;
  const silenceMs = 300;
  const stream = new ApifinyStream({
    wsUrl: `ws://127.0.0.1:${port}/ac/ws/v2/BINANCE/order`,
    credentials: { accountId: 'STA-00000001', secretKeyId: 'k', secret: 's' },
    silenceTimeoutMs: silenceMs,
    backoff: { initialMs: 5000, maxMs: 5000 },
  });
  const states: Array<[StreamState, number]> = [];
  stream.onState((s) => states.push([s, Date.now()]));
  try {
    await stream.start();
    const opened = Date.now();
    const deadline = opened + 2 * silenceMs + 200;
    while (!states.some(([s]) => s === 'disconnected') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const dropped = states.find(([s]) => s === 'disconnected');
    expect(dropped).toBeDefined();
    expect(dropped![1] - opened).toBeLessThan(silenceMs * 1.5);
  } finally {
    await stream.stop();
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  }
});
