// A plain HTTP proxy on loopback in front of a venue simulator's REST endpoint that tells the test
// about every request that reaches the venue, as it arrives and before forwarding it unchanged.
// Why: the simulator only shows what it accepted, and the adapter only what it chose to report;
// a test that proves "retried exactly once", "resynchronised on the time endpoint" or "never sent
// into the pause" has to count the requests on the wire between the two.
import http from 'node:http';

export interface RecordingProxyOptions {
  /** Called for each request as it arrives, before it is forwarded (the body is streamed on). */
  onRequest?: (req: http.IncomingMessage) => void;
  /**
   * Called with each request's whole body before it is forwarded (for venues whose operation is
   * named in the body, e.g. Coinut's `request`): the body is read first, then sent on.
   */
  onBody?: (req: http.IncomingMessage, body: Buffer) => void;
}

export interface RecordingProxy {
  /** The venue's REST base URL through the proxy: the proxy's origin plus the target's path. */
  readonly url: string;
  close(): Promise<void>;
}

/** "METHOD /path", the query left off: how the tests name a request they count. */
export const methodAndPath = (req: http.IncomingMessage): string => `${req.method} ${(req.url ?? '').split('?')[0]}`;

/** Starts the proxy in front of `targetUrl` (a simulator's restUrl). */
export async function startRecordingProxy(targetUrl: string, opts: RecordingProxyOptions): Promise<RecordingProxy> {
  const target = new URL(targetUrl);
  const forward = (req: http.IncomingMessage, res: http.ServerResponse): http.ClientRequest => {
    const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    return up;
  };
  const server = http.createServer((req, res) => {
    opts.onRequest?.(req);
    const onBody = opts.onBody;
    if (!onBody) {
      req.pipe(forward(req, res));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      onBody(req, body);
      forward(req, res).end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}${target.pathname === '/' ? '' : target.pathname}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
