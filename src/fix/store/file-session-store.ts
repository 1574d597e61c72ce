// Durable per-session message store: one append-only journal file per session, group-committed.
//
// File `<dir>/<sessionKey>.journal`, all integers little-endian. Every record is framed as
//
//   [u32 length][u32 crc32][u8 type][body]      length = bytes of type+body, crc32 over type+body
//
//   'H' header  (first record, exactly once):  magic "FIXJRNL\0", u16 version (1), u16 flags (0),
//               f64 creation time (ms since epoch). A header alone means: next sender 1, next target 1,
//               no messages.
//   'S' SENT:    u64 batchStart, u32 seq, raw wire text (latin1; empty = admin message not stored)
//   'T' TARGET:  u64 batchStart, u32 next target seqnum
//   'N' SENDER:  u64 batchStart, u32 next sender seqnum
//
// batchStart is the file offset of the first record of the write (one write + one fdatasync) the
// record was part of. Only the last write can be torn by a crash, so on open a damaged record at
// offset X is a torn tail (truncate to X) when every intact record after X belongs to that same
// last write (batchStart == X, or == the batch of the record just before X); an intact record of a
// later write after X means already-acknowledged data is damaged, and open() throws.
//
// Reset writes a new header-only journal to `<file>.tmp`, fsyncs it, renames it over the journal
// and fsyncs the directory. Memory holds only seq -> (offset, length); texts are read back on demand.

import * as fs from 'fs';
import * as fsp from 'fs/promises';
import * as path from 'path';
import * as zlib from 'zlib';
import type { MessageStore, StoredMessage } from './message-store';

export interface FileSessionStoreOptions {
  /** fdatasync every write (default true). Only benchmarks and tests that do not test durability turn it off. */
  fsync?: boolean;
}

const FRAME = 8; // u32 length + u32 crc
const T_HEADER = 0x48; // 'H'
const T_SENT = 0x53; // 'S'
const T_TARGET = 0x54; // 'T'
const T_SENDER = 0x4e; // 'N'
const MAGIC = Buffer.from('FIXJRNL\0', 'latin1');
const VERSION = 1;
const HEADER_BODY = 1 + 8 + 2 + 2 + 8; // type, magic, version, flags, creation time
/** Size of the header record; also where the first batch starts. */
const HEADER_SIZE = FRAME + HEADER_BODY;
const REC_BODY_FIXED = 1 + 8 + 4; // type, batchStart, seq or seqnum
/** Bytes before the raw text in a SENT record. */
const SENT_FIXED = FRAME + REC_BODY_FIXED;
const MAX_RAW = 16 * 1024 * 1024;
const MAX_SEQ = 0xffffffff;
const TWO_32 = 0x100000000;

const BATCH_BUF_INITIAL = 64 * 1024;
const BATCH_BUF_KEEP_MAX = 4 * 1024 * 1024;
const READ_SPAN = 1024 * 1024;
const REPLAY_CHUNK = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
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

const crc32: (data: Uint8Array) => number = nativeCrc32 ? (d) => nativeCrc32(d) : tableCrc32;

function crcOf(buf: Buffer, bodyStart: number, bodyEnd: number): number {
  return crc32(buf.subarray(bodyStart, bodyEnd));
}

function writeU64(buf: Buffer, value: number, at: number): void {
  buf.writeUInt32LE(value % TWO_32, at);
  buf.writeUInt32LE(Math.floor(value / TWO_32), at + 4);
}

function readU64(buf: Buffer, at: number): number {
  return buf.readUInt32LE(at) + buf.readUInt32LE(at + 4) * TWO_32;
}

function encodeHeader(creationTime: number): Buffer {
  const b = Buffer.alloc(HEADER_SIZE);
  b.writeUInt32LE(HEADER_BODY, 0);
  b[FRAME] = T_HEADER;
  MAGIC.copy(b, FRAME + 1);
  b.writeUInt16LE(VERSION, FRAME + 9);
  b.writeUInt16LE(0, FRAME + 11);
  b.writeDoubleLE(creationTime, FRAME + 13);
  b.writeUInt32LE(crcOf(b, FRAME, HEADER_SIZE), 4);
  return b;
}

function isValidSeq(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= MAX_SEQ;
}

async function writeAll(fh: fsp.FileHandle, buf: Buffer, len: number, position: number): Promise<void> {
  let done = 0;
  while (done < len) {
    const { bytesWritten } = await fh.write(buf, done, len - done, position + done);
    if (bytesWritten <= 0) throw new Error(`short write at offset ${position + done}`);
    done += bytesWritten;
  }
}

async function readAll(fh: fsp.FileHandle, buf: Buffer, len: number, position: number): Promise<void> {
  let done = 0;
  while (done < len) {
    const { bytesRead } = await fh.read(buf, done, len - done, position + done);
    if (bytesRead <= 0) throw new Error(`unexpected end of file at offset ${position + done}`);
    done += bytesRead;
  }
}

async function fsyncDir(dir: string): Promise<void> {
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

// ---------------------------------------------------------------------------------------------
// seq -> (file offset, record length), sorted by seq in parallel typed arrays: 16 bytes a message,
// no per-message objects, O(1) append for ascending seqs (the normal case).

class SeqIndex {
  private seqs = new Uint32Array(1024);
  private offs = new Float64Array(1024);
  private lens = new Uint32Array(1024);
  count = 0;

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

  /** Copy of the entries with begin <= seq <= end. */
  range(begin: number, end: number): { seqs: Uint32Array; offs: Float64Array; lens: Uint32Array } {
    const from = this.lowerBound(begin);
    let to = from;
    while (to < this.count && this.seqs[to] <= end) to++;
    return { seqs: this.seqs.slice(from, to), offs: this.offs.slice(from, to), lens: this.lens.slice(from, to) };
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

// ---------------------------------------------------------------------------------------------
// Replay: a window over the file, so a large journal is not read into memory at once.

interface ParsedRecord {
  type: number;
  end: number;
  batchStart: number;
  /** seq for SENT, the seqnum for TARGET/SENDER */
  num: number;
  rawLen: number;
}

class JournalReader {
  private buf = Buffer.allocUnsafe(REPLAY_CHUNK);
  private start = 0;
  private end = 0;

  constructor(
    private readonly fh: fsp.FileHandle,
    readonly size: number,
  ) {}

  /** Whether [pos, pos+n) is already in the window. */
  has(pos: number, n: number): boolean {
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
    if (len < REC_BODY_FIXED || len > REC_BODY_FIXED + MAX_RAW) return `implausible record length ${len}`;
    if (len > left - FRAME) return `record of ${len} bytes runs past end of file (${left - FRAME} bytes left)`;
    o = await this.at(pos, FRAME + len);
    const b = this.bytes;
    const type = b[o + FRAME];
    if (type !== T_SENT && type !== T_TARGET && type !== T_SENDER) return `unknown record type 0x${type.toString(16)}`;
    if (type !== T_SENT && len !== REC_BODY_FIXED) return `bad length ${len} for record type ${String.fromCharCode(type)}`;
    const stored = b.readUInt32LE(o + 4);
    const actual = crcOf(b, o + FRAME, o + FRAME + len);
    if (stored !== actual) return `CRC mismatch (stored ${stored.toString(16)}, computed ${actual.toString(16)})`;
    return {
      type,
      end: pos + FRAME + len,
      batchStart: readU64(b, o + FRAME + 1),
      num: b.readUInt32LE(o + FRAME + 9),
      rawLen: len - REC_BODY_FIXED,
    };
  }

  /** The next position > from holding a valid record. */
  async findValid(from: number): Promise<{ pos: number; rec: ParsedRecord } | undefined> {
    for (let p = from; p + FRAME + REC_BODY_FIXED <= this.size; p++) {
      // Cheap checks first: the length must fit and the type byte must be one we write.
      const o = this.has(p, FRAME + 1) ? p - this.start : await this.at(p, FRAME + 1);
      const len = this.bytes.readUInt32LE(o);
      const type = this.bytes[o + FRAME];
      if (len < REC_BODY_FIXED || len > this.size - p - FRAME) continue;
      if (type !== T_SENT && (type !== T_TARGET && type !== T_SENDER || len !== REC_BODY_FIXED)) continue;
      const rec = await this.record(p);
      if (typeof rec !== 'string') return { pos: p, rec };
    }
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Write queue: records batches (group commit), reset and close, executed strictly in call order.

type JobKind = 'records' | 'reset' | 'close';

class Job {
  started = false;
  buf: Buffer = EMPTY;
  used = 0;
  count = 0;
  creationTime = 0;
  /** reset/close: reads of the current file that must finish before it is closed. */
  waitFor: Promise<unknown>[] = [];
  readonly promise: Promise<void>;
  resolve!: () => void;
  reject!: (e: Error) => void;

  constructor(
    readonly kind: JobKind,
    /** File offset of buf[0] (records jobs). */
    readonly fileOffset: number,
  ) {
    this.promise = new Promise<void>((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * MessageStore on an append-only journal. State changes (seqnums, index) apply when a method is
 * called; the returned promise resolves once the record is fdatasync'ed. Records are written in call
 * order, so when a promise resolves every record of an earlier call is durable too: a session may
 * call setNextTargetSeqNum(n) and appendSent(reply) in the same tick and await only the reply.
 * After a failed write or fsync the store rejects everything until reopened (no fsync retry).
 */
export class FileSessionStore implements MessageStore {
  readonly journalPath: string;
  /** Bytes cut off a torn or corrupt tail by open(); 0 if none. */
  recoveredBytes = 0;
  /** What open() repaired, for the caller to log; undefined if the journal was clean. */
  recoveryNote: string | undefined;
  readonly stats = { fsyncs: 0, records: 0 };

  private readonly dir: string;
  private readonly fsync: boolean;
  private fh: fsp.FileHandle | undefined;
  private state: 'new' | 'opening' | 'open' | 'closing' | 'closed' = 'new';
  private failure: Error | undefined;
  private closePromise: Promise<void> | undefined;

  private nextSender = 1;
  private nextTarget = 1;
  private created = 0;
  private readonly index = new SeqIndex();

  private readonly queue: Job[] = [];
  private running = false;
  /** Logical end of the journal including queued, not yet written records. */
  private appendEnd = 0;
  private spareBuf: Buffer | undefined;
  private readonly reads = new Set<Promise<unknown>>();

  constructor(dir: string, sessionKey: string, opts: FileSessionStoreOptions = {}) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(sessionKey)) {
      throw new Error(`FileSessionStore: session key ${JSON.stringify(sessionKey)} is not a safe file name`);
    }
    this.dir = path.resolve(dir);
    this.journalPath = path.join(this.dir, `${sessionKey}.journal`);
    this.fsync = opts.fsync ?? true;
  }

  // ----- lifecycle --------------------------------------------------------------------------

  async open(): Promise<void> {
    if (this.state !== 'new') throw new Error(`${this.journalPath}: open() called twice`);
    this.state = 'opening';
    try {
      await this.ensureDir();
      await fsp.rm(this.journalPath + '.tmp', { force: true }); // an interrupted reset/create
      let size = -1;
      try {
        const st = await fsp.stat(this.journalPath);
        if (!st.isFile()) throw new Error(`${this.journalPath}: journal is not a regular file`);
        size = st.size;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      if (size <= 0) {
        this.created = Date.now();
        await this.createJournal(this.created);
        if (size === 0) {
          this.recoveryNote = `${this.journalPath}: journal was empty (0 bytes, crash while it was created?); started a new sequence at 1`;
        }
        this.fh = await fsp.open(this.journalPath, this.journalFlags());
        this.appendEnd = HEADER_SIZE;
      } else {
        this.fh = await fsp.open(this.journalPath, this.journalFlags());
        this.appendEnd = await this.replay(this.fh, size);
      }
      this.state = 'open';
    } catch (e) {
      await this.fh?.close().catch(() => undefined);
      this.fh = undefined;
      this.state = 'closed';
      throw e;
    }
  }

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
        // The store had already failed; release the file anyway.
        await this.fh?.close().catch(() => undefined);
        this.fh = undefined;
        this.state = 'closed';
      },
    );
    return this.closePromise;
  }

  // ----- MessageStore -----------------------------------------------------------------------

  private journalFlags(): number {
    const c = fs.constants;
    return this.fsync ? c.O_RDWR | c.O_DSYNC : c.O_RDWR;
  }

  nextSenderSeqNum(): number {
    return this.nextSender;
  }

  nextTargetSeqNum(): number {
    return this.nextTarget;
  }

  creationTime(): number {
    return this.created;
  }

  appendSent(seqNum: number, raw: string): Promise<void> {
    const err = this.unusable() ?? (isValidSeq(seqNum) ? undefined : this.badArg('appendSent seqNum', seqNum));
    if (err) return Promise.reject(err);
    const rawLen = raw.length;
    if (rawLen > MAX_RAW) return Promise.reject(new Error(`${this.journalPath}: message ${seqNum} of ${rawLen} bytes is too large`));
    const job = this.recordsJob();
    const at = this.reserve(job, SENT_FIXED + rawLen);
    const b = job.buf;
    this.frame(b, at, T_SENT, job.fileOffset, seqNum, rawLen);
    if (rawLen > 0) b.write(raw, at + SENT_FIXED, rawLen, 'latin1');
    b.writeUInt32LE(crcOf(b, at + FRAME, at + SENT_FIXED + rawLen), at + 4);
    if (rawLen > 0) this.index.set(seqNum, job.fileOffset + at, SENT_FIXED + rawLen);
    else this.index.delete(seqNum);
    this.nextSender = seqNum + 1;
    return job.promise;
  }

  setNextTargetSeqNum(n: number): Promise<void> {
    const err = this.unusable() ?? (isValidSeq(n) ? undefined : this.badArg('setNextTargetSeqNum', n));
    if (err) return Promise.reject(err);
    this.nextTarget = n;
    return this.seqnumRecord(T_TARGET, n);
  }

  setNextSenderSeqNum(n: number): Promise<void> {
    const err = this.unusable() ?? (isValidSeq(n) ? undefined : this.badArg('setNextSenderSeqNum', n));
    if (err) return Promise.reject(err);
    this.nextSender = n;
    return this.seqnumRecord(T_SENDER, n);
  }

  getSent(begin: number, end: number): Promise<StoredMessage[]> {
    const err = this.unusable();
    if (err) return Promise.reject(err);
    if (!(begin <= end)) return Promise.resolve([]);
    // Snapshot now: what was sent before this call, in the file generation it was written to.
    // Everything it points at is written once the last queued job is done; a reset or close
    // requested later waits for this read before it closes the file (and only reads registered
    // before it was requested, whose barriers precede it, so there is no cycle).
    const entries = this.index.range(begin, end);
    const barrier = this.queue.length > 0 ? this.queue[this.queue.length - 1].promise : undefined;
    const p = this.readEntries(entries, barrier);
    this.reads.add(p);
    const done = (): void => {
      this.reads.delete(p);
    };
    p.then(done, done);
    return p;
  }

  reset(): Promise<void> {
    const err = this.unusable();
    if (err) return Promise.reject(err);
    this.created = Date.now();
    this.nextSender = 1;
    this.nextTarget = 1;
    this.index.clear();
    const job = new Job('reset', 0);
    job.creationTime = this.created;
    job.waitFor = [...this.reads];
    this.enqueue(job);
    this.appendEnd = HEADER_SIZE;
    return job.promise;
  }

  // ----- append path ------------------------------------------------------------------------

  private unusable(): Error | undefined {
    if (this.failure) return this.failure;
    if (this.state !== 'open') return new Error(`${this.journalPath}: store is ${this.state === 'new' || this.state === 'opening' ? 'not open' : 'closed'}`);
    return undefined;
  }

  private badArg(what: string, v: number): Error {
    return new Error(`${this.journalPath}: ${what} ${v} is not a seqnum (1..${MAX_SEQ})`);
  }

  private seqnumRecord(type: number, n: number): Promise<void> {
    const job = this.recordsJob();
    const at = this.reserve(job, FRAME + REC_BODY_FIXED);
    this.frame(job.buf, at, type, job.fileOffset, n, 0);
    job.buf.writeUInt32LE(crcOf(job.buf, at + FRAME, at + FRAME + REC_BODY_FIXED), at + 4);
    return job.promise;
  }

  private frame(b: Buffer, at: number, type: number, batchStart: number, num: number, rawLen: number): void {
    b.writeUInt32LE(REC_BODY_FIXED + rawLen, at);
    b[at + FRAME] = type;
    writeU64(b, batchStart, at + FRAME + 1);
    b.writeUInt32LE(num, at + FRAME + 9);
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
      try {
        await this.execute(job);
      } catch (e) {
        this.fail(e as Error);
        return;
      }
      this.queue.shift();
      job.resolve();
    }
    this.running = false;
  }

  private async execute(job: Job): Promise<void> {
    if (job.kind === 'records') {
      const fh = this.fh!;
      // Write and fdatasync both run off the event loop: a synchronous write can stall the loop
      // for as long as an fdatasync of the same file is in progress (measured: the largest
      // main-thread cost at 1,000 orders/s). The next batch gathers meanwhile.
      for (let done = 0; done < job.used; ) {
        const { bytesWritten: n } = await fh.write(job.buf, done, job.used - done, job.fileOffset + done);
        if (n <= 0) throw new Error(`short write at offset ${job.fileOffset + done}`);
        done += n;
      }
      // With fsync on, the journal is open with O_DSYNC: each write returns once durable, like a
      // write + fdatasync, but in one thread-pool hand-off instead of two.
      if (this.fsync) this.stats.fsyncs++;
      this.stats.records += job.count;
      if (job.buf.length <= BATCH_BUF_KEEP_MAX) this.spareBuf = job.buf;
      job.buf = EMPTY;
      return;
    }
    await Promise.allSettled(job.waitFor);
    const old = this.fh;
    this.fh = undefined;
    await old?.close();
    if (job.kind === 'reset') {
      await this.createJournal(job.creationTime);
      this.fh = await fsp.open(this.journalPath, this.journalFlags());
    }
  }

  /** A write failed: the journal's tail is unknown, so nothing more may be acknowledged (no fsync retry). */
  private fail(cause: Error): void {
    const err = new Error(`${this.journalPath}: journal write failed, store unusable until reopened: ${cause.message}`);
    (err as Error & { cause?: unknown }).cause = cause;
    this.failure = err;
    const jobs = this.queue.splice(0);
    this.running = false;
    for (const j of jobs) j.reject(err);
  }

  // ----- files ------------------------------------------------------------------------------

  private async ensureDir(): Promise<void> {
    const first = await fsp.mkdir(this.dir, { recursive: true });
    if (first === undefined || !this.fsync) return;
    // Make the new directories' entries durable: fsync the parent of each directory created.
    const stop = path.dirname(path.resolve(first));
    let d = this.dir;
    for (;;) {
      d = path.dirname(d);
      await fsyncDir(d);
      if (d === stop || d === path.dirname(d)) break;
    }
  }

  /** Atomically put a header-only journal in place: temp file, fsync, rename, fsync directory. */
  private async createJournal(creationTime: number): Promise<void> {
    const tmp = this.journalPath + '.tmp';
    const header = encodeHeader(creationTime);
    const fh = await fsp.open(tmp, 'w');
    try {
      await writeAll(fh, header, header.length, 0);
      if (this.fsync) {
        await fh.sync();
        this.stats.fsyncs++;
      }
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, this.journalPath);
    if (this.fsync) await fsyncDir(this.dir);
  }

  /** Rebuilds state from the journal; returns the end of the last complete record. */
  private async replay(fh: fsp.FileHandle, size: number): Promise<number> {
    const file = this.journalPath;
    const r = new JournalReader(fh, size);
    const badHeader = (what: string): Error =>
      new Error(`${file}: not a readable FIX session journal: bad header (${what}); refusing to start a new sequence at 1 — move the file away to reset deliberately`);
    if (size < HEADER_SIZE) throw badHeader(`file is ${size} bytes, header needs ${HEADER_SIZE}`);
    const h = await r.at(0, HEADER_SIZE);
    const hb = r.bytes;
    if (!hb.subarray(h + FRAME + 1, h + FRAME + 9).equals(MAGIC) || hb[h + FRAME] !== T_HEADER) throw badHeader('wrong magic');
    if (hb.readUInt32LE(h) !== HEADER_BODY) throw badHeader(`header length ${hb.readUInt32LE(h)}`);
    if (hb.readUInt32LE(h + 4) !== crcOf(hb, h + FRAME, h + HEADER_SIZE)) throw badHeader('CRC mismatch');
    const version = hb.readUInt16LE(h + FRAME + 9);
    if (version !== VERSION) throw badHeader(`unsupported version ${version}`);
    this.created = hb.readDoubleLE(h + FRAME + 13);

    let pos = HEADER_SIZE;
    let batch = -1; // batchStart of the last good record
    while (pos < size) {
      const rec = await r.record(pos);
      if (typeof rec === 'string') {
        await this.recoverTail(r, pos, batch, rec);
        return pos;
      }
      if (rec.batchStart > pos || rec.batchStart < HEADER_SIZE || (rec.batchStart !== batch && rec.batchStart !== pos)) {
        throw new Error(`${file}: corrupt journal: record at offset ${pos} claims batch start ${rec.batchStart} (previous batch ${batch})`);
      }
      batch = rec.batchStart;
      if (rec.type === T_SENT) {
        if (rec.rawLen > 0) this.index.set(rec.num, pos, rec.end - pos);
        else this.index.delete(rec.num);
        this.nextSender = rec.num + 1;
      } else if (rec.type === T_TARGET) {
        this.nextTarget = rec.num;
      } else {
        this.nextSender = rec.num;
      }
      pos = rec.end;
    }
    return pos;
  }

  /**
   * The record at `bad` is not valid. If nothing after it, or only records of the same (last) write,
   * it is a torn tail: cut the file there. Intact records of a later write mean damage in the middle.
   */
  private async recoverTail(r: JournalReader, bad: number, lastBatch: number, reason: string): Promise<void> {
    const file = this.journalPath;
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
        const next = await r.record(pos);
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
    this.recoveryNote =
      `${file}: torn tail recovered: cut ${this.recoveredBytes} bytes at offset ${bad} (${reason}); ` +
      `state is as of the last complete record (next sender ${this.nextSender}, next target ${this.nextTarget})`;
  }

  private async readEntries(
    e: { seqs: Uint32Array; offs: Float64Array; lens: Uint32Array },
    barrier: Promise<void> | undefined,
  ): Promise<StoredMessage[]> {
    if (barrier) await barrier;
    const out: StoredMessage[] = [];
    const n = e.seqs.length;
    if (n === 0) return out;
    const fh = this.fh;
    if (!fh) throw new Error(`${this.journalPath}: store is closed`);
    let i = 0;
    while (i < n) {
      // One read for a run of records that lie in ascending order within READ_SPAN bytes.
      const start = e.offs[i];
      let end = start + e.lens[i];
      let j = i + 1;
      while (j < n && e.offs[j] >= end && e.offs[j] + e.lens[j] - start <= READ_SPAN) {
        end = e.offs[j] + e.lens[j];
        j++;
      }
      const buf = Buffer.allocUnsafe(end - start);
      await readAll(fh, buf, end - start, start);
      for (let k = i; k < j; k++) {
        const o = e.offs[k] - start;
        const len = e.lens[k];
        const seq = e.seqs[k];
        if (
          buf.readUInt32LE(o) !== len - FRAME ||
          buf[o + FRAME] !== T_SENT ||
          buf.readUInt32LE(o + FRAME + 9) !== seq ||
          buf.readUInt32LE(o + 4) !== crcOf(buf, o + FRAME, o + len)
        ) {
          throw new Error(`${this.journalPath}: stored message ${seq} at offset ${e.offs[k]} is corrupt`);
        }
        out.push({ seqNum: seq, raw: buf.toString('latin1', o + SENT_FIXED, o + len) });
      }
      i = j;
    }
    return out;
  }
}
