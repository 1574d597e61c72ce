// HashKey private user-data stream: listenKey (REST) → `<wsUrl>/<listenKey>` (wsUrl ends in /api/v1/ws), no
// subscribe message. We send {"ping": ms} every 10 s and treat a ping with no reply (nor any other
// frame) by the next one as a dead link; server {"ping": x} gets {"pong": x}. The key is PUT-kept
// alive every 30 min. Frames may be one object or an array: every element is emitted.
// On close or error: 'disconnected', reconnect with back-off (a new listenKey when the venue refused
// the old one), then 'connected' (the gateway reconciles through REST on every 'connected').
// The link itself (back-off, ping timer, stale-link detection, states) is the common
// ReconnectingWebSocket; this file adds the listenKey and HashKey's frames.

import { AuthenticationFailed, OrderNotFound, OrderRejected, StreamState } from '../venue';
import { BackoffOptions } from '../common/backoff';
import { ReconnectingWebSocket, WsLink } from '../common/reconnecting-websocket';
import { HASHKEY_DEFAULTS } from './hashkey-constants';
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

export class HashKeyUserStream {
  private readonly messageListeners: ((m: HashKeyStreamMessage) => void)[] = [];
  private readonly log: HashKeyLogger;
  private readonly keepAliveIntervalMs: number;
  private readonly socket: ReconnectingWebSocket;

  private listenKey: string | undefined;
  private listenKeyRefused = false;
  /** Counts links, so a late keep-alive refusal never drops a newer link. */
  private linkGeneration = 0;
  private keepAliveTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: HashKeyUserStreamOptions) {
    this.log = opts.logger ?? silentLogger;
    this.keepAliveIntervalMs = opts.keepAliveIntervalMs ?? HASHKEY_DEFAULTS.listenKeyKeepAliveMs;
    this.socket = new ReconnectingWebSocket({
      name: 'hashkey stream',
      target: () => this.target(),
      pingIntervalMs: opts.pingIntervalMs ?? HASHKEY_DEFAULTS.streamPingIntervalMs,
      pongTimeoutMs: opts.pongTimeoutMs,
      ping: () => ({ ping: Date.now() }),
      onConnectFailure: (f) => {
        // The venue refusing the upgrade (4xx) means the key is dead: take a new one next time.
        if (f.httpStatus !== undefined && f.httpStatus >= 400 && f.httpStatus < 500) this.listenKeyRefused = true;
      },
      backoff: opts.backoff,
      stableAfterMs: opts.stableAfterMs,
      connectTimeoutMs: opts.connectTimeoutMs,
      logger: this.log,
    });
    this.socket.onMessage((text, link) => this.onFrame(text, link));
    this.socket.onState((s) => this.onLinkState(s));
  }

  onMessage(listener: (m: HashKeyStreamMessage) => void): void {
    this.messageListeners.push(listener);
  }

  onState(listener: (s: StreamState) => void): void {
    this.socket.onState(listener);
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  /** Connects once; rejects if that first attempt fails. Later drops reconnect on their own. */
  async start(): Promise<void> {
    try {
      await this.socket.start();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.stopKeepAlive();
    await this.socket.stop();
    const key = this.listenKey;
    this.listenKey = undefined;
    if (key && !this.listenKeyRefused) {
      await this.opts.rest.deleteListenKey(key).catch((err) => this.log.debug({ error: errName(err) }, 'hashkey listenKey delete failed'));
    }
  }

  // ------------------------------------------------------------------------------------ connection

  private async target(): Promise<{ url: string }> {
    if (!this.listenKey || this.listenKeyRefused) {
      this.listenKey = await this.opts.rest.createListenKey();
      this.listenKeyRefused = false;
    }
    const url = `${this.opts.wsUrl.replace(/\/+$/, '')}/${encodeURIComponent(this.listenKey)}`;
    return { url };
  }

  private onLinkState(s: StreamState): void {
    this.stopKeepAlive();
    if (s !== 'connected') return;
    const generation = ++this.linkGeneration;
    this.keepAliveTimer = setInterval(() => this.keepAlive(generation), this.keepAliveIntervalMs);
    if (this.listenKey) this.log.info({ listenKey: redactKey(this.listenKey) }, 'hashkey stream on listenKey');
  }

  private stopKeepAlive(): void {
    clearInterval(this.keepAliveTimer);
    this.keepAliveTimer = undefined;
  }

  private keepAlive(generation: number): void {
    const key = this.listenKey;
    if (!key) return;
    this.opts.rest.keepAliveListenKey(key).then(
      () => this.log.debug({}, 'hashkey listenKey kept alive'),
      (err) => {
        const refused = err instanceof OrderRejected || err instanceof OrderNotFound || err instanceof AuthenticationFailed;
        this.log.warn({ error: errName(err), code: (err as { code?: string }).code, refused }, 'hashkey listenKey keep-alive failed');
        if (refused && generation === this.linkGeneration && this.socket.connected) {
          // The venue no longer knows the key: reconnect with a new one.
          this.listenKeyRefused = true;
          this.socket.drop('listenKey refused');
        }
        // Otherwise (timeout, 5xx, rate limit) the key has up to 30 more minutes: next period retries.
      },
    );
  }

  // ------------------------------------------------------------------------------------- frames

  private onFrame(text: string, link: WsLink): void {
    let parsed: unknown;
    try {
      parsed = parseHashKeyJson(text);
    } catch {
      this.log.warn({ bytes: text.length }, 'hashkey stream frame is not JSON');
      return;
    }
    for (const m of streamMessages(parsed)) {
      if (m.ping !== undefined) {
        link.send({ pong: m.ping });
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
}

function errName(err: unknown): string {
  return (err as { name?: string; code?: string })?.code ?? (err as Error)?.name ?? 'Error';
}

/** A listenKey grants the account's private stream: log only its head. */
function redactKey(key: string): string {
  return key.length > 6 ? key.slice(0, 6) + '…' : '…';
}
