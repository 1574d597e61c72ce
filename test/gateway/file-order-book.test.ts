import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { OutboundMessage } from '../../src/fix/message';
import { FileOrderBook } from '../../src/gateway/file-order-book';
import { GatewayOrder, createOrder } from '../../src/gateway/order';

let dir: string;
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'order-book-'));
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

function order(n: number, over: Partial<GatewayOrder> = {}): GatewayOrder {
  return {
    ...createOrder(
      { clOrdId: `C${n}`, venueClientOrderId: `v-${n}`, symbol: 'BTCUSDT', side: '1', ordType: '2', timeInForce: '1', orderQty: '1', price: '100' },
      1000 + n,
    ),
    ...over,
  };
}
const er = (execId: string): OutboundMessage => ({ msgType: '8', body: [{ tag: 17, value: execId }] });

async function openBook(opts = {}): Promise<FileOrderBook> {
  const b = new FileOrderBook(dir, 'GW->CLIENT', opts);
  await b.open();
  return b;
}
async function lines(b: FileOrderBook): Promise<string[]> {
  return (await fsp.readFile(b.file, 'utf8')).split('\n').filter((l) => l !== '');
}

describe('FileOrderBook', () => {
  it('keeps one journal per session under the directory, with a file-safe name', async () => {
    const b = await openBook();
    expect(path.dirname(b.file)).toBe(dir);
    expect(path.basename(b.file)).toBe('GW-_CLIENT.orders.jsonl');
    await b.close();
  });

  it('finds saved orders by ClOrdID, venue client order id and venue order id, across a reopen', async () => {
    const b = await openBook();
    await b.save(order(1));
    await b.save(order(2));
    await b.save(order(1, { status: '0', acked: true, venueOrderId: 'V1', execSeq: 1 }));
    await b.save(order(2, { status: '2', cumQty: '1', avgPx: '100', notional: '100', fillIds: ['t1'] }));
    await b.close();

    const r = await openBook();
    expect(r.get('C1')).toMatchObject({ status: '0', venueOrderId: 'V1', execSeq: 1 });
    expect(r.byVenueClientOrderId('v-2')).toMatchObject({ clOrdId: 'C2', status: '2', fillIds: ['t1'] });
    expect(r.byVenueOrderId('V1')?.clOrdId).toBe('C1');
    expect(r.get('C3')).toBeUndefined();
    expect(r.openOrders().map((o) => o.clOrdId)).toEqual(['C1']);
    expect(r.allOrders().map((o) => o.clOrdId)).toEqual(['C1', 'C2']);
    await r.close();
  });

  it('shows a save in memory at once and on disk when the promise resolves', async () => {
    const b = await openBook();
    const p = b.save(order(1));
    expect(b.get('C1')).toBeDefined();
    await p;
    expect((await lines(b)).some((l) => l.includes('"clOrdId":"C1"'))).toBe(true);
    await b.close();
  });

  it('lists persisted but unconfirmed reports after a reopen, in save order', async () => {
    const b = await openBook();
    await b.save(order(1, { execSeq: 1 }), [{ execId: 'E-v-1-1', message: er('E-v-1-1') }]);
    await b.save(order(2), [
      { execId: 'E-v-2-1', message: er('E-v-2-1') },
      { execId: 'F-v-2-t1', message: er('F-v-2-t1') },
    ]);
    await b.save(order(1, { execSeq: 2 }), [{ execId: 'E-v-1-2', message: er('E-v-1-2') }]);
    b.confirm(['E-v-1-1', 'F-v-2-t1']);
    expect(b.unconfirmedOutbox().map((e) => e.execId)).toEqual(['E-v-2-1', 'E-v-1-2']);
    await b.close();

    const r = await openBook();
    expect(r.unconfirmedOutbox()).toEqual([
      { execId: 'E-v-2-1', message: er('E-v-2-1') },
      { execId: 'E-v-1-2', message: er('E-v-1-2') },
    ]);
    r.confirm(['E-v-2-1', 'E-v-1-2']);
    await r.close();
    const r2 = await openBook();
    expect(r2.unconfirmedOutbox()).toEqual([]);
    await r2.close();
  });

  it('shares one fdatasync among saves issued in the same tick', async () => {
    const b = await openBook();
    const before = b.syncCount;
    await Promise.all(Array.from({ length: 50 }, (_, i) => b.save(order(i), [{ execId: `E-${i}`, message: er(`E-${i}`) }])));
    expect(b.syncCount - before).toBe(1);
    await b.save(order(99));
    expect(b.syncCount - before).toBe(2);
    await b.close();
    expect((await openBook()).allOrders()).toHaveLength(51);
  });

  it('does not fsync for confirms on their own', async () => {
    const b = await openBook();
    await b.save(order(1), [{ execId: 'E1', message: er('E1') }]);
    const before = b.syncCount;
    b.confirm(['E1']);
    await new Promise((r) => setImmediate(r));
    await b.close();
    expect(b.syncCount).toBe(before);
    const r = await openBook();
    expect(r.unconfirmedOutbox()).toEqual([]);
    await r.close();
  });

  it('ignores and truncates a torn last line', async () => {
    const b = await openBook();
    await b.save(order(1));
    await b.close();
    const good = (await fsp.stat(b.file)).size;
    await fsp.appendFile(b.file, '{"t":"o","o":{"clOrdId":"C2","venueClie');

    const r = await openBook();
    expect(r.get('C1')).toBeDefined();
    expect(r.get('C2')).toBeUndefined();
    expect((await fsp.stat(r.file)).size).toBe(good);
    await r.save(order(3));
    await r.close();
    const r2 = await openBook();
    expect(r2.allOrders().map((o) => o.clOrdId)).toEqual(['C1', 'C3']);
    await r2.close();
  });

  it('treats a zero-filled tail as torn', async () => {
    const b = await openBook();
    await b.save(order(1));
    await b.close();
    await fsp.appendFile(b.file, Buffer.alloc(4096));
    const r = await openBook();
    expect(r.allOrders()).toHaveLength(1);
    await r.close();
  });

  it('refuses a journal corrupt in the middle, naming the file and the line', async () => {
    const b = await openBook();
    await b.save(order(1));
    await b.save(order(2));
    await b.close();
    const ls = await lines(b);
    ls.splice(2, 0, '{"t":"o","o":{"clO'); // a broken line 3, with good lines after it
    await fsp.writeFile(b.file, ls.join('\n') + '\n');
    await expect(openBook()).rejects.toThrow(`order book ${b.file} is corrupt at line 3`);
  });

  it('refuses a complete line it cannot use, even at the end', async () => {
    const b = await openBook();
    await b.save(order(1));
    await b.close();
    await fsp.appendFile(b.file, '{"t":"?"}\n');
    await expect(openBook()).rejects.toThrow(/corrupt at line 3: unknown record type/);
  });

  it('hands out a strictly increasing counter, persisted across reopen and seeded from the clock', async () => {
    const start = Date.now();
    const b = await openBook();
    const a1 = b.nextCounter();
    const a2 = b.nextCounter();
    expect(a1).toBeGreaterThanOrEqual(start);
    expect(a2).toBe(a1 + 1);
    await b.save(order(1));
    await b.close();
    const r = await openBook();
    expect(r.nextCounter()).toBeGreaterThan(a2);
    await r.close();
  });

  it('compacts on open when the journal is much larger than the live state, preserving it', async () => {
    const b = await openBook({ compactMinRecords: 50, compactRatio: 4 });
    for (let i = 0; i < 100; i++) await b.save(order(1, { execSeq: i }), [{ execId: `E-${i}`, message: er(`E-${i}`) }]);
    b.confirm(Array.from({ length: 98 }, (_, i) => `E-${i}`));
    await b.save(order(2, { venueOrderId: 'V2', status: '4' }));
    const counter = b.nextCounter();
    await b.close();
    expect((await lines(b)).length).toBeGreaterThan(100);

    const r = await openBook({ compactMinRecords: 50, compactRatio: 4 });
    expect((await lines(r)).length).toBe(4); // counter, two orders, outbox
    expect(r.get('C1')?.execSeq).toBe(99);
    expect(r.byVenueOrderId('V2')?.status).toBe('4');
    expect(r.unconfirmedOutbox().map((e) => e.execId)).toEqual(['E-98', 'E-99']);
    expect(r.nextCounter()).toBeGreaterThan(counter);
    await r.save(order(3));
    await r.close();

    const r2 = await openBook();
    expect(r2.allOrders().map((o) => o.clOrdId)).toEqual(['C1', 'C2', 'C3']);
    expect(r2.unconfirmedOutbox().map((e) => e.execId)).toEqual(['E-98', 'E-99']);
    await r2.close();
  });

  it('compacts on request while saves are in flight', async () => {
    const b = await openBook();
    const saves = [b.save(order(1)), b.save(order(1, { status: '0' }))];
    const c = b.compact();
    await Promise.all([...saves, c]);
    await b.save(order(1, { status: '4' }));
    await b.close();
    expect(await fsp.readdir(dir)).toEqual([path.basename(b.file)]);
    const r = await openBook();
    expect(r.get('C1')?.status).toBe('4');
    await r.close();
  });

  it('refuses to save when not open', async () => {
    const b = new FileOrderBook(dir, 'S');
    await expect(b.save(order(1))).rejects.toThrow(/not open/);
  });
});

describe('cancel request ClOrdIDs name the order too', () => {
  test('get() finds an order by a cancel request ClOrdID, also after reopening', async () => {
    const { beginCancel } = await import('../../src/gateway/order-state');
    const b = await openBook();
    const o = order(1);
    await b.save(beginCancel(o, 'CXL-1', o.createdAt + 1));
    expect(b.get('CXL-1')?.clOrdId).toBe(o.clOrdId);
    expect(b.get(o.clOrdId)?.cancelClOrdIds).toEqual(['CXL-1']);
    await b.close();
    const again = await openBook();
    expect(again.get('CXL-1')?.clOrdId).toBe(o.clOrdId);
    expect(again.get('CXL-2')).toBeUndefined();
    await again.close();
  });
});
