// One journal per FIX session, shared by the session store and the order book (src/durable/
// shared-journal.ts): records of both issued in the same tick are one write and one fdatasync; each
// owner replays only its records; a compaction (a sequence reset, an order book compaction) keeps
// the other owner's live state; an order book of the previous format (its own file) is imported
// once. And the journal's two completion phases: `written` (write() returned) before durable
// (fdatasync done); a failed fdatasync stops the journal.
import * as fs from 'fs';
import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Journal } from '../../src/durable/journal';
import { SharedJournal } from '../../src/durable/shared-journal';
import { FileSessionStore, sessionJournalFor } from '../../src/fix/store/file-session-store';
import { FileOrderBook } from '../../src/gateway/file-order-book';
import { createOrder, GatewayOrder } from '../../src/gateway/order';
import { FsSpy, spyOnFs } from '../support/fs-spy';

const KEY = 'FIX.4.2-GATEWAY-CLIENT';
let dir: string;
let spy: FsSpy | undefined;
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'shared-journal-'));
});
afterEach(async () => {
  spy?.restore();
  spy = undefined;
  await fsp.rm(dir, { recursive: true, force: true });
});

const order = (n: number, status: GatewayOrder['status'] = 'A'): GatewayOrder => ({
  ...createOrder({ clOrdId: `C${n}`, venueClientOrderId: `v-${n}`, symbol: 'BTCUSDT', side: '1', ordType: '2', timeInForce: '1', orderQty: '1', price: '100' }, Date.now() + n),
  status,
});
const msg = (seq: number) => `8=FIX.4.2\x019=5\x0135=8\x0134=${seq}\x0110=000\x01`;

/** A session store and an order book on one journal, as the gateway wires them. */
function pair(): { journal: SharedJournal; store: FileSessionStore; book: FileOrderBook } {
  const journal = sessionJournalFor(dir, KEY);
  const store = new FileSessionStore(dir, KEY, { journal });
  const book = new FileOrderBook(path.join(dir, 'orders'), KEY, { journal });
  return { journal, store, book };
}

async function openPair(): Promise<ReturnType<typeof pair>> {
  const p = pair();
  await p.store.open();
  await p.book.open();
  return p;
}

async function closePair(p: ReturnType<typeof pair>): Promise<void> {
  await p.book.close();
  await p.store.close();
}

test('an order save and the report it causes, issued in the same tick, are one write and one fdatasync', async () => {
  const p = await openPair();
  const before = p.store.stats.fsyncs;
  // As ReportCommitter.commit does it: the save, then the session's store append, no await between.
  const saved = p.book.save(order(1, '0'), [{ execId: 'E1', message: { msgType: '8', body: [{ tag: 17, value: 'E1' }] } }]);
  const stored = p.store.appendSent(1, msg(1));
  await Promise.all([saved, stored]);
  expect(p.store.stats.fsyncs - before).toBe(1);
  expect(p.book.syncCount).toBe(p.store.stats.fsyncs); // one journal, one counter
  await closePair(p);

  const r = await openPair();
  expect(r.book.byVenueClientOrderId('v-1')?.status).toBe('0');
  expect(r.book.unconfirmedOutbox().map((e) => e.execId)).toEqual(['E1']);
  expect((await r.store.getSent(1, 1)).map((m) => m.raw)).toEqual([msg(1)]);
  expect(r.store.nextSenderSeqNum()).toBe(2);
  // Only the session's journal exists: the book has no file of its own.
  expect(fs.existsSync(path.join(dir, 'orders', `${KEY}.orders.journal`))).toBe(false);
  await closePair(r);
});

test('a sequence reset empties the session store and keeps the order book', async () => {
  const p = await openPair();
  await p.book.save(order(1, '0'));
  await p.store.appendSent(1, msg(1));
  await p.store.setNextTargetSeqNum(5);
  const created = p.store.creationTime();
  await p.store.reset();
  expect(p.store.creationTime()).toBeGreaterThan(created);
  await p.store.appendSent(1, msg(1) + 'new');
  await closePair(p);

  const r = await openPair();
  expect(r.book.byVenueClientOrderId('v-1')?.status).toBe('0');
  expect(r.store.nextTargetSeqNum()).toBe(1);
  expect(r.store.nextSenderSeqNum()).toBe(2);
  expect((await r.store.getSent(1, 5)).map((m) => m.raw)).toEqual([msg(1) + 'new']);
  await closePair(r);
});

test('a pre-save whose write fails (ENOSPC) while a sequence reset is queued behind it is not made durable by the reset: the journal stops, and the order the caller was told failed is not there after a restart', async () => {
  spy = await spyOnFs();
  const p = await openPair();
  await p.book.save(order(1, '0'));
  spy.failNext('write', p.store.journalPath, 'ENOSPC');
  // A NewOrderSingle's pre-save, and in the same tick a reset (a Logon with 141=Y): the reset's
  // compaction is queued behind the write that fails.
  const presave = p.book.save(order(2));
  const reset = p.store.reset();
  reset.catch(() => undefined);
  await expect(presave).rejects.toThrow(/ENOSPC/);
  // The reset's compaction was built from memory holding that pre-save: it is not run, and the
  // journal stops (a restart replays the file, cut back before the failed write).
  await expect(reset).rejects.toThrow(/refusing every later write/);
  await expect(p.store.appendSent(1, msg(1))).rejects.toThrow(/refusing every later write/);
  await closePair(p);
  spy.restore();
  spy = undefined;
  const r = await openPair();
  expect(r.book.byVenueClientOrderId('v-2')).toBeUndefined();
  expect(r.book.byVenueClientOrderId('v-1')?.status).toBe('0');
  await closePair(r);
});

test('an order book compaction keeps the stored messages, both seqnums and the sequence', async () => {
  const p = await openPair();
  for (let i = 1; i <= 20; i++) {
    void p.book.save(order(i, 'A'));
    void p.book.save(order(i, '0'));
    await p.store.appendSent(i, msg(i));
  }
  await p.store.appendSent(21, ''); // an admin message: seqnum only
  await p.store.setNextTargetSeqNum(9);
  const created = p.store.creationTime();
  const size = (await fsp.stat(p.journal.file)).size;
  await p.book.compact();
  expect((await fsp.stat(p.journal.file)).size).toBeLessThan(size);
  // Read back from their new places, before and after a reopen.
  expect((await p.store.getSent(1, 30)).map((m) => m.raw)).toEqual(Array.from({ length: 20 }, (_, i) => msg(i + 1)));
  await p.store.appendSent(22, msg(22));
  await closePair(p);

  const r = await openPair();
  expect(r.store.creationTime()).toBe(created);
  expect(r.store.nextSenderSeqNum()).toBe(23);
  expect(r.store.nextTargetSeqNum()).toBe(9);
  expect((await r.store.getSent(1, 30)).map((m) => m.seqNum)).toEqual([...Array.from({ length: 20 }, (_, i) => i + 1), 22]);
  expect(r.book.allOrders()).toHaveLength(20);
  await closePair(r);
});

test('an order book of the previous format (its own file) is imported once into the shared journal, then removed', async () => {
  const old = new FileOrderBook(path.join(dir, 'orders'), KEY);
  await old.open();
  await old.save(order(1, '0'));
  await old.save(order(2, 'A'));
  const counter = old.nextCounter();
  await old.save(order(3, '2'));
  await old.close();
  const legacy = path.join(dir, 'orders', `${KEY}.orders.journal`);
  expect(fs.existsSync(legacy)).toBe(true);

  const p = await openPair();
  expect(fs.existsSync(legacy)).toBe(false);
  expect(p.book.allOrders().map((o) => o.venueClientOrderId).sort()).toEqual(['v-1', 'v-2', 'v-3']);
  expect(p.book.nextCounter()).toBeGreaterThan(counter);
  await closePair(p);

  const r = await openPair();
  expect(r.book.allOrders().map((o) => `${o.venueClientOrderId}:${o.status}`).sort()).toEqual(['v-1:0', 'v-2:A', 'v-3:2']);
  await closePair(r);
});

test('an old book file left by a crash after its import (the shared journal already has the book) is removed, not imported again', async () => {
  const p = await openPair();
  await p.book.save(order(1, '2'));
  await closePair(p);
  // A stale old-format file with an older state of the same order.
  const old = new FileOrderBook(path.join(dir, 'orders'), KEY);
  await old.open();
  await old.save(order(1, 'A'));
  await old.close();

  const r = await openPair();
  expect(r.book.byVenueClientOrderId('v-1')?.status).toBe('2');
  expect(fs.existsSync(path.join(dir, 'orders', `${KEY}.orders.journal`))).toBe(false);
  await closePair(r);
});

test('journal: `written` resolves once write() returned, before the fdatasync completes', async () => {
  const file = path.join(dir, 'j.journal');
  const j = new Journal(file, { magic: 'TESTJRNL', version: 1, recordTypes: [0x41], maxBodyBytes: 64, description: 'test journal' });
  await j.open(() => undefined);
  const fh = await fsp.open(file, 'r');
  const proto = Object.getPrototypeOf(fh) as { datasync: () => Promise<void> };
  await fh.close();
  const realDatasync = proto.datasync;
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let syncing = 0;
  proto.datasync = async function (this: unknown) {
    syncing++;
    await held;
    return realDatasync.call(this);
  };
  try {
    let durable = false;
    const p = j.append([{ type: 0x41, body: Buffer.from('a') }]).then(() => (durable = true));
    const written = j.lastAppendWritten();
    await written;
    // In the file (a reader sees it), the flush still held.
    expect(durable).toBe(false);
    expect(fs.readFileSync(file).includes(Buffer.from('a'))).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(syncing).toBe(1);
    release();
    await p;
    expect(durable).toBe(true);
  } finally {
    proto.datasync = realDatasync;
  }
  await j.close();
});

test('journal: a failed fdatasync rejects the write and every later one, naming the file (the kernel may have dropped the pages)', async () => {
  spy = await spyOnFs();
  const file = path.join(dir, 'j.journal');
  const j = new Journal(file, { magic: 'TESTJRNL', version: 1, recordTypes: [0x41], maxBodyBytes: 64, description: 'test journal' });
  await j.open(() => undefined);
  await j.append([{ type: 0x41, body: Buffer.from('a') }]);
  spy.failNext('datasync', file, 'EIO');
  const p = j.append([{ type: 0x41, body: Buffer.from('b') }]);
  await expect(j.lastAppendWritten()).resolves.toBeUndefined();
  await expect(p).rejects.toThrow(/EIO/);
  await expect(j.append([{ type: 0x41, body: Buffer.from('c') }])).rejects.toThrow(new RegExp(`${path.basename(file)}.*refusing every later write`));
  await j.close();
});

test('journal: its owner is told once when the journal stops (onBroken), so the process can stop instead of serving a session that cannot store', async () => {
  spy = await spyOnFs();
  const file = path.join(dir, 'k.journal');
  const broken: string[] = [];
  const j = new Journal(file, { magic: 'TESTJRNL', version: 1, recordTypes: [0x41], maxBodyBytes: 64, description: 'test journal', onBroken: (err) => broken.push(err.message) });
  await j.open(() => undefined);
  await j.append([{ type: 0x41, body: Buffer.from('a') }]);
  expect(broken).toEqual([]);
  spy.failNext('datasync', file, 'EIO');
  await expect(j.append([{ type: 0x41, body: Buffer.from('b') }])).rejects.toThrow(/EIO/);
  await expect(j.append([{ type: 0x41, body: Buffer.from('c') }])).rejects.toThrow(/refusing every later write/);
  expect(broken).toHaveLength(1);
  expect(broken[0]).toMatch(/k\.journal.*flush failed.*refusing every later write/);
  await j.close();
});

test('a compaction while running waits for room: on a file system that cannot hold the compacted copy, the journal goes on (no ENOSPC stop)', async () => {
  // A compaction writes a whole new file before it drops the old one; its ENOSPC stops the journal
  // (every write refused; the gateway exits 70), where a full disk otherwise only refuses new orders.
  let broken: Error | undefined;
  const journal = sessionJournalFor(dir, KEY, { onBroken: (e) => (broken = e) });
  const store = new FileSessionStore(dir, KEY, { journal });
  const book = new FileOrderBook(path.join(dir, 'orders'), KEY, { journal, compactMinRecords: 50, compactRatio: 2 });
  await store.open();
  await book.open();
  // The file system has 4 KB left (statfs), and writing the compacted copy fails as it then would.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nodeFs = require('fs') as typeof fs; // the module object itself (the import above is a read-only view of it)
  const realStatfs = nodeFs.statfsSync;
  (nodeFs as { statfsSync: unknown }).statfsSync = (p: fs.PathLike) => ({ ...realStatfs(p), bavail: 1, bsize: 4096 });
  spy = await spyOnFs();
  spy.failNext('write', journal.file + '.tmp', 'ENOSPC', 1_000_000);
  try {
    for (let i = 0; i < 200; i++) await book.save({ ...order(1, '0'), execSeq: i });
  } finally {
    (nodeFs as { statfsSync: unknown }).statfsSync = realStatfs;
    spy.restore();
    spy = undefined;
  }
  expect(broken).toBeUndefined();
  expect(journal.compactions).toBe(0);
  // Room again: the next append's check compacts (at most once a second while there was none).
  await new Promise((r) => setTimeout(r, 1_100));
  await book.save({ ...order(1, '0'), execSeq: 200 });
  for (let t = 0; t < 100 && journal.compactions === 0; t++) await new Promise((r) => setTimeout(r, 10));
  expect(journal.compactions).toBeGreaterThan(0);
  await book.save({ ...order(1, '0'), execSeq: 201 });
  expect(broken).toBeUndefined();
  await closePair({ journal, store, book });
});
