// One durable write per order state change: with the order book on the FIX session's journal, a
// change and the reports it causes (ReportCommitter.commit) cost one fdatasync, not one for the
// book and one for the session store; the order's record comes before the reports' in that write
// (a torn tail that kept a report kept the order state). With separate journals the save stays
// durable before the reports are handed to the session.
import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import { SessionHandle } from '../../src/fix/application';
import { OutboundMessage } from '../../src/fix/message';
import { FileSessionStore, sessionJournalFor } from '../../src/fix/store/file-session-store';
import { StoredMessage } from '../../src/fix/store/message-store';
import { FileOrderBook } from '../../src/gateway/file-order-book';
import { createOrder } from '../../src/gateway/order';
import { pendingNewReport, rejectReport } from '../../src/gateway/order-state';
import { ReportCommitter } from '../../src/gateway/report-committer';
import { Scheduler } from '../../src/gateway/scheduler';
import { spyOnFs } from '../support/fs-spy';

const KEY = 'FIX.4.2-GATEWAY-CLIENT';
let dir: string;
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'one-write-'));
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

/** The session's send path as FixSession has it: a seqnum, the store append in the same call, the wire once durable. */
class StoreBackedSession implements SessionHandle {
  readonly sessionId = 'FIX.4.2:GATEWAY->CLIENT';
  readonly senderCompId = 'GATEWAY';
  readonly targetCompId = 'CLIENT';
  readonly loggedOn = true;
  readonly wire: { seq: number; fsyncsWhenSent: number }[] = [];
  private seq: number;
  constructor(private readonly store: FileSessionStore) {
    this.seq = store.nextSenderSeqNum();
  }
  send(msg: OutboundMessage): Promise<number> {
    const seq = this.seq++;
    const raw = `35=${msg.msgType}\x0134=${seq}\x01` + msg.body.map((f) => `${f.tag}=${f.value}\x01`).join('');
    return this.store.appendSent(seq, raw).then(() => {
      this.wire.push({ seq, fsyncsWhenSent: this.store.stats.fsyncs });
      return seq;
    });
  }
  sentMessages(begin: number, end: number): Promise<StoredMessage[]> {
    return this.store.getSent(begin, end);
  }
  nextSenderSeqNum(): number {
    return this.seq;
  }
  sequenceId(): number {
    return this.store.creationTime();
  }
  event(): void {}
}

const order = (n: number) =>
  createOrder({ clOrdId: `C${n}`, venueClientOrderId: `v-${n}`, symbol: 'BTCUSDT', side: '1', ordType: '2', timeInForce: '1', orderQty: '1', price: '100' }, Date.now());

async function setUp(shared: boolean) {
  const journal = shared ? sessionJournalFor(dir, KEY) : undefined;
  const store = new FileSessionStore(dir, KEY, { journal });
  const book = new FileOrderBook(path.join(dir, 'orders'), KEY, { journal });
  await store.open();
  await book.open();
  const session = new StoreBackedSession(store);
  const committer = new ReportCommitter(book, new Scheduler(() => undefined), pino({ level: 'silent' }));
  committer.attach(session);
  return { store, book, session, committer };
}

test('shared journal: an order change and its ExecutionReport cost one fdatasync, the order record first', async () => {
  const { store, book, session, committer } = await setUp(true);
  await book.save(order(1));
  const before = store.stats.fsyncs;
  await committer.commit(pendingNewReport(book.byVenueClientOrderId('v-1')!, Date.now()));
  expect(store.stats.fsyncs - before).toBe(1);
  expect(session.wire).toHaveLength(1);
  expect(session.wire[0].fsyncsWhenSent).toBe(before + 1);

  // Three changes of three orders committed in one tick: still one write.
  await Promise.all([book.save(order(2)), book.save(order(3)), book.save(order(4))]);
  const before3 = store.stats.fsyncs;
  await Promise.all([2, 3, 4].map((n) => committer.commit(rejectReport(book.byVenueClientOrderId(`v-${n}`)!, '0', 'no', Date.now()))));
  expect(store.stats.fsyncs - before3).toBe(1);
  expect(session.wire).toHaveLength(4);

  // In the file, each order's record precedes its report's.
  const bytes = await fsp.readFile(store.journalPath);
  const orderAt = bytes.indexOf('"clOrdId":"C1"');
  const reportAt = bytes.indexOf('11=C1\x01');
  expect(orderAt).toBeGreaterThan(0);
  expect(reportAt).toBeGreaterThan(orderAt);
  await book.close();
  await store.close();
});

test('separate journals: the save is durable before the report is handed to the session (two flushes)', async () => {
  const { store, book, session, committer } = await setUp(false);
  await book.save(order(1));
  const bookBefore = book.syncCount;
  const storeBefore = store.stats.fsyncs;
  await committer.commit(pendingNewReport(book.byVenueClientOrderId('v-1')!, Date.now()));
  expect(book.syncCount - bookBefore).toBe(1);
  expect(store.stats.fsyncs - storeBefore).toBe(1);
  expect(session.wire).toHaveLength(1);
  await book.close();
  await store.close();
});

test('shared journal: a write that fails (ENOSPC) takes the order change and its report together; the report goes out once, under a new seqnum, once the change is durable', async () => {
  const spy = await spyOnFs();
  try {
    const { store, book, session, committer } = await setUp(true);
    await book.save(order(1));
    spy.failNext('write', store.journalPath, 'ENOSPC');
    await committer.commit(pendingNewReport(book.byVenueClientOrderId('v-1')!, Date.now()));
    // The first write failed: nothing on the wire, seqnum 1 consumed and nothing stored under it
    // (the client's ResendRequest gets a GapFill); the retry stored the report as seqnum 2.
    expect(session.wire.map((w) => w.seq)).toEqual([2]);
    expect((await store.getSent(1, 1)).length).toBe(0);
    const stored = await store.getSent(2, 2);
    expect(stored).toHaveLength(1);
    expect(stored[0].raw).toContain('11=C1\x01');
    expect(book.byVenueClientOrderId('v-1')!.status).toBe('A');
    expect(book.unconfirmedOutbox()).toEqual([]);
    await book.close();
    await store.close();
  } finally {
    spy.restore();
  }
});
