// What the session layer offers an application and expects from it (after QuickFIX/J's Application):
// the session owns the protocol; the application sees only application messages, in sequence order.
import { FixMessage, OutboundMessage } from './message';
import { StoredMessage } from './store/message-store';

export interface SessionHandle {
  readonly sessionId: string;
  readonly senderCompId: string;
  readonly targetCompId: string;
  readonly loggedOn: boolean;
  /**
   * Send an application message. It gets the next MsgSeqNum and is durably stored before it is
   * written; when the client is not logged on it is stored only, and the client recovers it with a
   * ResendRequest after its next Logon. Resolves with the MsgSeqNum once stored.
   */
  send(msg: OutboundMessage): Promise<number>;
  /** Sent messages in a seqnum range, read back from the store (used to check what reached the wire). */
  sentMessages(begin: number, end: number): Promise<StoredMessage[]>;
  /** Next MsgSeqNum we will send. */
  nextSenderSeqNum(): number;
  /** Identifies the current sequence: it changes at every sequence reset (MsgSeqNums restart). */
  sequenceId(): number;
  /** Append a line to the session's event log. */
  event(text: string): void;
}

/** Thrown by an application for a message type it does not handle: answered with BusinessMessageReject 380=3. */
export class UnsupportedMessageType extends Error {}

export interface FixApplication {
  /** Once, when the session is created at start-up (before any connection). */
  onCreate?(session: SessionHandle): Promise<void> | void;
  onLogon?(session: SessionHandle): void;
  onLogout?(session: SessionHandle): void;
  /** After our sequence numbers were reset (ResetOnLogon, 141=Y, ResetOnLogout/Disconnect). */
  onReset?(session: SessionHandle): void;
  /**
   * After a sequence reset (called even when nothing is undelivered): the application messages of
   * the old sequence(s) not proven delivered to the client (MsgSeqNum after the last delivery
   * proof), in the order sent. Called right after the wipe for ResetOnLogout/ResetOnDisconnect
   * (what the application sends is stored for the client's next Logon), right after our Logon
   * reply for a reset at Logon, and at start-up when a crash interrupted an earlier call: so the
   * application must send synchronously in this call whatever must precede the new sequence's other
   * messages, and resolve once those sends are stored (their send() promises): until then the
   * session keeps the messages on disk, and a crash hands them over again (the client may then get
   * a re-send twice). The session decides nothing about them; the application may send again what
   * the client must not miss (new MsgSeqNums, e.g. 97=Y).
   */
  onSequenceReset?(undelivered: StoredMessage[], session: SessionHandle): Promise<void> | void;
  /**
   * An application message, in sequence order, after session-level validation. Resolve once the
   * application has durably taken responsibility for it: the session persists the next expected
   * MsgSeqNum only after that, so after a crash the client resends what was not yet accepted.
   * The session does not await it before handing over the next message (pipelining): whatever
   * ordering an application needs between messages (e.g. per order) it keeps itself, starting
   * from this synchronous, in-order call.
   */
  fromApp(msg: FixMessage, session: SessionHandle): Promise<void> | void;
  /** Stop: called on shutdown after the session logged out. */
  close?(): Promise<void>;
}
