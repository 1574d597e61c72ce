// The FIX message as the session layer sees it: an ordered list of tag=value pairs.
// Values stay strings (latin1) end to end; nothing here parses numbers, so decimals stay exact.

export const SOH = '\x01';

/** One field in wire order. */
export interface FixField {
  tag: number;
  value: string;
}

/** A framed, checksum-verified inbound message. */
export class FixMessage {
  private index: Map<number, string> | undefined;

  constructor(
    /** The exact wire text (latin1), including 8= ... 10=nnn<SOH>. */
    readonly raw: string,
    /** Every field in wire order, header and trailer included. */
    readonly fields: FixField[],
  ) {}

  /** First occurrence of a tag. */
  get(tag: number): string | undefined {
    if (this.index === undefined) {
      const m = new Map<number, string>();
      for (const f of this.fields) if (!m.has(f.tag)) m.set(f.tag, f.value);
      this.index = m;
    }
    return this.index.get(tag);
  }

  has(tag: number): boolean {
    return this.get(tag) !== undefined;
  }

  get msgType(): string {
    return this.get(35) ?? '';
  }

  get seqNum(): number {
    return Number(this.get(34));
  }

  get possDup(): boolean {
    return this.get(43) === 'Y';
  }
}

/**
 * A message to send. The session adds 8, 9, 35, 34, 49, 52, 56 (and 43/122 on resend) and 10.
 * `body` is written exactly in the order given; build it in ascending tag order (QuickFIX's order)
 * unless a repeating group dictates otherwise.
 */
export interface OutboundMessage {
  msgType: string;
  body: FixField[];
  /** Extra header fields besides the ones the session writes (e.g. 97 PossResend, 115/128 routing). */
  header?: FixField[];
}

export const ADMIN_MSG_TYPES = new Set(['0', '1', '2', '3', '4', '5', 'A']);

export function isAdmin(msgType: string): boolean {
  return ADMIN_MSG_TYPES.has(msgType);
}
