// What a FIX session tells an onlooker (the admin endpoint's metrics) about its traffic. Calls sit
// on the message path, so an observer must only bump counters it resolved up front; the default
// does nothing.
import type { FixField } from './message';

export interface SessionObserver {
  /** A frame was parsed (before any check): its MsgType (35). */
  received(msgType: string): void;
  /** A message took a new outbound seqnum: its MsgType, body and extra header fields (97, 115, ...). */
  sent(msgType: string, body: readonly FixField[], extraHeader: readonly FixField[] | undefined): void;
}

export const NO_SESSION_OBSERVER: SessionObserver = {
  received: () => undefined,
  sent: () => undefined,
};

/** A session's state for the status page, read when the page or /metrics is requested. */
export interface SessionStatus {
  loggedOn: boolean;
  /** `address:port` of the connected client; undefined when none is connected. */
  remote?: string;
  nextSenderSeqNum: number;
  nextTargetSeqNum: number;
  /** ms since epoch of the last message received / sent on the current or last connection; 0 = none yet. */
  lastReceivedAt: number;
  lastSentAt: number;
}
