// One journal shared by several owners (the FIX session store and the order book of one session), so
// that records of both issued in the same tick go out in one write and one fdatasync: an order's new
// state and the ExecutionReport it causes become durable together.
//
// Each owner declares its record types (disjoint) before open(); open() replays the file once and
// hands every record to its owner. A compaction (an owner's, or a session reset) rewrites the file
// from every owner's live records, so no owner loses the other's state. Owners release the journal
// when they close; the file is closed when the last one has. Knows nothing of what owners store.
import { Journal, JournalRecord, LiveRecord, RecordLocation } from './journal';

export interface JournalOwner {
  /** The record types this owner writes (disjoint from the other owners'). */
  readonly recordTypes: readonly number[];
  readonly maxBodyBytes: number;
  /** Replay: one of this owner's records, in file order. */
  replay(type: number, body: Buffer, at: RecordLocation): void;
  /**
   * The owner's state now, as records (by value, or copied from where they lie in the file; a copied
   * record must have been appended before this call). Called synchronously by compact().
   */
  liveRecords(): LiveRecord[];
  /** Where the records liveRecords() gave lie in the compacted file (same order). */
  compacted(locations: RecordLocation[]): void;
  /** Writes from `goodEnd` on failed and were cut off (see JournalOptions.onRollback). */
  rolledBack(goodEnd: number): void;
}

export interface SharedJournalOptions {
  magic: string;
  version: number;
  description: string;
  fsync?: boolean;
  /** See JournalOptions.onBroken. */
  onBroken?: (err: Error) => void;
}

export class SharedJournal {
  readonly journal: Journal;
  private readonly owners: JournalOwner[] = [];
  private readonly ownerByType = new Map<number, JournalOwner>();
  private opening: Promise<void> | undefined;
  private readonly released = new Set<JournalOwner>();
  private closing: Promise<void> | undefined;

  constructor(file: string, opts: SharedJournalOptions) {
    this.journal = new Journal(file, {
      magic: opts.magic,
      version: opts.version,
      recordTypes: [],
      maxBodyBytes: 0,
      description: opts.description,
      fsync: opts.fsync,
      onBroken: opts.onBroken,
      onRollback: (goodEnd) => {
        for (const o of this.owners) o.rolledBack(goodEnd);
      },
    });
  }

  get file(): string {
    return this.journal.file;
  }

  /** Before open(). */
  register(owner: JournalOwner): void {
    if (this.opening) throw new Error(`${this.file}: owners must register before the journal is opened`);
    this.journal.addRecordTypes(owner.recordTypes, owner.maxBodyBytes);
    for (const t of owner.recordTypes) this.ownerByType.set(t, owner);
    this.owners.push(owner);
  }

  /** Opens and replays once, whichever owner asks first; the others get the same promise. */
  open(opts: { creationTime?: number } = {}): Promise<void> {
    this.opening ??= this.journal.open((type, body, at) => this.ownerByType.get(type)!.replay(type, body, at), opts);
    return this.opening;
  }

  get isOpening(): boolean {
    return this.opening !== undefined;
  }

  /**
   * Rewrites the journal as every owner's live records (atomically). `creationTime` starts a new
   * content (a session's sequence reset); default: kept.
   */
  compact(opts: { creationTime?: number } = {}): Promise<void> {
    const live: LiveRecord[] = [];
    const counts: number[] = [];
    for (const o of this.owners) {
      const r = o.liveRecords();
      counts.push(r.length);
      for (const x of r) live.push(x);
    }
    const locations: RecordLocation[] = [];
    const p = this.journal.compact(live, { creationTime: opts.creationTime, locations });
    if (locations.length === live.length) {
      let i = 0;
      for (let k = 0; k < this.owners.length; k++) {
        this.owners[k].compacted(locations.slice(i, i + counts[k]));
        i += counts[k];
      }
    }
    return p;
  }

  /** An owner is done with the journal; the file closes once every owner is. */
  release(owner: JournalOwner): Promise<void> {
    this.released.add(owner);
    if (this.owners.some((o) => !this.released.has(o))) return Promise.resolve();
    this.closing ??= this.journal.close();
    return this.closing;
  }
}

export type { JournalRecord, LiveRecord, RecordLocation };
