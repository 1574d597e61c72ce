// A venue-neutral WebSocket link that stays up: it connects (URL and headers built fresh per
// attempt, so a signed timestamp is never stale), runs the venue's opening step (subscribe, wait
// for the welcome), reports 'connected' only then, sends the venue's client ping every interval,
// drops a link that stays silent past the pong timeout (any frame counts as alive), and reconnects
// with back-off after every close, reporting 'disconnected' once per lost link.
//
// What stays in the venue's stream: what the ping looks like, answering server pings, the opening
// step, parsing frames, and venue state such as a listenKey (the hooks below).

import WebSocket from 'ws';
import type { StreamState } from '../venue';
import { Backoff, BackoffOptions } from './backoff';
import { StallTolerantTimeout, stallTolerantTimeout } from './stall-tolerant-timeout';

/** The logger methods used here; pino loggers satisfy it. */
export interface WsLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** The open link as the venue's hooks see it. */
export interface WsLink {
  /** Send text or an object as JSON; false when the link is not open. */
  send(data: string | object): boolean;
  /** Drop this link now (a reconnect follows while running). */
  drop(reason: string): void;
}

export interface WsTarget {
  url: string;
  headers?: Record<string, string>;
}

/** Why a connect attempt failed: `httpStatus` when the venue refused the upgrade. */
export interface WsConnectFailure {
  httpStatus?: number;
  error: Error;
}

export interface ReconnectingWebSocketOptions {
  /** For log messages, e.g. "zerocap stream". */
  name: string;
  /** URL and headers for one attempt; called before every connect (sign here). */
  target(): WsTarget | Promise<WsTarget>;
  /** Client ping period. */
  pingIntervalMs: number;
  /** The client ping to send every period; undefined sends nothing (the link is then watched only for silence). */
  ping?(): string | object | undefined;
  /** A link with no frame for this long after a ping is dead; default = pingIntervalMs. */
  pongTimeoutMs?: number;
  /**
   * After the socket opens, before 'connected': e.g. subscribe and await the acks. Frames go to
   * onMessage listeners meanwhile. Throwing (or exceeding connectTimeoutMs) fails the attempt.
   */
  onOpen?(link: WsLink): Promise<void> | void;
  /** Told about every failed attempt (HashKey takes a new listenKey after a 4xx). */
  onConnectFailure?(failure: WsConnectFailure): void;
  /** Reconnect delays; default 500 ms doubling to 30 s, half jittered. */
  backoff?: BackoffOptions;
  /** A link up this long resets the back-off; default 10 s. */
  stableAfterMs?: number;
  /** Handshake + onOpen deadline; default 10 s. */
  connectTimeoutMs?: number;
  logger?: WsLogger;
}

const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5 };
const noop = () => undefined;
const SILENT: WsLogger = { debug: noop, info: noop, warn: noop, error: noop };

export class ReconnectingWebSocket {
  private readonly messageListeners: ((text: string, link: WsLink) => void)[] = [];
  private readonly stateListeners: ((s: StreamState) => void)[] = [];
  private readonly log: WsLogger;
  private readonly backoff: Backoff;
  private readonly pongTimeoutMs: number;
  private readonly stableAfterMs: number;
  private readonly connectTimeoutMs: number;

  private running = false;
  private ws: WebSocket | undefined;
  private isConnected = false;
  private openedAt = 0;
  private awaitingPongSince: number | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  /** Fires pongTimeoutMs after the first unanswered ping unless a frame arrives first. */
  private pongDeadline: StallTolerantTimeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: ReconnectingWebSocketOptions) {
    this.log = opts.logger ?? SILENT;
    this.backoff = new Backoff(opts.backoff ?? DEFAULT_BACKOFF);
    this.pongTimeoutMs = opts.pongTimeoutMs ?? opts.pingIntervalMs;
    this.stableAfterMs = opts.stableAfterMs ?? 10_000;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
  }

  /** Every text frame (binary frames decoded as UTF-8), with the link it came on. */
  onMessage(listener: (text: string, link: WsLink) => void): void {
    this.messageListeners.push(listener);
  }

  onState(listener: (s: StreamState) => void): void {
    this.stateListeners.push(listener);
  }

  get connected(): boolean {
    return this.isConnected;
  }

  get reconnectAttempts(): number {
    return this.backoff.attempts;
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
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
    this.clearPongDeadline();
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
  }

  /** Send on the current link; false when there is none open. */
  send(data: string | object): boolean {
    return this.ws !== undefined && this.sendOn(this.ws, data);
  }

  /** Drop the current link (a reconnect follows while running). */
  drop(reason: string): void {
    if (this.ws === undefined) return;
    this.log.warn({ reason }, `${this.opts.name} dropping the connection`);
    this.ws.terminate();
  }

  // ------------------------------------------------------------------------------------ connection

  private async connect(): Promise<void> {
    const target = await this.opts.target();
    if (!this.running) return;
    const ws = new WebSocket(target.url, { perMessageDeflate: false, handshakeTimeout: this.connectTimeoutMs, headers: target.headers });
    this.ws = ws;
    const link = this.linkFor(ws);
    ws.on('message', (data) => this.onFrame(ws, link, data));
    let opening: Promise<void> | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        const onOpen = () => {
          ws.off('error', onError);
          // Started inside the 'open' event: frames that came with the upgrade reply (a greeting)
          // are dispatched right after it, and the opening step must already be listening.
          try {
            opening = this.opts.onOpen ? Promise.resolve(this.opts.onOpen(link)) : undefined;
          } catch (err) {
            opening = Promise.reject(err);
          }
          resolve();
        };
        const onError = (err: Error) => {
          ws.off('open', onOpen);
          const status = /Unexpected server response: (\d+)/.exec(err.message)?.[1];
          ws.terminate();
          const failure: WsConnectFailure = { error: err, ...(status ? { httpStatus: Number(status) } : {}) };
          this.opts.onConnectFailure?.(failure);
          reject(new Error(`${this.opts.name} connect failed: ${status ? 'HTTP ' + status : errName(err)}`));
        };
        ws.once('open', onOpen);
        ws.once('error', onError);
      });
      if (opening !== undefined) await this.withDeadline(ws, opening);
    } catch (err) {
      if (this.ws === ws) this.ws = undefined;
      ws.terminate();
      throw err;
    }
    if (!this.running || this.ws !== ws || ws.readyState !== WebSocket.OPEN) {
      if (this.ws === ws) this.ws = undefined;
      ws.terminate();
      if (this.running) throw new Error(`${this.opts.name} closed while opening`);
      return;
    }
    ws.on('error', (err) => this.log.warn({ error: errName(err) }, `${this.opts.name} error`));
    ws.on('close', (code) => this.onClose(ws, code));
    this.openedAt = Date.now();
    this.clearPongDeadline();
    this.pingTimer = setInterval(() => this.pingTick(ws), this.opts.pingIntervalMs);
    this.isConnected = true;
    this.log.info({}, `${this.opts.name} connected`);
    this.emitState('connected');
  }

  /** onOpen must finish within connectTimeoutMs and before the socket closes. */
  private withDeadline(ws: WebSocket, step: Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`${this.opts.name} opening step timed out`)), this.connectTimeoutMs);
      const onClose = () => done(new Error(`${this.opts.name} closed while opening`));
      const done = (err?: Error) => {
        clearTimeout(timer);
        ws.off('close', onClose);
        if (err) reject(err);
        else resolve();
      };
      ws.once('close', onClose);
      step.then(() => done(), (err: unknown) => done(err instanceof Error ? err : new Error(String(err))));
    });
  }

  private onClose(ws: WebSocket, code: number): void {
    if (this.ws !== ws) return;
    this.ws = undefined;
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
    this.clearPongDeadline();
    if (Date.now() - this.openedAt >= this.stableAfterMs) this.backoff.reset();
    if (this.isConnected) {
      this.isConnected = false;
      this.log.warn({ code }, `${this.opts.name} disconnected`);
      this.emitState('disconnected');
    }
    if (this.running) this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (!this.running || this.reconnectTimer) return;
    const delay = this.backoff.next();
    this.log.info({ delayMs: delay, attempt: this.backoff.attempts }, `${this.opts.name} reconnecting`);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.running) return;
      this.connect().catch((err) => {
        this.log.warn({ error: errName(err), message: String((err as Error)?.message ?? '') }, `${this.opts.name} reconnect failed`);
        this.scheduleReconnect();
      });
    }, delay);
  }

  // --------------------------------------------------------------------------------- heartbeats

  private pingTick(ws: WebSocket): void {
    // The deadline is a timer of its own: checked only on the next tick, a deadline missed by a
    // millisecond (timers and Date.now() disagree) waits a whole interval more, and a frame in
    // that interval revives a link that was silent past the timeout. Stall-tolerant: time this
    // process could not run (a saturated machine) is not the peer's silence.
    if (this.awaitingPongSince === undefined) {
      this.awaitingPongSince = Date.now();
      this.pongDeadline = stallTolerantTimeout(() => {
        if (this.ws !== ws || this.awaitingPongSince === undefined) return;
        this.log.warn({ silentMs: Date.now() - this.awaitingPongSince }, `${this.opts.name} missed pong: dropping the connection`);
        ws.terminate();
      }, this.pongTimeoutMs);
    }
    const ping = this.opts.ping?.();
    if (ping !== undefined) this.sendOn(ws, ping);
  }

  private clearPongDeadline(): void {
    this.pongDeadline?.clear();
    this.pongDeadline = undefined;
    this.awaitingPongSince = undefined;
  }

  // ------------------------------------------------------------------------------------- frames

  private onFrame(ws: WebSocket, link: WsLink, data: WebSocket.RawData): void {
    if (this.ws !== ws) return;
    this.clearPongDeadline(); // any frame proves the link is alive
    const text = rawToString(data);
    for (const l of this.messageListeners) {
      try {
        l(text, link);
      } catch (err) {
        this.log.error({ error: errName(err), message: String((err as Error)?.message ?? '') }, `${this.opts.name} listener threw`);
      }
    }
  }

  private linkFor(ws: WebSocket): WsLink {
    return {
      send: (data) => this.sendOn(ws, data),
      drop: (reason) => {
        if (ws.readyState === WebSocket.CLOSED) return;
        this.log.warn({ reason }, `${this.opts.name} dropping the connection`);
        ws.terminate();
      },
    };
  }

  private sendOn(ws: WebSocket, data: string | object): boolean {
    if (ws.readyState !== WebSocket.OPEN) return false;
    ws.send(typeof data === 'string' ? data : JSON.stringify(data), (err) => {
      if (err) this.log.debug({ error: errName(err) }, `${this.opts.name} send failed`);
    });
    return true;
  }

  private emitState(state: StreamState): void {
    for (const l of this.stateListeners) {
      try {
        l(state);
      } catch (err) {
        this.log.error({ error: errName(err) }, `${this.opts.name} state listener threw`);
      }
    }
  }
}

function rawToString(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

function errName(err: unknown): string {
  return (err as { name?: string; code?: string })?.code ?? (err as Error)?.name ?? 'Error';
}
