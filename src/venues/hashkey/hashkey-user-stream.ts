// HashKey private user-data stream: listenKey (REST) → `<wsUrl>/api/v1/ws/<listenKey>`, no
// subscribe message. We send {"ping": ms} every 10 s and treat a ping with no reply (nor any other
// frame) by the next one as a dead link; server {"ping": x} gets {"pong": x}. The key is PUT-kept
// alive every 30 min. Frames may be one object or an array: every element is emitted.
// On close or error: 'disconnected', reconnect with back-off (a new listenKey when the venue refused
// the old one), then 'connected' (the gateway reconciles through REST on every 'connected').

import WebSocket from 'ws';
import { AuthenticationFailed, OrderNotFound, OrderRejected, StreamState } from '../venue';
import { Backoff, BackoffOptions } from '../common/backoff';
import { HASHKEY_DEFAULTS, HASHKEY_PATHS } from './hashkey-constants';
import { parseHashKeyJson, streamMessages } from './hashkey-mapping';
import type { HashKeyLogger, HashKeyRestClient } from './hashkey-rest-client';
import { silentLogger } from './hashkey-rest-client';

export type HashKeyStreamMessage = Record<string, unknown>;

export interface HashKeyUserStreamOptions {
  rest: Pick<HashKeyRestClient, 'createListenKey' | 'keepAliveListenKey' | 'deleteListenKey'>;
  /** Private stream host, e.g. wss://stream-glb.hashkey.com (the path is added here). */
  wsUrl: string;
  /** Client ping period; default 10 s. */
  pingIntervalMs?: number;
  /** A ping unanswered (no frame at all) for this long means the link is dead; default = pingIntervalMs. */
  pongTimeoutMs?: number;
  /** listenKey PUT period; default 30 min. */
  keepAliveIntervalMs?: number;
  /** Reconnect delays; default 500 ms doubling to 30 s, half jittered. */
  backoff?: BackoffOptions;
  /** A connection up this long resets the back-off; default 10 s. */
  stableAfterMs?: number;
  /** WebSocket handshake timeout; default 10 s. */
  connectTimeoutMs?: number;
  logger?: HashKeyLogger;
}

const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5 };

export class HashKeyUserStream {
  private readonly messageListeners: ((m: HashKeyStreamMessage) => void)[] = [];
  private readonly stateListeners: ((s: StreamState) => void)[] = [];
  private readonly log: HashKeyLogger;
  private readonly backoff: Backoff;
  private readonly pingIntervalMs: number;
  private readonly pongTimeoutMs: number;
  private readonly keepAliveIntervalMs: number;
  private readonly stableAfterMs: number;
  private readonly connectTimeoutMs: number;

  private running = false;
  private ws: WebSocket | undefined;
  private listenKey: string | undefined;
  private listenKeyRefused = false;
  private isConnected = false;
  private openedAt = 0;
  private awaitingPongSince: number | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: HashKeyUserStreamOptions) {
    this.log = opts.logger ?? silentLogger;
    this.backoff = new Backoff(opts.backoff ?? DEFAULT_BACKOFF);
    this.pingIntervalMs = opts.pingIntervalMs ?? HASHKEY_DEFAULTS.streamPingIntervalMs;
    this.pongTimeoutMs = opts.pongTimeoutMs ?? this.pingIntervalMs;
    this.keepAliveIntervalMs = opts.keepAliveIntervalMs ?? HASHKEY_DEFAULTS.listenKeyKeepAliveMs;
    this.stableAfterMs = opts.stableAfterMs ?? 10_000;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
  }

  onMessage(listener: (m: HashKeyStreamMessage) => void): void {
    this.messageListeners.push(listener);
  }

  onState(listener: (s: StreamState) => void): void {
    this.stateListeners.push(listener);
  }

  get connected(): boolean {
    return this.isConnected;
  }

  /** Connects once; rejects if that first attempt fails. Later drops reconnect on their own. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.connect();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.clearConnectionTimers();
    const ws = this.ws;
    this.ws = undefined;
    this.isConnected = false;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          ws.terminate();
          resolve();
        }, 1000);
        ws.once('close', () => {
          clearTimeout(t);
          resolve();
        });
        if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
        else ws.close(1000, 'client stop');
      });
    }
    const key = this.listenKey;
    this.listenKey = undefined;
    if (key && !this.listenKeyRefused) {
      await this.opts.rest.deleteListenKey(key).catch((err) => this.log.debug({ error: errName(err) }, 'hashkey listenKey delete failed'));
    }
  }

  // ------------------------------------------------------------------------------------ connection

  private async connect(): Promise<void> {
    if (!this.listenKey || this.listenKeyRefused) {
      this.listenKey = await this.opts.rest.createListenKey();
      this.listenKeyRefused = false;
      if (!this.running) return;
    }
    const key = this.listenKey;
    const url = this.opts.wsUrl.replace(/\/+$/, '') + HASHKEY_PATHS.privateStreamPrefix + encodeURIComponent(key);
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: this.connectTimeoutMs });
    this.ws = ws;
    await new Promise<void>((resolve, reject) => {
      const onOpen = () => {
        ws.off('error', onError);
        resolve();
      };
      const onError = (err: Error) => {
        ws.off('open', onOpen);
        const status = /Unexpected server response: (\d+)/.exec(err.message)?.[1];
        // The venue refusing the upgrade (4xx) means the key is dead: take a new one next time.
        if (status && status.startsWith('4')) this.listenKeyRefused = true;
        ws.terminate();
        reject(new Error(`HashKey stream connect failed: ${status ? 'HTTP ' + status : errName(err)}`));
      };
      ws.once('open', onOpen);
      ws.once('error', onError);
    });
    if (!this.running || this.ws !== ws) {
      ws.terminate();
      return;
    }
    ws.on('message', (data) => this.onFrame(ws, data));
    ws.on('error', (err) => this.log.warn({ error: errName(err) }, 'hashkey stream error'));
    ws.on('close', (code) => this.onClose(ws, code));
    this.openedAt = Date.now();
    this.awaitingPongSince = undefined;
    this.pingTimer = setInterval(() => this.pingTick(ws), this.pingIntervalMs);
    this.keepAliveTimer = setInterval(() => this.keepAlive(ws), this.keepAliveIntervalMs);
    this.isConnected = true;
    this.log.info({ listenKey: redactKey(key) }, 'hashkey stream connected');
    this.emitState('connected');
  }

  private onClose(ws: WebSocket, code: number): void {
    if (this.ws !== ws) return;
    this.ws = undefined;
    this.clearConnectionTimers();
    if (Date.now() - this.openedAt >= this.stableAfterMs) this.backoff.reset();
    if (this.isConnected) {
      this.isConnected = false;
      this.log.warn({ code }, 'hashkey stream disconnected');
      this.emitState('disconnected');
    }
    if (this.running) this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (!this.running || this.reconnectTimer) return;
    const delay = this.backoff.next();
    this.log.info({ delayMs: delay, attempt: this.backoff.attempts }, 'hashkey stream reconnecting');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.running) return;
      this.connect().catch((err) => {
        this.log.warn({ error: errName(err), message: String((err as Error)?.message ?? '') }, 'hashkey stream reconnect failed');
        if (this.ws && !this.isConnected) this.ws = undefined;
        this.scheduleReconnect();
      });
    }, delay);
  }

  private clearConnectionTimers(): void {
    clearInterval(this.pingTimer);
    clearInterval(this.keepAliveTimer);
    this.pingTimer = undefined;
    this.keepAliveTimer = undefined;
  }

  // --------------------------------------------------------------------------------- heartbeats

  private pingTick(ws: WebSocket): void {
    const now = Date.now();
    if (this.awaitingPongSince !== undefined && now - this.awaitingPongSince >= this.pongTimeoutMs) {
      this.log.warn({ silentMs: now - this.awaitingPongSince }, 'hashkey stream missed pong: dropping the connection');
      ws.terminate();
      return;
    }
    if (this.awaitingPongSince === undefined) this.awaitingPongSince = now;
    this.sendJson(ws, { ping: now });
  }

  private keepAlive(ws: WebSocket): void {
    const key = this.listenKey;
    if (!key) return;
    this.opts.rest.keepAliveListenKey(key).then(
      () => this.log.debug({}, 'hashkey listenKey kept alive'),
      (err) => {
        const refused = err instanceof OrderRejected || err instanceof OrderNotFound || err instanceof AuthenticationFailed;
        this.log.warn({ error: errName(err), code: (err as { code?: string }).code, refused }, 'hashkey listenKey keep-alive failed');
        if (refused && this.ws === ws) {
          // The venue no longer knows the key: reconnect with a new one.
          this.listenKeyRefused = true;
          ws.terminate();
        }
        // Otherwise (timeout, 5xx, rate limit) the key has up to 30 more minutes: next period retries.
      },
    );
  }

  // ------------------------------------------------------------------------------------- frames

  private onFrame(ws: WebSocket, data: WebSocket.RawData): void {
    this.awaitingPongSince = undefined; // any frame proves the link is alive
    let parsed: unknown;
    try {
      parsed = parseHashKeyJson(rawToString(data));
    } catch {
      this.log.warn({ bytes: rawLength(data) }, 'hashkey stream frame is not JSON');
      return;
    }
    for (const m of streamMessages(parsed)) {
      if (m.ping !== undefined) {
        this.sendJson(ws, { pong: m.ping });
        continue;
      }
      if (m.pong !== undefined) continue;
      for (const l of this.messageListeners) {
        try {
          l(m);
        } catch (err) {
          this.log.error({ error: errName(err), message: String((err as Error)?.message ?? '') }, 'hashkey stream listener threw');
        }
      }
    }
  }

  private sendJson(ws: WebSocket, obj: object): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify(obj), (err) => {
      if (err) this.log.debug({ error: errName(err) }, 'hashkey stream send failed');
    });
  }

  private emitState(state: StreamState): void {
    for (const l of this.stateListeners) {
      try {
        l(state);
      } catch (err) {
        this.log.error({ error: errName(err) }, 'hashkey stream state listener threw');
      }
    }
  }
}

function rawToString(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

function rawLength(data: WebSocket.RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}

function errName(err: unknown): string {
  return (err as { name?: string; code?: string })?.code ?? (err as Error)?.name ?? 'Error';
}

/** A listenKey grants the account's private stream: log only its head. */
function redactKey(key: string): string {
  return key.length > 6 ? key.slice(0, 6) + '…' : '…';
}
