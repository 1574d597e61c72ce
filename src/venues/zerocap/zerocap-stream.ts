// Zerocap's order stream: WS to the configured wsUrl (…/v2) with the three auth headers on the
// upgrade, signed fresh per attempt. The venue greets with "Successfully connected." (or a 401
// error); we subscribe to `order` and `trade` and report 'connected' only once both are
// acknowledged, so a reconciliation on 'connected' cannot miss a push. Client ping
// {"type":"message","message":"ping"} every 5 s (as the SDK); a link silent past the next ping is
// dropped and reconnected by the common ReconnectingWebSocket.

import type { StreamState } from '../venue';
import { AuthenticationFailed } from '../venue';
import { BackoffOptions } from '../common/backoff';
import { ReconnectingWebSocket, WsLink } from '../common/reconnecting-websocket';
import { zerocapAuthHeaders } from './zerocap-auth';
import { ZEROCAP_DEFAULTS, ZEROCAP_WS } from './zerocap-constants';
import { parseZerocapJson, zerocapWsError } from './zerocap-mapping';
import type { ZerocapLogger } from './zerocap-rest-client';
import { silentLogger } from './zerocap-rest-client';

type Json = Record<string, unknown>;

export interface ZerocapStreamOptions {
  /** The WS URL exactly as zerocap.md lists it, path included (…/v2). */
  wsUrl: string;
  apiKey: string;
  apiSecret: string;
  /** Client ping period; default 5 s. */
  pingIntervalMs?: number;
  /** No frame for this long after a ping = dead link; default = pingIntervalMs. */
  pongTimeoutMs?: number;
  backoff?: BackoffOptions;
  stableAfterMs?: number;
  /** Handshake + greeting + subscription acks deadline; default 10 s. */
  connectTimeoutMs?: number;
  logger?: ZerocapLogger;
  /** Clock for the upgrade's signed timestamp, ms: the venue's time as the REST client measured it. */
  now?: () => number;
  /**
   * The upgrade was refused (401): the timestamp may be outside the venue's window. Resynchronises
   * the clock before the next attempt (the WS error does not say which of the signature or the
   * timestamp was wrong; a resync costs one request).
   */
  onAuthRefused?: () => Promise<void>;
}

/** The subscriptions we need acknowledged before the link counts as up. */
const SUBSCRIPTIONS = [ZEROCAP_WS.subscribeOrders, ZEROCAP_WS.subscribeTrades];

export class ZerocapStream {
  private readonly orderListeners: ((data: Json) => void)[] = [];
  private readonly tradeListeners: ((data: Json) => void)[] = [];
  private readonly log: ZerocapLogger;
  private readonly socket: ReconnectingWebSocket;
  /** Messages the opening step waits for (greeting, acks); undefined once open. */
  private opening: ((m: Json) => void) | undefined;

  constructor(private readonly opts: ZerocapStreamOptions) {
    this.log = opts.logger ?? silentLogger;
    const now = opts.now ?? Date.now;
    this.socket = new ReconnectingWebSocket({
      name: 'zerocap stream',
      target: () => ({ url: opts.wsUrl, headers: zerocapAuthHeaders(opts.apiKey, opts.apiSecret, now()) }),
      pingIntervalMs: opts.pingIntervalMs ?? ZEROCAP_DEFAULTS.streamPingIntervalMs,
      pongTimeoutMs: opts.pongTimeoutMs,
      ping: () => ZEROCAP_WS.ping,
      onOpen: (link) => this.open(link),
      backoff: opts.backoff,
      stableAfterMs: opts.stableAfterMs,
      connectTimeoutMs: opts.connectTimeoutMs,
      logger: this.log,
    });
    this.socket.onMessage((text) => this.onFrame(text));
  }

  /** `{"type":"order","data":{…}}` pushes: the order object. */
  onOrder(listener: (data: Json) => void): void {
    this.orderListeners.push(listener);
  }

  /** `{"type":"trade","data":{…}}` pushes: the trade (camelCase). */
  onTrade(listener: (data: Json) => void): void {
    this.tradeListeners.push(listener);
  }

  onState(listener: (s: StreamState) => void): void {
    this.socket.onState(listener);
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  start(): Promise<void> {
    return this.socket.start();
  }

  stop(): Promise<void> {
    this.opening = undefined;
    return this.socket.stop();
  }

  /** Greeting, then both subscriptions acknowledged; a venue error fails the attempt. */
  private open(link: WsLink): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const pending = new Set(SUBSCRIPTIONS.map((s) => ZEROCAP_WS.subscribed(s.type)));
      let greeted = false;
      this.opening = (m) => {
        if (m.type === 'error') {
          const { code, message } = zerocapWsError(m);
          this.opening = undefined;
          reject(
            code === '401'
              ? new AuthenticationFailed(`Zerocap stream refused: ${code} ${message}`, code, message)
              : new Error(`Zerocap stream error while opening: ${code} ${message}`),
          );
          if (code === '401') this.opts.onAuthRefused?.().catch((err) => this.log.warn({ error: (err as Error)?.name }, 'zerocap clock resync after a refused upgrade failed'));
          return;
        }
        if (m.type !== 'message' || typeof m.message !== 'string') return;
        if (!greeted && m.message === ZEROCAP_WS.connected) {
          greeted = true;
          for (const s of SUBSCRIPTIONS) link.send(s);
          return;
        }
        pending.delete(m.message);
        if (greeted && pending.size === 0) {
          this.opening = undefined;
          resolve();
        }
      };
    });
  }

  private onFrame(text: string): void {
    let m: Json;
    try {
      const v = parseZerocapJson(text);
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return;
      m = v as Json;
    } catch {
      this.log.warn({ bytes: text.length }, 'zerocap stream frame is not JSON');
      return;
    }
    if (this.opening !== undefined && (m.type === 'message' || m.type === 'error')) {
      this.opening(m);
      return;
    }
    const data = m.data;
    if ((m.type === 'order' || m.type === 'trade') && typeof data === 'object' && data !== null) {
      const listeners = m.type === 'order' ? this.orderListeners : this.tradeListeners;
      for (const l of listeners) {
        try {
          l(data as Json);
        } catch (err) {
          this.log.error({ error: (err as Error)?.name, message: String((err as Error)?.message ?? '') }, 'zerocap stream listener threw');
        }
      }
      return;
    }
    if (m.type === 'error') {
      const { code, message } = zerocapWsError(m);
      this.log.warn({ code, text: message }, 'zerocap stream error message');
    }
    // pong and other messages: any frame already proved the link alive.
  }
}
