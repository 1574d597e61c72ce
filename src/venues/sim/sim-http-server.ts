// The HTTP side every REST venue simulator shares: one node:http server with a route table
// (method + path → handler), the venue's auth hook, per-key rate limits, the request faults of
// fault-injector.ts, the /__sim/ control API, and a WebSocket upgrade hook on the same port.
// Venue neutral: a simulator file supplies its routes, its auth check and its own error replies
// (each venue words "not found", "rate limited", "internal error" differently), nothing else.
//
// Order of checks per request, as venues do it: route lookup → auth (signed routes) → rate limit
// → fault ("before" faults answer without running the handler; "after" faults run it, then the
// reply goes wrong) → handler.

import http, { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { CONTROL_PREFIX, handleControlRequest, SimControlTarget } from './control-api';
import type { FaultOperation, RequestFault } from './fault-injector';
import { PerKeyRateLimiter, RateClass, SimLogger, NOOP_LOGGER } from './simulator';

/** One request as a route handler sees it (the body is read whole before the handler runs). */
export interface SimHttpRequest {
  method: string;
  /** Path without the query string, as sent (no decoding). */
  path: string;
  /** The query string as sent, without '?'. */
  rawQuery: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The body text as sent ('' for GET / HEAD). */
  body: string;
}

/** A reply: `body` is sent as JSON (a string body as is, with `contentType`). */
export interface SimReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Content type of a string body; default text/plain. Object bodies are always application/json. */
  contentType?: string;
}

export type SimAuthResult<A> = { ok: true; auth: A } | { ok: false; reply: SimReply };

export interface SimRoute<A> {
  /** When true the venue's auth hook runs first and the handler gets its result. */
  signed: boolean;
  /**
   * The fault-injection operation this route counts as; undefined = faults never fire here. A
   * function picks it per request (venues with one path for every request, e.g. Coinut's `POST /`).
   */
  operation?: Exclude<FaultOperation, 'any'> | ((req: SimHttpRequest) => Exclude<FaultOperation, 'any'> | undefined);
  /** Rate-limit class (signed routes only). */
  rate?: RateClass;
  handle(req: SimHttpRequest, auth: A | undefined): SimReply;
}

/** What to do with a WebSocket upgrade: accept (then `onOpen` gets the socket) or refuse with an HTTP status. */
export type SimUpgradeDecision = { accept: true; onOpen(ws: WebSocket): void } | { accept: false; status: number; statusText?: string };

export interface SimHttpServerOptions<A> {
  /** Route table, keyed `${METHOD} ${path}`. */
  routes: ReadonlyMap<string, SimRoute<A>>;
  /** The venue's auth check for signed routes. */
  authenticate(req: SimHttpRequest): SimAuthResult<A>;
  /** The rate-limit key of an authenticated request (normally the API key). */
  rateKey(auth: A): string;
  /** The venue's own replies for what the framework decides. */
  replies: {
    noRoute(req: SimHttpRequest): SimReply;
    rateLimited: SimReply;
    /** For the ban418 fault; venues without bans may reuse rateLimited with status 418. */
    banned: SimReply;
    internalError(status: number): SimReply;
  };
  control: SimControlTarget;
  limiter: PerKeyRateLimiter;
  /** WebSocket upgrades on the same port; absent = every upgrade is refused with 404. */
  upgrade?(req: IncomingMessage, path: string, query: URLSearchParams): SimUpgradeDecision;
  logger?: SimLogger;
  /**
   * The venue's clock, for each reply's `Date` header (RFC 9110 §6.6.1: an origin server with a
   * clock sends one): with the clockSkew fault it shows the skewed time, as a skewed venue's would.
   * Absent: node's own (the host's).
   */
  clock?: () => number;
  /** Largest request body; a larger one destroys the socket. Default 64 KiB. */
  maxBodyBytes?: number;
}

const DEFAULT_MAX_BODY = 64 * 1024;

function splitUrl(url: string): { path: string; rawQuery: string } {
  const q = url.indexOf('?');
  return q < 0 ? { path: url, rawQuery: '' } : { path: url.slice(0, q), rawQuery: url.slice(q + 1) };
}

export class SimHttpServer<A> {
  readonly server: http.Server;
  /** Every accepted WebSocket lives here (the venue keeps its own per-account bookkeeping). */
  readonly wss: WebSocketServer;
  private readonly log: SimLogger;
  private readonly maxBody: number;
  private readonly heldSockets = new Map<Socket, NodeJS.Timeout>();
  /** The TCP socket under each accepted WebSocket (to silence it). */
  private readonly wsSockets = new Map<WebSocket, Socket>();
  private readonly silenceTimers = new Set<NodeJS.Timeout>();
  private readonly offSilence: () => void;

  constructor(private readonly opts: SimHttpServerOptions<A>) {
    this.log = opts.logger ?? NOOP_LOGGER;
    this.maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY;
    this.server = http.createServer((req, res) => this.onRequest(req, res));
    // Longer than any client's idle keep-alive, so the server never closes a socket a client is about to reuse.
    this.server.keepAliveTimeout = 65_000;
    this.server.headersTimeout = 66_000;
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket as Socket, head));
    this.offSilence = opts.control.faults.onSilenceStreams((ms) => this.silenceWebSockets(ms));
  }

  /**
   * The silenceStreams fault: every open WebSocket becomes a dead link that was never closed (a
   * half-open TCP connection): for `ms` nothing it is sent is read and nothing is written to it
   * (whole frames are dropped), then it is destroyed. A real link cannot lose data and carry on, so
   * it does not come back: the client must notice the silence, or learn of it only at the end.
   */
  silenceWebSockets(ms: number): number {
    let n = 0;
    for (const socket of this.wsSockets.values()) {
      if (socket.destroyed) continue;
      socket.write = ((...args: unknown[]) => {
        const cb = args.find((a) => typeof a === 'function') as (() => void) | undefined;
        if (cb) process.nextTick(cb);
        return true;
      }) as typeof socket.write;
      const emit = socket.emit.bind(socket);
      socket.emit = ((event: string, ...args: unknown[]) => (event === 'data' ? false : emit(event, ...args))) as typeof socket.emit;
      const t = setTimeout(() => {
        this.silenceTimers.delete(t);
        socket.destroy();
      }, ms);
      this.silenceTimers.add(t);
      n++;
    }
    this.log.info({ ms, sockets: n }, 'simulator WebSockets silenced');
    return n;
  }

  /** Listen; resolves with the port and the host to put in URLs (a wildcard bind → 127.0.0.1). */
  async listen(host: string, port: number): Promise<{ port: number; urlHost: string }> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const bound = (this.server.address() as AddressInfo).port;
    const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    return { port: bound, urlHost };
  }

  /** Terminate every WebSocket now (the dropStreams fault); returns how many. */
  dropWebSockets(): number {
    let n = 0;
    for (const ws of this.wss.clients) {
      ws.terminate();
      n++;
    }
    return n;
  }

  /** Closes HTTP, held sockets and every WebSocket promptly. */
  async close(): Promise<void> {
    for (const [socket, timer] of this.heldSockets) {
      clearTimeout(timer);
      socket.destroy();
    }
    this.heldSockets.clear();
    for (const t of this.silenceTimers) clearTimeout(t);
    this.silenceTimers.clear();
    this.offSilence();
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  send(res: ServerResponse, r: SimReply): void {
    const isText = typeof r.body === 'string';
    const text = r.body === undefined ? '' : isText ? (r.body as string) : JSON.stringify(r.body);
    const contentType = isText ? (r.contentType ?? 'text/plain; charset=utf-8') : 'application/json';
    const date = this.opts.clock ? { date: new Date(this.opts.clock()).toUTCString() } : {};
    res.writeHead(r.status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), ...date, ...r.headers });
    res.end(text);
  }

  // ---- HTTP ----------------------------------------------------------------------------------

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const { path, rawQuery } = splitUrl(req.url ?? '/');
    if (path.startsWith(CONTROL_PREFIX)) {
      handleControlRequest(this.opts.control, req, res, path, new URLSearchParams(rawQuery));
      return;
    }
    const method = req.method ?? 'GET';
    const base = { method, path, rawQuery, query: new URLSearchParams(rawQuery), headers: req.headers };
    const route = this.opts.routes.get(`${method} ${path}`);
    if (route === undefined) {
      req.resume();
      this.send(res, this.opts.replies.noRoute({ ...base, body: '' }));
      return;
    }
    if (method === 'GET' || method === 'HEAD') {
      req.resume();
      this.serve(route, { ...base, body: '' }, req, res);
      return;
    }
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > this.maxBody) req.destroy();
    });
    req.on('end', () => this.serve(route, { ...base, body }, req, res));
  }

  private serve(route: SimRoute<A>, request: SimHttpRequest, req: IncomingMessage, res: ServerResponse): void {
    let auth: A | undefined;
    if (route.signed) {
      const r = this.opts.authenticate(request);
      if (!r.ok) return this.send(res, r.reply);
      auth = r.auth;
      if (route.rate !== undefined && !this.opts.limiter.take(this.opts.rateKey(auth), route.rate, Date.now())) {
        return this.send(res, this.opts.replies.rateLimited);
      }
    }
    const operation = typeof route.operation === 'function' ? route.operation(request) : route.operation;
    const fault = operation === undefined ? undefined : this.opts.control.faults.takeRequestFault(operation);
    if (fault !== undefined) {
      this.log.info({ fault, path: request.path }, 'simulator fault fired');
      if (fault.kind === 'error5xxBefore') return this.send(res, this.opts.replies.internalError(fault.status ?? 503));
      if (fault.kind === 'rateLimit429') return this.send(res, this.opts.replies.rateLimited);
      if (fault.kind === 'ban418') return this.send(res, this.opts.replies.banned);
    }
    const result = route.handle(request, auth);
    if (fault === undefined) return this.send(res, result);
    this.misbehave(req, res, fault);
  }

  /** The "after" faults: the operation has been performed; the reply goes wrong. */
  private misbehave(req: IncomingMessage, res: ServerResponse, fault: RequestFault): void {
    const socket = req.socket;
    switch (fault.kind) {
      case 'error5xxAfter':
        return this.send(res, this.opts.replies.internalError(fault.status ?? 500));
      case 'dropConnectionAfter':
        socket.destroy();
        return;
      case 'timeoutAfter': {
        const timer = setTimeout(() => {
          this.heldSockets.delete(socket);
          socket.destroy();
        }, fault.holdMs ?? 30_000);
        this.heldSockets.set(socket, timer);
        socket.once('close', () => {
          clearTimeout(timer);
          this.heldSockets.delete(socket);
        });
        return;
      }
    }
  }

  // ---- WebSocket -----------------------------------------------------------------------------

  private onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const { path, rawQuery } = splitUrl(req.url ?? '');
    const decision: SimUpgradeDecision = this.opts.upgrade?.(req, path, new URLSearchParams(rawQuery)) ?? {
      accept: false,
      status: 404,
      statusText: 'Not Found',
    };
    if (!decision.accept) {
      socket.end(`HTTP/1.1 ${decision.status} ${decision.statusText ?? http.STATUS_CODES[decision.status] ?? ''}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.wsSockets.set(ws, socket);
      ws.once('close', () => this.wsSockets.delete(ws));
      ws.on('error', () => ws.terminate());
      decision.onOpen(ws);
    });
  }
}
