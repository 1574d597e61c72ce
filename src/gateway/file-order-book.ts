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
// Memory: open orders, and terminal ones for a short grace period (evictAfterMs: work still in flight
// about them finds them), are objects in memory. After that a terminal order whose reports are
// confirmed and whose last record is durable leaves memory: only its record's location and a hash of
// its ids stay (evicted-index.ts, a few tens of bytes). Its last record is self-contained (a terminal
// order's record carries every fill id), so recall() can read it back through the journal, check it
// is the order asked for, and put it back in memory: the FIX intake and venue events recall before
// they look an order up (order-router.ts, order-updater.ts); the synchronous lookups below see what
// is in memory.
//
// The journal is compacted when it holds many more records than the live state of its owners (here:
// orders in memory, evicted orders, unconfirmed reports), on open and while running, in the
// background (SharedJournal.compactIfDue). Evicted orders are not read into memory for it: their
// records are copied from the old file to the new one by the journal, in chunks (a copy run), and
// the index learns where they went (compacted()); terminal orders past the retention window are
// dropped. A copied record may carry reports long confirmed: the compacted outbox record that
// follows replaces the outbox as a whole ('x' with "r":1), so they do not come back.

import * as fs from 'fs';
import { promises as fsp } from 'fs';
import * as path from 'path';
import { Journal, JournalStats, LiveRecord, RecordLocation, fsyncDir } from '../durable/journal';
import { JournalOwner, SharedJournal } from '../durable/shared-journal';
import { OutboundMessage } from '../fix/message';
import { EvictedIndex, IdKind } from './evicted-index';
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

/** Ids an order may be asked about by (see FileOrderBook.recall). */
export interface RecallIds {
  /** ClOrdIDs of orders or of cancel requests. */
  clOrdIds?: readonly (string | undefined)[];
  venueOrderId?: string;
  wireClientOrderId?: string;
  /** The book's key. */
  venueClientOrderId?: string;
}

/** Whether `o` has `id` as the kind of id the index found it under. */
function namesId(o: GatewayOrder, kind: IdKind, id: string): boolean {
  switch (kind) {
    case IdKind.Key:
      return o.venueClientOrderId === id;
    case IdKind.ClOrdId:
      return o.clOrdId === id;
    case IdKind.CancelClOrdId:
      return o.cancelClOrdIds?.includes(id) ?? false;
    case IdKind.VenueOrderId:
      return o.venueOrderId === id;
    case IdKind.WireClientOrderId:
      return o.wireClientOrderId === id;
  }
}

export interface FileOrderBookOptions {
  /**
   * Compact (on open and while running) when the journal has more than this many records... (default
   * 10000). Sets the journal's policy (SharedJournal.setCompactionPolicy); on a shared journal, only
   * when given (the session journal's own default otherwise: 10000 and 1.5).
   */
  compactMinRecords?: number;
  /** ...and more than this many records per live record of its owners (orders, evicted orders, outbox, stored messages) (default 4). */
  compactRatio?: number;
  /**
   * Terminal orders last updated longer ago than this are dropped by compaction (default 7 days).
   * Within the window an OrderStatusRequest is still answered and a late venue fill still
   * deduplicated; after it, the order is forgotten.
   */
  terminalRetentionMs?: number;
  /**
   * A terminal order leaves memory this long after its last change (once its reports are confirmed
   * and its record durable), so work still in flight about it finds it (default 10 s).
   */
  evictAfterMs?: number;
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

/** `k` (compacted outbox only): the key of the order the report is of. */
type OutboxRecord = { e: string; m: OutboundMessage; s?: number; q?: number; k?: string };
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

/** Where an order in memory was last recorded: `full` when that record has every fill id; `seq` the save that wrote it. */
interface OrderLocation {
  offset: number;
  length: number;
  full: boolean;
  seq: number;
}

/** Parses an order record body ('o') into the order, or throws. */
function orderOf(rec: OrderRecord, fills: FillIds): GatewayOrder {
  const o = rec.o;
  if (typeof o !== 'object' || o === null || typeof o.clOrdId !== 'string' || typeof o.venueClientOrderId !== 'string') {
    throw new Error('order record without clOrdId/venueClientOrderId');
  }
  // Journaled before the wire id was its own field: the gateway id was sent.
  if (o.wireClientOrderId === undefined) o.wireClientOrderId = o.venueClientOrderId;
  return { ...o, fillIds: fills } as GatewayOrder;
}

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
    prevLocation: OrderLocation | undefined;
    journaled: number;
    outboxIds: string[];
    confirms: string[];
  }[] = [];
  /** Confirmed ExecIDs not yet journaled (they ride along with the next save). */
  private pendingConfirms: string[] = [];
  private readonly evictAfterMs: number;
  /** Terminal orders that have left memory. */
  private readonly evicted = new EvictedIndex();
  /** Changes when slots are renumbered (a compaction): a recall in flight starts over. */
  private evictedEpoch = 0;
  /** Where each order in memory was last recorded. */
  private readonly locations = new Map<string, OrderLocation>();
  /** Unconfirmed reports per order key, and the key of each (by ExecID). */
  private readonly reportsPending = new Map<string, number>();
  private readonly reportKey = new Map<string, string>();
  /** Terminal orders to evict, with the time they became eligible (book clock), oldest first from `queueHead`. */
  private evictQueue: { key: string; at: number }[] = [];
  private queueHead = 0;
  /** Saves made, and the last one known durable (an order leaves memory only once its record is). */
  private saveSeq = 0;
  private durableSeq = 0;
  private batchMark: { seq: number; p: Promise<void> } | undefined;
  /** What liveRecords() gave, for compacted() to place (evicted slots copied, orders in memory by key). */
  private compaction:
    | { slots: number[]; run: { offsets: Float64Array; lengths: Uint32Array }; evictedAt: number; memoryFirst: number; memory: string[] }
    | undefined;
  /** Compactions made; the promise of each while it runs (see carriedByCompaction). */
  private compactions = 0;
  private readonly snapshots = new Map<number, Promise<void>>();
  private carried: { p: Promise<void>; epoch: number; result: Promise<void> } | undefined;
  /** Recalls run one after another, so their effects come in the order they were asked for. */
  private recalls: Promise<void> = Promise.resolve();
  /** Ids messages waiting for their handler need (see pin), with how many pins each has. */
  private readonly pinned = new Map<string, number>();

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
    // The book's own journal: its policy as before; a shared one is the session's (set there) unless given.
    if (!this.sharesJournal || options.compactMinRecords !== undefined || options.compactRatio !== undefined) {
      this.shared.setCompactionPolicy({ minRecords: options.compactMinRecords ?? 10000, ratio: options.compactRatio ?? 4 });
    }
    this.evictAfterMs = options.evictAfterMs ?? 10_000;
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
    if (importing || this.shared.compactionDue()) await this.compact();
    if (importing) {
      // Only now that the shared journal holds the book durably.
      await fsp.rm(this.legacyFile!, { force: true });
      await fsyncDir(path.dirname(this.legacyFile!));
    }
    const now = this.now();
    for (const [key, o] of this.orders) if (isTerminal(o)) this.evictQueue.push({ key, at: now });
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

  replay(type: number, body: Buffer, at?: RecordLocation): void {
    this.applyRecord(type, JSON.parse(body.toString('utf8')), at);
    this.records += 1;
  }

  rolledBack(goodEnd: number): void {
    this.rollBack(goodEnd);
  }

  private applyRecord(type: number, rec: unknown, at?: RecordLocation): void {
    if (typeof rec !== 'object' || rec === null) throw new Error('record is not an object');
    const r = rec as { o?: unknown; x?: unknown; e?: unknown; n?: unknown };
    switch (type) {
      case T_ORDER: {
        const r = rec as OrderRecord;
        const { f, fa, x } = r;
        if ((f !== undefined && !Array.isArray(f)) || (fa !== undefined && !Array.isArray(fa))) throw new Error('fill ids are not a list');
        const key = typeof r.o?.venueClientOrderId === 'string' ? r.o.venueClientOrderId : '';
        const before = this.orders.get(key)?.fillIds ?? FillIds.EMPTY;
        let fills = fa !== undefined ? FillIds.EMPTY : before;
        for (const id of fa ?? f ?? []) fills = fills.add(String(id));
        this.putOrder(orderOf(r, fills), r.h !== 0);
        this.journaledFills.set(key, fills.size);
        if (at) this.locations.set(key, { offset: at.offset, length: at.length, full: fa !== undefined || before.size === 0, seq: 0 });
        if (x !== undefined) this.addOutbox(x, key);
        return;
      }
      case T_OUTBOX:
        // "r":1 (a compaction's): this is the whole outbox; reports in copied order records before it were confirmed.
        if ((rec as { r?: unknown }).r === 1) {
          this.outbox.clear();
          this.reportKey.clear();
          this.reportsPending.clear();
        }
        this.addOutbox(r.x);
        return;
      case T_CONFIRM:
        if (!Array.isArray(r.e)) throw new Error('confirm record without execIds');
        for (const id of r.e) this.dropOutbox(String(id));
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

  /** `key`: the order the entries are reports of (unknown for a compacted outbox record). */
  private addOutbox(x: unknown, key?: string): void {
    if (!Array.isArray(x)) throw new Error('outbox is not a list');
    for (const item of x as OutboxRecord[]) {
      if (typeof item?.e !== 'string' || typeof item.m !== 'object' || item.m === null) throw new Error('bad outbox entry');
      const entry: OutboxEntry = { execId: item.e, message: item.m };
      if (typeof item.s === 'number') entry.minSeq = item.s;
      if (typeof item.q === 'number') entry.sequenceId = item.q;
      this.putOutbox(entry, typeof item.k === 'string' ? item.k : key);
    }
  }

  private putOutbox(entry: OutboxEntry, key: string | undefined): void {
    if (this.outbox.has(entry.execId)) this.dropOutbox(entry.execId);
    this.outbox.set(entry.execId, entry);
    if (key === undefined) return;
    this.reportKey.set(entry.execId, key);
    this.reportsPending.set(key, (this.reportsPending.get(key) ?? 0) + 1);
  }

  private dropOutbox(execId: string): void {
    if (!this.outbox.delete(execId)) return;
    const key = this.reportKey.get(execId);
    if (key === undefined) return;
    this.reportKey.delete(execId);
    const n = (this.reportsPending.get(key) ?? 1) - 1;
    if (n > 0) this.reportsPending.set(key, n);
    else this.reportsPending.delete(key);
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
    this.locations.delete(key);
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
    // A terminal order's record is self-contained (every fill id): it is what an eviction points at.
    if (order.fillIds.size < journaled || (journaled > 0 && isTerminal(order))) rec.fa = [...order.fillIds];
    else if (order.fillIds.size > journaled) rec.f = order.fillIds.since(journaled);
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
    const prevLocation = this.locations.get(key);
    this.undo.push({ offset: at[0].offset, key, prev, prevHolder, prevLocation, journaled, outboxIds: (outbox ?? []).map((e) => e.execId), confirms });
    this.putOrder(order, takes);
    this.journaledFills.set(key, order.fillIds.size);
    const loc = at[at.length - 1];
    this.locations.set(key, { offset: loc.offset, length: loc.length, full: rec.fa !== undefined || journaled === 0, seq: this.markSaved(p) });
    if (outbox) for (const e of outbox) this.putOutbox({ ...e }, key);
    if (isTerminal(order)) this.evictQueue.push({ key, at: this.now() });
    this.sweep();
    this.shared.compactIfDue();
    return this.carriedByCompaction(p);
  }

  /**
   * The session has taken these reports (sent or stored for resend): drop them from the outbox.
   * Journaled with the next save (or at close), never a write of its own: a confirm lost in a crash
   * only makes the lead re-check those reports.
   */
  confirm(execIds: string[]): void {
    if (execIds.length === 0) return;
    for (const id of execIds) this.dropOutbox(id);
    if (this.isOpen) {
      this.pendingConfirms.push(...execIds);
      this.sweep();
    }
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
      for (const id of u.outboxIds) this.dropOutbox(id);
      this.pendingConfirms.unshift(...u.confirms);
      const clOrdId = this.orders.get(u.key)?.clOrdId;
      this.removeOrder(u.key);
      if (u.prev) {
        this.putOrder(u.prev, false);
        this.journaledFills.set(u.key, u.journaled);
        if (u.prevLocation) this.locations.set(u.key, u.prevLocation);
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
      // An evicted order may still get a late fill under its id: its value is held too.
      if (!this.keyByWireClientOrderId.has(String(cursor)) && !this.evictedHas(IdKind.WireClientOrderId, String(cursor))) return cursor;
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
    const live: LiveRecord[] = [{ type: T_COUNTER, body: json({ n: this.reservedUpTo }) }];
    if (this.sequenceReservedUpTo > 0) live.push({ type: T_COUNTER, body: json({ s: this.sequenceReservedUpTo }) });
    if (this.integerCursor !== undefined) {
      // Where a restart resumes: the end of the current reservation (the cursor when none is left).
      live.push({ type: T_COUNTER, body: json({ i: this.integerCursor + this.integerStepsLeft }) });
    }
    // Evicted orders first, copied as they lie (a copy run), oldest created first so that of two with
    // one ClOrdID the later one names it on replay; an order in memory with the same key (a stale
    // copy was evicted) comes later and wins.
    const slots = this.evictedKept(forgetBefore, period);
    const run = { offsets: new Float64Array(slots.length), lengths: new Uint32Array(slots.length) };
    for (let i = 0; i < slots.length; i++) {
      const loc = this.evicted.location(slots[i]);
      run.offsets[i] = loc.offset;
      run.lengths[i] = loc.length;
    }
    this.compaction = { slots, run, evictedAt: slots.length > 0 ? live.length : -1, memoryFirst: live.length + (slots.length > 0 ? 1 : 0), memory: [] };
    if (slots.length > 0) live.push({ copyRun: run });
    for (const [key, o] of this.orders) {
      const r: OrderRecord = { o: { ...o, fillIds: undefined }, fa: [...o.fillIds] };
      if (this.clOrdIdHolder.get(o.clOrdId) !== key) r.h = 0;
      this.compaction.memory.push(key);
      live.push({ type: T_ORDER, body: json(r) });
      this.journaledFills.set(key, o.fillIds.size);
    }
    // Replaces the outbox on replay: the copied records' reports were confirmed before they left memory.
    if (this.outbox.size > 0 || slots.length > 0) {
      live.push({ type: T_OUTBOX, body: json({ x: [...this.outbox.values()].map((e) => this.compactedOutboxRecord(e)), r: 1 }) });
    }
    this.undo = [];
    this.records = live.length;
    this.pendingConfirms = []; // the live outbox already leaves them out
    return live;
  }

  /** Evicted orders a compaction keeps (within the retention window, or naming a ClOrdID in this period), oldest created first. */
  private evictedKept(forgetBefore: number, period: number | undefined): number[] {
    const keep: number[] = [];
    for (const slot of this.evicted.liveSlots()) {
      const namesInPeriod = period !== undefined && Math.max(this.evicted.createdAt(slot), this.evicted.updatedAt(slot)) >= period;
      if (this.evicted.updatedAt(slot) >= forgetBefore || namesInPeriod) keep.push(slot);
    }
    return keep.sort((x, y) => this.evicted.createdAt(x) - this.evicted.createdAt(y) || x - y);
  }

  private compactedOutboxRecord(e: OutboxEntry): OutboxRecord {
    const r = outboxRecord(e);
    const key = this.reportKey.get(e.execId);
    if (key !== undefined) r.k = key;
    return r;
  }

  /** Where what liveRecords() gave lies in the compacted file (called right after it, synchronously). */
  compacted(locations: RecordLocation[], done: Promise<void>): void {
    const c = this.compaction;
    this.compaction = undefined;
    if (c === undefined) return;
    const epoch = this.compactions++;
    this.snapshots.set(epoch, done);
    const forget = () => this.snapshots.delete(epoch);
    done.then(forget, forget);
    // Evicted orders now lie back to back from the run's start (reads made from now on wait for the
    // new file to be in place); those left out are dropped.
    let maxSlot = -1;
    for (const x of c.slots) if (x > maxSlot) maxSlot = x;
    const moved = new Int32Array(maxSlot + 1).fill(-1);
    const newOffsets = new Float64Array(c.slots.length);
    if (c.evictedAt >= 0) {
      let at = locations[c.evictedAt].offset;
      for (let i = 0; i < c.slots.length; i++) {
        moved[c.slots[i]] = i;
        newOffsets[i] = at;
        at += c.run.lengths[i];
      }
    }
    this.evicted.relocate((slot) => {
      const i = slot < moved.length ? moved[slot] : -1;
      return i < 0 ? undefined : { offset: newOffsets[i], length: c.run.lengths[i] };
    });
    this.evictedEpoch++;
    const seq = this.markSaved(done);
    const now = this.now();
    for (let i = 0; i < c.memory.length; i++) {
      const key = c.memory[i];
      const loc = locations[c.memoryFirst + i];
      this.locations.set(key, { offset: loc.offset, length: loc.length, full: true, seq });
      // Every record is self-contained now: terminal orders kept back for that may leave.
      const o = this.orders.get(key);
      if (o && isTerminal(o)) this.evictQueue.push({ key, at: now });
    }
  }

  liveCount(): number {
    return this.orders.size + this.evicted.size + (this.outbox.size > 0 ? 1 : 0) + 3;
  }

  /**
   * A save whose write fails while a compaction is queued behind it is not undone (the journal
   * leaves memory as it is): the compaction's snapshot has it, so it is durable once that compaction
   * is, and the save resolves then (a caller told "failed" would act on a state that is kept).
   */
  private carriedByCompaction(p: Promise<void>): Promise<void> {
    const epoch = this.compactions;
    if (this.carried?.p === p && this.carried.epoch === epoch) return this.carried.result;
    const result = p.catch((err: unknown) => {
      const snapshot = this.snapshots.get(epoch);
      if (snapshot === undefined) throw err;
      return snapshot;
    });
    // Like the journal's own promises: a caller that awaits only the written phase (the pre-save
    // overlap) leaves this one unawaited, and its rejection is theirs to see, not unhandled.
    result.catch(() => undefined);
    this.carried = { p, epoch, result };
    return result;
  }

  /**
   * Numbers a save; once its write is durable, durableSeq reaches it. Saves of one tick share one
   * write and one promise: one callback per write, not per save.
   */
  private markSaved(p: Promise<void>): number {
    const seq = ++this.saveSeq;
    if (this.batchMark !== undefined && this.batchMark.p === p) {
      this.batchMark.seq = seq;
      return seq;
    }
    const mark = { seq, p };
    this.batchMark = mark;
    p.then(
      () => {
        if (mark.seq > this.durableSeq) this.durableSeq = mark.seq;
        if (this.batchMark === mark) this.batchMark = undefined;
        this.sweep();
      },
      () => undefined,
    );
    return seq;
  }

  /**
   * Evicts the terminal orders whose time has come: grace period over, reports confirmed, record
   * durable and self-contained (one not yet self-contained waits for the next compaction).
   */
  private sweep(): void {
    if (!this.isOpen) return;
    const now = this.now();
    const q = this.evictQueue;
    let later: { key: string; at: number }[] | undefined;
    while (this.queueHead < q.length) {
      const e = q[this.queueHead];
      if (e.at + this.evictAfterMs > now) break;
      this.queueHead++;
      const o = this.orders.get(e.key);
      const loc = this.locations.get(e.key);
      if (!o || !isTerminal(o) || !loc?.full) continue;
      if (loc.seq > this.durableSeq || this.reportsPending.has(e.key) || this.isPinned(e.key, o)) (later ??= []).push({ key: e.key, at: now });
      else this.evict(e.key, o, loc);
    }
    if (later) q.push(...later);
    if (this.queueHead > 1024 && this.queueHead * 2 > q.length) {
      this.evictQueue = q.slice(this.queueHead);
      this.queueHead = 0;
    }
  }

  private evict(key: string, o: GatewayOrder, loc: OrderLocation): void {
    const ids: [IdKind, string][] = [[IdKind.Key, key]];
    if (this.clOrdIdHolder.get(o.clOrdId) === key) ids.push([IdKind.ClOrdId, o.clOrdId]);
    for (const id of o.cancelClOrdIds ?? []) if (this.cancelHolder.get(id) === key) ids.push([IdKind.CancelClOrdId, id]);
    if (o.venueOrderId && this.keyByVenueOrderId.get(o.venueOrderId) === key) ids.push([IdKind.VenueOrderId, o.venueOrderId]);
    // Most orders send their key as the wire id: the key's entry stands for it (evictedSlots), one entry fewer.
    if (o.wireClientOrderId && o.wireClientOrderId !== key && this.keyByWireClientOrderId.get(o.wireClientOrderId) === key) ids.push([IdKind.WireClientOrderId, o.wireClientOrderId]);
    this.evicted.add(loc, o.createdAt, o.updatedAt, ids);
    this.removeOrder(key);
  }

  /**
   * Brings back into memory the evicted orders these ids may name (per id, the latest order that had
   * it), so that the synchronous lookups see them: call before looking up an order that may be an old
   * one (FIX intake, venue events). Undefined when there is nothing to read, which is the common case
   * (ids of orders in memory, or of none). Recalls run one after another, in call order.
   */
  recall(ids: RecallIds): Promise<void> | undefined {
    if (this.evicted.size === 0 || this.recallWanted(ids).length === 0) return undefined;
    const p = this.recalls.then(() => this.recallNow(ids));
    this.recalls = p.catch(() => undefined);
    return p;
  }

  /**
   * Keeps the orders these ids name in memory (the sweep passes them over) until the returned
   * release is called: a message that waits its turn after its recall (RecallGate) needs them when
   * its handler runs. Ids are matched whatever their kind: a coincidence only delays an eviction.
   */
  pin(ids: RecallIds): () => void {
    const list = [...(ids.clOrdIds ?? []), ids.venueOrderId, ids.wireClientOrderId, ids.venueClientOrderId].filter((id): id is string => !!id);
    for (const id of list) this.pinned.set(id, (this.pinned.get(id) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const id of list) {
        const n = this.pinned.get(id)! - 1;
        if (n === 0) this.pinned.delete(id);
        else this.pinned.set(id, n);
      }
    };
  }

  private isPinned(key: string, o: GatewayOrder): boolean {
    if (this.pinned.size === 0) return false;
    const p = this.pinned;
    return p.has(key) || p.has(o.clOrdId) || (!!o.venueOrderId && p.has(o.venueOrderId)) || (!!o.wireClientOrderId && p.has(o.wireClientOrderId)) || (o.cancelClOrdIds ?? []).some((id) => p.has(id));
  }

  /** Whether an evicted order may hold this venue order id (errs on "yes": about (ids in the index) / 2^64, see evicted-index.ts). */
  venueOrderIdEvicted(id: string): boolean {
    return this.evicted.has(IdKind.VenueOrderId, id);
  }

  /** Orders out of memory, and the bytes their index takes (metrics, benchmarks). */
  get evictedStats(): { orders: number; indexBytes: number; inMemory: number } {
    return { orders: this.evicted.size, indexBytes: this.evicted.bytes, inMemory: this.orders.size };
  }

  private recallWanted(ids: RecallIds): [IdKind, string][] {
    const out: [IdKind, string][] = [];
    for (const c of ids.clOrdIds ?? []) {
      if (!c) continue;
      if (!this.clOrdIdHolder.has(c) && this.evicted.has(IdKind.ClOrdId, c)) out.push([IdKind.ClOrdId, c]);
      if (!this.cancelHolder.has(c) && this.evicted.has(IdKind.CancelClOrdId, c)) out.push([IdKind.CancelClOrdId, c]);
    }
    const v = ids.venueOrderId;
    if (v && !this.keyByVenueOrderId.has(v) && this.evicted.has(IdKind.VenueOrderId, v)) out.push([IdKind.VenueOrderId, v]);
    const k = ids.venueClientOrderId;
    if (k && !this.orders.has(k) && this.evicted.has(IdKind.Key, k)) out.push([IdKind.Key, k]);
    const w = ids.wireClientOrderId;
    if (w && !this.keyByWireClientOrderId.has(w) && this.evictedHas(IdKind.WireClientOrderId, w)) out.push([IdKind.WireClientOrderId, w]);
    return out;
  }

  /** Whether an evicted order may hold this id (a wire id equal to its order's key is under the key's entry). */
  private evictedHas(kind: IdKind, id: string): boolean {
    return this.evicted.has(kind, id) || (kind === IdKind.WireClientOrderId && this.evicted.has(IdKind.Key, id));
  }

  /** Evicted slots that may hold this id, newest first (see evictedHas). */
  private evictedSlots(kind: IdKind, id: string): number[] {
    const slots = this.evicted.find(kind, id);
    if (kind !== IdKind.WireClientOrderId) return slots;
    for (const s of this.evicted.find(IdKind.Key, id)) if (!slots.includes(s)) slots.push(s);
    return slots.sort((a, b) => b - a);
  }

  private async recallNow(ids: RecallIds): Promise<void> {
    // A compaction renumbering the slots while the records are read: look again.
    for (let attempt = 0; attempt < 10; attempt++) {
      if (!this.isOpen) return;
      const wanted = this.recallWanted(ids);
      if (wanted.length === 0) return;
      const candidates: { kind: IdKind; id: string; slot: number }[] = [];
      for (const [kind, id] of wanted) for (const slot of this.evictedSlots(kind, id)) candidates.push({ kind, id, slot });
      const epoch = this.evictedEpoch;
      const recs = await this.journal.read(candidates.map((c) => this.evicted.location(c.slot)));
      if (epoch !== this.evictedEpoch) continue;
      const found = new Set<string>();
      for (let i = 0; i < candidates.length; i++) {
        const { kind, id, slot } = candidates[i];
        const what = `${kind}:${id}`;
        if (found.has(what) || !this.evicted.isLive(slot) || recs[i].type !== T_ORDER) continue;
        const r = JSON.parse(recs[i].body.toString('utf8')) as OrderRecord;
        const order = orderOf(r, FillIds.of((r.fa ?? r.f ?? []).map(String)));
        // A hash hit is checked against the record: another id with the same hash is passed over.
        if (!namesId(order, kind, id)) continue;
        found.add(what);
        this.restore(order, slot);
      }
      return;
    }
  }

  /** An evicted order back in memory, as it was (it does not take over ids that orders in memory hold). */
  private restore(o: GatewayOrder, slot: number): void {
    const key = o.venueClientOrderId;
    const holdsClOrdId = this.evicted.slotHas(slot, IdKind.ClOrdId, o.clOrdId);
    const cancels = (o.cancelClOrdIds ?? []).filter((id) => this.evicted.slotHas(slot, IdKind.CancelClOrdId, id));
    const loc = this.evicted.location(slot);
    this.evicted.kill(slot);
    if (this.orders.has(key)) return; // a later state of it is in memory
    this.orders.set(key, o);
    if (!isTerminal(o)) this.openByKey.set(key, o);
    if (holdsClOrdId && !this.clOrdIdHolder.has(o.clOrdId)) this.clOrdIdHolder.set(o.clOrdId, key);
    for (const id of cancels) if (!this.cancelHolder.has(id)) this.cancelHolder.set(id, key);
    if (o.venueOrderId && !this.keyByVenueOrderId.has(o.venueOrderId)) this.keyByVenueOrderId.set(o.venueOrderId, key);
    if (o.wireClientOrderId && !this.keyByWireClientOrderId.has(o.wireClientOrderId)) this.keyByWireClientOrderId.set(o.wireClientOrderId, key);
    this.journaledFills.set(key, o.fillIds.size);
    this.locations.set(key, { offset: loc.offset, length: loc.length, full: true, seq: 0 });
    this.evictQueue.push({ key, at: this.now() });
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
