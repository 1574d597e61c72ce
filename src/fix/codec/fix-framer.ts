// Splits a TCP byte stream into FIX messages the way QuickFIX's Parser does, so that garbled input
// is consumed exactly as a QuickFIX counterparty expects: find "8=FIX", read BodyLength, then take
// everything up to the first "<SOH>10=nnn<SOH>" at or after where BodyLength says the body ends.
// A wrong BodyLength therefore yields a chunk that fails the integrity check (and is ignored),
// possibly swallowing the following message, just as QuickFIX does.

export class FrameError extends Error {}

export class FixFramer {
  private buf = '';

  /**
   * Largest BodyLength accepted; nothing longer is ever buffered whole (a peer that stretches any
   * part of a frame past it gets a FrameError). May be raised once the peer is known.
   */
  constructor(public maxMessageSize = 1 << 20) {}

  /** Append received bytes (decoded as latin1) and return every complete frame. */
  push(chunk: string): string[] {
    this.buf = this.buf.length === 0 ? chunk : this.buf + chunk;
    const out: string[] = [];
    for (;;) {
      const frame = this.next();
      if (frame === undefined) break;
      out.push(frame);
    }
    return out;
  }

  get pending(): number {
    return this.buf.length;
  }

  private next(): string | undefined {
    const buf = this.buf;
    let start = buf.startsWith('8=FIX') ? 0 : buf.indexOf('\x018=FIX');
    if (start < 0) {
      // Keep a possible partial "<SOH>8=FI" at the end; drop the rest (noise between messages).
      if (buf.length > 8) this.buf = buf.slice(buf.length - 8);
      return undefined;
    }
    if (start > 0) start += 1;
    const lenTag = buf.indexOf('\x019=', start);
    if (lenTag < 0) {
      this.guardSize(buf.length - start);
      if (start > 0) this.buf = buf.slice(start);
      return undefined;
    }
    const lenStart = lenTag + 3;
    const lenEnd = buf.indexOf('\x01', lenStart);
    if (lenEnd < 0) return this.keepFrom(start);
    const lenText = buf.slice(lenStart, lenEnd);
    const bodyStart = lenEnd + 1;
    const length = /^\d{1,9}$/.test(lenText) ? Number(lenText) : -1;
    if (length < 0) {
      // Unparseable BodyLength: QuickFIX drops the buffer up to here and reports garbage.
      this.buf = buf.slice(bodyStart);
      return buf.slice(start, bodyStart);
    }
    if (length > this.maxMessageSize) throw new FrameError(`BodyLength ${length} exceeds ${this.maxMessageSize}`);
    const bodyEnd = bodyStart + length;
    if (buf.length < bodyEnd) return this.keepFrom(start);
    const trailer = buf.indexOf('\x0110=', bodyEnd - 1);
    if (trailer < 0) return this.keepFrom(start);
    const end = buf.indexOf('\x01', trailer + 4);
    if (end < 0) return this.keepFrom(start);
    const frame = buf.slice(start, end + 1);
    this.buf = buf.slice(end + 1);
    return frame;
  }

  private keepFrom(start: number): undefined {
    if (start > 0) this.buf = this.buf.slice(start);
    this.guardSize(this.buf.length);
    return undefined;
  }

  private guardSize(n: number): void {
    if (n > this.maxMessageSize + 64) throw new FrameError(`no complete message within ${n} bytes`);
  }
}
