// HTTP/1.1 over a pool of keep-alive connections (net / tls sockets), for HttpJsonClient: what a
// venue REST client needs of node:http, without its per-request machinery (a ClientRequest, an
// IncomingMessage stream, header objects, a dozen listeners; ~30 KB of garbage and ~10 µs of CPU
// per request in the gateway's profile, issue 9).
//
// One request per connection at a time (no pipelining); connections are reused LIFO, at most
// maxSockets, requests beyond that wait in FIFO order. Replies: Content-Length, chunked, or up to
// the close; 1xx skipped; no body for HEAD, 204 and 304. A connection is reused unless the reply
// says `Connection: close` (or is HTTP/1.0 without keep-alive) or its body ran to the close; an idle
// one is closed after idleMs, or after the server's `Keep-Alive: timeout=N` hint less a second, so
// a request never goes out on a socket the server is about to close. Idle sockets do not keep the
// process alive.
import type { IncomingHttpHeaders } from 'http';
import * as net from 'net';
import * as tls from 'tls';

export interface Http1Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request: its bytes, and what to call as it goes. */
export interface Http1Exchange {
  /** Request line and headers, ending with the empty line (latin1). */
  head: string;
  body?: string;
  /** A HEAD request: its reply has no body whatever it says. */
  bodiless: boolean;
  maxBodyBytes: number;
  /** The request is going out on a connected socket (its outcome is unknown from now on). */
  sent(): void;
  replied(r: Http1Reply): void;
  failed(code: string, why: string): void;
}

export interface Http1PoolOptions {
  host: string;
  port: number;
  tls: boolean;
  /** TLS server name (SNI); undefined for an IP address. */
  servername?: string;
  maxSockets: number;
  idleMs: number;
  /** TCP keep-alive probe delay, set once per socket. */
  keepAliveMs?: number;
}

const CRLF2 = Buffer.from('\r\n\r\n', 'latin1');
/** Chunked reply states (chunkLeft >= 0: data bytes of the chunk left). */
const CHUNK_SIZE_LINE = -1;
const CHUNK_TRAILERS = -2;
const CHUNK_DATA_END = -4;
const CRLF = Buffer.from('\r\n', 'latin1');

/** A pooled connection and the reply it is reading. */
class Connection {
  exchange: Http1Exchange | undefined;
  connected = false;
  /** Bytes received and not parsed yet. */
  private pending: Buffer | undefined;
  private status = 0;
  private headers: IncomingHttpHeaders = {};
  private reusable = true;
  private idleAfterMs = 0;
  /** -1: reading the head; -2: chunked; -3: to the close; >= 0: bytes of body left. */
  private bodyLeft = -1;
  private chunks: Buffer[] = [];
  private bodySize = 0;
  /** Chunked: data bytes of the current chunk left, or one of the CHUNK_ states. */
  private chunkLeft = CHUNK_SIZE_LINE;
  private gotBytes = false;

  constructor(
    readonly socket: net.Socket,
    private readonly pool: Http1Pool,
  ) {}

  start(ex: Http1Exchange): void {
    this.exchange = ex;
    this.gotBytes = false;
    this.bodyLeft = -1;
    this.chunks = [];
    this.bodySize = 0;
    this.headers = {};
    this.socket.ref();
    this.socket.setTimeout(0);
    if (this.connected) this.write(ex);
  }

  write(ex: Http1Exchange): void {
    ex.sent();
    if (ex.body === undefined || ex.body === '') this.socket.write(ex.head, 'latin1');
    else this.socket.write(Buffer.concat([Buffer.from(ex.head, 'latin1'), Buffer.from(ex.body, 'utf8')]));
  }

  onData(b: Buffer): void {
    this.gotBytes = true;
    if (!this.exchange) {
      // Bytes nobody asked for: the connection is out of step.
      this.socket.destroy();
      return;
    }
    this.pending = this.pending ? Buffer.concat([this.pending, b]) : b;
    this.parse();
  }

  private parse(): void {
    for (;;) {
      const buf = this.pending;
      if (!buf || buf.length === 0 || !this.exchange) return;
      if (this.bodyLeft === -1) {
        const end = buf.indexOf(CRLF2);
        if (end < 0) {
          if (buf.length > 64 * 1024) this.fail('HPE_HEADER_OVERFLOW', 'reply head larger than 64 KB');
          return;
        }
        this.pending = buf.subarray(end + 4);
        if (!this.readHead(buf.toString('latin1', 0, end))) return;
        continue;
      }
      if (this.bodyLeft >= 0) {
        const take = Math.min(this.bodyLeft, buf.length);
        if (!this.addBody(buf.subarray(0, take))) return;
        this.bodyLeft -= take;
        this.pending = buf.subarray(take);
        if (this.bodyLeft === 0) this.complete();
        else return;
        continue;
      }
      if (this.bodyLeft === -3) {
        this.pending = undefined;
        if (!this.addBody(buf)) return;
        return;
      }
      // chunked: size line, data, CRLF, ..., a 0 size line, trailers, an empty line
      if (this.chunkLeft === CHUNK_DATA_END) {
        if (buf.length < 2) return;
        this.pending = buf.subarray(2);
        this.chunkLeft = CHUNK_SIZE_LINE;
        continue;
      }
      if (this.chunkLeft === CHUNK_SIZE_LINE || this.chunkLeft === CHUNK_TRAILERS) {
        const eol = buf.indexOf(CRLF);
        if (eol < 0) return;
        const line = buf.toString('latin1', 0, eol);
        this.pending = buf.subarray(eol + 2);
        if (this.chunkLeft === CHUNK_TRAILERS) {
          if (line === '') this.complete();
          continue;
        }
        const sizeText = line.split(';', 1)[0].trim();
        const size = /^[0-9a-fA-F]{1,12}$/.test(sizeText) ? parseInt(sizeText, 16) : NaN;
        if (!Number.isFinite(size)) {
          this.fail('HPE_INVALID_CHUNK_SIZE', 'invalid chunk size in the reply');
          return;
        }
        this.chunkLeft = size === 0 ? CHUNK_TRAILERS : size;
        continue;
      }
      const take = Math.min(this.chunkLeft, buf.length);
      if (!this.addBody(buf.subarray(0, take))) return;
      this.chunkLeft -= take;
      this.pending = buf.subarray(take);
      if (this.chunkLeft > 0) return;
      this.chunkLeft = CHUNK_DATA_END;
    }
  }

  /** False when the reply is unusable (the exchange has failed). */
  private readHead(head: string): boolean {
    const lines = head.split('\r\n');
    const m = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0]);
    if (!m) {
      this.fail('HPE_INVALID_CONSTANT', 'not an HTTP/1.x reply');
      return false;
    }
    const status = Number(m[2]);
    if (status >= 100 && status < 200 && status !== 101) return true; // informational: the real reply follows
    const headers: IncomingHttpHeaders = {};
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i];
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      const had = headers[name];
      if (name === 'set-cookie') headers[name] = [...((had as string[] | undefined) ?? []), value];
      else headers[name] = had === undefined ? value : `${had as string}, ${value}`;
    }
    this.status = status;
    this.headers = headers;
    const connection = String(headers.connection ?? '').toLowerCase();
    this.reusable = m[1] === '1' ? !connection.includes('close') : connection.includes('keep-alive');
    const hint = /timeout=(\d+)/i.exec(String(headers['keep-alive'] ?? ''));
    this.idleAfterMs = hint ? Math.max(0, Number(hint[1]) * 1000 - 1000) : Infinity;
    const te = String(headers['transfer-encoding'] ?? '').toLowerCase();
    if (this.exchange!.bodiless || status === 204 || status === 304) this.bodyLeft = 0;
    else if (te.includes('chunked')) {
      this.bodyLeft = -2;
      this.chunkLeft = CHUNK_SIZE_LINE;
    } else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      if (!Number.isInteger(n) || n < 0) {
        this.fail('HPE_INVALID_CONTENT_LENGTH', 'invalid content-length in the reply');
        return false;
      }
      this.bodyLeft = n;
    } else {
      this.bodyLeft = -3;
      this.reusable = false;
    }
    if (this.bodyLeft === 0) this.complete();
    return true;
  }

  private addBody(b: Buffer): boolean {
    this.bodySize += b.length;
    if (this.bodySize > this.exchange!.maxBodyBytes) {
      this.fail('ERESPONSETOOLARGE', `reply body larger than ${this.exchange!.maxBodyBytes} bytes`);
      return false;
    }
    if (b.length > 0) this.chunks.push(b);
    return true;
  }

  private complete(): void {
    const ex = this.exchange!;
    const body = this.chunks.length === 1 ? this.chunks[0].toString('utf8') : Buffer.concat(this.chunks, this.bodySize).toString('utf8');
    const reply: Http1Reply = { status: this.status, headers: this.headers, body };
    this.exchange = undefined;
    this.chunks = [];
    this.bodyLeft = -1;
    if (this.pending && this.pending.length > 0) this.reusable = false; // bytes after the reply: out of step
    this.pending = undefined;
    if (this.reusable) this.pool.release(this, this.idleAfterMs);
    else this.socket.destroy();
    ex.replied(reply);
  }

  /** The socket ended or failed: the reply read to the close completes; anything else fails. */
  closed(err: NodeJS.ErrnoException | undefined): void {
    const ex = this.exchange;
    if (!ex) return;
    if (!err && this.bodyLeft === -3) {
      this.complete();
      return;
    }
    this.exchange = undefined;
    const code = err?.code ?? 'ECONNRESET';
    if (err && code !== 'ECONNRESET' && code !== 'EPIPE') ex.failed(code, err.message || code);
    else if (this.gotBytes) ex.failed('ECONNRESET', 'connection closed in the middle of the reply');
    else ex.failed('ECONNRESET', 'connection reset before the reply');
  }

  /** This exchange cannot go on: it fails, and the connection goes. */
  fail(code: string, why: string): void {
    const ex = this.exchange;
    this.exchange = undefined;
    this.socket.destroy();
    ex?.failed(code, why);
  }
}

export class Http1Pool {
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly waiting: Http1Exchange[] = [];
  private waitingHead = 0;
  private closed = false;

  constructor(private readonly opts: Http1PoolOptions) {}

  request(ex: Http1Exchange): void {
    if (this.closed) {
      ex.failed('ECONNABORTED', 'client closed');
      return;
    }
    const c = this.idle.pop();
    if (c) c.start(ex);
    else if (this.all.size < this.opts.maxSockets) this.connect().start(ex);
    else this.waiting.push(ex);
  }

  /** Gives up on `ex` (its deadline passed): out of the queue, or its connection closed. */
  cancel(ex: Http1Exchange): void {
    const i = this.waiting.indexOf(ex, this.waitingHead);
    if (i >= 0) {
      this.waiting.splice(i, 1);
      return;
    }
    for (const c of this.all) {
      if (c.exchange === ex) {
        c.exchange = undefined;
        c.socket.destroy();
        return;
      }
    }
  }

  /** A connection done with its reply: the next waiting request, or the idle list. */
  release(c: Connection, idleAfterMs: number): void {
    if (this.closed) {
      c.socket.destroy();
      return;
    }
    const next = this.nextWaiting();
    if (next) {
      c.start(next);
      return;
    }
    const idleMs = Math.min(this.opts.idleMs, idleAfterMs);
    if (!(idleMs > 0)) {
      c.socket.destroy(); // the server may close it any moment now
      return;
    }
    this.idle.push(c);
    c.socket.unref();
    c.socket.setTimeout(idleMs);
  }

  close(): void {
    this.closed = true;
    for (const c of this.all) c.socket.destroy();
    for (let ex = this.nextWaiting(); ex; ex = this.nextWaiting()) ex.failed('ECONNABORTED', 'client closed');
  }

  private nextWaiting(): Http1Exchange | undefined {
    if (this.waitingHead >= this.waiting.length) return undefined;
    const ex = this.waiting[this.waitingHead++];
    if (this.waitingHead > 1024 && this.waitingHead * 2 > this.waiting.length) {
      this.waiting.splice(0, this.waitingHead);
      this.waitingHead = 0;
    }
    return ex;
  }

  private connect(): Connection {
    const o = this.opts;
    const socket = o.tls ? tls.connect({ host: o.host, port: o.port, servername: o.servername, ALPNProtocols: ['http/1.1'] }) : net.connect({ host: o.host, port: o.port });
    const c = new Connection(socket, this);
    this.all.add(c);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, o.keepAliveMs ?? 1000);
    socket.once(o.tls ? 'secureConnect' : 'connect', () => {
      c.connected = true;
      if (c.exchange) c.write(c.exchange);
    });
    socket.on('data', (b: Buffer) => c.onData(b));
    socket.on('timeout', () => socket.destroy()); // idle too long
    let error: NodeJS.ErrnoException | undefined;
    socket.on('error', (err: NodeJS.ErrnoException) => (error = err));
    socket.on('close', () => {
      this.all.delete(c);
      const at = this.idle.indexOf(c);
      if (at >= 0) this.idle.splice(at, 1);
      c.closed(error);
      // A request waiting for a connection gets this one's place.
      if (!this.closed && this.all.size < o.maxSockets) {
        const next = this.nextWaiting();
        if (next) this.connect().start(next);
      }
    });
    return c;
  }
}
