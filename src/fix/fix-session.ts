// One FIX 4.2 session (acceptor side): the only place that knows sequence numbers. It follows the
// FIX 4.2 session rules as QuickFIX implements them, step for step where a QuickFIX peer can tell
// the difference (which check comes first, when the target seqnum advances, which Text is sent).
//
// Inbound frames are processed by the session strictly one after another (a resend reads the store
// asynchronously; later frames wait). Application messages are handed to the application in
// sequence order, each before the next frame is looked at, but the session does not wait for the
// application to finish one before handing over the next: fromApp's promise (the application has
// durably taken the message) only gates persisting the next expected seqnum (target-seqnum-
// persistence.ts). Consecutive orders thus pipeline and share fsyncs; ordering per order is the
// application's to keep, and it can, as it sees every message in order and synchronously.
// Outbound messages are durably stored before they are written, through one ordered out-queue, so
// the wire order is the order in which messages were produced.
import type { Socket } from 'net';
import type { Logger } from 'pino';
import { FixApplication, SessionHandle, UnsupportedMessageType } from './application';
import { FixFramer, FrameError } from './codec/fix-framer';
import { parseFrame } from './codec/fix-parser';
import { encodeFix, encodeFixAfter, parseUtcTimestamp, utcTimestamp } from './codec/fix-encoder';
import { isWithinSessionWindow, SessionConfig, sessionPeriodStart } from './config/session-settings';
import { FixField, FixMessage, OutboundMessage, isAdmin } from './message';
import { MessageStore, StoredMessage } from './store/message-store';
import { DeliveryMark } from './store/delivery-mark';
import { UndeliveredJournal } from './store/undelivered-journal';
import { SessionLog } from './session-log';
import { NO_SESSION_OBSERVER, SessionObserver, SessionStatus } from './session-observer';
import { TargetSeqNumPersistence } from './target-seqnum-persistence';
import { MessageValidator, RejectReason, SessionReject } from './validation';
import { orderTrace, Stage } from '../common/order-trace';

/** Routing fields and their counterparts, reversed on session Rejects. */
const REVERSE_ROUTE: ReadonlyArray<[number, number]> = [
  [115, 128], [116, 129], [144, 145], [128, 115], [129, 116], [145, 144],
];

const LOGOUT_TIMEOUT_MS = 2000;
const TIMER_TICK_MS = 200;
/** Stored messages read from the store at a time (resend, undelivered messages before a reset). */
export const STORE_READ_CHUNK = 1000;
/** Silence beyond HeartBtInt after which a connection counts as dead when a new Logon arrives. */
const SILENCE_GRACE_MIN_MS = 1000;

export interface FixSessionDeps {
  config: SessionConfig;
  store: MessageStore;
  log: SessionLog;
  /** Absent when UseDataDictionary=N. */
  validator?: MessageValidator;
  /** Header tags of the dictionary (to rebuild resent messages). */
  headerTags: ReadonlySet<number>;
  app: FixApplication;
  logger: Logger;
  /** Highest outbound seqnum proven delivered (sidecar of the store); absent = nothing is ever proven. */
  deliveryMark?: DeliveryMark;
  /**
   * Where a sequence reset keeps what it owes the client until the application's re-sends are
   * stored (sidecar of the store); absent = in memory only (lost by a crash in between).
   */
  undeliveredJournal?: UndeliveredJournal;
  /** Counts traffic for the admin endpoint; absent = nobody watches. */
  observer?: SessionObserver;
}

interface OutItem {
  raw: string;
  ready: boolean;
  /** Its store append failed: it is never written. */
  dropped?: boolean;
}

export class FixSession implements SessionHandle {
  readonly sessionId: string;
  readonly senderCompId: string;
  readonly targetCompId: string;
  readonly config: SessionConfig;

  private readonly store: MessageStore;
  private readonly log: SessionLog;
  private readonly validator?: MessageValidator;
  private readonly headerTags: ReadonlySet<number>;
  private readonly app: FixApplication;
  private readonly logger: Logger;
  private readonly deliveryMark?: DeliveryMark;
  private readonly owedJournal?: UndeliveredJournal;
  private readonly observer: SessionObserver;

  private nextSender = 1;
  private nextTarget = 1;

  // connection state
  private socket?: Socket;
  private framer?: FixFramer;
  private isLoggedOn = false;
  private logoutSentAt = 0;
  private heartBtIntMs = 0;
  private lastSentAt = 0;
  private lastReceivedAt = 0;
  private testRequests = 0;
  private resendRange?: { begin: number; end: number };
  private readonly queued = new Map<number, FixMessage>();
  private timer?: NodeJS.Timeout;
  /** TestReqID -> MsgSeqNum of the first TestRequest we sent with it and have no answer to. */
  private readonly testRequestSeqs = new Map<string, number>();
  private logoutSeq = 0;

  // Sequence resets (only for an application with onSequenceReset): the application messages of the
  // old sequence(s) not proven delivered, owed to the application until its re-sends are stored.
  private owed?: StoredMessage[];
  /** A reset at Logon hands them over right after our Logon reply. */
  private handOverAtLogon = false;
  private handingOver?: Promise<void>;
  /** A Logout was received on this connection (ResetOnLogout resets once it is closed). */
  private logoutReceived = false;

  // inbound processing
  private inbox: string[] = [];
  private inboxHead = 0;
  private processing = false;
  private awaitingLogon = false;
  /** ResetOnDisconnect in progress (set when the previous connection ended). */
  private disconnectReset?: Promise<void>;

  // outbound ordering
  private out: OutItem[] = [];
  private outHead = 0;
  /**
   * New messages (new seqnums) sent while a ResendRequest is being answered: they go on the wire
   * after the resent ones, so the client sees MsgSeqNums in order.
   */
  private heldDuringResend: Array<{ raw: string; durable: Promise<void> }> | undefined;
  private resendSocket?: Socket;
  private closeWhenFlushed = false;
  private flushScheduled = false;

  /** Persistence of the next expected seqnum, after the application accepted the messages before it. */
  private targetPersistence: TargetSeqNumPersistence;

  constructor(deps: FixSessionDeps) {
    this.config = deps.config;
    this.sessionId = deps.config.sessionId;
    this.senderCompId = deps.config.senderCompId;
    this.targetCompId = deps.config.targetCompId;
    this.store = deps.store;
    this.log = deps.log;
    this.validator = deps.validator;
    this.headerTags = deps.headerTags;
    this.app = deps.app;
    this.logger = deps.logger.child({ session: this.sessionId });
    this.deliveryMark = deps.deliveryMark;
    this.owedJournal = deps.undeliveredJournal;
    this.observer = deps.observer ?? NO_SESSION_OBSERVER;
    this.targetPersistence = this.newTargetPersistence(1);
  }

  private newTargetPersistence(initial: number): TargetSeqNumPersistence {
    return new TargetSeqNumPersistence(this.store, initial, (err) => this.logger.error({ err }, 'failed to persist target seqnum'));
  }

  async open(): Promise<void> {
    await this.store.open();
    this.deliveryMark?.load();
    this.nextSender = this.store.nextSenderSeqNum();
    this.nextTarget = this.store.nextTargetSeqNum();
    this.targetPersistence = this.newTargetPersistence(this.nextTarget);
    this.event(`Created session; next sender ${this.nextSender}, next target ${this.nextTarget}`);
    await this.app.onCreate?.(this);
    await this.resumeOwedHandOver();
  }

  // ---------------------------------------------------------------------------------- SessionHandle

  get loggedOn(): boolean {
    return this.isLoggedOn;
  }

  get connected(): boolean {
    return this.socket !== undefined;
  }

  sequenceId(): number {
    return this.store.creationTime();
  }

  nextSenderSeqNum(): number {
    return this.nextSender;
  }

  nextTargetSeqNum(): number {
    return this.nextTarget;
  }

  send(msg: OutboundMessage): Promise<number> {
    const { seq, durable } = this.sendMessage(msg.msgType, msg.body, msg.header);
    return durable.then(() => seq);
  }

  sentMessages(begin: number, end: number): Promise<StoredMessage[]> {
    return this.store.getSent(begin, end);
  }

  event(text: string): void {
    this.log.event(text);
  }

  /** For the status page. */
  status(): SessionStatus {
    const s = this.socket;
    return {
      loggedOn: this.isLoggedOn,
      remote: s ? `${s.remoteAddress}:${s.remotePort}` : undefined,
      nextSenderSeqNum: this.nextSender,
      nextTargetSeqNum: this.nextTarget,
      lastReceivedAt: this.lastReceivedAt,
      lastSentAt: this.lastSentAt,
    };
  }

  // ---------------------------------------------------------------------------------- connection

  /**
   * Take over a connection whose first message is an authenticated Logon for this session
   * (the acceptor checked CompIDs, password, address, SendingTime and that we are not logged on).
   */
  attach(socket: Socket, logon: FixMessage, pending: string[], framer: FixFramer): void {
    this.socket = socket;
    this.framer = framer;
    this.closeWhenFlushed = false;
    this.out = [];
    this.outHead = 0;
    this.inbox = [logon.raw, ...pending];
    this.awaitingLogon = true;
    this.inboxHead = 0;
    this.lastReceivedAt = this.lastSentAt = Date.now();
    this.testRequests = 0;
    this.logoutSentAt = 0;
    this.logoutReceived = false;
    socket.on('data', (chunk: Buffer) => this.onData(socket, chunk));
    socket.on('close', () => this.onClose(socket));
    socket.on('error', (err) => this.event(`Socket error: ${err.message}`));
    this.event(`Accepted connection from ${socket.remoteAddress}:${socket.remotePort}`);
    this.pump();
  }

  /**
   * How long (ms) the current connection has been silent beyond HeartBtInt + grace, or undefined
   * while it is alive. A peer that is still there sends something at least every HeartBtInt.
   */
  silentPastHeartbeatMs(now: number): number | undefined {
    if (!this.socket || !this.isLoggedOn || this.heartBtIntMs <= 0) return undefined;
    const silent = now - this.lastReceivedAt;
    return silent > this.heartBtIntMs + Math.max(SILENCE_GRACE_MIN_MS, this.heartBtIntMs / 5) ? silent : undefined;
  }

  /** Close a connection found dead (silentPastHeartbeatMs) so that a new Logon can take over. */
  dropSilentConnection(silentMs: number): void {
    const socket = this.socket;
    if (!socket) return;
    this.event(`Closing silent connection (nothing received for ${silentMs} ms, HeartBtInt ${this.heartBtIntMs / 1000} s): new Logon`);
    this.resetConnectionState();
    socket.destroy();
  }

  /** Graceful stop: Logout to a logged-on client, wait briefly for its reply, flush the store. */
  async shutdown(): Promise<void> {
    const socket = this.socket;
    if (socket && this.isLoggedOn && this.logoutSentAt === 0) {
      this.sendLogout('Gateway shutting down');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, LOGOUT_TIMEOUT_MS);
        socket.once('close', () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    this.disconnect('shutdown');
    await this.handingOver;
    await this.owedJournal?.close();
    await this.targetPersistence.flush();
    await this.deliveryMark?.flush();
    await this.app.close?.();
    await this.store.close();
    await this.log.close();
  }

  private onData(socket: Socket, chunk: Buffer): void {
    if (socket !== this.socket || !this.framer) return;
    orderTrace?.bytesIn();
    let frames: string[];
    try {
      frames = this.framer.push(chunk.toString('latin1'));
    } catch (err) {
      if (err instanceof FrameError) {
        this.event(`Disconnecting: ${err.message}`);
        this.disconnect(err.message);
        return;
      }
      throw err;
    }
    // Any frame proves the peer is there, even one the session then ignores or rejects.
    if (frames.length) this.lastReceivedAt = Date.now();
    for (const f of frames) this.inbox.push(f);
    this.pump();
  }

  private onClose(socket: Socket): void {
    if (socket !== this.socket) return;
    this.event('Disconnected');
    this.resetConnectionState();
  }

  private disconnect(reason: string): void {
    const socket = this.socket;
    if (!socket) return;
    this.event(`Disconnecting: ${reason}`);
    this.resetConnectionState();
    socket.end();
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  /** Close once everything queued for the wire has been written (a Logout must reach the peer). */
  private disconnectAfterFlush(reason: string): void {
    if (this.outHead >= this.out.length) this.disconnect(reason);
    else {
      this.closeWhenFlushed = true;
      this.event(`Will disconnect once flushed: ${reason}`);
    }
  }

  private resetConnectionState(): void {
    const wasLoggedOn = this.isLoggedOn;
    this.socket = undefined;
    this.framer = undefined;
    this.isLoggedOn = false;
    this.logoutSentAt = 0;
    this.resendRange = undefined;
    this.queued.clear();
    this.testRequestSeqs.clear();
    this.inbox = [];
    this.inboxHead = 0;
    this.out = [];
    this.outHead = 0;
    this.closeWhenFlushed = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const logoutReceived = this.logoutReceived;
    this.logoutReceived = false;
    if (wasLoggedOn) {
      this.app.onLogout?.(this);
      // ResetOnLogout too resets once the connection is closed: no reset sequence can then reach the
      // old connection's wire, and the next Logon waits for it like for ResetOnDisconnect.
      const why = this.config.resetOnDisconnect ? 'ResetOnDisconnect' : this.config.resetOnLogout && logoutReceived ? 'ResetOnLogout' : undefined;
      if (why) {
        // A new connection's Logon waits for this reset (a quick reconnect must not race it).
        const resetting: Promise<void> = this.resetSequences(why, 'now')
          .catch((err) => this.logger.error({ err }, 'sequence reset failed'))
          .finally(() => {
            if (this.disconnectReset === resetting) this.disconnectReset = undefined;
          });
        this.disconnectReset = resetting;
      }
    }
  }

  // ---------------------------------------------------------------------------------- inbound

  private pump(): void {
    if (this.processing) return;
    this.processing = true;
    while (this.inboxHead < this.inbox.length) {
      const frame = this.inbox[this.inboxHead++];
      let r: Promise<void> | void;
      try {
        r = this.handleFrame(frame);
      } catch (err) {
        this.fatal(err);
        return;
      }
      if (r) {
        r.then(
          () => {
            this.processing = false;
            this.pump();
          },
          (err) => this.fatal(err),
        );
        return;
      }
    }
    this.inbox = [];
    this.inboxHead = 0;
    this.processing = false;
  }

  private fatal(err: unknown): void {
    this.processing = false;
    this.logger.error({ err }, 'session error');
    this.event(`Error: ${(err as Error)?.message ?? String(err)}`);
    this.disconnect('internal error');
  }

  private handleFrame(raw: string): Promise<void> | void {
    if (!this.socket) return;
    this.log.incoming(raw);
    const parsed = parseFrame(raw);
    if (!parsed.ok) {
      this.event(`Garbled message ignored (${parsed.reason})`);
      return;
    }
    const msg = parsed.message;
    this.observer.received(msg.msgType);
    if (this.awaitingLogon) {
      this.awaitingLogon = false;
      if (this.disconnectReset) return this.disconnectReset.then(() => this.onLogon(msg));
      return this.onLogon(msg);
    }
    if (!this.isLoggedOn) {
      this.event(`Ignored ${msg.msgType} received while not logged on`);
      return;
    }
    return this.process(msg);
  }

  private process(msg: FixMessage): Promise<void> | void {
    const msgType = msg.msgType;
    if (!msg.has(49) || !msg.has(56)) {
      // QuickFIX: a missing CompID is a missing required field.
      this.sendReject(msg, new SessionReject(RejectReason.RequiredTagMissing, msg.has(49) ? 56 : 49));
      return;
    }
    if (msg.get(8) !== this.config.beginString) {
      if (msgType === '5') return this.onLogout(msg);
      this.sendLogout('Incorrect BeginString');
      this.advanceTarget(); // consumed, as QuickFIX does, and persisted like every other advance
      return;
    }
    if (this.validator) {
      const problem = this.validator.validate(msg);
      if (problem) {
        this.sendReject(msg, problem);
        return;
      }
    }
    // Without a dictionary nothing else guarantees a usable MsgSeqNum (a missing one would be NaN
    // and pass every sequence check): answer as the dictionary would, consuming no seqnum.
    const seqText = msg.get(34);
    if (seqText === undefined || !/^\d+$/.test(seqText)) {
      const reason = seqText === undefined ? RejectReason.RequiredTagMissing : RejectReason.IncorrectDataFormat;
      this.sendReject(msg, new SessionReject(reason, 34));
      return;
    }
    switch (msgType) {
      case '0':
        if (this.verify(msg, true, true)) {
          this.onHeartbeat(msg);
          this.advanceTarget();
        }
        break;
      case '1':
        if (this.verify(msg, true, true)) {
          this.sendMessage('0', [{ tag: 112, value: msg.get(112) ?? '' }]);
          this.advanceTarget();
        }
        break;
      case '2':
        return this.onResendRequest(msg);
      case '3':
        if (this.verify(msg, true, true)) this.advanceTarget();
        break;
      case '4':
        this.onSequenceReset(msg);
        break;
      case '5':
        return this.onLogout(msg);
      case 'A':
        this.event('Logon received while logged on; ignored');
        if (this.verify(msg, true, true)) this.advanceTarget();
        break;
      default:
        this.onApplicationMessage(msg);
    }
    this.processQueued();
  }

  private onLogon(logon: FixMessage): Promise<void> | void {
    const reset = logon.get(141) === 'Y';
    const proceed = () => {
      if (logon.seqNum < this.nextTarget) {
        this.sendLogout(`MsgSeqNum too low, expecting ${this.nextTarget} but received ${logon.seqNum}`);
        this.disconnectAfterFlush('Logon MsgSeqNum too low');
        return;
      }
      this.heartBtIntMs = Number(logon.get(108) ?? this.config.heartBtInt) * 1000;
      this.event(`Received logon${reset ? ' with ResetSeqNumFlag=Y' : ''}`);
      const body: FixField[] = [
        { tag: 98, value: '0' },
        { tag: 108, value: logon.get(108) ?? String(this.config.heartBtInt) },
      ];
      if (reset) body.push({ tag: 141, value: 'Y' });
      this.isLoggedOn = true;
      this.sendMessage('A', body);
      this.event('Responding to logon request');
      this.lastReceivedAt = Date.now();
      this.timer = setInterval(() => this.onTimer(), TIMER_TICK_MS);
      this.timer.unref();
      if (logon.seqNum > this.nextTarget && !reset) this.doTargetTooHigh(logon);
      else {
        this.advanceTarget();
        this.processQueued();
      }
      this.app.onLogon?.(this);
      if (this.handOverAtLogon) this.handOver(this.owed ?? []);
    };
    const periodStart = sessionPeriodStart(this.config, new Date());
    const newPeriod = periodStart !== undefined && this.store.creationTime() < periodStart;
    if (reset || this.config.resetOnLogon || newPeriod) {
      const why = reset ? 'ResetSeqNumFlag=Y' : this.config.resetOnLogon ? 'ResetOnLogon' : 'new session period (StartTime)';
      return this.resetSequences(why, 'after our Logon reply').then(proceed);
    }
    proceed();
  }

  private onLogout(msg: FixMessage): void {
    if (!this.verify(msg, false, false)) return;
    if (this.logoutSentAt === 0) {
      this.event('Received logout request');
      this.sendLogout();
      this.event('Sending logout response');
    } else {
      this.event('Received logout response');
      this.markDelivered(this.logoutSeq); // the client read up to our Logout
    }
    this.nextTarget++;
    this.targetPersistence.request(this.nextTarget);
    this.logoutReceived = true; // ResetOnLogout: reset once the connection is closed
    this.disconnectAfterFlush('logout');
  }

  private onSequenceReset(msg: FixMessage): void {
    const gapFill = msg.get(123) === 'Y';
    if (!this.verify(msg, gapFill, gapFill)) return;
    const newSeqNo = Number(msg.get(36));
    if (!Number.isFinite(newSeqNo)) return;
    this.event(`Received SequenceReset from ${msg.seqNum} to ${newSeqNo}`);
    if (newSeqNo > this.nextTarget) {
      this.nextTarget = newSeqNo;
      this.targetPersistence.request(newSeqNo);
    } else if (newSeqNo < this.nextTarget) {
      this.sendReject(msg, new SessionReject(RejectReason.ValueOutOfRange, undefined));
    }
  }

  private async onResendRequest(msg: FixMessage): Promise<void> {
    if (!this.verify(msg, false, false)) return;
    const begin = Number(msg.get(7));
    if (!(begin >= 1)) {
      // No message has MsgSeqNum 0: answering would mean a SequenceReset with 34=0.
      this.sendReject(msg, new SessionReject(RejectReason.ValueOutOfRange, 7));
      this.processQueued();
      return;
    }
    // The client asks from its next expected seqnum: it has everything before.
    this.markDelivered(Math.min(begin - 1, this.nextSender - 1));
    let end = Number(msg.get(16));
    const last = this.nextSender - 1;
    if (end === 0 || end > last) end = last;
    this.event(`Received ResendRequest FROM: ${begin} TO: ${msg.get(16)}`);
    const socket = this.socket;
    this.heldDuringResend = [];
    this.resendSocket = socket;
    try {
      if (!(await this.writeResend(begin, end, socket))) return;
    } finally {
      // Whatever was sent meanwhile follows the resend (dropped with a connection that is gone:
      // it is stored, and the client asks for it after its next Logon).
      const held = this.heldDuringResend;
      this.heldDuringResend = undefined;
      this.resendSocket = undefined;
      if (this.socket === socket) for (const h of held) this.enqueue(h.raw, h.durable);
    }
    const seq = msg.seqNum;
    if (seq === this.nextTarget) this.advanceTarget();
    this.processQueued();
  }

  /** Writes the stored messages begin..end (gap-filling what is not stored); false if the connection went away. */
  private async writeResend(begin: number, end: number, socket: Socket | undefined): Promise<boolean> {
    // In chunks, each written before the next is read (and the socket drained when it backs up), so
    // memory stays bounded whatever the range; a run of missing messages spans chunks as one GapFill.
    let gapStart = begin;
    let sentAny = false;
    for (let from = begin; from <= end; from += STORE_READ_CHUNK) {
      const stored = await this.store.getSent(from, Math.min(end, from + STORE_READ_CHUNK - 1));
      if (this.socket !== socket || !socket) return false;
      for (const m of stored) {
        if (m.seqNum > gapStart) {
          this.sendGapFill(gapStart, m.seqNum);
          sentAny = true;
        }
        this.resendStored(m);
        sentAny = true;
        gapStart = m.seqNum + 1;
      }
      if (socket.writableNeedDrain) await drained(socket);
      if (this.socket !== socket) return false;
    }
    if (gapStart <= end) {
      this.sendGapFill(gapStart, end + 1);
      sentAny = true;
    }
    if (!sentAny) this.sendGapFill(begin, Math.max(begin, this.nextSender));
    return true;
  }

  private onApplicationMessage(msg: FixMessage): void {
    if (!this.verify(msg, true, true)) return;
    let accepted: Promise<void> | void;
    orderTrace?.validated(msg.msgType, msg.get(11));
    try {
      accepted = this.app.fromApp(msg, this);
    } catch (err) {
      if (err instanceof UnsupportedMessageType) {
        this.sendBusinessReject(msg, 3, 'Unsupported Message Type');
      } else {
        this.logger.error({ err }, 'application error');
        this.sendBusinessReject(msg, 0, `Application error: ${(err as Error).message}`);
      }
      accepted = undefined;
    }
    if (accepted) accepted.catch((err) => this.logger.error({ err }, 'application failed to accept message'));
    this.advanceTarget(accepted);
  }

  /** QuickFIX's Session::verify: latency, CompIDs, sequence; false when the message must not be processed further. */
  private verify(msg: FixMessage, checkTooHigh: boolean, checkTooLow: boolean): boolean {
    const sendingTime = parseUtcTimestamp(msg.get(52) ?? '');
    if (this.config.checkLatency && !(Math.abs(Date.now() - sendingTime) <= this.config.maxLatencySeconds * 1000)) {
      this.sendReject(msg, new SessionReject(RejectReason.SendingTimeAccuracy, undefined));
      this.sendLogout();
      return false;
    }
    if (msg.get(49) !== this.targetCompId || msg.get(56) !== this.senderCompId) {
      this.sendReject(msg, new SessionReject(RejectReason.CompIdProblem, undefined));
      this.sendLogout();
      return false;
    }
    const seq = msg.seqNum;
    if (checkTooHigh && seq > this.nextTarget) {
      this.doTargetTooHigh(msg);
      return false;
    }
    if (checkTooLow && seq < this.nextTarget) {
      if (!msg.possDup) {
        const text = `MsgSeqNum too low, expecting ${this.nextTarget} but received ${seq}`;
        this.event(text);
        this.sendLogout(text);
        this.disconnectAfterFlush(text);
        return false;
      }
      if (msg.msgType !== '4') {
        const orig = msg.get(122);
        if (orig === undefined) this.sendReject(msg, new SessionReject(RejectReason.RequiredTagMissing, 122));
        else if (parseUtcTimestamp(orig) > sendingTime) {
          this.sendReject(msg, new SessionReject(RejectReason.SendingTimeAccuracy, undefined));
          this.sendLogout();
        }
      }
      return false;
    }
    if ((checkTooHigh || checkTooLow) && this.resendRange && seq >= this.resendRange.end) {
      this.event(`ResendRequest for messages FROM: ${this.resendRange.begin} TO: ${this.resendRange.end} has been satisfied.`);
      this.resendRange = undefined;
    }
    this.lastReceivedAt = Date.now();
    this.testRequests = 0;
    return true;
  }

  private doTargetTooHigh(msg: FixMessage): void {
    const seq = msg.seqNum;
    this.event(`MsgSeqNum too high, expecting ${this.nextTarget} but received ${seq}`);
    this.queued.set(seq, msg);
    if (this.resendRange && seq >= this.resendRange.begin) {
      this.event(`Already sent ResendRequest FROM: ${this.resendRange.begin} TO: ${this.resendRange.end}. Not sending another.`);
      return;
    }
    this.resendRange = { begin: this.nextTarget, end: seq - 1 };
    this.sendMessage('2', [
      { tag: 7, value: String(this.nextTarget) },
      { tag: 16, value: '0' },
    ]);
    this.event(`Sent ResendRequest FROM: ${this.nextTarget} TO: infinity`);
  }

  /** Process queued messages that are now in sequence (QuickFIX nextQueued). */
  private processQueued(): void {
    for (;;) {
      const msg = this.queued.get(this.nextTarget);
      if (!msg || !this.socket) return;
      this.queued.delete(this.nextTarget);
      this.event(`Processing queued message: ${this.nextTarget}`);
      const t = msg.msgType;
      if (t === 'A' || t === '2') this.advanceTarget();
      else {
        const r = this.process(msg);
        // process() of a queued ResendRequest/Logout is synchronous enough for our purpose
        if (r) r.catch((err) => this.fatal(err));
      }
    }
  }

  // ---------------------------------------------------------------------------------- sequence persistence

  private advanceTarget(accepted?: Promise<void> | void): void {
    this.nextTarget++;
    this.targetPersistence.request(this.nextTarget, accepted);
  }

  /**
   * Resets both sequences. With an application that takes them (onSequenceReset), the old sequence's
   * application messages not proven delivered are first written to the undelivered journal, and
   * handed to the application right after the wipe (`now`: stored for the next connection, before
   * any report of the new sequence) or right after our Logon reply; the journal goes once the
   * application's re-sends are stored (handOver). A crash in between hands them over at start-up.
   */
  private async resetSequences(why: string, handOver: 'now' | 'after our Logon reply'): Promise<void> {
    await this.targetPersistence.beginReset();
    if (this.app.onSequenceReset) {
      await this.handingOver; // an earlier hand-over's re-sends belong to the sequence being reset
      const earlier = this.owed; // a hand-over not done (or failed): still owed
      const owed = earlier ? [...earlier] : [];
      const from = (this.deliveryMark?.deliveredThrough(this.store.creationTime()) ?? 0) + 1;
      let next = from;
      let written = false;
      // Until nothing was sent meanwhile: then the wipe below follows without a gap in which a
      // message could be sent to the old sequence and lost with it.
      for (;;) {
        const last = this.nextSender - 1;
        const found = await this.applicationMessages(next, last);
        owed.push(...found);
        next = last + 1;
        if (this.owedJournal) {
          if (written) await this.owedJournal.append(found);
          else await this.owedJournal.write(earlier ? 0 : this.store.creationTime(), owed);
          written = true;
        }
        if (this.nextSender - 1 === last) break;
      }
      this.owed = owed;
      this.handOverAtLogon = true;
      this.event(`Sequence reset: ${owed.length - (earlier?.length ?? 0)} application messages after ${from - 1} not proven delivered, kept for the application${earlier ? ` (with ${earlier.length} still owed)` : ''}`);
    }
    // Nothing awaited from here to the hand-over: the re-sends take the new sequence's first seqnums.
    const wiped = this.store.reset();
    this.nextSender = 1;
    this.nextTarget = 1;
    this.targetPersistence.resetTo(1);
    if (this.handOverAtLogon && handOver === 'now') this.handOver(this.owed ?? []);
    await wiped;
    this.event(`Sequence numbers reset (${why})`);
    this.app.onReset?.(this);
  }

  /** Application messages of the current sequence with begin <= seqnum <= end, read in chunks. */
  private async applicationMessages(begin: number, end: number): Promise<StoredMessage[]> {
    const out: StoredMessage[] = [];
    for (let from = begin; from <= end; from += STORE_READ_CHUNK) {
      const chunk = await this.store.getSent(from, Math.min(end, from + STORE_READ_CHUNK - 1));
      for (const m of chunk) if (m.raw !== '' && !isAdmin(msgTypeOf(m.raw))) out.push(m);
    }
    return out;
  }

  /**
   * Hands what a reset owes to the application (synchronously: its re-sends take the next seqnums);
   * the undelivered journal is removed once they are stored. A crash before that hands them over
   * again at start-up: the client may then get a re-send twice (97=Y, same ExecID: an OMS drops the
   * second by ExecID), never not at all. A failed hand-over stays owed (next reset, or restart).
   */
  private handOver(messages: StoredMessage[]): void {
    this.handOverAtLogon = false;
    const app = this.app;
    const done = (async () => {
      await app.onSequenceReset?.(messages, this);
      await this.owedJournal?.remove();
      if (this.owed === messages) this.owed = undefined;
    })();
    const tracked: Promise<void> = done
      .catch((err) => {
        this.logger.error({ err }, 'application failed to handle the sequence reset');
        this.event(`Sequence reset hand-over failed, still owed: ${(err as Error)?.message ?? String(err)}`);
      })
      .finally(() => {
        if (this.handingOver === tracked) this.handingOver = undefined;
      });
    this.handingOver = tracked;
  }

  /** At start-up: a hand-over a crash interrupted (its journal is still there) is done now. */
  private async resumeOwedHandOver(): Promise<void> {
    if (!this.app.onSequenceReset || !this.owedJournal) return;
    const left = await this.owedJournal.load();
    if (!left) return;
    if (left.sequence === this.store.creationTime()) {
      // Written before a wipe that never became durable: the messages are still in the store.
      this.event(`Undelivered messages of a reset that did not complete discarded (the store still holds their sequence)`);
      await this.owedJournal.remove();
      return;
    }
    this.event(`Sequence reset hand-over still owed from before the restart: ${left.messages.length} application messages`);
    this.owed = left.messages;
    this.handOver(left.messages);
    await this.handingOver;
  }

  // ---------------------------------------------------------------------------------- delivery proof

  private markDelivered(seq: number): void {
    if (seq >= 1) this.deliveryMark?.raise(seq, this.store.creationTime());
  }

  private onHeartbeat(msg: FixMessage): void {
    const id = msg.get(112);
    const seq = id === undefined ? undefined : this.testRequestSeqs.get(id);
    if (seq === undefined) return;
    this.testRequestSeqs.delete(id!);
    this.markDelivered(seq); // TCP is ordered: everything sent before that TestRequest arrived too
  }

  // ---------------------------------------------------------------------------------- outbound

  private header(msgType: string, seq: number, sendingTime: string, extra?: FixField[]): FixField[] {
    const h: FixField[] = [
      { tag: 34, value: String(seq) },
      { tag: 49, value: this.senderCompId },
      { tag: 52, value: sendingTime },
      { tag: 56, value: this.targetCompId },
    ];
    if (extra && extra.length) {
      h.push(...extra);
      h.sort((a, b) => a.tag - b.tag);
    }
    h.unshift({ tag: 35, value: msgType });
    return h;
  }

  private sendMessage(msgType: string, body: FixField[], extraHeader?: FixField[]): { seq: number; durable: Promise<void> } {
    const seq = this.nextSender++;
    const sendingTime = utcTimestamp();
    // The usual case, no extra header fields: the header as text, in header()'s order (35 34 49 52 56).
    const raw =
      extraHeader && extraHeader.length > 0
        ? encodeFix(this.config.beginString, this.header(msgType, seq, sendingTime, extraHeader).concat(body))
        : encodeFixAfter(
            this.config.beginString,
            `35=${msgType}\x0134=${seq}\x0149=${this.senderCompId}\x0152=${sendingTime}\x0156=${this.targetCompId}\x01`,
            body,
          );
    const app = !isAdmin(msgType);
    this.observer.sent(msgType, body, extraHeader);
    orderTrace?.markReport(Stage.ReportHanded, raw);
    this.targetPersistence.rideAlong(); // a waiting target seqnum: same store batch, same fsync
    const durable = this.store.appendSent(seq, app && this.config.persistMessages ? raw : '');
    // Admin messages go out only on a live connection; application messages also only once logged on.
    if (this.socket && (this.isLoggedOn || msgType === '5' || msgType === 'A')) {
      if (this.heldDuringResend && this.resendSocket === this.socket) this.heldDuringResend.push({ raw, durable });
      else this.enqueue(raw, durable);
    }
    // A failed append (e.g. ENOSPC; the store stays usable): the message never goes on the wire and
    // its seqnum stays consumed, never reused while we run. The client sees a gap, asks for it and
    // gets a GapFill, since nothing is stored under it. An application message's send() rejects and
    // the session goes on; an admin message is part of the protocol, so the connection is dropped.
    durable.catch((err: Error) => {
      this.logger.error({ err, seq, msgType }, 'message store append failed; message not sent');
      this.event(`Message ${seq} (35=${msgType}) not sent: store append failed (${err?.message ?? err})`);
      if (!app) this.disconnect('store append failed');
    });
    return { seq, durable };
  }

  private enqueue(raw: string, durable?: Promise<void>): void {
    const item: OutItem = { raw, ready: durable === undefined };
    this.out.push(item);
    this.lastSentAt = Date.now();
    if (durable) {
      const out = this.out;
      const settled = (stored: boolean) => {
        item.ready = true;
        item.dropped = !stored;
        // Messages of one group commit resolve together: write them with one socket write.
        if (out === this.out && !this.flushScheduled) {
          this.flushScheduled = true;
          queueMicrotask(() => {
            this.flushScheduled = false;
            if (out === this.out) this.flushOut();
          });
        }
      };
      durable.then(() => settled(true), () => settled(false));
    } else this.flushOut();
  }

  private flushOut(): void {
    const socket = this.socket;
    if (!socket) return;
    let chunk = '';
    while (this.outHead < this.out.length && this.out[this.outHead].ready) {
      const item = this.out[this.outHead++];
      if (item.dropped) continue;
      this.log.outgoing(item.raw);
      orderTrace?.markReport(Stage.ReportOnWire, item.raw);
      chunk += item.raw;
    }
    if (this.outHead === this.out.length) {
      this.out = [];
      this.outHead = 0;
    }
    if (chunk) socket.write(chunk, 'latin1');
    if (this.closeWhenFlushed && this.outHead >= this.out.length) this.disconnect('flushed');
  }

  private resendStored(m: StoredMessage): void {
    const parsed = parseFrame(m.raw);
    if (!parsed.ok) {
      this.sendGapFill(m.seqNum, m.seqNum + 1);
      return;
    }
    const fields = parsed.message.fields;
    let origSendingTime = '';
    const extra: FixField[] = [{ tag: 43, value: 'Y' }];
    const body: FixField[] = [];
    for (let i = 3; i < fields.length - 1; i++) {
      const f = fields[i];
      if (f.tag === 52) origSendingTime = f.value;
      else if (f.tag === 34 || f.tag === 49 || f.tag === 56 || f.tag === 43 || f.tag === 122) continue;
      else if (this.headerTags.has(f.tag)) extra.push(f);
      else body.push(f);
    }
    extra.push({ tag: 122, value: origSendingTime });
    const raw = encodeFix(this.config.beginString, this.header(fields[2].value, m.seqNum, utcTimestamp(), extra).concat(body));
    this.enqueue(raw);
  }

  private sendGapFill(begin: number, newSeqNo: number): void {
    const now = utcTimestamp();
    const raw = encodeFix(
      this.config.beginString,
      this.header('4', begin, now, [{ tag: 43, value: 'Y' }, { tag: 122, value: now }]).concat([
        { tag: 36, value: String(newSeqNo) },
        { tag: 123, value: 'Y' },
      ]),
    );
    this.enqueue(raw);
    this.event(`Sent SequenceReset-GapFill FROM: ${begin} TO: ${newSeqNo}`);
  }

  private sendLogout(text?: string): void {
    this.logoutSeq = this.sendMessage('5', text ? [{ tag: 58, value: text }] : []).seq;
    this.logoutSentAt = Date.now();
  }

  private sendReject(msg: FixMessage, r: SessionReject): void {
    const msgType = msg.msgType;
    const seqText = msg.get(34);
    const body: FixField[] = [];
    if (seqText !== undefined && seqText !== '') body.push({ tag: 45, value: seqText });
    body.push({ tag: 58, value: r.text });
    if (r.refTagId !== undefined) body.push({ tag: 371, value: String(r.refTagId) });
    if (msgType !== '') body.push({ tag: 372, value: msgType });
    if (r.reason <= RejectReason.InvalidMsgType) body.push({ tag: 373, value: String(r.reason) });
    const extra: FixField[] = [];
    for (const [from, to] of REVERSE_ROUTE) {
      const v = msg.get(from);
      if (v !== undefined && v !== '') extra.push({ tag: to, value: v });
    }
    this.event(`Message ${seqText} Rejected: ${r.text}${r.refTagId !== undefined ? ` (${r.refTagId})` : ''}`);
    if (msgType !== 'A' && msgType !== '4' && Number(seqText) === this.nextTarget) this.advanceTarget();
    this.sendMessage('3', body, extra);
  }

  private sendBusinessReject(msg: FixMessage, reason: number, text: string): void {
    this.sendMessage('j', [
      { tag: 45, value: msg.get(34) ?? '' },
      { tag: 58, value: text },
      { tag: 372, value: msg.msgType },
      { tag: 380, value: String(reason) },
    ]);
  }

  // ---------------------------------------------------------------------------------- timers

  private onTimer(): void {
    if (!this.socket || !this.isLoggedOn) return;
    const now = Date.now();
    if (this.logoutSentAt && now - this.logoutSentAt >= LOGOUT_TIMEOUT_MS) {
      this.event('Timed out waiting for logout response');
      this.disconnect('logout timeout');
      return;
    }
    if (this.logoutSentAt === 0 && !isWithinSessionWindow(this.config, new Date(now))) {
      this.event('Session time window ended (EndTime)');
      this.sendLogout('Session end');
      return;
    }
    const hb = this.heartBtIntMs;
    if (hb <= 0) return;
    const sinceRecv = now - this.lastReceivedAt;
    const sinceSent = now - this.lastSentAt;
    if (sinceRecv < hb && sinceSent < hb) return;
    if (sinceRecv >= 2.4 * hb) {
      this.event('Timed out waiting for heartbeat');
      this.disconnect('heartbeat timeout');
    } else if (sinceRecv >= 1.2 * (this.testRequests + 1) * hb) {
      const { seq } = this.sendMessage('1', [{ tag: 112, value: 'TEST' }]);
      if (!this.testRequestSeqs.has('TEST')) this.testRequestSeqs.set('TEST', seq);
      this.testRequests++;
      this.event('Sent test request TEST');
    } else if (sinceSent >= hb && this.testRequests === 0) {
      this.sendMessage('0', []);
    }
  }
}


/** MsgType (35) of a stored wire message ('' when absent). */
function msgTypeOf(raw: string): string {
  const i = raw.indexOf('\x0135=');
  if (i < 0) return '';
  const end = raw.indexOf('\x01', i + 4);
  return raw.slice(i + 4, end < 0 ? raw.length : end);
}

/** Resolves when the socket's write buffer has drained, or it closed. */
function drained(socket: Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}
