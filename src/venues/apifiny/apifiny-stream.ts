// Apifiny order-update stream (JWT era): `…/ac/ws/v2[/<EXCHANGE>]/order` with the HTTP header
// `signature: <JWT without digest>`, no subscribe message. The server sends `{"ping": n}` about
// every 30 s and wants `{"pong": n}` with the same integer (echoed digit for digit); we send no
// pings of our own and call a link silent for 65 s (two missed pings) dead. Every other frame is
// a push, one per order status change, handed on parsed with decimals exact.
// The link (back-off, reconnect, states, silence watch) is the common ReconnectingWebSocket; a
// fresh token is signed for every connect attempt.

import { BackoffOptions } from '../common/backoff';
import { ReconnectingWebSocket, WsLink } from '../common/reconnecting-websocket';
import type { StreamState } from '../venue';
import { apifinyExp, ApifinyCredentials, signApifinyStream } from './apifiny-auth';
import { APIFINY_DEFAULTS, APIFINY_HEADERS, APIFINY_STREAM } from './apifiny-constants';
import { parseApifinyJson } from './apifiny-mapping';
import { ApifinyLogger, silentApifinyLogger } from './apifiny-rest-client';

export interface ApifinyStreamOptions {
  wsUrl: string;
  credentials: ApifinyCredentials;
  jwtLifetimeSeconds?: number;
  /** Silence after which the link is dropped; default 65 s. */
  silenceTimeoutMs?: number;
  backoff?: BackoffOptions;
  stableAfterMs?: number;
  connectTimeoutMs?: number;
  logger?: ApifinyLogger;
  /** Clock for the token's exp, ms: the venue's time as the REST client measured it. */
  now?: () => number;
  /** The upgrade was refused (401): resynchronise the clock before the next attempt (exp may be stale by the venue's clock). */
  onAuthRefused?: () => Promise<void>;
}

const PING_FRAME = /^\s*\{\s*"ping"\s*:\s*(-?\d+)\s*\}\s*$/;

export class ApifinyStream {
  private readonly socket: ReconnectingWebSocket;
  private readonly listeners: ((frame: unknown) => void)[] = [];
  private readonly log: ApifinyLogger;

  constructor(private readonly opts: ApifinyStreamOptions) {
    this.log = opts.logger ?? silentApifinyLogger;
    const now = opts.now ?? Date.now;
    const silence = opts.silenceTimeoutMs ?? APIFINY_STREAM.silenceTimeoutMs;
    this.socket = new ReconnectingWebSocket({
      name: 'apifiny stream',
      target: () => ({
        url: opts.wsUrl,
        headers: { [APIFINY_HEADERS.signature]: signApifinyStream(opts.credentials, apifinyExp(now(), opts.jwtLifetimeSeconds ?? APIFINY_DEFAULTS.jwtLifetimeSeconds)) },
      }),
      // No client ping: the timer only watches for silence. It looks often, so that a link with
      // no frame for `silence` is dropped then, not up to a whole `silence` later.
      pingIntervalMs: Math.max(1, Math.floor(silence / 10)),
      pongTimeoutMs: silence,
      backoff: opts.backoff,
      stableAfterMs: opts.stableAfterMs,
      connectTimeoutMs: opts.connectTimeoutMs,
      onConnectFailure: (f) => {
        if (f.httpStatus === 401) opts.onAuthRefused?.().catch((err) => this.log.warn({ error: (err as Error)?.name }, 'apifiny clock resync after a refused upgrade failed'));
      },
      logger: this.log,
    });
    this.socket.onMessage((text, link) => this.onFrame(text, link));
  }

  /** Every push (parsed), pings excluded. */
  onPush(listener: (frame: unknown) => void): void {
    this.listeners.push(listener);
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
    return this.socket.stop();
  }

  private onFrame(text: string, link: WsLink): void {
    const ping = PING_FRAME.exec(text);
    if (ping) {
      link.send(`{"pong":${ping[1]}}`);
      return;
    }
    let frame: unknown;
    try {
      frame = parseApifinyJson(text);
    } catch {
      this.log.warn({ bytes: text.length }, 'apifiny stream frame is not JSON');
      return;
    }
    if (typeof frame === 'object' && frame !== null && 'pong' in frame) return;
    for (const l of this.listeners) {
      try {
        l(frame);
      } catch (err) {
        this.log.error({ error: (err as Error)?.name, message: String((err as Error)?.message ?? '') }, 'apifiny stream listener threw');
      }
    }
  }
}
