// A small HTTP/1.1 client for venue REST APIs, over one pool of keep-alive connections
// (http1-pool.ts; plain TCP or TLS). Venue-neutral: the caller builds the path (query string included), headers and body, and
// gets back the status, headers and the body as a utf8 string (the venue mapper parses it, so that
// e.g. 19-digit ids can stay strings). Statuses are never errors here.
//
// What it deliberately does not do: redirects (a 3xx comes back as a reply), proxies (none are
// looked up), body transforms, retries. Per request: one string written to a pooled socket, the
// reply parsed from its bytes, no URL parsing, no timer of its own (one timer per client, armed for
// the earliest deadline, covers every request in flight).
//
// A failure rejects with HttpRequestError, whose `sent` says whether the request may have reached
// the server: false while the connection is not yet established (refused, DNS, unreachable, TLS
// handshake failed, a timeout while connecting), true from the moment the request goes onto a
// connected socket (a timeout or a reset after that leaves the outcome unknown). Error messages
// carry the method and the path with signature-like query values redacted, never the full URL.

import type * as http from 'http';
import * as net from 'net';
import { Http1Exchange, Http1Pool } from './http1-pool';

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

/** What node:http refuses in a request path, a header name and a header value (its own checks). */
const INVALID_PATH = /[^\u0021-\u00ff]/;
const HEADER_NAME = /^[\^_`a-zA-Z\-0-9!#$%&'*+.|~]+$/;
const INVALID_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

export class HttpJsonClient {
  private readonly deadlines = new Deadlines();
  private readonly pool: Http1Pool;
  private readonly isHttps: boolean;
  private readonly hostname: string;
  private readonly port: number;
  /** Request line end and Host, as node:http would write them. */
  private readonly hostLine: string;
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
    // URL keeps IPv6 literals in brackets; sockets want them bare.
    this.hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
    this.port = url.port ? Number(url.port) : this.isHttps ? 443 : 80;
    const host = (this.hostname.includes(':') ? `[${this.hostname}]` : this.hostname) + (this.port === (this.isHttps ? 443 : 80) ? '' : `:${this.port}`);
    this.hostLine = ` HTTP/1.1\r\nHost: ${host}\r\n`;
    this.pathPrefix = url.pathname.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.userAgent = opts.userAgent ?? 'fix-venue-gateway';
    const keys = opts.redactQueryKeys ?? ['signature'];
    this.redactPattern = keys.length
      ? new RegExp(`([?&](?:${keys.map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})=)[^&#]*`, 'gi')
      : undefined;
    this.pool = new Http1Pool({
      host: this.hostname,
      port: this.port,
      tls: this.isHttps,
      servername: net.isIP(this.hostname) ? undefined : this.hostname,
      maxSockets: opts.maxSockets ?? DEFAULT_MAX_SOCKETS,
      idleMs: opts.idleSocketTimeoutMs ?? DEFAULT_IDLE_SOCKET_TIMEOUT_MS,
    });
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

  /** The request line and headers, or the node:http error code and text for what it would refuse. */
  private head(r: HttpJsonRequest): string | { code: string; why: string } {
    const path = this.pathPrefix + r.path;
    if (INVALID_PATH.test(path)) return { code: 'ERR_UNESCAPED_CHARACTERS', why: 'Request path contains unescaped characters' };
    let head = r.method + ' ' + path + this.hostLine;
    let ownUserAgent = false;
    if (r.headers) {
      for (const name of Object.keys(r.headers)) {
        const value = r.headers[name];
        if (value === undefined) continue;
        if (!HEADER_NAME.test(name)) return { code: 'ERR_INVALID_HTTP_TOKEN', why: `Header name must be a valid HTTP token ["${name}"]` };
        const lower = name.toLowerCase();
        if (lower === 'user-agent') ownUserAgent = true;
        if (lower === 'host' || lower === 'content-length' || lower === 'connection' || lower === 'transfer-encoding') continue; // ours
        for (const v of Array.isArray(value) ? value : [value]) {
          const text = String(v);
          if (INVALID_HEADER_VALUE.test(text)) return { code: 'ERR_INVALID_CHAR', why: `Invalid character in header content ["${name}"]` };
          head += name + ': ' + text + '\r\n';
        }
      }
    }
    if (!ownUserAgent) head += 'User-Agent: ' + this.userAgent + '\r\n';
    if (r.body !== undefined) head += 'Content-Length: ' + Buffer.byteLength(r.body) + '\r\n';
    else if (r.method !== 'GET' && r.method !== 'HEAD') head += 'Content-Length: 0\r\n';
    return head + 'Connection: keep-alive\r\n\r\n';
  }

  private requestOnce(r: HttpJsonRequest): Promise<HttpJsonResponse> {
    return new Promise<HttpJsonResponse>((resolve, reject) => {
      const method = r.method;
      const timeoutMs = r.timeoutMs ?? this.timeoutMs;
      let settled = false;
      let sent = false;
      const fail = (code: string, why: string): void => {
        if (settled) return;
        settled = true;
        this.deadlines.delete(deadline);
        const path = this.redact(r.path);
        const state = sent ? 'outcome unknown' : 'not sent';
        reject(new HttpRequestError(`${method} ${path}: ${why} (${state})`, code, sent, method, path));
      };
      const head = this.head(r);
      const exchange: Http1Exchange = {
        head: typeof head === 'string' ? head : '',
        body: r.body,
        bodiless: method === 'HEAD',
        maxBodyBytes: this.maxBodyBytes,
        sent: () => (sent = true),
        replied: (reply) => {
          if (settled) return;
          settled = true;
          this.deadlines.delete(deadline);
          resolve(reply);
        },
        failed: fail,
      };
      const deadline: Deadline = {
        at: Date.now() + timeoutMs,
        expire: () => {
          fail('ETIMEDOUT', `no complete reply within ${timeoutMs} ms`);
          this.pool.cancel(exchange);
        },
      };
      if (typeof head !== 'string') {
        // Nothing left this process.
        fail(head.code, head.why);
        return;
      }
      this.deadlines.add(deadline);
      this.pool.request(exchange);
    });
  }

  /** Closes the pooled sockets; requests in flight fail. */
  close(): void {
    this.pool.close();
  }
}
