// Durable per-session message store on one journal (src/durable/journal.ts): `<dir>/<sessionKey>.journal`.
// The journal may be shared with another owner (src/durable/shared-journal.ts: the application's
// records, e.g. an order book, ride in the same writes); the store reads only its own record types
// and keeps the other owner's live state through a reset (a compaction of the whole journal).
//
// Records (journal body, integers little-endian):
//   'S' SENT:    u32 seq, raw wire text (latin1; empty = admin message not stored)
//   'T' TARGET:  u32 next target seqnum
//   'N' SENDER:  u32 next sender seqnum
// The journal's header carries the sequence's creation time; a header alone means next sender 1,
// next target 1, no messages. Reset replaces the journal with a header-only one (atomically).
// Memory holds only seq -> (offset, length); texts are read back on demand.
//
// State changes (seqnums, index) apply when a method is called; the returned promise resolves once
// the record is durable. Records are written in call order, so when a promise resolves every record
// of an earlier call is durable too: a session may call setNextTargetSeqNum(n) and appendSent(reply)
// in the same tick and await only the reply. A failed write rejects its calls and undoes their
// effect here (seqnums and index are as of the last durable record); the store stays usable.

import * as path from 'path';
import { Journal, JournalStats, LiveRecord, RecordLocation } from '../../durable/journal';
import { JournalOwner, SharedJournal } from '../../durable/shared-journal';
import type { MessageStore, StoredMessage } from './message-store';

export interface FileSessionStoreOptions {
  /** fdatasync every write (default true). Only benchmarks and tests that do not test durability turn it off. */
  fsync?: boolean;
  /** A journal shared with another owner (created with sessionJournalFor); default: the store's own. */
  journal?: SharedJournal;
}

/** The session's journal file, `<dir>/<sessionKey>.journal`, to share with the application's records. */
export function sessionJournalFor(dir: string, sessionKey: string, opts: { fsync?: boolean; onBroken?: (err: Error) => void } = {}): SharedJournal {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(sessionKey)) {
    throw new Error(`FileSessionStore: session key ${JSON.stringify(sessionKey)} is not a safe file name`);
  }
  return new SharedJournal(path.join(path.resolve(dir), `${sessionKey}.journal`), {
    magic: 'FIXJRNL\0',
    version: 1,
    description: 'FIX session journal',
    fsync: opts.fsync,
    onBroken: opts.onBroken,
  });
}

const T_SENT = 0x53; // 'S'
const T_TARGET = 0x54; // 'T'
const T_SENDER = 0x4e; // 'N'
const MAX_RAW = 16 * 1024 * 1024;
const MAX_SEQ = 0xffffffff;

function isValidSeq(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= MAX_SEQ;
}

function u32Body(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(n, 0);
  return b;
}

// ---------------------------------------------------------------------------------------------
// seq -> (file offset, record length), sorted by seq in parallel typed arrays: 16 bytes a message,
// no per-message objects, O(1) append for ascending seqs (the normal case).

class SeqIndex {
  private seqs = new Uint32Array(1024);
  private offs = new Float64Array(1024);
  private lens = new Uint32Array(1024);
  count = 0;

  get(seq: number): RecordLocation | undefined {
    const i = this.lowerBound(seq);
    return i < this.count && this.seqs[i] === seq ? { offset: this.offs[i], length: this.lens[i] } : undefined;
  }

  last(): number {
    return this.count > 0 ? this.seqs[this.count - 1] : 0;
  }

  set(seq: number, off: number, len: number): void {
    const n = this.count;
    let i = n;
    if (n > 0 && seq <= this.seqs[n - 1]) {
      i = this.lowerBound(seq);
      if (this.seqs[i] === seq) {
        this.offs[i] = off;
        this.lens[i] = len;
        return;
      }
    }
    if (n === this.seqs.length) this.resize(n * 2);
    if (i < n) {
      this.seqs.copyWithin(i + 1, i, n);
      this.offs.copyWithin(i + 1, i, n);
      this.lens.copyWithin(i + 1, i, n);
    }
    this.seqs[i] = seq;
    this.offs[i] = off;
    this.lens[i] = len;
    this.count = n + 1;
  }

  delete(seq: number): void {
    const n = this.count;
    if (n === 0 || seq > this.seqs[n - 1]) return;
    const i = this.lowerBound(seq);
    if (this.seqs[i] !== seq) return;
    this.seqs.copyWithin(i, i + 1, n);
    this.offs.copyWithin(i, i + 1, n);
    this.lens.copyWithin(i, i + 1, n);
    this.count = n - 1;
  }

  /** Removes every entry whose record lies at or after `offset` (a rolled-back write). */
  dropFrom(offset: number): void {
    let w = 0;
    for (let r = 0; r < this.count; r++) {
      if (this.offs[r] >= offset) continue;
      this.seqs[w] = this.seqs[r];
      this.offs[w] = this.offs[r];
      this.lens[w] = this.lens[r];
      w++;
    }
    this.count = w;
  }

  /** First index whose seq >= `seq` (count if none). */
  lowerBound(seq: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.seqs[mid] < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The entries with begin <= seq <= end. */
  range(begin: number, end: number): { seqs: number[]; locs: RecordLocation[] } {
    const seqs: number[] = [];
    const locs: RecordLocation[] = [];
    for (let i = this.lowerBound(begin); i < this.count && this.seqs[i] <= end; i++) {
      seqs.push(this.seqs[i]);
      locs.push({ offset: this.offs[i], length: this.lens[i] });
    }
    return { seqs, locs };
  }

  clear(): void {
    this.count = 0;
    if (this.seqs.length > 65536) this.resize(1024);
  }

  private resize(cap: number): void {
    const s = new Uint32Array(cap);
    const o = new Float64Array(cap);
    const l = new Uint32Array(cap);
    const n = Math.min(this.count, cap);
    s.set(this.seqs.subarray(0, n));
    o.set(this.offs.subarray(0, n));
    l.set(this.lens.subarray(0, n));
    this.seqs = s;
    this.offs = o;
    this.lens = l;
  }
}

/** State before the first record of a batch, to undo that batch if its write fails. */
interface Checkpoint {
  batchStart: number;
  nextSender: number;
  nextTarget: number;
  /** Index entries the batch replaced or deleted (a seq sent again), to put back. */
  replaced: { seq: number; loc: RecordLocation }[];
}

export class FileSessionStore implements MessageStore, JournalOwner {
  readonly journalPath: string;
  readonly stats: JournalStats;
  readonly recordTypes = [T_SENT, T_TARGET, T_SENDER];
  readonly maxBodyBytes = 4 + MAX_RAW;

  private readonly shared: SharedJournal;
  private readonly journal: Journal;
  private nextSender = 1;
  private nextTarget = 1;
  private readonly index = new SeqIndex();
  private checkpoints: Checkpoint[] = [];

  constructor(dir: string, sessionKey: string, opts: FileSessionStoreOptions = {}) {
    this.shared = opts.journal ?? sessionJournalFor(dir, sessionKey, { fsync: opts.fsync });
    this.shared.register(this);
    this.journal = this.shared.journal;
    this.journalPath = this.journal.file;
    this.stats = this.journal.stats;
  }

  /** Bytes cut off a torn or corrupt tail by open(); 0 if none. */
  get recoveredBytes(): number {
    return this.journal.recoveredBytes;
  }

  /** What open() repaired, for the caller to log; undefined if the journal was clean. */
  get recoveryNote(): string | undefined {
    const note = this.journal.recoveryNote;
    if (note === undefined || this.journal.recoveredBytes === 0) return note;
    return `${note}; state is as of the last complete record (next sender ${this.nextSender}, next target ${this.nextTarget})`;
  }

  // ----- lifecycle --------------------------------------------------------------------------

  async open(): Promise<void> {
    await this.shared.open();
  }

  close(): Promise<void> {
    return this.shared.release(this);
  }

  // ----- JournalOwner -----------------------------------------------------------------------

  replay(type: number, body: Buffer, at: RecordLocation): void {
    if (body.length < 4 || (type !== T_SENT && body.length !== 4)) throw new Error(`bad length ${body.length} for record type ${String.fromCharCode(type)}`);
    const num = body.readUInt32LE(0);
    if (type === T_SENT) {
      if (body.length > 4) this.index.set(num, at.offset, at.length);
      else this.index.delete(num);
      this.nextSender = num + 1;
    } else if (type === T_TARGET) {
      this.nextTarget = num;
    } else {
      this.nextSender = num;
    }
  }

  /** The stored messages (copied as they are), then both seqnums; nothing for a fresh sequence. */
  liveRecords(): LiveRecord[] {
    const { locs } = this.index.range(1, MAX_SEQ);
    const live: LiveRecord[] = locs.map((copy) => ({ copy }));
    if (live.length === 0 && this.nextSender === 1 && this.nextTarget === 1) return live;
    live.push({ type: T_SENDER, body: u32Body(this.nextSender) }, { type: T_TARGET, body: u32Body(this.nextTarget) });
    return live;
  }

  compacted(locations: RecordLocation[]): void {
    const { seqs } = this.index.range(1, MAX_SEQ);
    for (let i = 0; i < seqs.length; i++) this.index.set(seqs[i], locations[i].offset, locations[i].length);
    this.checkpoints = [];
  }

  rolledBack(goodEnd: number): void {
    this.rollBack(goodEnd);
  }

  // ----- MessageStore -----------------------------------------------------------------------

  nextSenderSeqNum(): number {
    return this.nextSender;
  }

  nextTargetSeqNum(): number {
    return this.nextTarget;
  }

  creationTime(): number {
    return this.journal.creationTime();
  }

  appendSent(seqNum: number, raw: string): Promise<void> {
    if (!isValidSeq(seqNum)) return Promise.reject(this.badArg('appendSent seqNum', seqNum));
    if (raw.length > MAX_RAW) return Promise.reject(new Error(`${this.journalPath}: message ${seqNum} of ${raw.length} bytes is too large`));
    const body = Buffer.allocUnsafe(4 + raw.length);
    body.writeUInt32LE(seqNum, 0);
    if (raw.length > 0) body.write(raw, 4, raw.length, 'latin1');
    const cp = this.checkpoint();
    const locs: RecordLocation[] = [];
    const p = this.journal.append([{ type: T_SENT, body }], locs);
    if (locs.length === 0) return p; // refused (closed): nothing changed
    if (cp && seqNum <= this.index.last()) {
      const prev = this.index.get(seqNum);
      if (prev) cp.replaced.push({ seq: seqNum, loc: prev });
    }
    if (raw.length > 0) this.index.set(seqNum, locs[0].offset, locs[0].length);
    else this.index.delete(seqNum);
    this.nextSender = seqNum + 1;
    return p;
  }

  setNextTargetSeqNum(n: number): Promise<void> {
    if (!isValidSeq(n)) return Promise.reject(this.badArg('setNextTargetSeqNum', n));
    this.checkpoint();
    const locs: RecordLocation[] = [];
    const p = this.journal.append([{ type: T_TARGET, body: u32Body(n) }], locs);
    if (locs.length > 0) this.nextTarget = n;
    return p;
  }

  setNextSenderSeqNum(n: number): Promise<void> {
    if (!isValidSeq(n)) return Promise.reject(this.badArg('setNextSenderSeqNum', n));
    this.checkpoint();
    const locs: RecordLocation[] = [];
    const p = this.journal.append([{ type: T_SENDER, body: u32Body(n) }], locs);
    if (locs.length > 0) this.nextSender = n;
    return p;
  }

  async getSent(begin: number, end: number): Promise<StoredMessage[]> {
    if (!(begin <= end)) {
      await this.journal.read([]); // rejects when closed
      return [];
    }
    // Snapshot now: what was sent before this call (the journal reads it once it is durable).
    const { seqs, locs } = this.index.range(begin, end);
    const records = await this.journal.read(locs);
    return records.map((r, i) => {
      if (r.type !== T_SENT || r.body.readUInt32LE(0) !== seqs[i]) {
        throw new Error(`${this.journalPath}: stored message ${seqs[i]} at offset ${locs[i].offset} is corrupt`);
      }
      return { seqNum: seqs[i], raw: r.body.toString('latin1', 4) };
    });
  }

  reset(): Promise<void> {
    // Strictly later than the sequence it replaces: a creation time names one sequence (delivery
    // mark, undelivered journal), even for two resets within a millisecond.
    const creationTime = Math.max(Date.now(), this.journal.creationTime() + 1);
    this.nextSender = 1;
    this.nextTarget = 1;
    this.index.clear();
    this.checkpoints = [];
    // The other owner's live records are kept.
    return this.shared.compact({ creationTime });
  }

  // ----- rollback ---------------------------------------------------------------------------

  private badArg(what: string, v: number): Error {
    return new Error(`${this.journalPath}: ${what} ${v} is not a seqnum (1..${MAX_SEQ})`);
  }

  /** The checkpoint of the batch the next record joins, taken before its first record. */
  private checkpoint(): Checkpoint | undefined {
    const start = this.journal.batchStart();
    const last = this.checkpoints[this.checkpoints.length - 1];
    if (last !== undefined && last.batchStart === start) return last;
    // Batches already durable can no longer be rolled back.
    const durable = this.journal.durableEnd;
    while (this.checkpoints.length > 0 && this.checkpoints[0].batchStart < durable) this.checkpoints.shift();
    const cp: Checkpoint = { batchStart: start, nextSender: this.nextSender, nextTarget: this.nextTarget, replaced: [] };
    this.checkpoints.push(cp);
    return cp;
  }

  /** Writes from `goodEnd` on failed and were cut off: back to the state before them. */
  private rollBack(goodEnd: number): void {
    const i = this.checkpoints.findIndex((c) => c.batchStart >= goodEnd);
    if (i < 0) return;
    const undone = this.checkpoints.splice(i);
    this.nextSender = undone[0].nextSender;
    this.nextTarget = undone[0].nextTarget;
    this.index.dropFrom(goodEnd);
    for (let k = undone.length - 1; k >= 0; k--) {
      for (const r of undone[k].replaced.reverse()) if (r.loc.offset < goodEnd) this.index.set(r.seq, r.loc.offset, r.loc.length);
    }
  }
}
