// Listens on every configured port and admits a connection to a session only after its first
// message is a valid Logon that names a configured session and passes authentication. A refused
// connection is closed without a byte sent (or, when its client certificate is not the session's,
// after a Logout with Text) and without touching any session's store; a bare TCP connect (a health
// probe) never reaches a session at all. On a TLS port (tls.ts) only completed handshakes get here.
import * as crypto from 'crypto';
import * as net from 'net';
import type { Logger } from 'pino';
import { FixFramer, FrameError } from './codec/fix-framer';
import { parseFrame } from './codec/fix-parser';
import { encodeFix, parseUtcTimestamp, utcTimestamp } from './codec/fix-encoder';
import { isAddressAllowed, isWithinSessionWindow } from './config/session-settings';
import { FixSession } from './fix-session';
import { LogonThrottle, normalizeAddress } from './logon-throttle';
import { MessageValidator } from './validation';
import { clientCertificateProblem, createFixListener, FixListener } from './tls';

/**
 * Why a connection was refused before its session took it, as a fixed set (a metric label: never
 * anything the client sent). The log line and the session's event log keep the precise reason.
 */
export const LOGON_REFUSAL_REASONS = [
  'throttled', // in the per-address back-off after too many refused logons: closed unread
  'logon_timeout', // no complete first message within LogonTimeout
  'bad_frame', // the first message is not a FIX frame (or too large before logon)
  'not_logon', // the first message is not a Logon
  'unknown_session', // no session for its CompIDs or BeginString
  'address_not_allowed', // AllowedRemoteAddresses
  'client_certificate', // TLS: no, unverified, or another session's certificate (CN pinning)
  'tls_handshake', // TLS: any other failed or timed-out handshake (e.g. a plain client on a TLS port)
  'password', // LogonPassword: wrong or missing RawData
  'invalid_logon', // fails validation, or MsgSeqNum / HeartBtInt unusable
  'sending_time', // SendingTime outside MaxLatency
  'outside_session_time', // outside the session's time window
  'already_logged_on', // the session has a live connection
] as const;
export type LogonRefusalReason = (typeof LOGON_REFUSAL_REASONS)[number];

/** What the acceptor tells an onlooker (the admin endpoint's metrics); the default does nothing. */
export interface AcceptorObserver {
  /** A connection to the listener on `port` was refused before logon. */
  logonRefused(port: number, reason: LogonRefusalReason): void;
}

export const NO_ACCEPTOR_OBSERVER: AcceptorObserver = { logonRefused: () => undefined };

const TCP_KEEPALIVE_IDLE_MS = 30_000;
/** How long a refused connection may take to read our Logout before it is closed. */
const REFUSAL_LINGER_MS = 2_000;
/** Largest frame read before a connection has logged on (a Logon is a few hundred bytes). */
export const LOGON_MAX_MESSAGE_SIZE = 16 * 1024;

export class FixAcceptor {
  private readonly listeners: FixListener[] = [];
  private readonly pendingSockets = new Set<net.Socket>();

  constructor(
    private readonly sessions: FixSession[],
    private readonly validators: Map<FixSession, MessageValidator | undefined>,
    private readonly logger: Logger,
    private readonly observer: AcceptorObserver = NO_ACCEPTOR_OBSERVER,
  ) {}

  /** Binds every distinct host:port. Resolves with the bound addresses (port 0 = ephemeral) and the ids of the sessions on each. */
  async start(): Promise<{ host: string; port: number; tls: boolean; sessions: string[] }[]> {
    const byEndpoint = new Map<string, FixSession[]>();
    for (const s of this.sessions) {
      const key = `${s.config.acceptHost}|${s.config.acceptPort}`;
      byEndpoint.set(key, [...(byEndpoint.get(key) ?? []), s]);
    }
    const bound: { host: string; port: number; tls: boolean; sessions: string[] }[] = [];
    for (const [key, sessions] of byEndpoint) {
      const [host, portText] = key.split('|');
      // LogonTimeout and the throttle are the port's (the settings check makes its sessions agree).
      const port = sessions[0].config;
      const throttle = new LogonThrottle({
        failureLimit: port.logonThrottle.failureLimit,
        windowMs: port.logonThrottle.windowSeconds * 1000,
        backoffMs: port.logonThrottle.backoffSeconds * 1000,
      });
      // The loader made every session on a port agree on its TLS settings.
      let boundPort = Number(portText); // the port bound, once listening (port 0 = ephemeral)
      const refused = (reason: LogonRefusalReason) => this.observer.logonRefused(boundPort, reason);
      const listener = createFixListener(sessions[0].config.tls, (socket) => this.onConnection(socket, sessions, throttle, refused), this.logger, refused);
      const server = listener.server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(Number(portText), host, () => resolve());
      });
      const addr = server.address() as net.AddressInfo;
      boundPort = addr.port;
      this.logger.info({ host, port: addr.port, tls: listener.tlsSummary ?? false, sessions: sessions.map((s) => s.sessionId) }, 'FIX acceptor listening');
      bound.push({ host, port: addr.port, tls: listener.tls, sessions: sessions.map((s) => s.sessionId) });
      this.listeners.push(listener);
    }
    return bound;
  }

  /**
   * Stops accepting connections at once. The returned promise resolves when the servers are fully
   * closed, which is only after the sessions' own connections have ended: shut the sessions down
   * before awaiting it.
   */
  stop(): Promise<void> {
    for (const s of this.pendingSockets) s.destroy();
    for (const l of this.listeners) l.destroyHandshaking();
    return Promise.all(this.listeners.map((l) => new Promise<void>((resolve) => l.server.close(() => resolve())))).then(() => undefined);
  }

  private onConnection(socket: net.Socket, sessions: FixSession[], throttle: LogonThrottle, refused: (reason: LogonRefusalReason) => void): void {
    const address = normalizeAddress(socket.remoteAddress);
    if (throttle.refuses(address, Date.now())) {
      socket.destroy(); // in a back-off after too many refused logons: closed unread, not logged
      refused('throttled');
      return;
    }
    socket.setNoDelay(true);
    // The kernel notices a peer that vanished without a FIN even when the session's own heartbeat
    // checks are slower (or the connection never logs on).
    socket.setKeepAlive(true, TCP_KEEPALIVE_IDLE_MS);
    this.pendingSockets.add(socket);
    const framer = new FixFramer(LOGON_MAX_MESSAGE_SIZE);
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    let decided = false;
    const refuse = (kind: LogonRefusalReason, reason: string, session?: FixSession, logoutText?: string, attempted = true) => {
      decided = true;
      this.pendingSockets.delete(socket);
      refused(kind);
      this.logger.warn({ remote, reason, session: session?.sessionId }, 'logon refused');
      session?.event(`Refused connection from ${remote}: ${reason}`);
      if (session && logoutText !== undefined) sendRefusalLogout(socket, session, logoutText);
      else socket.destroy();
      // A connection that sent no complete message made no logon attempt (LogonTimeout closes it).
      const backoff = attempted ? throttle.recordFailure(address, Date.now()) : undefined;
      if (backoff) {
        this.logger.warn(
          { address, refusedLogons: backoff.failures, windowSeconds: sessions[0].config.logonThrottle.windowSeconds, backoffSeconds: backoff.backoffMs / 1000 },
          'too many refused logons from this address: its connections are closed at once for the back-off',
        );
      }
    };
    const timer = setTimeout(() => refuse('logon_timeout', 'no Logon received in time', undefined, undefined, false), sessions[0].config.logonTimeoutSeconds * 1000);
    timer.unref();
    const onData = (chunk: Buffer) => {
      if (decided) return;
      let frames: string[];
      try {
        frames = framer.push(chunk.toString('latin1'));
      } catch (err) {
        clearTimeout(timer);
        refuse('bad_frame', err instanceof FrameError ? err.message : String(err));
        return;
      }
      if (frames.length === 0) return;
      clearTimeout(timer);
      socket.removeListener('data', onData);
      decided = true;
      this.pendingSockets.delete(socket);
      const problem = this.admit(socket, frames[0], frames.slice(1), framer, sessions);
      if (problem) refuse(problem.kind, problem.reason, problem.session, problem.logoutText);
    };
    socket.on('data', onData);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      this.pendingSockets.delete(socket);
    });
  }

  /** Returns why the connection is refused, or undefined after handing it to its session. */
  private admit(
    socket: net.Socket,
    raw: string,
    rest: string[],
    framer: FixFramer,
    sessions: FixSession[],
  ): { kind: LogonRefusalReason; reason: string; session?: FixSession; logoutText?: string } | undefined {
    const parsed = parseFrame(raw);
    if (!parsed.ok) return { kind: 'bad_frame', reason: `garbled first message (${parsed.reason})` };
    const msg = parsed.message;
    if (msg.msgType !== 'A') return { kind: 'not_logon', reason: `first message is not a Logon (35=${msg.msgType})` };
    const clientId = msg.get(49);
    const ourId = msg.get(56);
    const byIds = sessions.filter((s) => s.targetCompId === clientId && s.senderCompId === ourId);
    if (byIds.length === 0) return { kind: 'unknown_session', reason: `no session for SenderCompID=${clientId} TargetCompID=${ourId}` };
    const session = byIds.find((s) => s.config.beginString === msg.get(8));
    if (!session) return { kind: 'unknown_session', reason: `unexpected BeginString ${msg.get(8)}`, session: byIds[0] };
    if (!isAddressAllowed(session.config, socket.remoteAddress)) return { kind: 'address_not_allowed', reason: `address ${socket.remoteAddress} not allowed`, session };
    const certificate = clientCertificateProblem(socket, session.config);
    if (certificate) return { kind: 'client_certificate', reason: certificate, session, logoutText: `Logon refused: ${certificate}` };
    if (session.config.logonPassword !== undefined && !secretEquals(msg.get(96), session.config.logonPassword)) {
      return { kind: 'password', reason: 'wrong or missing password (RawData 96)', session };
    }
    const validator = this.validators.get(session);
    const invalid = validator?.validate(msg);
    if (invalid) return { kind: 'invalid_logon', reason: `invalid Logon: ${invalid.text}${invalid.refTagId !== undefined ? ` (${invalid.refTagId})` : ''}`, session };
    if (!/^\d+$/.test(msg.get(34) ?? '') || !/^\d+$/.test(msg.get(108) ?? '')) return { kind: 'invalid_logon', reason: 'invalid Logon: MsgSeqNum or HeartBtInt', session };
    // QuickFIX accepts 0 and then checks nothing; a half-open connection would then hold the
    // session for good. Refused like any other unacceptable Logon.
    if (Number(msg.get(108)) < 1) return { kind: 'invalid_logon', reason: 'invalid Logon: HeartBtInt 0 (heartbeats are required)', session };
    const sendingTime = parseUtcTimestamp(msg.get(52) ?? '');
    if (session.config.checkLatency && !(Math.abs(Date.now() - sendingTime) <= session.config.maxLatencySeconds * 1000)) {
      return { kind: 'sending_time', reason: `SendingTime ${msg.get(52)} outside MaxLatency`, session };
    }
    if (!isWithinSessionWindow(session.config, new Date())) return { kind: 'outside_session_time', reason: 'outside the session time window', session };
    if (session.connected) {
      const silentMs = session.silentPastHeartbeatMs(Date.now());
      if (silentMs === undefined) return { kind: 'already_logged_on', reason: 'session already logged on; the live connection is kept', session };
      this.logger.warn({ session: session.sessionId, remote: socket.remoteAddress, silentMs }, 'closing a silent (half-open) connection for a new Logon');
      session.dropSilentConnection(silentMs);
    }
    session.attach(socket, msg, rest, framer);
    return undefined;
  }
}

/**
 * A Logout with Text to a refused Logon, outside the session: its MsgSeqNum is the session's next
 * without consuming it, and nothing is stored, so the session's sequence numbers stay exactly as they
 * were for the client it belongs to. The connection closes once the Logout is written.
 */
function sendRefusalLogout(socket: net.Socket, session: FixSession, text: string): void {
  const raw = encodeFix(session.config.beginString, [
    { tag: 35, value: '5' },
    { tag: 34, value: String(session.nextSenderSeqNum()) },
    { tag: 49, value: session.senderCompId },
    { tag: 52, value: utcTimestamp() },
    { tag: 56, value: session.targetCompId },
    { tag: 58, value: text },
  ]);
  session.event(`Sent Logout to the refused connection: ${text}`);
  socket.end(raw, 'latin1');
  setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS).unref();
}

/** Constant-time comparison that does not leak the secret's length either. */
function secretEquals(given: string | undefined, expected: string): boolean {
  const a = crypto.createHash('sha256').update(given ?? '', 'latin1').digest();
  const b = crypto.createHash('sha256').update(expected, 'latin1').digest();
  return given !== undefined && crypto.timingSafeEqual(a, b);
}
