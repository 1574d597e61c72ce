// A small FIX 4.2 initiator for tests over real TCP. It does only what a test asks: it numbers and
// frames what it sends, records everything sent (by MsgSeqNum, to answer ResendRequests) and
// everything received, and hands received messages out one by one through `next()`. It applies no
// session rules of its own (no automatic resend, no sequence checks) so that tests can observe and
// provoke exactly what they want; only answering TestRequests can be switched on.
//
// Framing and parsing use the gateway's own codec (src/fix/codec), which the session-layer unit
// tests cover; every received frame must pass its integrity check (BodyLength, CheckSum), or the
// client records a protocol error that fails the next `next()`.
import * as net from 'net';
import * as tls from 'tls';
import { FixFramer } from '../../src/fix/codec/fix-framer';
import { parseFrame, checksum, pad3 } from '../../src/fix/codec/fix-parser';
import { encodeFix, utcTimestamp } from '../../src/fix/codec/fix-encoder';
import { FixField, FixMessage } from '../../src/fix/message';

export const SOH = '\x01';
export type TagValue = [number, string | number];

/** FIX 4.2 standard header and trailer tags (everything else in a message is body). */
export const HEADER_TAGS: ReadonlySet<number> = new Set([
  8, 9, 35, 49, 56, 115, 128, 90, 91, 50, 142, 57, 143, 116, 144, 129, 145, 34, 43, 97, 52, 122, 212, 213, 347, 369, 370,
]);
export const TRAILER_TAGS: ReadonlySet<number> = new Set([93, 89, 10]);
const ADMIN_TYPES: ReadonlySet<string> = new Set(['0', '1', '2', '3', '4', '5', 'A']);

export function isAdminType(msgType: string): boolean {
  return ADMIN_TYPES.has(msgType);
}

/** "8=FIX.4.2|35=A|..." → the same text with SOH separators. */
export function pipesToSoh(text: string): string {
  return text.replace(/\|/g, SOH);
}

/** For messages in test output. */
export function sohToPipes(text: string): string {
  return text.replace(/\x01/g, '|');
}

/**
 * Frames a message written with '|' or SOH separators the way QuickFIX's AT runner does: inserts
 * 9=<BodyLength> after BeginString unless the text has its own 9= (a deliberately wrong length),
 * and appends 10=<CheckSum> unless the text already ends with a 10= field.
 */
export function frameFix(text: string): string {
  let s = pipesToSoh(text);
  if (!s.endsWith(SOH)) s += SOH;
  const fields = s.slice(0, -1).split(SOH);
  const hasLength = fields.some((f) => f.startsWith('9='));
  const hasChecksum = fields[fields.length - 1].startsWith('10=');
  let body = hasChecksum ? fields.slice(0, -1) : fields;
  if (!hasLength) {
    const head = body[0];
    const rest = body.slice(1).map((f) => f + SOH).join('');
    body = [head, `9=${rest.length}`, ...body.slice(1)];
  }
  const msg = body.map((f) => f + SOH).join('');
  return hasChecksum ? msg + fields[fields.length - 1] + SOH : msg + `10=${pad3(checksum(msg, msg.length))}` + SOH;
}

/** FIX UTCTimestamp with milliseconds, optionally shifted by `offsetMs`. */
export function fixTime(offsetMs = 0): string {
  return utcTimestamp(new Date(Date.now() + offsetMs));
}

/** Messages for an error text: the first few in full, then how many more. */
export function describeMessages(ms: ReadonlyArray<{ toString(): string }>, max = 6): string {
  if (ms.length === 0) return '(none)';
  const shown = ms.slice(0, max).map(String).join(' ;; ');
  return ms.length > max ? `${shown} ;; ... and ${ms.length - max} more` : shown;
}

/** A received (integrity-checked) message: the session layer's FixMessage plus where and when it arrived. */
export class FixMsg extends FixMessage {
  constructor(
    raw: string,
    fields: FixField[],
    /** Date.now() when it was parsed. */
    readonly receivedAt: number,
    /** Which connection of the client (0, 1, ...) it arrived on. */
    readonly connection: number,
  ) {
    super(raw, fields);
  }

  getAll(tag: number): string[] {
    return this.fields.filter((f) => f.tag === tag).map((f) => f.value);
  }

  /** Fields that are neither standard header nor trailer, in wire order. */
  body(): FixField[] {
    return this.fields.filter((f) => !HEADER_TAGS.has(f.tag) && !TRAILER_TAGS.has(f.tag));
  }

  /** Tags in wire order, e.g. [8, 9, 35, 34, 49, 52, 56, 98, 108, 10]. */
  tags(): number[] {
    return this.fields.map((f) => f.tag);
  }

  toString(): string {
    return sohToPipes(this.raw);
  }
}

/** A message this client sent as a new message (not a resend), kept to answer ResendRequests. */
export interface SentMessage {
  seqNum: number;
  msgType: string;
  sendingTime: string;
  /** Extra header fields given by the caller (e.g. 97). */
  header: FixField[];
  body: FixField[];
  raw: string;
}

export interface SendOptions {
  /** Use this MsgSeqNum instead of the next one. A number above the next one skips ahead (a gap). */
  seqNum?: number;
  possDup?: boolean;
  /** OrigSendingTime (122); only written when given. */
  origSendingTime?: string;
  /** Extra header fields, written in tag order with the standard ones. */
  header?: TagValue[];
  sendingTime?: string;
  senderCompId?: string;
  targetCompId?: string;
  beginString?: string;
}

export interface LogonOptions {
  heartBtInt: number;
  resetSeqNum?: boolean;
  /** RawData (96) with RawDataLength (95). */
  password?: string;
  seqNum?: number;
  sendingTime?: string;
  senderCompId?: string;
  targetCompId?: string;
}

export interface FixTestClientOptions {
  port: number;
  host?: string;
  /** Our SenderCompID (49), default TW42. */
  senderCompId?: string;
  /** The gateway's CompID (56), default ISLD. */
  targetCompId?: string;
  beginString?: string;
  /** Answer every TestRequest with a Heartbeat carrying its 112. Default false. */
  autoAnswerTestRequest?: boolean;
  /** Next MsgSeqNum to send. Default 1. */
  nextSeqNum?: number;
  /** Next MsgSeqNum expected from the gateway. Default 1. */
  expectedSeqNum?: number;
  connectTimeoutMs?: number;
  /** Connect with TLS (node:tls) using these options (CA, client certificate, ...); the handshake completes before connect resolves. */
  tls?: tls.ConnectionOptions;
  /** Local address to connect from (e.g. 127.0.0.2: another peer address on loopback). */
  localAddress?: string;
}

type Waiter = { check: () => boolean; reject: (e: Error) => void };

export class FixTestClient {
  readonly host: string;
  port: number;
  readonly senderCompId: string;
  readonly targetCompId: string;
  readonly beginString: string;
  autoAnswerTestRequest: boolean;

  /** Next MsgSeqNum this client will send. */
  nextSeqNum: number;
  /**
   * Next MsgSeqNum expected from the gateway: one past the highest in-sequence message received
   * (a SequenceReset moves it to its NewSeqNo). Gaps are recorded in `gaps`, not repaired.
   */
  expectedSeqNum: number;
  readonly gaps: Array<{ expected: number; received: number }> = [];
  /** New messages sent, by MsgSeqNum (resends do not replace them). */
  readonly sent = new Map<number, SentMessage>();
  /** Everything received, on every connection, in arrival order. */
  readonly received: FixMsg[] = [];
  /** Frames that failed the integrity check (a gateway bug if ever non-empty). */
  readonly garbled: Array<{ raw: string; reason: string }> = [];

  /** Index of the current connection (0 for the first). */
  connection = -1;
  /** Bytes received on the current connection. */
  bytesReceived = 0;

  private socket?: net.Socket;
  private framer = new FixFramer();
  private cursor = 0;
  private isClosed = true;
  private closedPromise: Promise<void> = Promise.resolve();
  private readonly waiters = new Set<Waiter>();
  private readonly listeners = new Set<(m: FixMsg) => void>();
  private readonly connectTimeoutMs: number;
  private readonly tlsOptions?: tls.ConnectionOptions;
  private readonly localAddress?: string;

  private constructor(opts: FixTestClientOptions) {
    this.host = opts.host ?? '127.0.0.1';
    this.port = opts.port;
    this.senderCompId = opts.senderCompId ?? 'TW42';
    this.targetCompId = opts.targetCompId ?? 'ISLD';
    this.beginString = opts.beginString ?? 'FIX.4.2';
    this.autoAnswerTestRequest = opts.autoAnswerTestRequest ?? false;
    this.nextSeqNum = opts.nextSeqNum ?? 1;
    this.expectedSeqNum = opts.expectedSeqNum ?? 1;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 5000;
    this.tlsOptions = opts.tls;
    this.localAddress = opts.localAddress;
  }

  static async connect(opts: FixTestClientOptions): Promise<FixTestClient> {
    const c = new FixTestClient(opts);
    await c.reconnect();
    return c;
  }

  /**
   * Opens a new connection (after the previous one closed), keeping sequence numbers, the sent
   * log and everything received. Messages not yet read from the old connection are skipped.
   */
  async reconnect(port: number = this.port): Promise<void> {
    if (!this.isClosed) throw new Error('reconnect(): the current connection is still open');
    this.port = port;
    const socket = this.tlsOptions ? tls.connect({ host: this.host, port, localAddress: this.localAddress, ...this.tlsOptions }) : net.connect({ host: this.host, port, localAddress: this.localAddress });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${this.host}:${port} timed out`));
      }, this.connectTimeoutMs);
      socket.once(this.tlsOptions ? 'secureConnect' : 'connect', () => {
        clearTimeout(t);
        resolve();
      });
      socket.once('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
    });
    this.connection++;
    this.socket = socket;
    this.framer = new FixFramer();
    this.bytesReceived = 0;
    this.isClosed = false;
    this.cursor = this.received.length;
    const conn = this.connection;
    socket.on('error', () => undefined); // ECONNRESET etc.: 'close' follows
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    this.closedPromise = new Promise<void>((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        this.notify();
        resolve();
      }),
    );
  }

  get closedNow(): boolean {
    return this.isClosed;
  }

  /** Resolves when the current connection is closed (by either side). */
  closed(): Promise<void> {
    return this.closedPromise;
  }

  /** Like closed(), but fails after `timeoutMs`. */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    if (this.isClosed) return;
    let t: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.closedPromise,
        new Promise<never>((_, reject) => {
          t = setTimeout(
            () => reject(new Error(`connection still open after ${timeoutMs} ms; unread: ${this.describeUnread()}`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(t);
    }
  }

  destroy(): void {
    this.socket?.destroy();
  }

  /** Stops reading from the socket (a client that stops reading: the gateway's writes back up). */
  pauseReading(): void {
    this.socket?.pause();
  }

  resumeReading(): void {
    this.socket?.resume();
  }

  /** Called synchronously for each message as it is parsed (before `next()` sees it). */
  onMessage(fn: (m: FixMsg) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  // ------------------------------------------------------------------------------ sending

  /** Sends a message: 35, then 34/49/52/56 and `opts.header` (43/122 if asked) in tag order, then `fields` as given. */
  send(msgType: string, fields: TagValue[] = [], opts: SendOptions = {}): SentMessage {
    let seqNum: number;
    if (opts.seqNum === undefined) seqNum = this.nextSeqNum++;
    else {
      seqNum = opts.seqNum;
      if (seqNum >= this.nextSeqNum) this.nextSeqNum = seqNum + 1;
    }
    const sendingTime = opts.sendingTime ?? fixTime();
    const extra: FixField[] = (opts.header ?? []).map(([tag, value]) => ({ tag, value: String(value) }));
    const header: FixField[] = [
      { tag: 34, value: String(seqNum) },
      { tag: 49, value: opts.senderCompId ?? this.senderCompId },
      { tag: 52, value: sendingTime },
      { tag: 56, value: opts.targetCompId ?? this.targetCompId },
      ...extra,
    ];
    if (opts.possDup) header.push({ tag: 43, value: 'Y' });
    if (opts.origSendingTime !== undefined) header.push({ tag: 122, value: opts.origSendingTime });
    header.sort((a, b) => a.tag - b.tag);
    const body: FixField[] = fields.map(([tag, value]) => ({ tag, value: String(value) }));
    const raw = encodeFix(opts.beginString ?? this.beginString, [{ tag: 35, value: msgType }, ...header, ...body]);
    const msg: SentMessage = { seqNum, msgType, sendingTime, header: extra, body, raw };
    if (!opts.possDup && !this.sent.has(seqNum)) this.sent.set(seqNum, msg);
    this.write(raw);
    return msg;
  }

  /** Writes text as is; '|' becomes SOH when `pipes` (default true). */
  sendRaw(text: string, pipes = true): void {
    this.write(pipes ? pipesToSoh(text) : text);
  }

  /** Sends a Logon (does not wait for the reply). */
  sendLogon(o: LogonOptions): SentMessage {
    const fields: TagValue[] = [[98, 0]];
    if (o.password !== undefined) fields.push([95, Buffer.byteLength(o.password, 'latin1')], [96, o.password]);
    fields.push([108, o.heartBtInt]);
    if (o.resetSeqNum) fields.push([141, 'Y']);
    return this.send('A', fields, { seqNum: o.seqNum, sendingTime: o.sendingTime, senderCompId: o.senderCompId, targetCompId: o.targetCompId });
  }

  /** Sends a Logon and returns the gateway's first message, which must be its Logon reply. */
  async logon(o: LogonOptions, timeoutMs = 5000): Promise<FixMsg> {
    if (o.resetSeqNum && o.seqNum === undefined) this.nextSeqNum = 1;
    this.sendLogon(o);
    const reply = await this.next(undefined, timeoutMs);
    if (reply.msgType !== 'A') throw new Error(`expected a Logon reply, got ${reply}`);
    return reply;
  }

  /** Sends a Logout and waits for the gateway's Logout reply and the close of the connection. */
  async logout(timeoutMs = 5000): Promise<FixMsg> {
    this.send('5');
    const reply = await this.next((m) => m.msgType === '5', timeoutMs);
    await this.waitClosed(timeoutMs);
    return reply;
  }

  /**
   * Answers a ResendRequest from what this client sent: application messages again with their
   * MsgSeqNum, 43=Y and 122=<original 52>; each run of admin messages (and of seqnums never sent)
   * as one SequenceReset-GapFill. Returns the seqnums resent as application messages.
   * `upTo` ends the answer earlier than the request asks (e.g. at the Logon, when what was sent
   * after it already reached the peer and is queued there).
   */
  answerResendRequest(rr: FixMsg, upTo?: number): number[] {
    const begin = Number(rr.get(7));
    const lastSent = Math.min(this.nextSeqNum - 1, upTo ?? Infinity);
    const endReq = Number(rr.get(16));
    const end = endReq === 0 || endReq > lastSent ? lastSent : endReq;
    const resent: number[] = [];
    let gapStart: number | undefined;
    const flushGap = (upTo: number) => {
      if (gapStart === undefined) return;
      this.send('4', [[36, upTo], [123, 'Y']], { seqNum: gapStart, possDup: true, origSendingTime: fixTime() });
      gapStart = undefined;
    };
    for (let s = begin; s <= end; s++) {
      const m = this.sent.get(s);
      if (m && !isAdminType(m.msgType)) {
        flushGap(s);
        this.send(
          m.msgType,
          m.body.map((f) => [f.tag, f.value] as TagValue),
          { seqNum: s, possDup: true, origSendingTime: m.sendingTime, header: m.header.map((f) => [f.tag, f.value] as TagValue) },
        );
        resent.push(s);
      } else if (gapStart === undefined) gapStart = s;
    }
    flushGap(end + 1);
    return resent;
  }

  private write(raw: string): void {
    if (!this.socket || this.isClosed) throw new Error(`send on a closed connection: ${sohToPipes(raw)}`);
    this.socket.write(raw, 'latin1');
  }

  // ------------------------------------------------------------------------------ receiving

  private onData(conn: number, chunk: Buffer): void {
    if (conn !== this.connection) return;
    this.bytesReceived += chunk.length;
    let frames: string[];
    try {
      frames = this.framer.push(chunk.toString('latin1'));
    } catch (e) {
      this.garbled.push({ raw: chunk.toString('latin1'), reason: (e as Error).message });
      this.notify();
      return;
    }
    for (const raw of frames) {
      const parsed = parseFrame(raw);
      if (!parsed.ok) {
        this.garbled.push({ raw, reason: parsed.reason });
        continue;
      }
      const m = new FixMsg(raw, parsed.message.fields, Date.now(), conn);
      this.track(m);
      this.received.push(m);
      for (const l of this.listeners) l(m);
      if (this.autoAnswerTestRequest && m.msgType === '1' && !this.isClosed) this.send('0', [[112, m.get(112) ?? '']]);
    }
    this.notify();
  }

  private track(m: FixMsg): void {
    const seq = m.seqNum;
    if (m.msgType === '4') {
      const newSeqNo = Number(m.get(36));
      if (!Number.isFinite(newSeqNo)) return;
      if (m.get(123) !== 'Y') this.expectedSeqNum = newSeqNo; // SequenceReset-Reset
      else if (seq >= this.expectedSeqNum) this.expectedSeqNum = Math.max(this.expectedSeqNum, newSeqNo);
      return;
    }
    if (m.possDup) {
      if (seq >= this.expectedSeqNum) this.expectedSeqNum = seq + 1;
      return;
    }
    if (seq > this.expectedSeqNum) this.gaps.push({ expected: this.expectedSeqNum, received: seq });
    if (seq >= this.expectedSeqNum) this.expectedSeqNum = seq + 1;
  }

  private notify(): void {
    for (const w of [...this.waiters]) w.check();
  }

  private describeUnread(): string {
    const bad = this.garbled.slice(0, 3).map((g) => `GARBLED(${g.reason}): ${sohToPipes(g.raw).slice(0, 500)}`);
    return [describeMessages(this.received.slice(this.cursor)), ...bad].join(' ;; ');
  }

  /**
   * The next received message (on the current connection) that satisfies `predicate`, skipping
   * (but keeping in `received`) those that do not. Fails on timeout, on a garbled frame, or when
   * the connection closes first; the error lists what was received.
   */
  next(predicate?: (m: FixMsg) => boolean, timeoutMs = 5000): Promise<FixMsg> {
    return new Promise<FixMsg>((resolve, reject) => {
      let t: NodeJS.Timeout | undefined;
      const skipped: FixMsg[] = [];
      const w: Waiter = {
        check: () => {
          if (this.garbled.length) {
            done();
            reject(new Error(`garbled frame from the gateway: ${this.describeUnread()}`));
            return true;
          }
          while (this.cursor < this.received.length) {
            const m = this.received[this.cursor++];
            if (!predicate || predicate(m)) {
              done();
              resolve(m);
              return true;
            }
            skipped.push(m);
          }
          if (this.isClosed) {
            done();
            reject(new Error(`connection closed while waiting for a message; skipped: ${describeMessages(skipped)}`));
            return true;
          }
          return false;
        },
        reject,
      };
      const done = () => {
        clearTimeout(t);
        this.waiters.delete(w);
      };
      if (w.check()) return;
      this.waiters.add(w);
      t = setTimeout(() => {
        done();
        reject(new Error(`no matching message within ${timeoutMs} ms; skipped: ${describeMessages(skipped)}`));
      }, timeoutMs);
    });
  }

  /** Fails if any message arrives within `ms` (a close is not a message). */
  async expectNothing(ms: number): Promise<void> {
    const before = this.received.length;
    await new Promise((r) => setTimeout(r, ms));
    const extra = this.received.slice(Math.max(before, this.cursor));
    if (extra.length || this.garbled.length) {
      throw new Error(`expected nothing for ${ms} ms, received: ${describeMessages(extra)}${this.garbled.length ? ' + garbled frames' : ''}`);
    }
  }

  /** Marks everything received so far as read (e.g. after watching a burst through onMessage); returns it. */
  skipUnread(): FixMsg[] {
    const skipped = this.received.slice(this.cursor);
    this.cursor = this.received.length;
    return skipped;
  }

  /** Messages received on the current connection not yet returned by next(). */
  unread(): FixMsg[] {
    return this.received.slice(this.cursor);
  }
}
