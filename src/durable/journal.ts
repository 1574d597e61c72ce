// One append-only journal file of CRC-framed records, group-committed: the durable storage primitive
// under the FIX session store and the order book (and, later, a shared write-ahead journal).
//
// File layout, all integers little-endian. Every record is framed as
//
//   [u32 length][u32 crc32][u8 type][body]        length = bytes of type+body, crc32 over type+body
//
//   header (first record, exactly once): type 'H', 8-byte magic naming the content (the owner's),
//            u16 version (the owner's), u16 flags (0), f64 creation time (ms since epoch).
//   records: type (the owner's, never 'H'), u64 batchStart, then the owner's payload.
//
// batchStart is the file offset of the first record of the write (one write, durable on return) the
// record was part of. Only the last write can be torn by a crash, so on open a damaged record at
// offset X is a torn tail (truncated, with a note) when every intact record after X belongs to that
// same last write (batchStart == X, or == the batch of the record just before X); an intact record of
// a later write after X means acknowledged data is damaged, and open() throws naming the file.
//
// Durability: each batch is one write() followed by one fdatasync(), and an append completes in two
// phases: `written` (the write() returned: the bytes are in the kernel's page cache, so they survive
// the process being killed, and ENOSPC/EIO from the write are known) and durable (fdatasync done:
// they survive a power loss too). Batches run strictly one after another, so when a batch is written
// every earlier batch is durable: after an OS crash the file holds a prefix of the batches, with at
// most the last one torn. A file is created or replaced only as temp file + fsync + rename + fsync of
// the directory. Appends issued in the same tick share one write (group commit); appends issued while
// a write is in flight form the next one. stats.fsyncs counts the fdatasyncs (durable writes).
//
// Several owners may share one journal (shared-journal.ts): each declares its record types before
// open(); types are disjoint, so replay hands each record to its owner.
//
// A failed write (ENOSPC, EIO, a short write) rejects the appends of that write and of the writes
// queued behind it (their offsets assumed it), truncates the file back to where that write began,
// and tells the owner (onRollback) so it can undo their effect in memory; the journal stays usable,
// unless a compaction is queued behind that write (built from memory that included its effect: the
// journal then stops, as below).
// If the truncation fails too, or a compaction fails, or an fdatasync fails (the kernel may have
// dropped the dirty pages: what is in the file is no longer known), the journal refuses every later
// write with an error naming the file, until it is reopened.

import * as fs from 'fs';
import { promises as fsp } from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { orderTrace } from '../common/order-trace';

export interface JournalRecord {
  /** Owner-defined record type (one byte, not 'H'). */
  type: number;
  body: Uint8Array;
}

/** A record kept by a compaction: given by value, or copied from where it lies in the current file. */
export type LiveRecord = JournalRecord | { copy: RecordLocation };

/** Where a record lies in the file (as given to replay callbacks and by append). */
export interface RecordLocation {
  offset: number;
  length: number;
}

export interface JournalOptions {
  /** 8 ASCII characters naming what the journal holds; a file with another magic is refused. */
  magic: string;
  version: number;
  /** The record types the owner writes: anything else in the file is damage. */
  recordTypes: readonly number[];
  /** Largest body the owner writes (a larger length in the file is damage). */
  maxBodyBytes: number;
  /** Used in error messages: "FIX session journal", "order book journal". */
  description: string;
  /** fdatasync after every write, and fsyncs (default true). Only benchmarks and tests that do not test durability turn it off. */
  fsync?: boolean;
  /**
   * Called synchronously when writes failed and the file was cut back to `goodEnd`: every record the
   * owner appended at or after that offset (since the last compaction) is not in the journal.
   */
  onRollback?: (goodEnd: number) => void;
  /**
   * Called once when the journal stops (it refuses every later write until reopened): a failed
   * flush, a failed cut-back or compaction. The owner cannot store anything more: main.ts ends the
   * process so that a restart replays the file, rather than serve sessions that cannot store.
   */
  onBroken?: (err: Error) => void;
}

const FRAME = 8; // u32 length + u32 crc
const T_HEADER = 0x48; // 'H'
const HEADER_BODY = 1 + 8 + 2 + 2 + 8; // type, magic, version, flags, creation time
/** Size of the header record; also where the first batch starts. */
export const JOURNAL_HEADER_SIZE = FRAME + HEADER_BODY;
/** Bytes of a record before the owner's body: frame, type, batchStart. */
export const RECORD_OVERHEAD = FRAME + 1 + 8;
const TWO_32 = 0x100000000;

const BATCH_BUF_INITIAL = 64 * 1024;
const BATCH_BUF_KEEP_MAX = 4 * 1024 * 1024;
const READ_SPAN = 1024 * 1024;
const REPLAY_CHUNK = 1024 * 1024;
const EMPTY = Buffer.alloc(0);

// ---------------------------------------------------------------------------------------------
// Helpers (the one copy of each).

// CRC32 (IEEE): zlib.crc32 where Node has it (>= 20.15), else table-driven.
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
let crcTable: Int32Array | undefined;
function tableCrc32(data: Uint8Array): number {
  if (crcTable === undefined) {
    crcTable = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c;
    }
  }
  let crc = -1;
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}
export const crc32: (data: Uint8Array) => number = nativeCrc32 ? (d) => nativeCrc32(d) : tableCrc32;

function crcOf(buf: Buffer, start: number, end: number): number {
  return crc32(buf.subarray(start, end));
}

function writeU64(buf: Buffer, value: number, at: number): void {
  buf.writeUInt32LE(value % TWO_32, at);
  buf.writeUInt32LE(Math.floor(value / TWO_32), at + 4);
}

/** Frames one record at `at` in buf (RECORD_OVERHEAD + body bytes). */
function encodeRecord(buf: Buffer, at: number, type: number, body: Uint8Array, batchStart: number): void {
  const n = RECORD_OVERHEAD + body.length;
  buf.writeUInt32LE(n - FRAME, at);
  buf[at + FRAME] = type;
  writeU64(buf, batchStart, at + FRAME + 1);
  buf.set(body, at + RECORD_OVERHEAD);
  buf.writeUInt32LE(crcOf(buf, at + FRAME, at + n), at + 4);
}

function readU64(buf: Buffer, at: number): number {
  return buf.readUInt32LE(at) + buf.readUInt32LE(at + 4) * TWO_32;
}

/** Writes all `len` bytes at `position`; a write that makes no progress is an error, never a loop. */
export async function writeAll(fh: fsp.FileHandle, buf: Uint8Array, len: number, position: number): Promise<void> {
  let done = 0;
  while (done < len) {
    const { bytesWritten } = await fh.write(buf, done, len - done, position + done);
    if (!(bytesWritten > 0)) throw new Error(`short write at offset ${position + done} (${bytesWritten} bytes written)`);
    done += bytesWritten;
  }
}

export async function readAll(fh: fsp.FileHandle, buf: Buffer, len: number, position: number): Promise<void> {
  let done = 0;
  while (done < len) {
    const { bytesRead } = await fh.read(buf, done, len - done, position + done);
    if (bytesRead <= 0) throw new Error(`unexpected end of file at offset ${position + done}`);
    done += bytesRead;
  }
}

/** fsync a directory, so a file created or renamed in it survives a power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch (e) {
    // Platforms that cannot fsync a directory (Windows) say so with one of these.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') throw e;
  } finally {
    await fh?.close();
  }
}

/** mkdir -p, then fsync the parent of each directory it created. */
export async function ensureDir(dir: string, fsync: boolean): Promise<void> {
  const first = await fsp.mkdir(dir, { recursive: true });
  if (first === undefined || !fsync) return;
  const stop = path.dirname(path.resolve(first));
  let d = path.resolve(dir);
  for (;;) {
    d = path.dirname(d);
    await fsyncDir(d);
    if (d === stop || d === path.dirname(d)) break;
  }
}

// ---------------------------------------------------------------------------------------------
// Replay: a window over the file, so a large journal is not read into memory at once.

interface ParsedRecord {
  type: number;
  end: number;
  batchStart: number;
  /** Offset of the body in the reader's window. */
  bodyAt: number;
  bodyLen: number;
}

class Reader {
  private buf = Buffer.allocUnsafe(REPLAY_CHUNK);
  private start = 0;
  private end = 0;

  constructor(
    private readonly fh: fsp.FileHandle,
    readonly size: number,
    private readonly types: ReadonlySet<number>,
    private readonly maxLen: number,
  ) {}

  private has(pos: number, n: number): boolean {
    return pos >= this.start && pos + n <= this.end;
  }

  /** Makes [pos, pos+n) addressable; returns the offset of pos in `bytes`. Caller ensures pos+n <= size. */
  async at(pos: number, n: number): Promise<number> {
    if (!this.has(pos, n)) {
      if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
      const want = Math.min(this.buf.length, this.size - pos);
      await readAll(this.fh, this.buf, want, pos);
      this.start = pos;
      this.end = pos + want;
    }
    return pos - this.start;
  }

  get bytes(): Buffer {
    return this.buf;
  }

  /** The record at pos, or why there is no valid record there. */
  async record(pos: number): Promise<ParsedRecord | string> {
    const left = this.size - pos;
    if (left < FRAME) return `incomplete record frame (${left} bytes before end of file)`;
    let o = await this.at(pos, FRAME);
    const len = this.bytes.readUInt32LE(o);
    if (len < 9 || len > this.maxLen) return `implausible record length ${len}`;
    if (len > left - FRAME) return `record of ${len} bytes runs past end of file (${left - FRAME} bytes left)`;
    o = await this.at(pos, FRAME + len);
    const b = this.bytes;
    const type = b[o + FRAME];
    const stored = b.readUInt32LE(o + 4);
    const actual = crcOf(b, o + FRAME, o + FRAME + len);
    if (stored !== actual) return `CRC mismatch (stored ${stored.toString(16)}, computed ${actual.toString(16)})`;
    // Intact, yet not a type this journal's owner writes: never a torn write.
    if (!this.types.has(type)) throw new Error(`intact record of unknown type 0x${type.toString(16)} at offset ${pos}`);
    return { type, end: pos + FRAME + len, batchStart: readU64(b, o + FRAME + 1), bodyAt: o + RECORD_OVERHEAD, bodyLen: len - 9 };
  }

  /** The next position > from holding a valid record. */
  async findValid(from: number): Promise<{ pos: number; rec: ParsedRecord } | undefined> {
    for (let p = from; p + RECORD_OVERHEAD <= this.size; p++) {
      // Cheap checks first: the length must fit and the type byte must be one the owner writes.
      const o = this.has(p, FRAME + 1) ? p - this.start : await this.at(p, FRAME + 1);
      const len = this.bytes.readUInt32LE(o);
      if (len < 9 || len > this.size - p - FRAME || !this.types.has(this.bytes[o + FRAME])) continue;
      const rec = await this.record(p);
      if (typeof rec !== 'string') return { pos: p, rec };
    }
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Write queue: batches (group commit), compactions and close, executed strictly in call order.

type JobKind = 'records' | 'compact' | 'close';

/** An fdatasync that failed: unlike a failed write, what the file holds is then unknown. */
class SyncFailed extends Error {
  constructor(override readonly cause: Error) {
    super(`fdatasync failed: ${cause.message}`);
  }
}

class Job {
  started = false;
  /** compact: records to copy from the current file, and where they go in buf. */
  copies: { from: RecordLocation; at: number }[] = [];
  buf: Buffer = EMPTY;
  used = 0;
  count = 0;
  creationTime = 0;
  /** compact/close: reads of the current file that must finish before it is closed. */
  waitFor: Promise<unknown>[] = [];
  readonly promise: Promise<void>;
  resolve!: () => void;
  reject!: (e: Error) => void;
  /** records: resolves once write() returned (before the fdatasync); rejects if the write failed. */
  readonly written: Promise<void>;
  resolveWritten!: () => void;
  rejectWritten!: (e: Error) => void;

  constructor(
    readonly kind: JobKind,
    /** File offset of buf[0] (records jobs). */
    readonly fileOffset: number,
  ) {
    this.promise = new Promise<void>((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
    this.written = new Promise<void>((res, rej) => {
      this.resolveWritten = res;
      this.rejectWritten = rej;
    });
    // Rejections are delivered to the callers that hold this promise; do not report them twice.
    this.promise.catch(() => undefined);
    this.written.catch(() => undefined);
  }
}

export interface JournalStats {
  /** Durable writes: fdatasyncs of batches, fsyncs of new or compacted files and of repairs. */
  fsyncs: number;
  records: number;
  /** Set by an onlooker (admin metrics): called after each batch write with its duration (write + sync), in seconds. */
  onWrite?: (seconds: number) => void;
}

export class Journal {
  readonly file: string;
  readonly dir: string;
  /** Bytes cut off a torn tail by open(); 0 if none. */
  recoveredBytes = 0;
  /** What open() repaired, for the owner to log; undefined if the journal was clean. */
  recoveryNote: string | undefined;
  readonly stats: JournalStats = { fsyncs: 0, records: 0 };

  private readonly fsync: boolean;
  private readonly types: Set<number>;
  private maxBodyBytes: number;
  /** The batch the latest append joined. */
  private lastJob: Job | undefined;
  private readonly magic: Buffer;
  private fh: fsp.FileHandle | undefined;
  private state: 'new' | 'opening' | 'open' | 'closing' | 'closed' = 'new';
  /** Set when the file's tail is unknown: every later write is refused until reopened. */
  private broken: Error | undefined;
  private closePromise: Promise<void> | undefined;
  private created = 0;
  private readonly queue: Job[] = [];
  private running = false;
  /** Logical end of the journal including queued, not yet written records. */
  private appendEnd = 0;
  /** End of what is durable in the current file. */
  private durable = 0;
  private spareBuf: Buffer | undefined;
  private readonly reads = new Set<Promise<unknown>>();

  constructor(
    file: string,
    private readonly opts: JournalOptions,
  ) {
    this.file = path.resolve(file);
    this.dir = path.dirname(this.file);
    this.fsync = opts.fsync ?? true;
    this.magic = Buffer.from(opts.magic, 'latin1');
    if (this.magic.length !== 8) throw new Error(`journal magic must be 8 characters: ${JSON.stringify(opts.magic)}`);
    if (opts.recordTypes.includes(T_HEADER)) throw new Error(`journal record type 'H' is reserved for the header`);
    this.types = new Set(opts.recordTypes);
    this.maxBodyBytes = opts.maxBodyBytes;
  }

  /** Another owner's record types (disjoint from those declared so far) and largest body; before open(). */
  addRecordTypes(types: readonly number[], maxBodyBytes: number): void {
    if (this.state !== 'new') throw new Error(`${this.file}: record types must be declared before open()`);
    for (const t of types) {
      if (t === T_HEADER || this.types.has(t)) throw new Error(`${this.file}: record type 0x${t.toString(16)} is reserved or already taken`);
      this.types.add(t);
    }
    this.maxBodyBytes = Math.max(this.maxBodyBytes, maxBodyBytes);
  }

  /** Creation time of the journal's content (ms since epoch): set when created, and by compact(). */
  creationTime(): number {
    return this.created;
  }

  /** Logical size: the file's size once every queued write is done. */
  get size(): number {
    return this.appendEnd;
  }

  /** Offset at which the batch that the next append joins starts. */
  batchStart(): number {
    const last = this.queue[this.queue.length - 1];
    return last !== undefined && last.kind === 'records' && !last.started ? last.fileOffset : this.appendEnd;
  }

  /** End of what is durable in the current file. */
  get durableEnd(): number {
    return this.durable;
  }

  /** Writes queued or in flight. */
  get busy(): boolean {
    return this.queue.length > 0;
  }

  /**
   * Opens (creating the file, and missing directories, if needed) and replays every record in file
   * order. `body` is a view valid only during the callback. A file created here gets
   * `opts.creationTime` (default now).
   */
  async open(onRecord: (type: number, body: Buffer, at: RecordLocation) => void, opts: { creationTime?: number } = {}): Promise<void> {
    if (this.state !== 'new') throw new Error(`${this.file}: open() called twice`);
    this.state = 'opening';
    try {
      await ensureDir(this.dir, this.fsync);
      await fsp.rm(this.tmpPath, { force: true }); // an interrupted create or compaction
      let size = -1;
      try {
        const st = await fsp.stat(this.file);
        if (!st.isFile()) throw new Error(`${this.file}: ${this.opts.description} is not a regular file`);
        size = st.size;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      if (size <= 0) {
        this.created = opts.creationTime ?? Date.now();
        await this.replaceFile(this.encodeHeader(this.created), JOURNAL_HEADER_SIZE);
        if (size === 0) this.recoveryNote = `${this.file}: ${this.opts.description} was empty (0 bytes, crash while it was created?); started anew`;
        this.fh = await fsp.open(this.file, this.openFlags());
        this.appendEnd = JOURNAL_HEADER_SIZE;
      } else {
        this.fh = await fsp.open(this.file, this.openFlags());
        this.appendEnd = await this.replay(this.fh, size, onRecord);
      }
      this.durable = this.appendEnd;
      this.state = 'open';
    } catch (e) {
      await this.fh?.close().catch(() => undefined);
      this.fh = undefined;
      this.state = 'closed';
      throw e;
    }
  }

  /**
   * Appends records (group-committed with the other appends of this tick); resolves once they are
   * durable. Writes happen in call order, so when a promise resolves every earlier append is durable
   * too. `locations`, if given, receives where each record lies in the file.
   */
  append(records: readonly JournalRecord[], locations?: RecordLocation[]): Promise<void> {
    const err = this.unusable();
    if (err) return Promise.reject(err);
    for (const r of records) {
      if (r.body.length > this.maxBodyBytes) return Promise.reject(new Error(`${this.file}: record of ${r.body.length} bytes is too large`));
      if (!this.types.has(r.type)) return Promise.reject(new Error(`${this.file}: record type 0x${r.type.toString(16)} is not one of this journal's`));
    }
    const job = this.recordsJob();
    this.lastJob = job;
    for (const r of records) {
      const n = RECORD_OVERHEAD + r.body.length;
      const at = this.reserve(job, n);
      const b = job.buf;
      b.writeUInt32LE(n - FRAME, at);
      b[at + FRAME] = r.type;
      writeU64(b, job.fileOffset, at + FRAME + 1);
      b.set(r.body, at + RECORD_OVERHEAD);
      b.writeUInt32LE(crcOf(b, at + FRAME, at + n), at + 4);
      locations?.push({ offset: job.fileOffset + at, length: n });
    }
    return job.promise;
  }

  /**
   * The first phase of the latest append: resolves once its batch's write() returned (the records
   * survive the process being killed, not yet a power loss), rejects if that write failed. Call right
   * after append(), in the same tick.
   */
  lastAppendWritten(): Promise<void> {
    return this.lastJob?.written ?? Promise.resolve();
  }

  /**
   * Reads back records by location, verifying each; sees every append made before this call once it
   * is durable. A compaction or close requested later waits for this read.
   */
  read(locations: readonly RecordLocation[]): Promise<{ type: number; body: Buffer }[]> {
    const err = this.unusable(true);
    if (err) return Promise.reject(err);
    const barrier = this.queue.length > 0 ? this.queue[this.queue.length - 1].promise : undefined;
    const p = this.readLocations(locations, barrier);
    this.reads.add(p);
    const done = (): void => {
      this.reads.delete(p);
    };
    p.then(done, done);
    return p;
  }

  /**
   * Atomically replaces the journal's content with `live` (what the owner's state is now): written to
   * a temp file, fsynced, renamed over the journal, directory fsynced. Appends made after this call
   * go to the new file; `locations` receives where the live records lie in it. Resolves when done.
   */
  compact(live: readonly LiveRecord[], opts: { creationTime?: number; locations?: RecordLocation[] } = {}): Promise<void> {
    const err = this.unusable();
    if (err) return Promise.reject(err);
    const job = new Job('compact', JOURNAL_HEADER_SIZE);
    job.creationTime = opts.creationTime ?? this.created;
    let size = JOURNAL_HEADER_SIZE;
    for (const r of live) size += 'copy' in r ? r.copy.length : RECORD_OVERHEAD + r.body.length;
    const buf = Buffer.allocUnsafe(size);
    this.encodeHeader(job.creationTime).copy(buf, 0);
    let at = JOURNAL_HEADER_SIZE;
    for (const r of live) {
      let n: number;
      if ('copy' in r) {
        // Read from the current file when the job runs (everything queued before it is written then).
        n = r.copy.length;
        job.copies.push({ from: r.copy, at });
      } else {
        n = RECORD_OVERHEAD + r.body.length;
        // The whole compacted file is fsynced before it is renamed in: it is one batch.
        encodeRecord(buf, at, r.type, r.body, JOURNAL_HEADER_SIZE);
      }
      opts.locations?.push({ offset: at, length: n });
      at += n;
    }
    job.buf = buf;
    job.used = size;
    job.count = live.length;
    job.waitFor = [...this.reads];
    this.created = job.creationTime;
    this.enqueue(job);
    this.appendEnd = size;
    return job.promise;
  }

  /** Waits for the queued writes, then closes the file. Idempotent. */
  close(): Promise<void> {
    if (this.closePromise) return this.closePromise;
    if (this.state !== 'open') {
      this.state = 'closed';
      this.closePromise = Promise.resolve();
      return this.closePromise;
    }
    this.state = 'closing';
    const job = new Job('close', 0);
    job.waitFor = [...this.reads];
    this.enqueue(job);
    this.closePromise = job.promise.then(
      () => {
        this.state = 'closed';
      },
      async () => {
        await this.fh?.close().catch(() => undefined);
        this.fh = undefined;
        this.state = 'closed';
      },
    );
    return this.closePromise;
  }

  // ----- internals --------------------------------------------------------------------------

  private get tmpPath(): string {
    return this.file + '.tmp';
  }

  private openFlags(): number {
    // No O_DSYNC: a batch is write() then fdatasync(), so the write's completion (`written`) is seen
    // before the flush's.
    return fs.constants.O_RDWR;
  }

  private unusable(forRead = false): Error | undefined {
    if (this.broken && !forRead) return this.broken;
    if (this.state !== 'open') {
      return new Error(`${this.file}: ${this.opts.description} is ${this.state === 'new' || this.state === 'opening' ? 'not open' : 'closed'}`);
    }
    return undefined;
  }

  private encodeHeader(creationTime: number): Buffer {
    const b = Buffer.alloc(JOURNAL_HEADER_SIZE);
    b.writeUInt32LE(HEADER_BODY, 0);
    b[FRAME] = T_HEADER;
    this.magic.copy(b, FRAME + 1);
    b.writeUInt16LE(this.opts.version, FRAME + 9);
    b.writeUInt16LE(0, FRAME + 11);
    b.writeDoubleLE(creationTime, FRAME + 13);
    b.writeUInt32LE(crcOf(b, FRAME, JOURNAL_HEADER_SIZE), 4);
    return b;
  }

  /** The batch new records join: the last queued job if it is a records job not yet being written. */
  private recordsJob(): Job {
    const last = this.queue[this.queue.length - 1];
    if (last !== undefined && last.kind === 'records' && !last.started) return last;
    const job = new Job('records', this.appendEnd);
    job.buf = this.spareBuf ?? Buffer.allocUnsafe(BATCH_BUF_INITIAL);
    this.spareBuf = undefined;
    this.enqueue(job);
    return job;
  }

  /** Room for `n` bytes at the end of the job's buffer; returns where they go. */
  private reserve(job: Job, n: number): number {
    const at = job.used;
    if (at + n > job.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(job.buf.length * 2, at + n));
      job.buf.copy(bigger, 0, 0, at);
      job.buf = bigger;
    }
    job.used = at + n;
    job.count++;
    this.appendEnd += n;
    return at;
  }

  private enqueue(job: Job): void {
    this.queue.push(job);
    if (!this.running) {
      this.running = true;
      // Start after the current synchronous run, so appends issued in the same tick share a write.
      queueMicrotask(() => void this.drain());
    }
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const job = this.queue[0];
      job.started = true;
      if (this.broken) {
        this.queue.shift();
        if (job.kind === 'close') await this.closeFile().catch(() => undefined);
        job.rejectWritten(this.broken);
        job.reject(this.broken);
        continue;
      }
      try {
        await this.execute(job);
      } catch (e) {
        await this.failed(job, e as Error);
        continue;
      }
      this.queue.shift();
      job.resolve();
    }
    this.running = false;
  }

  private async execute(job: Job): Promise<void> {
    if (job.kind === 'records') {
      const t0 = this.stats.onWrite ? performance.now() : 0;
      await writeAll(this.fh!, job.buf, job.used, job.fileOffset);
      job.resolveWritten();
      if (this.fsync) {
        try {
          await this.fh!.datasync();
        } catch (e) {
          throw new SyncFailed(e as Error);
        }
        this.stats.fsyncs++;
        if (orderTrace) orderTrace.durableWrites++;
      }
      this.stats.onWrite?.((performance.now() - t0) / 1000);
      this.durable = job.fileOffset + job.used;
      this.stats.records += job.count;
      if (job.buf.length <= BATCH_BUF_KEEP_MAX) this.spareBuf = job.buf;
      job.buf = EMPTY;
      return;
    }
    await Promise.allSettled(job.waitFor);
    if (job.kind === 'close') {
      await this.closeFile();
      return;
    }
    if (job.copies.length > 0) {
      const records = await this.readLocations(
        job.copies.map((c) => c.from),
        undefined,
      );
      for (let i = 0; i < records.length; i++) encodeRecord(job.buf, job.copies[i].at, records[i].type, records[i].body, JOURNAL_HEADER_SIZE);
      job.copies = [];
    }
    await this.replaceFile(job.buf, job.used);
    await this.closeFile();
    this.fh = await fsp.open(this.file, this.openFlags());
    this.durable = job.used;
    this.stats.records += job.count;
    job.buf = EMPTY;
  }

  private async closeFile(): Promise<void> {
    const old = this.fh;
    this.fh = undefined;
    await old?.close();
  }

  /**
   * A job failed. A batch: cut the file back to where it began, reject it and the batches queued
   * behind it in the same file (their offsets assumed it), and let the owner roll back. Anything
   * else, or a failed cut: the tail is unknown, so the journal refuses every later write.
   */
  private async failed(job: Job, cause: Error): Promise<void> {
    if (job.kind === 'records' && cause instanceof SyncFailed) {
      // The write went through but the flush did not: the kernel may have dropped those pages, so
      // neither keeping nor cutting them back can be trusted. Stop writing; a reopen replays the file.
      this.queue.shift();
      this.breakWith(`flush failed (${cause.cause.message})`, cause.cause);
      job.reject(this.broken!);
      return;
    }
    if (job.kind === 'records') {
      job.rejectWritten(cause);
      try {
        await this.fh!.truncate(job.fileOffset);
        if (this.fsync) await this.fh!.sync();
      } catch (e) {
        this.breakWith(`write failed (${cause.message}) and cutting it back to offset ${job.fileOffset} failed too (${(e as Error).message})`, cause);
        return;
      }
      this.durable = job.fileOffset;
      const err = new Error(`${this.file}: ${this.opts.description} write failed, nothing of it kept: ${cause.message}`);
      (err as Error & { cause?: unknown }).cause = cause;
      let i = 0;
      const dropped: Job[] = [];
      while (i < this.queue.length && this.queue[i].kind === 'records') dropped.push(this.queue[i++]);
      this.queue.splice(0, dropped.length);
      if (this.queue.some((j) => j.kind === 'compact')) {
        // A compaction queued behind these writes holds the owners' state by value as it was when it
        // was asked for, with these writes' effect in it (an order's pre-save): running it would make
        // durable what the callers are told failed. Stop instead: the file, cut back, is what a
        // reopen replays.
        this.breakWith(`write failed (${cause.message}) with a compaction queued behind it, built from state that included it`, cause);
      } else {
        this.appendEnd = job.fileOffset;
        this.opts.onRollback?.(job.fileOffset);
      }
      for (const j of dropped) {
        j.rejectWritten(err);
        j.reject(err);
      }
      return;
    }
    this.queue.shift();
    if (job.kind === 'compact') await this.fh?.close().catch(() => undefined);
    this.fh = job.kind === 'compact' ? undefined : this.fh;
    this.breakWith(`${job.kind} failed: ${cause.message}`, cause);
    job.reject(this.broken!);
  }

  private breakWith(what: string, cause: Error): void {
    const err = new Error(`${this.file}: ${this.opts.description} ${what}; refusing every later write until reopened`);
    (err as Error & { cause?: unknown }).cause = cause;
    const first = this.broken === undefined;
    this.broken = err;
    if (first) this.opts.onBroken?.(err);
  }

  /** Atomically put `buf` in place as the journal: temp file, fsync, rename, fsync directory. */
  private async replaceFile(buf: Buffer, len: number): Promise<void> {
    const fh = await fsp.open(this.tmpPath, 'w');
    try {
      await writeAll(fh, buf, len, 0);
      if (this.fsync) {
        await fh.sync();
        this.stats.fsyncs++;
      }
    } finally {
      await fh.close();
    }
    await fsp.rename(this.tmpPath, this.file);
    if (this.fsync) await fsyncDir(this.dir);
  }

  /** Checks the header, replays every record, repairs a torn tail; returns the end of the last good record. */
  private async replay(fh: fsp.FileHandle, size: number, onRecord: (type: number, body: Buffer, at: RecordLocation) => void): Promise<number> {
    const file = this.file;
    const r = new Reader(fh, size, this.types, 9 + this.maxBodyBytes);
    const badHeader = (what: string): Error =>
      new Error(`${file}: not a readable ${this.opts.description}: bad header (${what}); refusing to start anew — move the file away to reset deliberately`);
    if (size < JOURNAL_HEADER_SIZE) throw badHeader(`file is ${size} bytes, header needs ${JOURNAL_HEADER_SIZE}`);
    const h = await r.at(0, JOURNAL_HEADER_SIZE);
    const hb = r.bytes;
    if (hb[h + FRAME] !== T_HEADER || !hb.subarray(h + FRAME + 1, h + FRAME + 9).equals(this.magic)) throw badHeader('wrong magic');
    if (hb.readUInt32LE(h) !== HEADER_BODY) throw badHeader(`header length ${hb.readUInt32LE(h)}`);
    if (hb.readUInt32LE(h + 4) !== crcOf(hb, h + FRAME, h + JOURNAL_HEADER_SIZE)) throw badHeader('CRC mismatch');
    const version = hb.readUInt16LE(h + FRAME + 9);
    if (version !== this.opts.version) throw badHeader(`unsupported version ${version}`);
    this.created = hb.readDoubleLE(h + FRAME + 13);

    let pos = JOURNAL_HEADER_SIZE;
    let batch = -1; // batchStart of the last good record
    while (pos < size) {
      const rec = await r.record(pos).catch((e: Error) => {
        throw new Error(`${file}: corrupt journal: ${e.message}`);
      });
      if (typeof rec === 'string') {
        await this.recoverTail(r, pos, batch, rec);
        return pos;
      }
      if (rec.batchStart > pos || rec.batchStart < JOURNAL_HEADER_SIZE || (rec.batchStart !== batch && rec.batchStart !== pos)) {
        throw new Error(`${file}: corrupt journal: record at offset ${pos} claims batch start ${rec.batchStart} (previous batch ${batch})`);
      }
      batch = rec.batchStart;
      try {
        onRecord(rec.type, r.bytes.subarray(rec.bodyAt, rec.bodyAt + rec.bodyLen), { offset: pos, length: rec.end - pos });
      } catch (e) {
        // An intact record the owner cannot use is never a torn write.
        throw new Error(`${file}: corrupt journal: record at offset ${pos}: ${(e as Error).message}`);
      }
      pos = rec.end;
    }
    return pos;
  }

  /**
   * The record at `bad` is not valid. If nothing follows it, or only records of the same (last)
   * write, it is a torn tail: cut the file there. Intact records of a later write mean damage in the middle.
   */
  private async recoverTail(r: Reader, bad: number, lastBatch: number, reason: string): Promise<void> {
    const file = this.file;
    let allowed: number | undefined;
    let from = bad + 1;
    scan: for (;;) {
      const found = await r.findValid(from);
      if (found === undefined) break;
      let { pos, rec } = found;
      for (;;) {
        const ok = allowed === undefined ? rec.batchStart === bad || rec.batchStart === lastBatch : rec.batchStart === allowed;
        if (!ok) {
          throw new Error(
            `${file}: corrupt journal: damaged record at offset ${bad} (${reason}) is followed by intact records of a later write (offset ${pos}); refusing to truncate acknowledged data`,
          );
        }
        allowed = rec.batchStart;
        pos = rec.end;
        if (pos >= r.size) break scan;
        const next = await r.record(pos).catch((e: Error) => {
          throw new Error(`${file}: corrupt journal: ${e.message}`);
        });
        if (typeof next === 'string') {
          from = pos + 1;
          continue scan;
        }
        rec = next;
      }
    }
    const fh = this.fh!;
    await fh.truncate(bad);
    if (this.fsync) {
      await fh.sync();
      this.stats.fsyncs++;
    }
    this.recoveredBytes = r.size - bad;
    this.recoveryNote = `${file}: torn tail recovered: cut ${this.recoveredBytes} bytes at offset ${bad} (${reason})`;
  }

  private async readLocations(locs: readonly RecordLocation[], barrier: Promise<void> | undefined): Promise<{ type: number; body: Buffer }[]> {
    if (barrier) await barrier.catch(() => undefined);
    const out: { type: number; body: Buffer }[] = [];
    const n = locs.length;
    if (n === 0) return out;
    const fh = this.fh;
    if (!fh) throw new Error(`${this.file}: ${this.opts.description} is closed`);
    let i = 0;
    while (i < n) {
      // One read for a run of records that lie in ascending order within READ_SPAN bytes.
      const start = locs[i].offset;
      let end = start + locs[i].length;
      let j = i + 1;
      while (j < n && locs[j].offset >= end && locs[j].offset + locs[j].length - start <= READ_SPAN) {
        end = locs[j].offset + locs[j].length;
        j++;
      }
      const buf = Buffer.allocUnsafe(end - start);
      await readAll(fh, buf, end - start, start);
      for (let k = i; k < j; k++) {
        const o = locs[k].offset - start;
        const len = locs[k].length;
        if (len < RECORD_OVERHEAD || buf.readUInt32LE(o) !== len - FRAME || buf.readUInt32LE(o + 4) !== crcOf(buf, o + FRAME, o + len)) {
          throw new Error(`${this.file}: corrupt journal: record at offset ${locs[k].offset} does not read back intact`);
        }
        out.push({ type: buf[o + FRAME], body: buf.subarray(o + RECORD_OVERHEAD, o + len) });
      }
      i = j;
    }
    return out;
  }
}
