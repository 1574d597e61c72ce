// What a session needs from durable storage (after QuickFIX/J's MessageStore): two sequence
// numbers and the sent messages by seqnum. Implementations must make `appendSent` durable
// before its promise resolves: the session writes a message to the socket only after that.

export interface StoredMessage {
  seqNum: number;
  /** The full wire text as originally sent (latin1). */
  raw: string;
}

export interface MessageStore {
  /** Load state from disk. Throws with a clear message when the store is corrupt beyond the last complete record. */
  open(): Promise<void>;
  close(): Promise<void>;

  /** Next MsgSeqNum we will send. */
  nextSenderSeqNum(): number;
  /** Next MsgSeqNum we expect from the counterparty. */
  nextTargetSeqNum(): number;

  /**
   * Record a sent message (application or admin; admin messages may be passed with raw '' to only
   * advance the sender seqnum) and set next sender seqnum to seqNum + 1. Resolves once durable.
   * Many calls in the same tick share one fsync (group commit).
   */
  appendSent(seqNum: number, raw: string): Promise<void>;

  /** Set next target seqnum. Durable once the returned promise resolves; ordering with appendSent is preserved. */
  setNextTargetSeqNum(n: number): Promise<void>;
  /** Set next sender seqnum (SequenceReset we send). */
  setNextSenderSeqNum(n: number): Promise<void>;

  /** Stored messages with begin <= seqNum <= end, ascending, read back from disk. */
  getSent(begin: number, end: number): Promise<StoredMessage[]>;

  /** Forget all messages and set both seqnums to 1 (ResetOnLogon, 141=Y). Durable on resolve. */
  reset(): Promise<void>;

  /** Time the session's sequence was created or last reset (ms since epoch). */
  creationTime(): number;
}
