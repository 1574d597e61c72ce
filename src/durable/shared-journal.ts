// One journal shared by several owners (the FIX session store and the order book of one session), so
// that records of both issued in the same tick go out in one write and one fdatasync: an order's new
// state and the ExecutionReport it causes become durable together.
//
// Each owner declares its record types (disjoint) before open(); open() replays the file once and
// hands every record to its owner. A compaction (an owner's, or a session reset) rewrites the file
// from every owner's live records, so no owner loses the other's state. Owners release the journal
// when they close; the file is closed when the last one has. Knows nothing of what owners store.
import * as fs from 'fs';
import * as path from 'path';
import { CopyRun, Journal, JournalRecord, LiveRecord, RecordLocation } from './journal';

/** After a check found no room for a compaction while running, the next check waits this long. */
const ROOM_RECHECK_MS = 1_000;
/** Room wanted beyond the compacted copy (at most the file's size): appends made meanwhile, and some slack. */
const ROOM_MARGIN_BYTES = 16 * 1024 * 1024;

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
  /**
   * Where the records liveRecords() gave lie in the compacted file (same order; a copy run's location
   * spans the whole run, see CopyRun). `done` settles when the compacted file is in place.
   */
  compacted(locations: RecordLocation[], done: Promise<void>): void;
  /** Live records this owner has now (what a compaction would keep), to decide when one is due. */
  liveCount?(): number;
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

/** When a compaction while running is due: more than `minRecords` records, and more than `ratio` per live one. */
export interface CompactionPolicy {
  minRecords: number;
  ratio: number;
}

export class SharedJournal {
  readonly journal: Journal;
  private readonly owners: JournalOwner[] = [];
  private readonly ownerByType = new Map<number, JournalOwner>();
  private opening: Promise<void> | undefined;
  private readonly released = new Set<JournalOwner>();
  private closing: Promise<void> | undefined;
  // The file stays within 1.5 times its live records. Not 2 or more: per order a session appends about
  // twice the records it keeps (superseded order states, confirms, seqnum records beside the stored
  // reports), so such a ratio is never reached again after a first compaction.
  private policy: CompactionPolicy = { minRecords: 10_000, ratio: 1.5 };
  private background: Promise<void> | undefined;
  /** Until when a compaction while running is not tried (the file system had no room for one). */
  private noRoomUntil = 0;
  /** Compactions done or under way (metrics, benchmarks). */
  compactions = 0;

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
      this.compactions++;
      let i = 0;
      for (let k = 0; k < this.owners.length; k++) {
        this.owners[k].compacted(locations.slice(i, i + counts[k]), p);
        i += counts[k];
      }
    }
    return p;
  }

  setCompactionPolicy(p: Partial<CompactionPolicy>): void {
    this.policy = { ...this.policy, ...p };
  }

  /** The file holds many more records than every owner's live state. */
  compactionDue(): boolean {
    const n = this.journal.fileRecords;
    if (n <= this.policy.minRecords) return false;
    let live = 0;
    for (const o of this.owners) live += o.liveCount?.() ?? 0;
    return n > this.policy.ratio * Math.max(1, live);
  }

  /**
   * Owners call this after appending: when a compaction is due, one runs in the background (appends go
   * on meanwhile into the new file; see Journal.compact). Whoever appends, the whole file is compacted,
   * so a session's sequence-number records and an order book's superseded states go alike.
   */
  compactIfDue(): void {
    if (this.background || this.closing || Date.now() < this.noRoomUntil || !this.compactionDue()) return;
    this.background = (async () => {
      try {
        // The room is checked synchronously, so the compaction's snapshot is still taken right after
        // the append that made it due, as before.
        while (!this.closing && this.compactionDue() && this.roomForCompaction()) await this.compact();
      } catch {
        // A failed compaction leaves the journal refusing writes (the appends report it).
      }
    })().finally(() => {
      this.background = undefined;
    });
  }

  /**
   * Whether the file system has room for the compacted copy (at most the file's size), which is
   * written whole before the old file goes: a compaction that meets ENOSPC stops the journal (the
   * owners' locations already point into the new file), where a full disk otherwise only refuses new
   * orders (see SpaceReserve). Not a guarantee (others write too), but a full disk waits instead.
   */
  private roomForCompaction(): boolean {
    try {
      const s = fs.statfsSync(path.dirname(this.journal.file));
      if (s.bavail * s.bsize >= this.journal.size + ROOM_MARGIN_BYTES) return true;
      this.noRoomUntil = Date.now() + ROOM_RECHECK_MS;
      return false;
    } catch {
      return true; // no statfs here: as before
    }
  }

  /** An owner is done with the journal; the file closes once every owner is. */
  release(owner: JournalOwner): Promise<void> {
    this.released.add(owner);
    if (this.owners.some((o) => !this.released.has(o))) return Promise.resolve();
    this.closing ??= this.journal.close();
    return this.closing;
  }
}

export type { CopyRun, JournalRecord, LiveRecord, RecordLocation };
