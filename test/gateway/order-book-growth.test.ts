// The order book stays bounded as orders and fills accumulate: a save journals only what changed
// (new fill ids, not the whole history), terminal orders past the retention window are dropped by a
// compaction that runs while the book is in use, and outbox recovery after a crash reads only the
// part of the session store that can hold unconfirmed reports, in chunks.
import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import type { SessionHandle } from '../../src/fix/application';
import type { StoredMessage } from '../../src/fix/store/message-store';
import { FileOrderBook } from '../../src/gateway/file-order-book';
import { GatewayApplication } from '../../src/gateway/gateway-application';
import { FillIds, GatewayOrder, createOrder } from '../../src/gateway/order';
import type { VenueAdapter } from '../../src/venues/venue';

let dir: string;
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'book-growth-'));
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

const order = (n: number, over: Partial<GatewayOrder> = {}): GatewayOrder => ({
  ...createOrder({ clOrdId: `C${n}`, venueClientOrderId: `v-${n}`, symbol: 'BTCUSDT', side: '1', ordType: '2', timeInForce: '1', orderQty: '1000', price: '100' }, 1000),
  ...over,
});

test('a save journals the fills added since the last one, not every fill id so far', async () => {
  const b = new FileOrderBook(dir, 'G');
  await b.open();
  let o = order(1, { status: '1' });
  await b.save(o);
  const start = (await fsp.stat(b.file)).size;
  o = { ...o, fillIds: o.fillIds.add('fill-000000001') };
  await b.save(o);
  const oneFillRecord = (await fsp.stat(b.file)).size - start;
  for (let i = 2; i <= 400; i++) {
    o = { ...o, fillIds: o.fillIds.add(`fill-${String(i).padStart(9, '0')}`), execSeq: i };
    await b.save(o);
  }
  const growth = (await fsp.stat(b.file)).size - start;
  // Linear in the number of fills (every record about as large as the first), not quadratic.
  expect(growth).toBeLessThan(400 * (oneFillRecord + 10));
  await b.close();
  const r = new FileOrderBook(dir, 'G');
  await r.open();
  const back = r.get('C1')!;
  expect(back.fillIds.size).toBe(400);
  expect(back.fillIds.has('fill-000000001') && back.fillIds.has('fill-000000400')).toBe(true);
  expect(back.execSeq).toBe(400);
  await r.close();
});

test('while running, compaction drops terminal orders past the retention window and keeps the rest', async () => {
  let now = 1_000_000;
  const opts = { compactMinRecords: 30, compactRatio: 2, terminalRetentionMs: 60_000, now: () => now };
  const b = new FileOrderBook(dir, 'G', opts);
  await b.open();
  for (let i = 1; i <= 20; i++) await b.save(order(i, { status: '2', updatedAt: now, fillIds: FillIds.of([`t${i}`]) }));
  now += 120_000; // those 20 are now past the window
  await b.save(order(21, { status: '4', updatedAt: now })); // terminal, recent: kept
  for (let k = 0; k < 40; k++) await b.save(order(22, { status: '0', execSeq: k, updatedAt: now })); // open: kept
  // (Compaction no longer waits for an idle journal: it may run during the saves above, so a few records follow it.)
  for (let t = 0; t < 100 && b.recordCount > 30; t++) await new Promise((r) => setTimeout(r, 10));
  expect(b.allOrders().map((o) => o.clOrdId).sort()).toEqual(['C21', 'C22']);
  expect(b.openOrders().map((o) => o.clOrdId)).toEqual(['C22']);
  expect(b.recordCount).toBeLessThan(30); // 62 written: compacted while running
  await b.save(order(22, { status: '1', execSeq: 99, updatedAt: now }));
  await b.close();
  const r = new FileOrderBook(dir, 'G', opts);
  await r.open();
  expect(r.allOrders().map((o) => o.clOrdId).sort()).toEqual(['C21', 'C22']);
  expect(r.get('C22')).toMatchObject({ status: '1', execSeq: 99 });
  expect(r.get('C1')).toBeUndefined();
  await r.close();
});

test('outbox recovery reads the session store only from the oldest unconfirmed report on, in chunks', async () => {
  const b = new FileOrderBook(dir, 'G');
  await b.open();
  const er = (execId: string) => ({ msgType: '8', body: [{ tag: 17, value: execId }] });
  await b.save(order(1), [
    { execId: 'E-stored', message: er('E-stored'), minSeq: 9_990 },
    { execId: 'E-lost', message: er('E-lost'), minSeq: 9_991 },
  ]);
  await b.close();

  const reads: [number, number][] = [];
  const sent: string[] = [];
  const stored = (seq: number): StoredMessage => ({ seqNum: seq, raw: `8=FIX.4.2\x019=5\x0135=8\x0134=${seq}\x0117=${seq === 9_995 ? 'E-stored' : `X${seq}`}\x0110=000\x01` });
  const session = {
    sessionId: 'S',
    senderCompId: 'GW',
    targetCompId: 'C',
    loggedOn: false,
    nextSenderSeqNum: () => 12_001,
    sequenceId: () => 1,
    sentMessages: async (begin: number, end: number) => {
      reads.push([begin, end]);
      const out: StoredMessage[] = [];
      for (let s = begin; s <= end; s++) out.push(stored(s));
      return out;
    },
    send: async (m: { body: { tag: number; value: string }[] }) => {
      sent.push(m.body.find((f) => f.tag === 17)!.value);
      return 1;
    },
    event: () => undefined,
  } as unknown as SessionHandle;
  const venue = {
    name: 'fake',
    capabilities: {},
    onEvent: () => undefined,
    onStreamState: () => undefined,
    start: () => new Promise(() => undefined),
    stop: async () => undefined,
  } as unknown as VenueAdapter;
  const app = new GatewayApplication({ venue, book: new FileOrderBook(dir, 'G'), logger: pino({ level: 'silent' }), venueIdPrefix: 'T' });
  await app.onCreate(session);
  expect(sent).toEqual(['E-lost']);
  expect(Math.min(...reads.map((r) => r[0]))).toBeGreaterThanOrEqual(9_990);
  expect(Math.max(...reads.map((r) => r[1] - r[0] + 1))).toBeLessThanOrEqual(1000);
  await app.close();
});
