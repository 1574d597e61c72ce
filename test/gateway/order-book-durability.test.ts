// The order book must be durable from its first write, not only after a restart: a power loss
// (unlike a SIGKILL, which leaves the page cache to the kernel) loses whatever was written and not
// flushed, and a new file whose directory entry was never fsynced. The journal writes each batch
// with write() and then flushes it with fdatasync() (two phases: `written`, then durable), so this
// test watches the fs calls themselves (test/support/fs-spy.ts) on every path (a new journal, a
// reopened one, one replaced by compaction): every write to the journal is followed by an
// fdatasync of it before the save resolves.
import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FileOrderBook } from '../../src/gateway/file-order-book';
import { createOrder } from '../../src/gateway/order';
import { FsEvent, FsSpy, spyOnFs } from '../support/fs-spy';

let dir: string;
let spy: FsSpy;
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'book-durable-'));
  spy = await spyOnFs();
});
afterEach(async () => {
  spy.restore();
  await fsp.rm(dir, { recursive: true, force: true });
});

const order = (n: number) =>
  createOrder({ clOrdId: `C${n}`, venueClientOrderId: `v-${n}`, symbol: 'BTCUSDT', side: '1', ordType: '2', timeInForce: '1', orderQty: '1', price: '100' }, 1000 + n);

/**
 * The journal was written (at least one write) and every write to it is followed by an fdatasync
 * (or fsync) of it, so each acknowledged save is on disk.
 */
function expectJournalWritesFlushed(events: FsEvent[], file: string): void {
  const writes = events.map((e, i) => (e.op === 'write' && e.path === file ? i : -1)).filter((i) => i >= 0);
  expect(writes.length).toBeGreaterThan(0);
  const unflushed = writes.filter((w) => !events.some((e, i) => i > w && (e.op === 'datasync' || e.op === 'sync') && e.path === file));
  expect(unflushed).toEqual([]);
}

/** The directory was fsynced after the journal's name last came into being (create or rename). */
function expectDirSyncedAfterNameChange(events: FsEvent[], file: string): void {
  const d = path.dirname(file);
  const lastRename = Math.max(...events.map((e, i) => (e.op === 'rename' && e.to === file ? i : -1)));
  const named = lastRename >= 0 ? lastRename : events.findIndex((e) => e.op === 'open' && e.path === file);
  expect(named).toBeGreaterThanOrEqual(0);
  const dirSync = events.findIndex((e, i) => i > named && (e.op === 'sync' || e.op === 'datasync') && e.path === d);
  expect(dirSync).toBeGreaterThan(named);
}

test('a new order book journal is flushed after every write and its directory entry fsynced', async () => {
  const b = new FileOrderBook(dir, 'GW-NEW');
  await b.open();
  await b.save(order(1));
  expectJournalWritesFlushed(spy.events, path.resolve(b.file));
  expectDirSyncedAfterNameChange(spy.events, path.resolve(b.file));
  await b.close();
});

test('a reopened order book journal is flushed after every write', async () => {
  const b = new FileOrderBook(dir, 'GW-RE');
  await b.open();
  await b.save(order(1));
  await b.close();
  spy.events.length = 0;
  const r = new FileOrderBook(dir, 'GW-RE');
  await r.open();
  await r.save(order(2));
  expectJournalWritesFlushed(spy.events, path.resolve(r.file));
  await r.close();
});

test('a journal replaced by compaction is flushed after every write and the rename fsynced', async () => {
  const b = new FileOrderBook(dir, 'GW-COMPACT');
  await b.open();
  await b.save(order(1));
  spy.events.length = 0;
  await b.compact();
  await b.save(order(2));
  const file = path.resolve(b.file);
  expect(spy.events.some((e) => e.op === 'rename' && e.to === file)).toBe(true);
  expectJournalWritesFlushed(spy.events, file);
  expectDirSyncedAfterNameChange(spy.events, file);
  await b.close();
});
