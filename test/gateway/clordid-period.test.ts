// ClOrdIDs are unique within a FIX session period (StartTime/EndTime), not forever: an OMS that
// restarts its ClOrdID counter every day must be able to reuse yesterday's ids, except that of an
// order still open. The gateway asks the book (book.get names "the order this ClOrdID names now").
import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FileOrderBook } from '../../src/gateway/file-order-book';
import { GatewayOrder, createOrder } from '../../src/gateway/order';
import { beginCancel } from '../../src/gateway/order-state';

let dir: string;
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'clordid-period-'));
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

const DAY = 86_400_000;
const day1 = Date.UTC(2030, 0, 1);
const order = (clOrdId: string, vco: string, at: number, over: Partial<GatewayOrder> = {}): GatewayOrder => ({
  ...createOrder({ clOrdId, venueClientOrderId: vco, symbol: 'BTCUSDT', side: '1', ordType: '2', timeInForce: '1', orderQty: '1', price: '100' }, at),
  ...over,
});

test("yesterday's ClOrdID of a finished order may be reused today; an open order's may not", async () => {
  let period = day1;
  const opts = { periodStart: () => period, now: () => period + 1000 };
  const b = new FileOrderBook(dir, 'G', opts);
  await b.open();
  await b.save(order('1', 'v-1', day1 + 10, { status: '2' })); // filled on day 1
  await b.save(order('2', 'v-2', day1 + 20, { status: '0' })); // still open (GTC)
  const o3 = order('3', 'v-3', day1 + 30, { status: '0' });
  await b.save(beginCancel(o3, 'X1', day1 + 40));
  await b.save({ ...beginCancel(o3, 'X1', day1 + 40), status: '4', pendingCancel: undefined }); // canceled on day 1
  expect(b.get('1')?.venueClientOrderId).toBe('v-1'); // same period: still a duplicate

  period = day1 + DAY; // day 2
  expect(b.get('1')).toBeUndefined(); // may be reused
  expect(b.get('X1')).toBeUndefined();
  expect(b.get('2')?.venueClientOrderId).toBe('v-2'); // open: still refused
  await b.save(order('1', 'v-4', period + 10, { status: '0' }));
  expect(b.get('1')?.venueClientOrderId).toBe('v-4');
  // Yesterday's finished orders have left memory; a recall (as the gateway's intake does) brings them back.
  await b.recall({ venueClientOrderId: 'v-1', clOrdIds: ['3'] });
  expect(b.byVenueClientOrderId('v-1')?.status).toBe('2'); // yesterday's order is still known
  expect(b.latestWithClOrdId('1')?.venueClientOrderId).toBe('v-4');
  expect(b.latestWithClOrdId('3')?.venueClientOrderId).toBe('v-3'); // status requests for old ids
  // A duplicate rejected while the ClOrdID names an open order never takes it over.
  await b.save(order('2', 'rejected-1', period + 20, { status: '8' }));
  expect(b.get('2')?.venueClientOrderId).toBe('v-2');
  await b.close();

  const r = new FileOrderBook(dir, 'G', opts);
  await r.open();
  expect(r.get('1')?.venueClientOrderId).toBe('v-4');
  expect(r.get('2')?.venueClientOrderId).toBe('v-2');
  expect(r.byVenueClientOrderId('v-1')?.status).toBe('2');
  expect(r.byVenueClientOrderId('rejected-1')?.status).toBe('8');
  await r.compact();
  await r.close();
  const r2 = new FileOrderBook(dir, 'G', opts);
  await r2.open();
  expect(r2.get('1')?.venueClientOrderId).toBe('v-4');
  expect(r2.get('2')?.venueClientOrderId).toBe('v-2');
  await r2.close();
});

test('an always-on session (no period) keeps ClOrdIDs unique for as long as orders are kept', async () => {
  const b = new FileOrderBook(dir, 'G');
  await b.open();
  await b.save(order('1', 'v-1', Date.now(), { status: '2' }));
  expect(b.get('1')?.venueClientOrderId).toBe('v-1');
  await b.close();
});
