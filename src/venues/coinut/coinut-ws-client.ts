// Coinut's request/reply WebSocket on the common ReconnectingWebSocket: log in on every new link
// (before 'connected'), send requests with a nonce from the allocator, match each reply frame to
// its request by nonce AND by what the request expects (order events of another connection of the
// account arrive here with that connection's nonce, which may equal one of ours), heartbeat `hb`,
// and hand every order event (order_accepted / order_filled / order_rejected) to the listeners,
// whether it is a reply of ours or pushed.
//
// A link that drops rejects every request in flight on it with OutcomeUnknown: the venue may or may
// not have executed them. A request unanswered within the timeout is OutcomeUnknown too; its nonce
// stays reserved (a late reply could still come) and the link is dropped, so that nothing sent on
// it can execute later than the venue takes to process what it had already read. A request that
// could not be sent (no link) is CoinutNotConnected: nothing happened.
//
// REST (`POST /`, X-USER + X-SIGNATURE over the body) serves what must work while the WS is down
// (queries during reconnects); the same JSON messages come back.

import { BackoffOptions } from '../common/backoff';
import { HttpJsonClient, HttpRequestError } from '../common/http-json-client';
import { ReconnectingWebSocket, WsLink, WsLogger } from '../common/reconnecting-websocket';
import { ServerClock } from '../common/server-clock';
import { AuthenticationFailed, OutcomeUnknown, RateLimited, StreamState, VenueError } from '../venue';
import { coinutLoginRequest, coinutRestHeaders } from './coinut-auth';
import { COINUT_DEFAULTS, COINUT_ORDER_EVENT_REPLIES, COINUT_REPLIES, COINUT_REQUESTS, COINUT_REST_PATH } from './coinut-constants';
import { coinutMessages, CoinutJson, isOk, nonceOf, parseCoinutJson, statusWord } from './coinut-mapping';
import { CoinutNonceAllocator } from './coinut-nonce';
import { LOGIN_RETRY_MIN_OFFSET_MOVE_MS, venueTimeFromReply } from './coinut-venue-time';
import { StallTolerantTimeout, stallTolerantTimeout } from '../common/stall-tolerant-timeout';

/** The request could not be sent (no logged-in link): nothing reached the venue. */
export class CoinutNotConnected extends VenueError {}

export interface CoinutWsClientOptions {
  /** `wss://wsapi.coinut.com` (no path). */
  wsUrl: string;
  /** `https://api.coinut.com`. */
  restUrl: string;
  username: string;
  /** The API key: also the HMAC key. Secret: never logged. */
  apiKey: string;
  requestTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** A link with no frame for this long is dropped. */
  heartbeatTimeoutMs?: number;
  backoff?: BackoffOptions;
  connectTimeoutMs?: number;
  stableAfterMs?: number;
  /** Our clock in ms; the login timestamp adds the venue's measured offset to it. */
  clock?: () => number;
  /** First nonce of the allocator. */
  nonceStart?: number;
  logger?: WsLogger;
}

export interface CoinutRequestOptions {
  /** Whether a message with our nonce is the reply to this request. Default: reply === request name. */
  accepts?(m: CoinutJson): boolean;
  timeoutMs?: number;
  /** Drop the link when the reply does not come in time (default true; hb leaves it to the silence check). */
  dropOnTimeout?: boolean;
}

interface Pending {
  nonce: number;
  request: string;
  link: WsLink;
  accepts(m: CoinutJson): boolean;
  resolve(messages: CoinutJson[]): void;
  reject(err: Error): void;
  timer: StallTolerantTimeout;
}

const noop = () => undefined;
const SILENT: WsLogger = { debug: noop, info: noop, warn: noop, error: noop };

export class CoinutWsClient {
  /** Nonces of this client's WS requests (replies are matched by them). */
  readonly nonces: CoinutNonceAllocator;
  /** REST nonces: a reply comes on its own HTTP exchange, so these only need to be distinct and increasing. */
  private readonly restNonces: CoinutNonceAllocator;
  private readonly socket: ReconnectingWebSocket;
  private readonly http: HttpJsonClient;
  private readonly log: WsLogger;
  private readonly timeoutMs: number;
  private readonly clock: () => number;
  /** The venue's time for the login timestamp (our clock plus the offset read from its Date header). */
  private readonly venueClock: ServerClock;
  private readonly pending = new Map<number, Pending>();
  private readonly eventListeners: ((m: CoinutJson, receivedAt: number) => void)[] = [];
  /** The link we are logged in on (or logging in on). */
  private link: WsLink | undefined;
  private heartbeatOutstanding = false;
  private stopped = false;
  /** whenConnected() calls waiting for the next login. */
  private readonly connectWaiters = new Set<(ok: boolean) => void>();

  constructor(private readonly opts: CoinutWsClientOptions) {
    this.log = opts.logger ?? SILENT;
    this.timeoutMs = opts.requestTimeoutMs ?? COINUT_DEFAULTS.requestTimeoutMs;
    this.clock = opts.clock ?? Date.now;
    this.venueClock = new ServerClock(this.clock, () => this.serverTime());
    this.nonces = new CoinutNonceAllocator({ start: opts.nonceStart });
    this.restNonces = new CoinutNonceAllocator({ start: opts.nonceStart });
    this.http = new HttpJsonClient({ baseUrl: opts.restUrl, timeoutMs: this.timeoutMs });
    this.socket = new ReconnectingWebSocket({
      name: 'coinut ws',
      target: () => ({ url: opts.wsUrl }),
      pingIntervalMs: opts.heartbeatIntervalMs ?? COINUT_DEFAULTS.heartbeatIntervalMs,
      pongTimeoutMs: opts.heartbeatTimeoutMs ?? COINUT_DEFAULTS.heartbeatTimeoutMs,
      ping: () => {
        this.heartbeat();
        return undefined;
      },
      onOpen: (link) => this.login(link),
      backoff: opts.backoff,
      connectTimeoutMs: opts.connectTimeoutMs,
      stableAfterMs: opts.stableAfterMs,
      logger: this.log,
    });
    this.socket.onMessage((text, link) => this.onFrame(text, link));
    this.socket.onState((s) => {
      if (s === 'disconnected') this.linkGone('the WebSocket dropped before the reply');
      if (s === 'connected') for (const w of [...this.connectWaiters]) w(true);
    });
  }

  /** Every order event, replies of ours included, with the time it arrived. */
  onOrderEvent(listener: (m: CoinutJson, receivedAt: number) => void): void {
    this.eventListeners.push(listener);
  }

  onState(listener: (s: StreamState) => void): void {
    this.socket.onState(listener);
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  /** Connects and logs in; rejects when that first attempt fails (AuthenticationFailed on a refused login). */
  start(): Promise<void> {
    return this.socket.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of [...this.connectWaiters]) w(false);
    await this.socket.stop();
    this.linkGone('the client stopped');
    this.http.close();
  }

  /**
   * Resolves true once the link is logged in (at once when it is), false after `ms` without one
   * or when the client is stopped. Orders wait here rather than being refused during a reconnect.
   */
  whenConnected(ms: number): Promise<boolean> {
    if (this.socket.connected) return Promise.resolve(true);
    if (this.stopped || ms <= 0) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.connectWaiters.delete(done);
        resolve(ok);
      };
      const timer = setTimeout(() => done(this.socket.connected), ms);
      this.connectWaiters.add(done);
    });
  }

  /** Drop the link (tests, and a reply that came too late); a reconnect follows. */
  drop(reason: string): void {
    this.socket.drop(reason);
  }

  /**
   * Sends `body` with a fresh nonce and resolves with the messages of the reply frame that carry
   * that nonce and satisfy `accepts`. Status words are not checked here: the caller maps them.
   */
  request(body: Record<string, unknown>, opts: CoinutRequestOptions = {}): Promise<CoinutJson[]> {
    const link = this.link;
    if (link === undefined || !this.socket.connected) {
      return Promise.reject(new CoinutNotConnected(`Coinut ${String(body.request)}: the WebSocket is not connected`));
    }
    return this.send(link, body, opts);
  }

  /** The same request over REST `POST /` (signed), for when the WS cannot serve it. */
  async rest(body: Record<string, unknown>): Promise<CoinutJson[]> {
    const nonce = this.restNonces.take();
    const text = JSON.stringify({ ...body, nonce });
    const what = String(body.request);
    try {
      const res = await this.http.request({ method: 'POST', path: COINUT_REST_PATH, headers: coinutRestHeaders(this.opts.apiKey, this.opts.username, text), body: text });
      if (res.status === 429) throw new RateLimited(`Coinut ${what}: HTTP 429`, Number(res.headers['retry-after'] ?? 1) * 1000, '429', undefined, 429);
      if (res.status >= 500) throw new OutcomeUnknown(`Coinut ${what}: HTTP ${res.status}`, String(res.status), undefined, res.status);
      let messages: CoinutJson[];
      try {
        messages = coinutMessages(parseCoinutJson(res.body));
      } catch {
        throw new OutcomeUnknown(`Coinut ${what}: HTTP ${res.status} with a body that is not JSON`, String(res.status), undefined, res.status);
      }
      if (res.status === 401 || res.status === 403) {
        const word = messages[0] ? statusWord(messages[0]) : '';
        throw new AuthenticationFailed(`Coinut ${what}: HTTP ${res.status} ${word}`.trim(), word || String(res.status), word, res.status);
      }
      return messages;
    } catch (err) {
      if (err instanceof HttpRequestError) {
        if (err.sent) throw new OutcomeUnknown(`Coinut ${what}: ${err.message}`, err.code);
        throw new CoinutNotConnected(`Coinut ${what}: ${err.message}`, err.code);
      }
      throw err;
    } finally {
      this.restNonces.release(nonce);
    }
  }

  // ------------------------------------------------------------------------------------- internals

  private send(link: WsLink, body: Record<string, unknown>, opts: CoinutRequestOptions): Promise<CoinutJson[]> {
    const request = String(body.request);
    let nonce: number;
    try {
      nonce = this.nonces.take();
    } catch (err) {
      return Promise.reject(new CoinutNotConnected(`Coinut ${request}: ${(err as Error).message}`));
    }
    const accepts = opts.accepts ?? ((m: CoinutJson) => m.reply === request);
    return new Promise<CoinutJson[]>((resolve, reject) => {
      const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
      // Stall-tolerant: a reply that came while this process had no CPU is read before it expires.
      const timer = stallTolerantTimeout(() => {
        if (this.pending.get(nonce)?.timer !== timer) return;
        this.pending.delete(nonce);
        // The nonce stays reserved: a late reply could still arrive on this link.
        reject(new OutcomeUnknown(`Coinut ${request}: no reply within ${timeoutMs} ms`, 'TIMEOUT'));
        if (opts.dropOnTimeout !== false && this.link === link) link.drop(`${request} reply timed out`);
      }, timeoutMs);
      this.pending.set(nonce, { nonce, request, link, accepts, resolve, reject, timer });
      if (!link.send(JSON.stringify({ ...body, nonce }))) {
        timer.clear();
        this.pending.delete(nonce);
        this.nonces.release(nonce);
        reject(new CoinutNotConnected(`Coinut ${request}: the WebSocket is not connected`));
      }
    });
  }

  /**
   * The opening step of every link: log in with a fresh nonce and timestamp (the venue's time as
   * we estimate it). Coinut answers every refused login with the same status word (a bad HMAC, an
   * unknown user and a timestamp outside its window alike), so a refusal reads the venue's clock
   * again (serverTime) and logs in once more when that moved our estimate by 2 s or more (less is
   * the Date header's whole-second rounding: LOGIN_RETRY_MIN_OFFSET_MOVE_MS); otherwise the clock
   * was not the problem and the error says so.
   */
  private async login(link: WsLink): Promise<void> {
    if (this.link !== undefined && this.link !== link) this.linkGone('a new link replaced it');
    this.link = link;
    const signedWithOffset = this.venueClock.offsetMs;
    let reply = await this.loginOnce(link);
    if (reply === undefined || !isOk(reply)) {
      const word = reply ? statusWord(reply) : '';
      let offsetMs: number | undefined;
      try {
        offsetMs = await this.venueClock.sync();
      } catch (err) {
        // Our own VenueError says why a reply was not used (no secret in it); others by name and code only.
        const reason = err instanceof VenueError && !(err instanceof OutcomeUnknown) ? err.message : undefined;
        this.log.warn({ error: (err as Error)?.name, code: (err as { code?: unknown })?.code, reason }, 'coinut server time: resync after a refused login failed');
      }
      if (offsetMs === undefined) {
        this.log.error({ status: word }, 'coinut login refused');
        throw new AuthenticationFailed(`Coinut login refused: ${word || 'no reply'} (the venue's clock could not be read to rule out a timestamp problem)`, word, word);
      }
      if (Math.abs(offsetMs - signedWithOffset) < LOGIN_RETRY_MIN_OFFSET_MOVE_MS) {
        this.log.error({ status: word, offsetMs }, 'coinut login refused');
        throw new AuthenticationFailed(`Coinut login refused: ${word || 'no reply'} (our clock agrees with the venue's within the Date header's resolution: not a timestamp problem; check VenueAccount and the API key)`, word, word);
      }
      this.log.warn({ status: word, offsetMs, previousOffsetMs: signedWithOffset }, 'coinut login refused: clock resynchronised, logging in again');
      reply = await this.loginOnce(link);
      if (reply === undefined || !isOk(reply)) {
        const again = reply ? statusWord(reply) : '';
        this.log.error({ status: again, offsetMs }, 'coinut login refused');
        throw new AuthenticationFailed(`Coinut login refused: ${again || 'no reply'} (also with the venue's time)`, again, again);
      }
    }
    this.log.info({ username: this.opts.username }, 'coinut logged in');
  }

  private async loginOnce(link: WsLink): Promise<CoinutJson | undefined> {
    const ts = Math.floor(this.venueClock.now() / 1000);
    return (await this.sendSigned(link, ts))[0];
  }

  /**
   * The venue's time, ms. Coinut documents no time endpoint; the best source is the `Date` header
   * of a REST reply (RFC 9110 §6.6.1: a server with a clock sends one with every 2xx/4xx reply).
   * `inst_list` is the cheapest read, and REST is signed over the body alone, so a skewed clock
   * does not refuse it. Not every reply with a Date will do: see venueTimeFromReply (no 5xx, no
   * cached reply, no jump beyond the bound). Whole seconds: +500 ms for the middle.
   */
  private async serverTime(): Promise<number> {
    const nonce = this.restNonces.take();
    const text = JSON.stringify({ request: COINUT_REQUESTS.instruments, sec_type: 'SPOT', nonce });
    try {
      const res = await this.http.request({ method: 'POST', path: COINUT_REST_PATH, headers: coinutRestHeaders(this.opts.apiKey, this.opts.username, text), body: text, idempotent: true });
      // Only a reply that shows the venue's clock just now may move the offset every later login signs with.
      const decision = venueTimeFromReply(res, this.clock(), this.venueClock.offsetMs);
      if ('ignored' in decision) throw new VenueError(`Coinut server time: reply not used: ${decision.ignored}`);
      return decision.venueMs;
    } finally {
      this.restNonces.release(nonce);
    }
  }

  /** Login needs the nonce inside the signature, so it is built around the allocator directly. */
  private sendSigned(link: WsLink, ts: number): Promise<CoinutJson[]> {
    const nonce = this.nonces.take();
    const body = coinutLoginRequest(this.opts.apiKey, this.opts.username, ts, nonce);
    return new Promise<CoinutJson[]>((resolve, reject) => {
      const timer = stallTolerantTimeout(() => {
        if (this.pending.get(nonce)?.timer !== timer) return;
        this.pending.delete(nonce);
        reject(new OutcomeUnknown('Coinut login: no reply in time', 'TIMEOUT'));
      }, this.timeoutMs);
      this.pending.set(nonce, {
        nonce,
        request: COINUT_REQUESTS.login,
        link,
        accepts: (m) => m.reply === COINUT_REPLIES.login,
        resolve,
        reject,
        timer,
      });
      if (!link.send(JSON.stringify(body))) {
        timer.clear();
        this.pending.delete(nonce);
        this.nonces.release(nonce);
        reject(new CoinutNotConnected('Coinut login: the WebSocket closed'));
      }
    });
  }

  private heartbeat(): void {
    if (this.heartbeatOutstanding || !this.socket.connected) return;
    this.heartbeatOutstanding = true;
    this.request({ request: COINUT_REQUESTS.heartbeat }, { dropOnTimeout: false }).then(
      () => (this.heartbeatOutstanding = false),
      () => (this.heartbeatOutstanding = false),
    );
  }

  private onFrame(text: string, link: WsLink): void {
    const receivedAt = Date.now();
    let messages: CoinutJson[];
    try {
      messages = coinutMessages(parseCoinutJson(text));
    } catch {
      this.log.warn({ bytes: text.length }, 'coinut frame is not JSON');
      return;
    }
    // The reply: the messages of this frame that carry a pending nonce and fit that request.
    const replies = new Map<Pending, CoinutJson[]>();
    for (const m of messages) {
      const nonce = nonceOf(m);
      const p = nonce === undefined ? undefined : this.pending.get(nonce);
      if (p !== undefined && p.link === link && p.accepts(m)) {
        const list = replies.get(p) ?? [];
        list.push(m);
        replies.set(p, list);
      }
    }
    for (const [p, list] of replies) {
      p.timer.clear();
      this.pending.delete(p.nonce);
      this.nonces.release(p.nonce);
      p.resolve(list);
    }
    for (const m of messages) {
      if (typeof m.reply !== 'string' || !COINUT_ORDER_EVENT_REPLIES.has(m.reply)) continue;
      for (const l of this.eventListeners) {
        try {
          l(m, receivedAt);
        } catch (err) {
          this.log.error({ error: (err as Error)?.name, message: String((err as Error)?.message ?? '') }, 'coinut event listener threw');
        }
      }
    }
  }

  /** Every request still waiting on the old link has an unknown outcome; its nonces are free again. */
  private linkGone(why: string): void {
    const old = [...this.pending.values()];
    this.pending.clear();
    this.nonces.releaseAll();
    this.link = undefined;
    this.heartbeatOutstanding = false;
    for (const p of old) {
      p.timer.clear();
      p.reject(new OutcomeUnknown(`Coinut ${p.request}: ${why}`, 'DISCONNECTED'));
    }
  }
}
