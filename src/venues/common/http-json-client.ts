// A small HTTP/1.1 client for venue REST APIs, over node:http / node:https with one keep-alive
// agent. Venue-neutral: the caller builds the path (query string included), headers and body, and
// gets back the status, headers and the body as a utf8 string (the venue mapper parses it, so that
// e.g. 19-digit ids can stay strings). Statuses are never errors here.
//
// What it deliberately does not do: redirects (a 3xx comes back as a reply), proxies (none are
// looked up), body transforms, retries. Per request: one ClientRequest, no URL parsing, no timer of
// its own (one timer per client, armed for the earliest deadline, covers every request in flight).
//
// A failure rejects with HttpRequestError, whose `sent` says whether the request may have reached
// the server: false while the connection is not yet established (refused, DNS, unreachable, TLS
// handshake failed, a timeout while connecting), true from the moment the request goes onto a
// connected socket (a timeout or a reset after that leaves the outcome unknown). Error messages
// carry the method and the path with signature-like query values redacted, never the full URL.

import * as http from 'http';
import * as https from 'https';
import type { Socket } from 'net';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'HEAD';

export interface HttpJsonRequest {
  method: HttpMethod;
  /** Path from the base URL, query string included (e.g. `/api/v1/order?symbol=X&signature=…`). */
  path: string;
  headers?: http.OutgoingHttpHeaders;
  body?: string;
  /** Whole-request deadline (connect, send, reply and body), ms; default: the client's timeoutMs. */
  timeoutMs?: number;
  /**
   * The request changes nothing at the venue (a read), so it is retried once when a kept-alive
   * socket turns out to have been closed by the server under us. Default: method GET.
   */
  idempotent?: boolean;
}

/** Errors of a kept-alive socket the server closed while idle: a read may be sent again. */
const STALE_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE']);

export interface HttpJsonResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface HttpJsonClientOptions {
  /** `http://host:port` or `https://host[/prefix]`; a trailing slash is ignored. */
  baseUrl: string;
  /** Concurrent connections to the host. Default 256. */
  maxSockets?: number;
  /** Default per-request timeout, ms. Default 5000. */
  timeoutMs?: number;
  /** Query parameters whose values never appear in an error message. Default ['signature']. */
  redactQueryKeys?: string[];
  /** A reply body larger than this fails the request (sent: true). Default 64 MiB. */
  maxBodyBytes?: number;
  /** Sent with every request unless the request sets its own. Default `fix-venue-gateway`. */
  userAgent?: string;
  /**
   * A pooled socket idle this long is closed, ms; a server's `Keep-Alive: timeout=N` hint
   * shortens it (to N - 1 s), so we do not reuse a socket the server is about to close. Default 30000.
   */
  idleSocketTimeoutMs?: number;
}

/** A request that got no complete reply. */
export class HttpRequestError extends Error {
  override readonly name = 'HttpRequestError';

  constructor(
    message: string,
    /** The Node error code (ECONNREFUSED, ECONNRESET, EPIPE, ...) or ETIMEDOUT for our deadline. */
    readonly code: string,
    /** True when the request may have reached the server (its outcome is unknown). */
    readonly sent: boolean,
    readonly method: string,
    /** The request path with redacted query values. */
    readonly path: string,
  ) {
    super(message);
  }
}

const DEFAULT_MAX_SOCKETS = 256;
const DEFAULT_TIMEOUT_MS = 5_000;
const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;
const DEFAULT_IDLE_SOCKET_TIMEOUT_MS = 30_000;

/**
 * Node's Agent calls socket.setKeepAlive() (two setsockopt calls) every time a socket goes back to
 * the pool, i.e. after every reply; once per socket is enough.
 */
const TCP_KEEPALIVE_SET = Symbol('tcpKeepAliveSet');
type PooledSocket = Socket & { [TCP_KEEPALIVE_SET]?: true };
const keepAliveAlreadySet = function (this: Socket): Socket {
  return this;
};

/** Node's own keepSocketAlive returns whether the socket may be reused (typed `void` in @types/node). */
const nodeKeepSocketAlive = http.Agent.prototype.keepSocketAlive as unknown as (this: http.Agent, socket: Socket) => boolean;

function keepSocketAliveOnce(agent: http.Agent, socket: PooledSocket): boolean {
  if (socket[TCP_KEEPALIVE_SET]) {
    const real = socket.setKeepAlive;
    socket.setKeepAlive = keepAliveAlreadySet;
    try {
      return nodeKeepSocketAlive.call(agent, socket);
    } finally {
      socket.setKeepAlive = real;
    }
  }
  socket[TCP_KEEPALIVE_SET] = true;
  return nodeKeepSocketAlive.call(agent, socket);
}

class PoolAgent extends http.Agent {
  /** Node uses the boolean (false = do not pool) although @types/node says void. */
  override keepSocketAlive(socket: Socket): boolean {
    return keepSocketAliveOnce(this, socket);
  }
}

class TlsPoolAgent extends https.Agent {
  override keepSocketAlive(socket: Socket): boolean {
    return keepSocketAliveOnce(this, socket);
  }
}

/** A request in flight: when its deadline passes, `expire` fails it. */
interface Deadline {
  at: number;
  expire: () => void;
}

/**
 * The deadlines of the requests in flight under one timer, armed for the earliest: a request costs
 * a Set insert and delete instead of a timer of its own (most finish long before their deadline,
 * and most share one timeout, so the earliest rarely changes).
 */
class Deadlines {
  private readonly pending = new Set<Deadline>();
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;

  add(d: Deadline): void {
    this.pending.add(d);
    if (d.at < this.armedFor) this.arm(d.at);
  }

  delete(d: Deadline): void {
    this.pending.delete(d);
    if (this.pending.size === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.armedFor = Infinity;
    }
  }

  private arm(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.armedFor = at;
    this.timer = setTimeout(() => this.fire(), Math.max(0, at - Date.now()));
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = Date.now();
    let next = Infinity;
    const expired: Deadline[] = [];
    for (const d of this.pending) {
      if (d.at <= now) expired.push(d);
      else if (d.at < next) next = d.at;
    }
    for (const d of expired) {
      this.pending.delete(d);
      d.expire();
    }
    if (next < Infinity && next < this.armedFor) this.arm(next);
  }
}

export class HttpJsonClient {
  private readonly deadlines = new Deadlines();
  private readonly agent: http.Agent;
  private readonly requestFn: typeof http.request;
  private readonly isHttps: boolean;
  private readonly hostname: string;
  private readonly port: number;
  /** The Host header, as node:http would write it. */
  private readonly hostHeader: string;
  private readonly pathPrefix: string;
  private readonly timeoutMs: number;
  private readonly maxBodyBytes: number;
  private readonly userAgent: string;
  private readonly redactPattern: RegExp | undefined;

  constructor(opts: HttpJsonClientOptions) {
    const url = new URL(opts.baseUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`HttpJsonClient: unsupported protocol ${url.protocol}`);
    if (url.search || url.hash || url.username || url.password) {
      throw new Error('HttpJsonClient: the base URL takes no query, fragment or credentials');
    }
    this.isHttps = url.protocol === 'https:';
    // URL keeps IPv6 literals in brackets; http.request wants them bare.
    this.hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
    this.port = url.port ? Number(url.port) : this.isHttps ? 443 : 80;
    this.hostHeader = (this.hostname.includes(':') ? `[${this.hostname}]` : this.hostname) + (this.port === (this.isHttps ? 443 : 80) ? '' : `:${this.port}`);
    this.pathPrefix = url.pathname.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.userAgent = opts.userAgent ?? 'fix-venue-gateway';
    const keys = opts.redactQueryKeys ?? ['signature'];
    this.redactPattern = keys.length
      ? new RegExp(`([?&](?:${keys.map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})=)[^&#]*`, 'gi')
      : undefined;
    const agentOpts: http.AgentOptions = {
      keepAlive: true,
      maxSockets: opts.maxSockets ?? DEFAULT_MAX_SOCKETS,
      scheduling: 'lifo',
      noDelay: true,
      timeout: opts.idleSocketTimeoutMs ?? DEFAULT_IDLE_SOCKET_TIMEOUT_MS,
    };
    this.agent = this.isHttps ? new TlsPoolAgent(agentOpts) : new PoolAgent(agentOpts);
    this.requestFn = this.isHttps ? https.request : http.request;
  }

  /** The path as it may appear in logs and errors: query values of the redacted keys replaced. */
  redact(path: string): string {
    return this.redactPattern ? path.replace(this.redactPattern, '$1[redacted]') : path;
  }

  request(r: HttpJsonRequest): Promise<HttpJsonResponse> {
    const once = this.requestOnce(r);
    if (!(r.idempotent ?? r.method === 'GET')) return once;
    return once.catch((err: HttpRequestError) => (STALE_SOCKET_CODES.has(err.code) ? this.requestOnce(r) : Promise.reject(err)));
  }

  private requestOnce(r: HttpJsonRequest): Promise<HttpJsonResponse> {
    return new Promise<HttpJsonResponse>((resolve, reject) => {
      const method = r.method;
      const body = r.body;
      // As a flat [name, value, ...] list: node:http then writes the header block at once instead
      // of a setHeader (validate, lower-case, store) per header; it adds no Host itself then.
      const headers: string[] = ['host', this.hostHeader];
      let ownUserAgent = false;
      if (r.headers) {
        for (const name of Object.keys(r.headers)) {
          const value = r.headers[name];
          if (value === undefined) continue;
          if (name.toLowerCase() === 'user-agent') ownUserAgent = true;
          if (Array.isArray(value)) for (const v of value) headers.push(name, v);
          else headers.push(name, String(value));
        }
      }
      if (!ownUserAgent) headers.push('user-agent', this.userAgent);
      if (body !== undefined) headers.push('content-length', String(Buffer.byteLength(body)));
      else if (method !== 'GET' && method !== 'HEAD') headers.push('content-length', '0');

      let settled = false;
      let sent = false;
      const timeoutMs = r.timeoutMs ?? this.timeoutMs;
      const fail = (code: string, why: string): void => {
        if (settled) return;
        settled = true;
        this.deadlines.delete(deadline);
        const path = this.redact(r.path);
        const state = sent ? 'outcome unknown' : 'not sent';
        reject(new HttpRequestError(`${method} ${path}: ${why} (${state})`, code, sent, method, path));
      };

      let req: http.ClientRequest | undefined;
      const deadline: Deadline = {
        at: Date.now() + timeoutMs,
        expire: () => {
          fail('ETIMEDOUT', `no complete reply within ${timeoutMs} ms`);
          req?.destroy();
        },
      };
      try {
        req = this.requestFn({
          agent: this.agent,
          hostname: this.hostname,
          port: this.port,
          method,
          path: this.pathPrefix + r.path,
          headers,
        });
      } catch (err) {
        // e.g. a character not allowed in a header or the path: nothing left this process.
        fail((err as NodeJS.ErrnoException).code ?? 'EINVAL', describe(err as Error));
        return;
      }
      this.deadlines.add(deadline);
      const request = req;

      // on, not once: these fire once per request anyway, and once wraps every listener.
      request.on('socket', (socket: Socket) => {
        // A pooled socket is connected: the request goes out now. A new one: once it is connected
        // (and, for TLS, the handshake is done), since the request is written right after.
        if (request.reusedSocket || !socket.connecting) sent = true;
        else socket.once(this.isHttps ? 'secureConnect' : 'connect', () => (sent = true));
      });
      request.on('error', (err: NodeJS.ErrnoException) => {
        fail(err.code ?? 'EUNKNOWN', err.code === 'ECONNRESET' ? 'connection reset before the reply' : describe(err));
      });
      request.on('response', (res: http.IncomingMessage) => {
        sent = true;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > this.maxBodyBytes) {
            fail('ERESPONSETOOLARGE', `reply body larger than ${this.maxBodyBytes} bytes`);
            request.destroy();
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          if (settled) return;
          settled = true;
          this.deadlines.delete(deadline);
          const text = chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks, size).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
        });
        res.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? 'ECONNRESET', `reply cut off: ${describe(err)}`));
        res.on('close', () => {
          if (!res.complete) fail('ECONNRESET', 'connection closed in the middle of the reply');
        });
      });
      request.end(body);
    });
  }

  /** Closes the pooled sockets; requests in flight fail. */
  close(): void {
    this.agent.destroy();
  }
}

/** A Node error's own text, which names no URL (e.g. `connect ECONNREFUSED 127.0.0.1:8701`). */
function describe(err: Error): string {
  return err.message || err.name || 'request failed';
}
