// The persisted order book of one FIX session: a journal (src/durable/journal.ts) with a
// transactional outbox.
//
// Each state change is one record: the full order snapshot plus the reports (ExecID + message) that
// this change must send. The lead saves first (durable before the promise resolves), then sends the
// reports through the FIX session, then calls confirm(execIds) (not awaited, not durable on its
// own). After a crash, unconfirmedOutbox() lists what was persisted but maybe never sent, for the
// lead to check against the session's message store.
//
// Records (journal record type, body JSON):
//   'o' {"o":<GatewayOrder>,"x":[{"e":execId,"m":OutboundMessage}]}   order snapshot (+ outbox)
//   'c' {"e":[execId,...]}                                            outbox entries confirmed
//   'n' {"n":counter} | {"s":sequence} | {"i":integerId}              a counter reserved up to here
//   'x' {"x":[{"e","m"}...]}                                          outbox only (compaction)
//
// Saves issued in the same tick share one durable write (group commit); torn tails and damage are
// the journal's to find.
//
// The journal is either the book's own (`<dir>/<session>.orders.journal`) or, in the gateway, the
// FIX session's journal shared with the session store (options.journal, src/durable/shared-journal.ts):
// a save and the session's store append of the reports it causes, issued in the same tick, are then
// one write and one fdatasync (ReportCommitter). A book file of the previous format (its own file)
// found next to a shared journal is imported once, atomically (compaction of the shared journal,
// then the old file is removed; see open()).
//
// All orders stay in memory: their number is bounded by a trading day's orders (roughly 1 KB
// each), and the journal is compacted on open when it is much larger than the live state.

import * as fs from 'fs';
import { promises as fsp } from 'fs';
import * as path from 'path';
import { Journal, JournalStats, LiveRecord, RecordLocation, fsyncDir } from '../durable/journal';
import { JournalOwner, SharedJournal } from '../durable/shared-journal';
import { OutboundMessage } from '../fix/message';
import { FillIds, GatewayOrder, isTerminal } from './order';

/** Counter values reserved per journal record (see nextCounter). */
const COUNTER_BLOCK = 1000;

const T_ORDER = 0x6f; // 'o'
const T_CONFIRM = 0x63; // 'c'
const T_COUNTER = 0x6e; // 'n'
const T_OUTBOX = 0x78; // 'x'
const MAX_RECORD = 64 * 1024 * 1024;

export interface OutboxEntry {
  execId: string;
  message: OutboundMessage;
  /**
   * The session's next sender seqnum when the entry was saved: the report, if it reached the
   * session store, has a seqnum at least this (so recovery reads the store only from here).
   */
  minSeq?: number;
  /** SessionHandle.sequenceId() when minSeq was taken: minSeq means nothing in another sequence. */
  sequenceId?: number;
}

export interface FileOrderBookOptions {
  /** Compact on open when the journal has more than this many records... (default 10000) */
  compactMinRecords?: number;
  /** ...and more than this many records per live record (orders + unconfirmed outbox lines) (default 4). */
  compactRatio?: number;
  /**
   * Terminal orders last updated longer ago than this are dropped by compaction (default 7 days).
   * Within the window an OrderStatusRequest is still answered and a late venue fill still
   * deduplicated; after it, the order is forgotten.
   */
  terminalRetentionMs?: number;
  /** Clock (tests). */
  now?: () => number;
  /**
   * Start (ms) of the FIX session's current period (StartTime/EndTime, sessionPeriodStart), or
   * undefined for an always-on session. ClOrdIDs are unique within a period: a terminal order of an
   * earlier period no longer names its ClOrdID (a new order may reuse it); an open one still does.
   * In an always-on session they are unique for as long as the order is kept (the retention window).
   */
  periodStart?: () => number | undefined;
  /**
   * The FIX session's journal to share (sessionJournalFor): saves then ride in the same writes as
   * the session's messages. Default: the book's own journal file.
   */
  journal?: SharedJournal;
}

const BOOK_JOURNAL = { magic: 'ORDBOOK\0', version: 1, description: 'order book journal' } as const;

type OutboxRecord = { e: string; m: OutboundMessage; s?: number; q?: number };
/** An order as journaled: without its fill ids, which follow as `f` (added since the last record) or `fa` (all). */
type OrderRecord = {
  o: Omit<GatewayOrder, 'fillIds'> & { fillIds?: unknown };
  f?: string[];
  fa?: string[];
  x?: OutboxRecord[];
  /** 0: this order does not name its ClOrdID (another order did when it was first saved). */
  h?: 0;
};

const DAY_MS = 86_400_000;

function outboxRecord(e: OutboxEntry): OutboxRecord {
  const r: OutboxRecord = { e: e.execId, m: e.message };
  if (e.minSeq !== undefined) r.s = e.minSeq;
  if (e.sequenceId !== undefined) r.q = e.sequenceId;
  return r;
}

function json(v: unknown): Buffer {
  return Buffer.from(JSON.stringify(v), 'utf8');
}

export class FileOrderBook implements JournalOwner {
  readonly file: string;
  readonly recordTypes = [T_ORDER, T_CONFIRM, T_COUNTER, T_OUTBOX];
  readonly maxBodyBytes = MAX_RECORD;
  /** True when the journal is shared with the FIX session's store (see options.journal). */
  readonly sharesJournal: boolean;
  /** The book's own file of the previous format, imported into a shared journal on open. */
  private readonly legacyFile: string | undefined;
  private readonly shared: SharedJournal;
  private readonly journal: Journal;
  /**
   * Orders by the id the gateway allocated for them (venueClientOrderId): a ClOrdID is unique only
   * within a session period, so it cannot be the key.
   */
  private readonly orders = new Map<string, GatewayOrder>();
  /** ClOrdID of a NewOrderSingle -> the key of the latest order it named. */
  private readonly clOrdIdHolder = new Map<string, string>();
  /** ClOrdID of an accepted cancel request -> the key of its order. */
  private readonly cancelHolder = new Map<string, string>();
  private readonly keyByVenueOrderId = new Map<string, string>();
  /** Client order id sent to the venue (wireClientOrderId) -> key. */
  private readonly keyByWireClientOrderId = new Map<string, string>();
  /** Orders not in a terminal state. */
  private readonly openByKey = new Map<string, GatewayOrder>();
  /** Per order: how many of its fill ids are journaled (or queued), so a save writes only new ones. */
  private readonly journaledFills = new Map<string, number>();
  private compacting: Promise<void> | undefined;
  private readonly retentionMs: number;
  private readonly now: () => number;
  private readonly periodStart: () => number | undefined;
  /** Unconfirmed outbox entries, in the order they were saved. */
  private readonly outbox = new Map<string, OutboxEntry>();
  private counter = 0;
  /** Highest counter value whose reservation is journaled. */
  private reservedUpTo = 0;
  /** The venue-format sequence (nextSequence) and its journaled reservation. */
  private sequence = 0;
  private sequenceReservedUpTo = 0;
  /** The integer client order id cursor (nextIntegerId): the last value handed out, and the reservation's end. */
  private integerCursor: number | undefined;
  /** Cursor steps left in the journaled reservation (0: the next step reserves a block). */
  private integerStepsLeft = 0;
  private records = 0;
  private isOpen = false;
  /** Saves not yet durable, to undo if their write fails (oldest first). */
  private undo: {
    offset: number;
    key: string;
    prev: GatewayOrder | undefined;
    prevHolder: string | undefined;
    journaled: number;
    outboxIds: string[];
    confirms: string[];
  }[] = [];
  /** Confirmed ExecIDs not yet journaled (they ride along with the next save). */
  private pendingConfirms: string[] = [];
  private readonly compactMinRecords: number;
  private readonly compactRatio: number;

  constructor(
    readonly dir: string,
    readonly sessionKey: string,
    options: FileOrderBookOptions = {},
  ) {
    const ownFile = path.join(dir, `${sessionKey.replace(/[^A-Za-z0-9._-]/g, '_')}.orders.journal`);
    this.sharesJournal = options.journal !== undefined;
    this.shared = options.journal ?? new SharedJournal(ownFile, BOOK_JOURNAL);
    this.shared.register(this);
    this.journal = this.shared.journal;
    this.file = this.shared.file;
    this.legacyFile = this.sharesJournal ? ownFile : undefined;
    this.compactMinRecords = options.compactMinRecords ?? 10000;
    this.compactRatio = options.compactRatio ?? 4;
    this.retentionMs = options.terminalRetentionMs ?? 7 * DAY_MS;
    this.now = options.now ?? Date.now;
    this.periodStart = options.periodStart ?? (() => undefined);
  }

  /** Replays the journal (creating it if needed), compacts when worthwhile. */
  async open(): Promise<void> {
    if (this.isOpen) throw new Error(`order book ${this.file} is already open`);
    await this.shared.open(); // replays into replay() (once, for every owner)
    const importing = await this.readLegacyFile();
    this.isOpen = true;
    // Never below the clock: ids stay unique even if a journal is lost and started afresh.
    this.counter = Math.max(this.counter, Date.now());
    this.reservedUpTo = this.counter; // the first nextCounter() journals a reservation above it
    this.sequenceReservedUpTo = this.sequence; // likewise nextSequence() and nextIntegerId()
    if (importing || this.compactionDue()) await this.compact();
    if (importing) {
      // Only now that the shared journal holds the book durably.
      await fsp.rm(this.legacyFile!, { force: true });
      await fsyncDir(path.dirname(this.legacyFile!));
    }
  }

  /**
   * A book file of the previous format next to a shared journal: read it into memory for open() to
   * compact into the shared journal, then remove. Once the shared journal holds book records the
   * import is done (a crash came between its compaction and the removal): the old file is only removed.
   */
  private async readLegacyFile(): Promise<boolean> {
    const file = this.legacyFile;
    if (file === undefined || !fs.existsSync(file)) return false;
    if (this.records > 0) {
      await fsp.rm(file, { force: true });
      await fsyncDir(path.dirname(file));
      return false;
    }
    const old = new Journal(file, { ...BOOK_JOURNAL, description: 'order book journal (previous format, being imported)', recordTypes: this.recordTypes, maxBodyBytes: MAX_RECORD });
    try {
      await old.open((type, body) => this.replay(type, body));
    } finally {
      await old.close();
    }
    return true;
  }

  // ----- JournalOwner -------------------------------------------------------------------------

  replay(type: number, body: Buffer): void {
    this.applyRecord(type, JSON.parse(body.toString('utf8')));
    this.records += 1;
  }

  compacted(): void {
    // Nothing in memory points into the file.
  }

  rolledBack(goodEnd: number): void {
    this.rollBack(goodEnd);
  }

  /** The journal holds many more records than the live state (orders, outbox, counter). */
  private compactionDue(): boolean {
    const live = this.orders.size + this.outbox.size + 1;
    return this.records > this.compactMinRecords && this.records > this.compactRatio * live;
  }

  /**
   * Compaction while running: once nothing is queued (so memory is exactly what is durable, and
   * no failed write can be undone into a snapshot), in the background; saves go on meanwhile.
   */
  private compactWhenIdle(): void {
    if (this.compacting || !this.isOpen) return;
    this.compacting = (async () => {
      try {
        while (this.isOpen && this.compactionDue()) {
          await this.journal.read([]); // waits for every queued write
          if (!this.isOpen || this.journal.busy) continue;
          await this.compact();
        }
      } catch {
        // A failed compaction leaves the journal refusing writes (the saves report it).
      } finally {
        this.compacting = undefined;
      }
    })();
  }

  private applyRecord(type: number, rec: unknown): void {
    if (typeof rec !== 'object' || rec === null) throw new Error('record is not an object');
    const r = rec as { o?: unknown; x?: unknown; e?: unknown; n?: unknown };
    switch (type) {
      case T_ORDER: {
        const { o, f, fa, x } = rec as OrderRecord;
        if (typeof o !== 'object' || o === null || typeof o.clOrdId !== 'string' || typeof o.venueClientOrderId !== 'string') {
          throw new Error('order record without clOrdId/venueClientOrderId');
        }
        if ((f !== undefined && !Array.isArray(f)) || (fa !== undefined && !Array.isArray(fa))) throw new Error('fill ids are not a list');
        const key = o.venueClientOrderId;
        // Journaled before the wire id was its own field: the gateway id was sent.
        if (o.wireClientOrderId === undefined) o.wireClientOrderId = o.venueClientOrderId;
        let fills = fa !== undefined ? FillIds.EMPTY : (this.orders.get(key)?.fillIds ?? FillIds.EMPTY);
        for (const id of fa ?? f ?? []) fills = fills.add(String(id));
        this.putOrder({ ...o, fillIds: fills } as GatewayOrder, (rec as OrderRecord).h !== 0);
        this.journaledFills.set(key, fills.size);
        if (x !== undefined) this.addOutbox(x);
        return;
      }
      case T_OUTBOX:
        this.addOutbox(r.x);
        return;
      case T_CONFIRM:
        if (!Array.isArray(r.e)) throw new Error('confirm record without execIds');
        for (const id of r.e) this.outbox.delete(String(id));
        return;
      case T_COUNTER: {
        const c = rec as { n?: unknown; s?: unknown; i?: unknown };
        const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
        if (!isInt(c.n) && !isInt(c.s) && !isInt(c.i)) throw new Error('counter record without a number');
        if (isInt(c.n)) this.counter = Math.max(this.counter, c.n);
        if (isInt(c.s)) this.sequence = Math.max(this.sequence, c.s);
        // The integer cursor wraps: the latest reservation wins.
        if (isInt(c.i)) this.integerCursor = c.i;
        return;
      }
    }
  }

  private addOutbox(x: unknown): void {
    if (!Array.isArray(x)) throw new Error('outbox is not a list');
    for (const item of x as OutboxRecord[]) {
      if (typeof item?.e !== 'string' || typeof item.m !== 'object' || item.m === null) throw new Error('bad outbox entry');
      const entry: OutboxEntry = { execId: item.e, message: item.m };
      if (typeof item.s === 'number') entry.minSeq = item.s;
      if (typeof item.q === 'number') entry.sequenceId = item.q;
      this.outbox.set(item.e, entry);
    }
  }

  /** Puts the order under its key; a new order takes its ClOrdID if `takesClOrdId`. */
  private putOrder(o: GatewayOrder, takesClOrdId: boolean): void {
    const key = o.venueClientOrderId;
    const prev = this.orders.get(key);
    if (prev?.venueOrderId && prev.venueOrderId !== o.venueOrderId && this.keyByVenueOrderId.get(prev.venueOrderId) === key) this.keyByVenueOrderId.delete(prev.venueOrderId);
    this.orders.set(key, o);
    if (isTerminal(o)) this.openByKey.delete(key);
    else this.openByKey.set(key, o);
    if (!prev && takesClOrdId) this.clOrdIdHolder.set(o.clOrdId, key);
    for (const id of o.cancelClOrdIds ?? []) this.cancelHolder.set(id, key);
    if (o.venueOrderId) this.keyByVenueOrderId.set(o.venueOrderId, key);
    if (prev?.wireClientOrderId && prev.wireClientOrderId !== o.wireClientOrderId && this.keyByWireClientOrderId.get(prev.wireClientOrderId) === key) this.keyByWireClientOrderId.delete(prev.wireClientOrderId);
    if (o.wireClientOrderId) this.keyByWireClientOrderId.set(o.wireClientOrderId, key);
  }

  private removeOrder(key: string): void {
    const o = this.orders.get(key);
    if (!o) return;
    this.orders.delete(key);
    this.openByKey.delete(key);
    this.journaledFills.delete(key);
    if (this.clOrdIdHolder.get(o.clOrdId) === key) this.clOrdIdHolder.delete(o.clOrdId);
    if (o.venueOrderId && this.keyByVenueOrderId.get(o.venueOrderId) === key) this.keyByVenueOrderId.delete(o.venueOrderId);
    if (o.wireClientOrderId && this.keyByWireClientOrderId.get(o.wireClientOrderId) === key) this.keyByWireClientOrderId.delete(o.wireClientOrderId);
    for (const id of o.cancelClOrdIds ?? []) if (this.cancelHolder.get(id) === key) this.cancelHolder.delete(id);
  }

  /** Whether a ClOrdID used at `usedAt` by this order still names it: open, or used in the current period. */
  private namesNow(o: GatewayOrder, usedAt: number): boolean {
    if (!isTerminal(o)) return true;
    const start = this.periodStart();
    return start === undefined || usedAt >= start;
  }

  /**
   * The order this ClOrdID names now: the order whose NewOrderSingle, or one of whose cancel
   * requests, had it, if that order is open or the ClOrdID was used in the current session period.
   * Undefined means a new order may use the ClOrdID.
   */
  get(clOrdId: string): GatewayOrder | undefined {
    const o = this.orders.get(this.clOrdIdHolder.get(clOrdId) ?? '');
    if (o && this.namesNow(o, o.createdAt)) return o;
    const c = this.orders.get(this.cancelHolder.get(clOrdId) ?? '');
    // The cancel was accepted at or before the order's last update.
    if (c && this.namesNow(c, c.updatedAt)) return c;
    return undefined;
  }

  /**
   * The most recent order that had this ClOrdID, in any period (for an OrderStatusRequest about an
   * order of an earlier period: the latest one with that ClOrdID answers).
   */
  latestWithClOrdId(clOrdId: string): GatewayOrder | undefined {
    return this.orders.get(this.clOrdIdHolder.get(clOrdId) ?? '') ?? this.orders.get(this.cancelHolder.get(clOrdId) ?? '');
  }

  byVenueClientOrderId(id: string): GatewayOrder | undefined {
    return this.orders.get(id);
  }

  byVenueOrderId(id: string): GatewayOrder | undefined {
    return this.orders.get(this.keyByVenueOrderId.get(id) ?? '');
  }

  /** The order whose client order id at the venue is `id` (its wireClientOrderId). */
  byWireClientOrderId(id: string): GatewayOrder | undefined {
    return id ? this.orders.get(this.keyByWireClientOrderId.get(id) ?? '') : undefined;
  }

  /** Orders not in a terminal state (to reconcile with the venue after a start or reconnect). */
  openOrders(): GatewayOrder[] {
    return [...this.openByKey.values()];
  }

  allOrders(): GatewayOrder[] {
    return [...this.orders.values()];
  }

  /**
   * Records the order's new state and the reports it must send. The in-memory state changes at
   * once; the promise resolves when the record is durable. The saved object must not be mutated
   * afterwards (the state machine always returns new objects).
   */
  save(order: GatewayOrder, outbox?: OutboxEntry[]): Promise<void> {
    return this.saveStaged(order, outbox).durable;
  }

  /**
   * save() in its two phases: `written` once the record is in the file (survives the process being
   * killed; a failed write, e.g. ENOSPC, rejects it), `durable` once flushed (survives a power loss).
   */
  saveStaged(order: GatewayOrder, outbox?: OutboxEntry[]): { written: Promise<void>; durable: Promise<void>; appended: boolean } {
    const durable = this.saveRecord(order, outbox);
    // Not appended (the book is closed, the journal refuses writes): both phases reject alike.
    const appended = this.lastSaveAppended;
    return { written: appended ? this.journal.lastAppendWritten() : durable, durable, appended };
  }

  private lastSaveAppended = false;

  private saveRecord(order: GatewayOrder, outbox?: OutboxEntry[]): Promise<void> {
    this.lastSaveAppended = false;
    if (!this.isOpen) return Promise.reject(new Error(`order book ${this.file} is not open`));
    const key = order.venueClientOrderId;
    const journaled = this.journaledFills.get(key) ?? 0;
    const prev = this.orders.get(key);
    const prevHolder = this.clOrdIdHolder.get(order.clOrdId);
    // A new order takes its ClOrdID unless that names another order now (a duplicate being
    // rejected never takes over the live order's ClOrdID).
    const takes = prev === undefined && this.get(order.clOrdId) === undefined;
    const rec: OrderRecord = { o: { ...order, fillIds: undefined } };
    if (prev === undefined && !takes) rec.h = 0;
    if (order.fillIds.size >= journaled) {
      if (order.fillIds.size > journaled) rec.f = order.fillIds.since(journaled);
    } else rec.fa = [...order.fillIds];
    if (outbox && outbox.length > 0) rec.x = outbox.map(outboxRecord);
    const confirms = this.pendingConfirms;
    const records = this.takeConfirms();
    records.push({ type: T_ORDER, body: json(rec) });
    const at: RecordLocation[] = [];
    const p = this.journal.append(records, at);
    if (at.length === 0) return p; // refused: nothing changed
    this.lastSaveAppended = true;
    this.records += records.length;
    const durable = this.journal.durableEnd;
    while (this.undo.length > 0 && this.undo[0].offset < durable) this.undo.shift();
    this.undo.push({ offset: at[0].offset, key, prev, prevHolder, journaled, outboxIds: (outbox ?? []).map((e) => e.execId), confirms });
    this.putOrder(order, takes);
    this.journaledFills.set(key, order.fillIds.size);
    if (outbox) for (const e of outbox) this.outbox.set(e.execId, { ...e });
    if (this.compactionDue()) p.then(() => this.compactWhenIdle(), () => undefined);
    return p;
  }

  /**
   * The session has taken these reports (sent or stored for resend): drop them from the outbox.
   * Journaled with the next save (or at close), never a write of its own: a confirm lost in a crash
   * only makes the lead re-check those reports.
   */
  confirm(execIds: string[]): void {
    if (execIds.length === 0) return;
    for (const id of execIds) this.outbox.delete(id);
    if (this.isOpen) this.pendingConfirms.push(...execIds);
  }

  /**
   * Journals the confirms made so far now, instead of with the next save. After a sequence reset the
   * seqnums outbox recovery looks for a report by name messages of the new sequence: an entry whose
   * confirm a crash lost would then be taken as never stored, and its report sent a second time.
   */
  flushConfirms(): Promise<void> {
    if (!this.isOpen) return Promise.resolve();
    const confirms = this.takeConfirms();
    if (confirms.length === 0) return Promise.resolve();
    this.records += 1;
    return this.journal.append(confirms);
  }

  /** Saves from `goodEnd` on were not written (their write failed): memory back to before them. */
  private rollBack(goodEnd: number): void {
    while (this.undo.length > 0 && this.undo[this.undo.length - 1].offset >= goodEnd) {
      const u = this.undo.pop()!;
      for (const id of u.outboxIds) this.outbox.delete(id);
      this.pendingConfirms.unshift(...u.confirms);
      const clOrdId = this.orders.get(u.key)?.clOrdId;
      this.removeOrder(u.key);
      if (u.prev) {
        this.putOrder(u.prev, false);
        this.journaledFills.set(u.key, u.journaled);
      }
      if (clOrdId !== undefined && u.prevHolder !== undefined) this.clOrdIdHolder.set(clOrdId, u.prevHolder);
    }
  }

  private takeConfirms(): { type: number; body: Buffer }[] {
    if (this.pendingConfirms.length === 0) return [];
    const rec = { type: T_CONFIRM, body: json({ e: this.pendingConfirms }) };
    this.pendingConfirms = [];
    return [rec];
  }

  /** Reports persisted but not confirmed, in save order. */
  unconfirmedOutbox(): OutboxEntry[] {
    return [...this.outbox.values()];
  }

  /**
   * A persisted counter for venueClientOrderIdFor: strictly increasing across restarts. Values are
   * reserved in blocks: the block's high-water mark is written ahead of the next save (same or an
   * earlier write), so it is durable before any order that uses a value from it.
   */
  nextCounter(): number {
    if (!this.isOpen) throw new Error(`order book ${this.file} is not open`);
    this.counter += 1;
    if (this.counter > this.reservedUpTo) {
      this.reservedUpTo = this.counter + COUNTER_BLOCK - 1;
      this.append(T_COUNTER, { n: this.reservedUpTo }).catch(() => undefined);
    }
    return this.counter;
  }

  /**
   * The durable sequence of `venue-format` client order ids: strictly increasing across restarts
   * and never below 1000 × the clock in ms. Reserved ahead like nextCounter (a block of 1000).
   */
  nextSequence(): number {
    if (!this.isOpen) throw new Error(`order book ${this.file} is not open`);
    this.sequence = Math.max(this.sequence + 1, this.now() * 1000);
    if (this.sequence > this.sequenceReservedUpTo) {
      this.sequenceReservedUpTo = this.sequence + 999;
      this.append(T_COUNTER, { s: this.sequenceReservedUpTo }).catch(() => undefined);
    }
    return this.sequence;
  }

  /**
   * The next `integer`-scheme client order id in [min, max]: a cursor that wraps within the range
   * and skips every value an order in the book still holds (open, or kept to answer status
   * requests and dedupe late fills), so a value is never reused while it could name a live or
   * reported order. The cursor is reserved ahead in the journal (blocks of 1000), so a restart
   * never hands out a value given before it; a new book starts at a clock-derived point of the
   * range. Throws when every value is held.
   */
  nextIntegerId(min: number, max: number): number {
    if (!this.isOpen) throw new Error(`order book ${this.file} is not open`);
    const size = max - min + 1;
    if (!(Number.isSafeInteger(min) && Number.isSafeInteger(max) && size > 0)) throw new Error(`bad integer id range ${min}..${max}`);
    const inRange = (v: number) => min + ((((v - min) % size) + size) % size);
    let cursor = this.integerCursor === undefined ? inRange(Math.floor(this.now() / 1000)) : inRange(this.integerCursor);
    const block = Math.min(COUNTER_BLOCK, size);
    for (let tried = 0; tried < size; tried++) {
      cursor = cursor === max ? min : cursor + 1;
      // Every step (a skipped value too) uses up the reservation; past it, reserve the next block
      // (journaled with or before the save of the order that uses the value).
      if (this.integerStepsLeft <= 0) {
        this.append(T_COUNTER, { i: inRange(cursor + block - 1) }).catch(() => undefined);
        this.integerStepsLeft = block;
      }
      this.integerStepsLeft -= 1;
      this.integerCursor = cursor;
      if (!this.keyByWireClientOrderId.has(String(cursor))) return cursor;
    }
    throw new Error(`every client order id in ${min}..${max} is held by an order in the book`);
  }

  /** Records in the journal (for tests and metrics). */
  get recordCount(): number {
    return this.records;
  }

  /**
   * Number of durable writes (fdatasyncs) of the book's journal: when shared, the session's too (for
   * tests and metrics: the bench divides it by the orders placed).
   */
  get syncCount(): number {
    return this.journal.stats.fsyncs;
  }

  /** The journal's counters (admin metrics set onWrite to time each write). */
  get journalStats(): JournalStats {
    return this.journal.stats;
  }

  /**
   * Rewrites the journal as the live state only (atomically: temp file, fsync, rename, fsync dir);
   * a shared journal keeps the other owner's live records too.
   */
  compact(): Promise<void> {
    return this.shared.compact();
  }

  /** The live state as records, for a compaction of the journal (this book's, or a shared one's). */
  liveRecords(): LiveRecord[] {
    const forgetBefore = this.now() - this.retentionMs;
    const period = this.periodStart();
    for (const [key, o] of [...this.orders]) {
      // Kept while it can still be asked about, or still names a ClOrdID in this period.
      const namesInPeriod = period !== undefined && Math.max(o.createdAt, o.updatedAt) >= period;
      if (isTerminal(o) && o.updatedAt < forgetBefore && !namesInPeriod) this.removeOrder(key);
    }
    const live = [{ type: T_COUNTER, body: json({ n: this.reservedUpTo }) }];
    if (this.sequenceReservedUpTo > 0) live.push({ type: T_COUNTER, body: json({ s: this.sequenceReservedUpTo }) });
    if (this.integerCursor !== undefined) {
      // Where a restart resumes: the end of the current reservation (the cursor when none is left).
      live.push({ type: T_COUNTER, body: json({ i: this.integerCursor + this.integerStepsLeft }) });
    }
    for (const [key, o] of this.orders) {
      const r: OrderRecord = { o: { ...o, fillIds: undefined }, fa: [...o.fillIds] };
      if (this.clOrdIdHolder.get(o.clOrdId) !== key) r.h = 0;
      live.push({ type: T_ORDER, body: json(r) });
      this.journaledFills.set(key, o.fillIds.size);
    }
    if (this.outbox.size > 0) live.push({ type: T_OUTBOX, body: json({ x: [...this.outbox.values()].map(outboxRecord) }) });
    this.undo = [];
    this.records = live.length;
    this.pendingConfirms = []; // the live outbox already leaves them out
    return live;
  }

  /** Waits for what is queued, then closes the file. */
  async close(): Promise<void> {
    if (!this.isOpen) return this.shared.release(this); // a shared journal closes once its last owner is done
    this.isOpen = false;
    const confirms = this.takeConfirms();
    if (confirms.length > 0) this.journal.append(confirms).catch(() => undefined);
    await this.shared.release(this);
  }

  private append(type: number, rec: unknown): Promise<void> {
    this.records += 1;
    return this.journal.append([{ type, body: json(rec) }]);
  }
}
