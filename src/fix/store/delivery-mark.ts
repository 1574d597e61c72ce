// How far the client has provably read our messages: the highest outbound MsgSeqNum known to have
// been delivered (the session raises it on proof: a Heartbeat answering our TestRequest, the
// client's Logout answering ours, a ResendRequest starting after it). Kept in a small sidecar file
// next to the message store, bound to the store's sequence by its creation time, so that a mark
// from an earlier sequence never counts for the next one.
//
// It is a hint that only grows: written by write-rename without fsync. A lost update only makes a
// sequence reset hand more messages back to the application (re-sent, deduplicated by ExecID),
// never fewer.
import * as fs from 'fs';

interface MarkFile {
  /** MessageStore.creationTime() of the sequence the mark belongs to. */
  sequence: number;
  deliveredThrough: number;
}

export class DeliveryMark {
  private mark: MarkFile = { sequence: 0, deliveredThrough: 0 };
  private writing?: Promise<void>;
  private dirty = false;

  constructor(private readonly file: string) {}

  /** Reads the file; a missing or unreadable one means nothing is proven delivered. */
  load(): void {
    try {
      const m = JSON.parse(fs.readFileSync(this.file, 'utf8')) as Partial<MarkFile>;
      if (Number.isSafeInteger(m.sequence) && Number.isSafeInteger(m.deliveredThrough)) {
        this.mark = { sequence: m.sequence!, deliveredThrough: m.deliveredThrough! };
      }
    } catch {
      this.mark = { sequence: 0, deliveredThrough: 0 };
    }
  }

  /** Highest MsgSeqNum proven delivered in the sequence created at `sequence` (0 if none). */
  deliveredThrough(sequence: number): number {
    return this.mark.sequence === sequence ? this.mark.deliveredThrough : 0;
  }

  /** Everything up to `seq` of the sequence created at `sequence` has reached the client. */
  raise(seq: number, sequence: number): void {
    if (this.mark.sequence === sequence && seq <= this.mark.deliveredThrough) return;
    this.mark = { sequence, deliveredThrough: seq };
    this.dirty = true;
    this.writing ??= this.writeLoop();
  }

  /** Resolves once the latest mark is on disk (or its write failed, which is logged by the caller's choice). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async writeLoop(): Promise<void> {
    try {
      while (this.dirty) {
        this.dirty = false;
        const tmp = `${this.file}.tmp`;
        await fs.promises.writeFile(tmp, JSON.stringify(this.mark));
        await fs.promises.rename(tmp, this.file);
      }
    } catch {
      // A hint: losing it only means re-sending more after a reset.
    } finally {
      this.writing = undefined;
    }
  }
}
