// The persisted order book of one FIX session: an append-only JSON-lines journal with a
// transactional outbox.
//
// Each state change is one line: the full order snapshot plus the reports (ExecID + message) that
// this change must send. The lead saves first (durable: fdatasync before the promise resolves),
// then sends the reports through the FIX session, then calls confirm(execIds) (not awaited, not
// synced on its own). After a crash, unconfirmedOutbox() lists what was persisted but maybe never
// sent, for the lead to check against the session's message store.
//
// Records (one JSON object per line):
//   {"t":"o","o":<GatewayOrder>,"x":[{"e":execId,"m":OutboundMessage}]}   order snapshot (+ outbox)
//   {"t":"c","e":[execId,...]}                                             outbox entries confirmed
//   {"t":"n","n":counter}                                                  counter reserved up to here
//   {"t":"x","x":[{"e","m"}...]}                                           outbox only (compaction)
//
// Saves issued in the same tick are written with one write and one fdatasync (group commit);
// saves arriving while a sync is in flight form the next group. A torn last line (crash mid-write)
// is ignored and truncated on open; an unreadable line followed by good ones is corruption and
// open() throws naming the file and the line.
//
// All orders stay in memory: their number is bounded by a trading day's orders (roughly 1 KB
// each), and the journal is compacted on open when it is much larger than the live state.

import * as fs from 'fs';
import { promises as fsp } from 'fs';
import * as path from 'path';
import { OutboundMessage } from '../fix/message';
import { GatewayOrder, isTerminal } from './order';

/** Counter values reserved per journal record (see nextCounter). */
const COUNTER_BLOCK = 1000;

/** Append, and every write durable before it returns (O_DSYNC). */
const APPEND_DSYNC = fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_DSYNC;

export interface OutboxEntry {
  execId: string;
  message: OutboundMessage;
}

export interface FileOrderBookOptions {
  /** Compact on open when the journal has more than this many records... (default 10000) */
  compactMinRecords?: number;
  /** ...and more than this many records per live record (orders + unconfirmed outbox lines) (default 4). */
  compactRatio?: number;
}

interface PendingWrite {
  line: string;
  /** Waits for fdatasync. */
  durable: boolean;
  resolve(): void;
  reject(err: Error): void;
}

type OutboxRecord = { e: string; m: OutboundMessage };

export class FileOrderBook {
  readonly file: string;
  private readonly orders = new Map<string, GatewayOrder>();
  private readonly byVco = new Map<string, GatewayOrder>();
  private readonly byVoid = new Map<string, GatewayOrder>();
  private readonly byCancelClOrdId = new Map<string, GatewayOrder>();
  /** Unconfirmed outbox entries, in the order they were saved. */
  private readonly outbox = new Map<string, OutboxEntry>();
  private counter = 0;
  /** Highest counter value whose reservation is journaled. */
  private reservedUpTo = 0;
  private records = 0;
  private fh: fsp.FileHandle | undefined;
  private pending: PendingWrite[] = [];
  private scheduled = false;
  /** Serializes all journal I/O (flushes, compaction, close). */
  private io: Promise<void> = Promise.resolve();
  private failed: Error | undefined;
  private syncs = 0;
  private readonly compactMinRecords: number;
  private readonly compactRatio: number;

  constructor(
    readonly dir: string,
    readonly sessionKey: string,
    options: FileOrderBookOptions = {},
  ) {
    this.file = path.join(dir, `${sessionKey.replace(/[^A-Za-z0-9._-]/g, '_')}.orders.jsonl`);
    this.compactMinRecords = options.compactMinRecords ?? 10000;
    this.compactRatio = options.compactRatio ?? 4;
  }

  /** Replays the journal (creating it if needed), truncates a torn tail, compacts when worthwhile. */
  async open(): Promise<void> {
    if (this.fh) throw new Error(`order book ${this.file} is already open`);
    await fsp.mkdir(this.dir, { recursive: true });
    let data: Buffer | undefined;
    try {
      data = await fsp.readFile(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (data === undefined) {
      this.counter = Date.now(); // a new journal: seed the counter from the clock (see nextCounter)
      this.reservedUpTo = this.counter;
      const fh = await fsp.open(this.file, 'a');
      await fh.write(JSON.stringify({ t: 'n', n: this.counter }) + '\n');
      await fh.datasync();
      this.records = 1;
      this.fh = fh;
      await fsyncDir(this.dir);
      return;
    }
    const validLength = this.replay(data);
    if (validLength < data.length) {
      const t = await fsp.open(this.file, 'r+');
      try {
        await t.truncate(validLength);
        await t.datasync();
      } finally {
        await t.close();
      }
    }
    // Never below the clock: ids stay unique even if a journal is lost and started afresh.
    this.counter = Math.max(this.counter, Date.now());
    this.reservedUpTo = this.counter;
    this.fh = await fsp.open(this.file, APPEND_DSYNC);
    const live = this.orders.size + this.outbox.size + 1;
    if (this.records > this.compactMinRecords && this.records > this.compactRatio * live) await this.compactNow();
  }

  /** Parses the journal; returns the byte length of its valid prefix. */
  private replay(data: Buffer): number {
    let offset = 0;
    let lineNo = 0;
    let firstBad: { offset: number; lineNo: number; reason: string } | undefined;
    while (offset < data.length) {
      const nl = data.indexOf(0x0a, offset);
      const end = nl === -1 ? data.length : nl;
      lineNo += 1;
      let problem: string | undefined;
      if (nl === -1) problem = 'incomplete last line';
      else {
        let rec: unknown;
        try {
          rec = JSON.parse(data.toString('utf8', offset, end));
        } catch (err) {
          problem = (err as Error).message;
        }
        if (problem === undefined) {
          if (firstBad !== undefined) {
            // A good record after a bad one: not a torn tail but corruption in the middle.
            throw new Error(`order book ${this.file} is corrupt at line ${firstBad.lineNo}: ${firstBad.reason}`);
          }
          try {
            this.applyRecord(rec);
          } catch (err) {
            // A complete JSON line we cannot use is never a torn write.
            throw new Error(`order book ${this.file} is corrupt at line ${lineNo}: ${(err as Error).message}`);
          }
          this.records += 1;
        }
      }
      if (problem !== undefined && firstBad === undefined) firstBad = { offset, lineNo, reason: problem };
      offset = end + 1;
    }
    // Bad lines only at the end: a write torn by a crash (possibly followed by zero-filled blocks).
    return firstBad !== undefined ? firstBad.offset : data.length;
  }

  private applyRecord(rec: unknown): void {
    if (typeof rec !== 'object' || rec === null) throw new Error('record is not an object');
    const r = rec as { t?: unknown; o?: unknown; x?: unknown; e?: unknown; n?: unknown };
    switch (r.t) {
      case 'o': {
        const o = r.o as GatewayOrder;
        if (typeof o !== 'object' || o === null || typeof o.clOrdId !== 'string' || typeof o.venueClientOrderId !== 'string') {
          throw new Error('order record without clOrdId/venueClientOrderId');
        }
        this.putOrder(o);
        if (r.x !== undefined) this.addOutbox(r.x);
        return;
      }
      case 'x':
        this.addOutbox(r.x);
        return;
      case 'c':
        if (!Array.isArray(r.e)) throw new Error('confirm record without execIds');
        for (const id of r.e) this.outbox.delete(String(id));
        return;
      case 'n':
        if (typeof r.n !== 'number' || !Number.isSafeInteger(r.n)) throw new Error('counter record without a number');
        this.counter = Math.max(this.counter, r.n);
        return;
      default:
        throw new Error(`unknown record type ${JSON.stringify(r.t)}`);
    }
  }

  private addOutbox(x: unknown): void {
    if (!Array.isArray(x)) throw new Error('outbox is not a list');
    for (const item of x as OutboxRecord[]) {
      if (typeof item?.e !== 'string' || typeof item.m !== 'object' || item.m === null) throw new Error('bad outbox entry');
      this.outbox.set(item.e, { execId: item.e, message: item.m });
    }
  }

  private putOrder(o: GatewayOrder): void {
    const prev = this.orders.get(o.clOrdId);
    if (prev && prev.venueClientOrderId !== o.venueClientOrderId) this.byVco.delete(prev.venueClientOrderId);
    if (prev?.venueOrderId && prev.venueOrderId !== o.venueOrderId) this.byVoid.delete(prev.venueOrderId);
    this.orders.set(o.clOrdId, o);
    for (const id of o.cancelClOrdIds ?? []) this.byCancelClOrdId.set(id, o);
    this.byVco.set(o.venueClientOrderId, o);
    if (o.venueOrderId) this.byVoid.set(o.venueOrderId, o);
  }

  /** The order whose NewOrderSingle, or one of whose cancel requests, had this ClOrdID. */
  get(clOrdId: string): GatewayOrder | undefined {
    return this.orders.get(clOrdId) ?? this.byCancelClOrdId.get(clOrdId);
  }

  byVenueClientOrderId(id: string): GatewayOrder | undefined {
    return this.byVco.get(id);
  }

  byVenueOrderId(id: string): GatewayOrder | undefined {
    return this.byVoid.get(id);
  }

  /** Orders not in a terminal state (to reconcile with the venue after a start or reconnect). */
  openOrders(): GatewayOrder[] {
    return [...this.orders.values()].filter((o) => !isTerminal(o));
  }

  allOrders(): GatewayOrder[] {
    return [...this.orders.values()];
  }

  /**
   * Records the order's new state and the reports it must send. The in-memory state changes at
   * once; the promise resolves when the line is on disk (fdatasync). The saved object must not be
   * mutated afterwards (the state machine always returns new objects).
   */
  save(order: GatewayOrder, outbox?: OutboxEntry[]): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (!this.fh) return Promise.reject(new Error(`order book ${this.file} is not open`));
    const rec: { t: 'o'; o: GatewayOrder; x?: OutboxRecord[] } = { t: 'o', o: order };
    if (outbox && outbox.length > 0) rec.x = outbox.map((e) => ({ e: e.execId, m: e.message }));
    const line = JSON.stringify(rec) + '\n';
    this.putOrder(order);
    if (outbox) for (const e of outbox) this.outbox.set(e.execId, { execId: e.execId, message: e.message });
    return this.enqueue(line, true);
  }

  /**
   * The session has taken these reports (sent or stored for resend): drop them from the outbox.
   * Written with the next group, not synced on its own: a confirm lost in a crash only makes the
   * lead re-check those reports.
   */
  confirm(execIds: string[]): void {
    if (execIds.length === 0) return;
    for (const id of execIds) this.outbox.delete(id);
    if (this.failed || !this.fh) return;
    this.enqueue(JSON.stringify({ t: 'c', e: execIds }) + '\n', false).catch(() => undefined);
  }

  /** Reports persisted but not confirmed, in save order. */
  unconfirmedOutbox(): OutboxEntry[] {
    return [...this.outbox.values()];
  }

  /**
   * A persisted counter for venueClientOrderIdFor: strictly increasing across restarts. Values are
   * reserved in blocks: the block's high-water mark is written (unsynced) ahead of the next save,
   * so it is durable before any order that uses a value from it; a restart continues above it.
   */
  nextCounter(): number {
    if (!this.fh) throw new Error(`order book ${this.file} is not open`);
    this.counter += 1;
    if (this.counter > this.reservedUpTo) {
      this.reservedUpTo = this.counter + COUNTER_BLOCK - 1;
      if (!this.failed) this.enqueue(JSON.stringify({ t: 'n', n: this.reservedUpTo }) + '\n', false).catch(() => undefined);
    }
    return this.counter;
  }

  /** Number of fdatasync calls made by saves (for tests and metrics). */
  get syncCount(): number {
    return this.syncs;
  }

  /** Rewrites the journal as the live state only: temp file, fsync, rename, fsync dir. */
  compact(): Promise<void> {
    return this.serial(() => this.compactNow());
  }

  /** Flushes what is queued, then closes the file. */
  async close(): Promise<void> {
    if (!this.fh) return;
    await this.serial(async () => {
      if (this.pending.length > 0) await this.flush();
    });
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close();
  }

  // -------------------------------------------------------------------------------------------

  private enqueue(line: string, durable: boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ line, durable, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          void this.serial(() => this.flush()).catch(() => undefined);
        });
      }
    });
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    const p = this.io.then(fn);
    this.io = p.catch(() => undefined);
    return p;
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    try {
      if (this.failed) throw this.failed;
      if (!this.fh) throw new Error(`order book ${this.file} is closed`);
      // The journal is open with O_DSYNC: the write returns once the batch is durable (a write +
      // fdatasync in one thread-pool hand-off instead of two).
      await writeAll(this.fh, Buffer.from(batch.map((b) => b.line).join(''), 'utf8'));
      if (batch.some((b) => b.durable)) this.syncs += 1;
      this.records += batch.length;
      for (const b of batch) b.resolve();
    } catch (err) {
      // Memory is now ahead of the disk: refuse everything from here on.
      this.failed ??= new Error(`order book ${this.file} write failed: ${(err as Error).message}`);
      for (const b of batch) b.reject(this.failed);
    }
  }

  private async compactNow(): Promise<void> {
    if (this.pending.length > 0) await this.flush();
    if (!this.fh) throw new Error(`order book ${this.file} is not open`);
    const lines: string[] = [JSON.stringify({ t: 'n', n: this.reservedUpTo })];
    for (const o of this.orders.values()) lines.push(JSON.stringify({ t: 'o', o }));
    if (this.outbox.size > 0) {
      lines.push(JSON.stringify({ t: 'x', x: [...this.outbox.values()].map((e) => ({ e: e.execId, m: e.message })) }));
    }
    const tmp = `${this.file}.compact.tmp`;
    const out = await fsp.open(tmp, 'w');
    try {
      await writeAll(out, Buffer.from(lines.join('\n') + '\n', 'utf8'));
      await out.datasync();
    } finally {
      await out.close();
    }
    await this.fh.close();
    this.fh = undefined;
    await fsp.rename(tmp, this.file);
    await fsyncDir(this.dir);
    this.fh = await fsp.open(this.file, APPEND_DSYNC);
    this.records = lines.length;
  }
}

async function writeAll(fh: fsp.FileHandle, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off);
    off += bytesWritten;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const d = await fsp.open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
