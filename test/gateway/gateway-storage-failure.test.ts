// Gateway-level (fake venue, no sockets): the order book cannot write (ENOSPC injected through a
// test double around its save). Policy: reject and continue, retry until durable, never an
// unhandled rejection.
import { FileOrderBook } from '../../src/gateway/file-order-book';
import { Harness, cancelReq, nos, startHarness, tick } from '../support/gateway-harness';

jest.setTimeout(10_000);

/** Wraps a book: while `failing`, save (and saveStaged, its two phases) rejects as a full disk would, leaving the book untouched. */
class FailingSaves {
  failing = false;
  failures = 0;
  wrap(book: FileOrderBook): FileOrderBook {
    const self = this;
    return new Proxy(book, {
      get(target, prop, receiver) {
        if (prop === 'saveStaged') {
          return (...args: Parameters<FileOrderBook['saveStaged']>) => {
            if (self.failing) {
              self.failures++;
              const err = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
              const rejected = Promise.reject(err);
              rejected.catch(() => undefined);
              return { written: rejected, durable: rejected, appended: false };
            }
            return target.saveStaged(...args);
          };
        }
        if (prop === 'save') {
          return (...args: Parameters<FileOrderBook['save']>) => {
            if (self.failing) {
              self.failures++;
              const err = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
              return Promise.reject(err);
            }
            return target.save(...args);
          };
        }
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  }
}

let h: Harness | undefined;
const unhandled: unknown[] = [];
const onUnhandled = (r: unknown) => unhandled.push(r);
beforeAll(() => process.on('unhandledRejection', onUnhandled));
afterAll(() => process.off('unhandledRejection', onUnhandled));
afterEach(async () => {
  await h?.close();
  h = undefined;
  expect(unhandled).toEqual([]);
});

test('a NewOrderSingle the book cannot record: not placed, 150=8 103=0 "gateway storage failure: ENOSPC"; orders go through again once the disk has room', async () => {
  const disk = new FailingSaves();
  h = await startHarness({ wrapBook: (b) => disk.wrap(b) });
  disk.failing = true;
  await h.deliver(nos('W1'));
  const rej = h.session.about('W1');
  expect(rej.map((m) => [m.get(150), m.get(39), m.get(103), m.get(58)])).toEqual([['8', '8', '0', 'gateway storage failure: ENOSPC']]);
  expect(h.venue.calledTimes('placeOrder')).toBe(0);
  disk.failing = false;
  await h.deliver(nos('W1b'));
  await h.session.until((s) => s.some((m) => m.get(11) === 'W1b' && m.get(150) === '0'), 2000, '150=0 for W1b');
});

test('a venue fill the book cannot record: nothing sent for that order until it is durable, then the fill exactly once, in order', async () => {
  const disk = new FailingSaves();
  h = await startHarness({ wrapBook: (b) => disk.wrap(b) });
  await h.deliver(nos('W2', { qty: '1' }));
  await h.session.until((s) => s.some((m) => m.get(11) === 'W2' && m.get(150) === '0'), 2000, '150=0 for W2');
  const o = h.book.get('W2')!;
  disk.failing = true;
  const t = Date.now();
  const fill = (id: string, qty: string, cum: string) =>
    h!.venue.emit({ kind: 'fill', clientOrderId: o.venueClientOrderId, venueOrderId: o.venueOrderId!, rawStatus: 'PARTIALLY_FILLED', time: t, source: 'stream', cumQty: cum, fill: { fillId: id, qty, price: '100', time: t } });
  fill('t1', '0.25', '0.25');
  await tick(150);
  fill('t2', '0.25', '0.5');
  await tick(150);
  expect(disk.failures).toBeGreaterThan(1); // retried
  expect(h.session.about('W2').map((m) => m.get(150))).toEqual(['0']);
  disk.failing = false;
  await h.session.until((s) => s.filter((m) => m.get(11) === 'W2' && m.get(150) === '1').length === 2, 3000, 'both fills');
  await tick(50);
  expect(h.session.about('W2').map((m) => `${m.get(150)}:${m.get(32) ?? ''}:${m.get(14)}`)).toEqual(['0::0', '1:0.25:0.25', '1:0.25:0.5']);
  expect(h.book.get('W2')!.cumQty).toBe('0.5');
});

test('an OrderCancelRequest the book cannot record: 35=9 "gateway storage failure: ENOSPC", no venue cancel, no cancel left pending', async () => {
  const disk = new FailingSaves();
  h = await startHarness({ wrapBook: (b) => disk.wrap(b) });
  await h.deliver(nos('W3'));
  await h.session.until((s) => s.some((m) => m.get(11) === 'W3' && m.get(150) === '0'), 2000, '150=0 for W3');
  disk.failing = true;
  await h.deliver(cancelReq('W3-X', 'W3'));
  const rej = h.session.sent.filter((m) => m.msgType === '9' && m.get(11) === 'W3-X');
  expect(rej.map((m) => [m.get(39), m.get(58)])).toEqual([['0', 'gateway storage failure: ENOSPC']]);
  expect(h.venue.calledTimes('cancelOrder')).toBe(0);
  disk.failing = false;
  await h.deliver(cancelReq('W3-Y', 'W3'));
  await h.session.until((s) => s.some((m) => m.get(11) === 'W3-Y' && m.get(150) === '4'), 2000, '150=4 for W3-Y');
});
