import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { crc32 } from '../../src/durable/journal';
import { OutboundMessage } from '../../src/fix/message';
import { FileOrderBook } from '../../src/gateway/file-order-book';
import { FillIds, GatewayOrder, createOrder } from '../../src/gateway/order';

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
/** A journal record as the journal frames it: [u32 len][u32 crc][type][u64 batchStart][body]. */
function frame(type: string, body: string, batchStart: number): Buffer {
  const b = Buffer.alloc(17 + Buffer.byteLength(body));
  b.writeUInt32LE(b.length - 8, 0);
  b[8] = type.charCodeAt(0);
  b.writeUInt32LE(batchStart, 9);
  b.write(body, 17);
  b.writeUInt32LE(crc32(b.subarray(8)), 4);
  return b;
}

describe('FileOrderBook', () => {
  it('keeps one journal per session under the directory, with a file-safe name', async () => {
    const b = await openBook();
    expect(path.dirname(b.file)).toBe(dir);
    expect(path.basename(b.file)).toBe('GW-_CLIENT.orders.journal');
    await b.close();
  });

  it('finds saved orders by ClOrdID, venue client order id and venue order id, across a reopen', async () => {
    const b = await openBook();
    await b.save(order(1));
    await b.save(order(2));
    await b.save(order(1, { status: '0', acked: true, venueOrderId: 'V1', execSeq: 1 }));
    await b.save(order(2, { status: '2', cumQty: '1', avgPx: '100', notional: '100', fillIds: FillIds.of(['t1']) }));
    await b.close();

    const r = await openBook();
    expect(r.get('C1')).toMatchObject({ status: '0', venueOrderId: 'V1', execSeq: 1 });
    expect(r.byVenueClientOrderId('v-2')).toMatchObject({ clOrdId: 'C2', status: '2' });
    expect([...r.byVenueClientOrderId('v-2')!.fillIds]).toEqual(['t1']);
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
    expect((await fsp.readFile(b.file)).includes('"clOrdId":"C1"')).toBe(true);
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
    await new Promise((r) => setTimeout(r, 20));
    expect(b.syncCount).toBe(before); // journaled with the next save, or at close
    await b.close();
    const r = await openBook();
    expect(r.unconfirmedOutbox()).toEqual([]);
    await r.close();
  });

  it('ignores and truncates a torn last record', async () => {
    const b = await openBook();
    await b.save(order(1));
    await b.close();
    const good = (await fsp.stat(b.file)).size;
    await fsp.appendFile(b.file, frame('o', '{"o":{"clOrdId":"C2","venueClientOrderId":"v-2"}}', good).subarray(0, 30));

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

  it('refuses a journal damaged in the middle, naming the file', async () => {
    const b = await openBook();
    await b.save(order(1));
    const mid = (await fsp.stat(b.file)).size - 40;
    await b.save(order(2));
    await b.close();
    const bytes = await fsp.readFile(b.file);
    bytes[mid] ^= 0x41; // inside the first order's record, with the second's intact after it
    await fsp.writeFile(b.file, bytes);
    await expect(openBook()).rejects.toThrow(`${b.file}: corrupt journal`);
  });

  it('refuses an intact record it cannot use, even at the end', async () => {
    const b = await openBook();
    await b.save(order(1));
    await b.close();
    const size = (await fsp.stat(b.file)).size;
    await fsp.appendFile(b.file, frame('?', '{}', size));
    await expect(openBook()).rejects.toThrow(/corrupt journal: intact record of unknown type/);
    await fsp.truncate(b.file, size);
    await fsp.appendFile(b.file, frame('o', '{"o":{"clOrdId":1}}', size));
    await expect(openBook()).rejects.toThrow(/corrupt journal: record at offset \d+: order record without/);
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
    // Written without compaction while running (which no longer waits for an idle journal), so the open compacts.
    const b = await openBook();
    for (let i = 0; i < 100; i++) await b.save(order(1, { execSeq: i }), [{ execId: `E-${i}`, message: er(`E-${i}`) }]);
    b.confirm(Array.from({ length: 98 }, (_, i) => `E-${i}`));
    await b.save(order(2, { venueOrderId: 'V2', status: '4', updatedAt: Date.now() })); // terminal, within retention
    const counter = b.nextCounter();
    await b.close();
    const before = (await fsp.stat(b.file)).size;

    const r = await openBook({ compactMinRecords: 50, compactRatio: 4 });
    expect(r.recordCount).toBe(4); // counter, two orders, outbox
    expect((await fsp.stat(r.file)).size).toBeLessThan(before / 10);
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
