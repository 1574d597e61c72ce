// Pure part of the recovery after a FIX sequence reset: what is sent again, and the restatements.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { encodeFix } from '../../src/fix/codec/fix-encoder';
import { parseFrame } from '../../src/fix/codec/fix-parser';
import { DeliveryMark } from '../../src/fix/store/delivery-mark';
import { createOrder } from '../../src/gateway/order';
import { messagesAfterReset, redeliveryOf, restatementFor } from '../../src/gateway/reset-recovery';

const HEADER = [
  { tag: 34, value: '7' },
  { tag: 49, value: 'GATEWAY' },
  { tag: 52, value: '20240101-00:00:00.000' },
  { tag: 56, value: 'CLIENT' },
];
const ER_BODY = [
  { tag: 6, value: '100.5' },
  { tag: 11, value: 'C1' },
  { tag: 14, value: '0.2' },
  { tag: 17, value: 'EX-42' },
  { tag: 39, value: '1' },
  { tag: 60, value: '20240101-00:00:00.000' },
  { tag: 150, value: '1' },
];
const stored = (msgType: string, body = ER_BODY) => encodeFix('FIX.4.2', [{ tag: 35, value: msgType }, ...HEADER, ...body]);

const order = () => ({
  ...createOrder({ clOrdId: 'C1', venueClientOrderId: 'v1', symbol: 'BTCUSDT', side: '1', ordType: '2', timeInForce: '1', orderQty: '0.5', price: '100' }, 0),
  status: '1' as const,
  cumQty: '0.2',
  avgPx: '100.5',
  venueOrderId: 'V9',
  acked: true,
});

describe('redeliveryOf', () => {
  test('an ExecutionReport comes back with its body unchanged (same ExecID) and PossResend 97=Y', () => {
    expect(redeliveryOf(stored('8'))).toEqual({ msgType: '8', header: [{ tag: 97, value: 'Y' }], body: ER_BODY });
  });

  test('an OrderCancelReject too; admin and other messages, and garbled text, are not sent again', () => {
    const cxl = [{ tag: 11, value: 'X1' }, { tag: 37, value: 'V9' }, { tag: 39, value: '0' }, { tag: 41, value: 'C1' }, { tag: 102, value: '0' }, { tag: 434, value: '1' }];
    expect(redeliveryOf(stored('9', cxl))?.body).toEqual(cxl);
    expect(redeliveryOf(stored('0', []))).toBeUndefined();
    expect(redeliveryOf(stored('j', [{ tag: 45, value: '1' }]))).toBeUndefined();
    expect(redeliveryOf('8=FIX.4.2\x019=5\x0135=8\x0110=000\x01')).toBeUndefined();
  });
});

describe('restatementFor', () => {
  test('150=D, 378=1, the current 39/14/151/6, a new ExecID, 20=0; body in ascending tag order', () => {
    const m = restatementFor(order(), 'RS-1', new Date(0));
    const get = (t: number) => m.body.find((f) => f.tag === t)?.value;
    expect([150, 378, 39, 14, 151, 6, 17, 20, 11, 37].map(get)).toEqual(['D', '1', '1', '0.2', '0.3', '100.5', 'RS-1', '0', 'C1', 'V9']);
    expect(m.body.map((f) => f.tag)).toEqual([...m.body.map((f) => f.tag)].sort((a, b) => a - b));
    const wire = encodeFix('FIX.4.2', [{ tag: 35, value: '8' }, ...HEADER, ...m.body]);
    expect(parseFrame(wire).ok).toBe(true);
  });
});

test('messagesAfterReset: undelivered reports first, in order, then one restatement per open order', () => {
  let n = 0;
  const msgs = messagesAfterReset([{ raw: stored('8') }, { raw: stored('0', []) }, { raw: stored('9', [{ tag: 11, value: 'X' }]) }], [order()], () => `RS-${++n}`, new Date(0));
  expect(msgs.map((m) => [m.msgType, m.header?.[0]?.value, m.body.find((f) => f.tag === 150)?.value])).toEqual([
    ['8', 'Y', '1'],
    ['9', 'Y', undefined],
    ['8', undefined, 'D'],
  ]);
});

describe('DeliveryMark', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'delivery-mark-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('only grows, survives a reload, and counts only for the sequence it was raised in', async () => {
    const file = path.join(dir, 'x.delivered');
    const a = new DeliveryMark(file);
    a.load();
    expect(a.deliveredThrough(1000)).toBe(0);
    a.raise(5, 1000);
    a.raise(3, 1000);
    await a.flush();
    const b = new DeliveryMark(file);
    b.load();
    expect(b.deliveredThrough(1000)).toBe(5);
    expect(b.deliveredThrough(2000)).toBe(0); // a later sequence (after a reset)
    b.raise(2, 2000);
    expect(b.deliveredThrough(2000)).toBe(2);
  });

  test('a damaged file means nothing is proven', () => {
    const file = path.join(dir, 'y.delivered');
    fs.writeFileSync(file, '{not json');
    const m = new DeliveryMark(file);
    m.load();
    expect(m.deliveredThrough(0)).toBe(0);
  });
});
