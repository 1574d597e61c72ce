// A failed durable write (ENOSPC, EIO) rejects that write, leaves nothing of it in the file, and
// leaves the journal usable; if the file cannot be cut back, every later write is refused with an
// error naming the file. The errors are injected at the journal's FileHandle.write call
// (test/support/fs-spy.ts), for the journal itself and for both of its owners.
import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Journal } from '../../src/durable/journal';
import { FileSessionStore } from '../../src/fix/store/file-session-store';
import { FileOrderBook } from '../../src/gateway/file-order-book';
import { createOrder } from '../../src/gateway/order';
import { FsSpy, spyOnFs } from '../support/fs-spy';

let dir: string;
let spy: FsSpy;
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'journal-fail-'));
  spy = await spyOnFs();
});
afterEach(async () => {
  spy.restore();
  await fsp.rm(dir, { recursive: true, force: true });
});

const T = 0x41;
const rec = (text: string) => ({ type: T, body: Buffer.from(text) });
const journal = (file: string) =>
  new Journal(file, { magic: 'TESTJRNL', version: 1, recordTypes: [T], maxBodyBytes: 1024, description: 'test journal' });

async function replayed(file: string): Promise<string[]> {
  const j = journal(file);
  const out: string[] = [];
  await j.open((_t, body) => out.push(body.toString()));
  await j.close();
  return out;
}

test('journal: a failed write is rejected and cut off, and the next write succeeds', async () => {
  const file = path.join(dir, 'j.journal');
  const j = journal(file);
  await j.open(() => undefined);
  await j.append([rec('a')]);
  const good = (await fsp.stat(file)).size;
  spy.failNext('write', file, 'ENOSPC');
  await expect(j.append([rec('b1'), rec('b2')])).rejects.toThrow(/ENOSPC/);
  expect((await fsp.stat(file)).size).toBe(good);
  await j.append([rec('c')]);
  await j.close();
  expect(await replayed(file)).toEqual(['a', 'c']);
});

test('journal: a write that fails half-way is cut back to the last good offset', async () => {
  const file = path.join(dir, 'j.journal');
  const j = journal(file);
  await j.open(() => undefined);
  await j.append([rec('a')]);
  const good = (await fsp.stat(file)).size;
  // The first write call succeeds with part of the batch, the next one fails.
  const fh = await fsp.open(file, 'r');
  const proto = Object.getPrototypeOf(fh);
  await fh.close();
  const write = proto.write;
  let calls = 0;
  proto.write = async function (this: unknown, buf: Buffer, off: number, len: number, pos: number) {
    calls++;
    if (calls === 1) return write.call(this, buf, off, Math.min(len, 10), pos);
    const e = new Error('EIO: injected') as NodeJS.ErrnoException;
    e.code = 'EIO';
    throw e;
  };
  try {
    await expect(j.append([rec('b'.repeat(100))])).rejects.toThrow(/EIO/);
  } finally {
    proto.write = write;
  }
  expect((await fsp.stat(file)).size).toBe(good);
  await j.append([rec('c')]);
  await j.close();
  expect(await replayed(file)).toEqual(['a', 'c']);
});

test('journal: when the cut-back fails too, every later write is refused naming the file', async () => {
  const file = path.join(dir, 'j.journal');
  const j = journal(file);
  await j.open(() => undefined);
  await j.append([rec('a')]);
  spy.failNext('write', file, 'EIO');
  spy.failNext('truncate', file, 'EIO');
  await expect(j.append([rec('b')])).rejects.toThrow(file);
  await expect(j.append([rec('c')])).rejects.toThrow(new RegExp(`${file}.*refusing every later write`));
  await j.close();
});

test('session store: a failed append is undone and the store keeps working', async () => {
  const s = new FileSessionStore(dir, 'S');
  await s.open();
  await s.appendSent(1, 'one');
  await s.setNextTargetSeqNum(5);
  spy.failNext('write', s.journalPath, 'ENOSPC');
  const failed = [s.appendSent(2, 'two'), s.setNextTargetSeqNum(6)];
  await expect(failed[0]).rejects.toThrow(/ENOSPC/);
  await expect(failed[1]).rejects.toThrow(/ENOSPC/);
  expect(s.nextSenderSeqNum()).toBe(2);
  expect(s.nextTargetSeqNum()).toBe(5);
  expect(await s.getSent(1, 9)).toEqual([{ seqNum: 1, raw: 'one' }]);
  await s.appendSent(2, 'two again');
  expect(await s.getSent(1, 9)).toEqual([
    { seqNum: 1, raw: 'one' },
    { seqNum: 2, raw: 'two again' },
  ]);
  await s.close();
  const r = new FileSessionStore(dir, 'S');
  await r.open();
  expect([r.nextSenderSeqNum(), r.nextTargetSeqNum()]).toEqual([3, 5]);
  expect((await r.getSent(1, 9)).map((m) => m.raw)).toEqual(['one', 'two again']);
  await r.close();
});

test('order book: a failed save is undone in memory and the book keeps working', async () => {
  const b = new FileOrderBook(dir, 'B');
  await b.open();
  const o = createOrder({ clOrdId: 'C1', venueClientOrderId: 'v-1', symbol: 'BTCUSDT', side: '1', ordType: '2', timeInForce: '1', orderQty: '1', price: '100' }, 1);
  await b.save(o);
  const er = (id: string) => ({ execId: id, message: { msgType: '8', body: [{ tag: 17, value: id }] } });
  spy.failNext('write', b.file, 'ENOSPC');
  await expect(b.save({ ...o, status: '0', venueOrderId: 'V1', acked: true }, [er('E1')])).rejects.toThrow(/ENOSPC/);
  expect(b.get('C1')?.status).toBe('A');
  expect(b.byVenueOrderId('V1')).toBeUndefined();
  expect(b.unconfirmedOutbox()).toEqual([]);
  await b.save({ ...o, status: '0', venueOrderId: 'V2', acked: true }, [er('E2')]);
  expect(b.get('C1')?.status).toBe('0');
  await b.close();
  const r = new FileOrderBook(dir, 'B');
  await r.open();
  expect(r.get('C1')).toMatchObject({ status: '0', venueOrderId: 'V2' });
  expect(r.unconfirmedOutbox().map((e) => e.execId)).toEqual(['E2']);
  await r.close();
});
