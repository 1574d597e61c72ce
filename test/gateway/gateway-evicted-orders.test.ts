// Through the gateway (FIX intake and venue events over a real order book on the session's journal
// shape): an order that has left memory still answers an OrderStatusRequest, still makes its ClOrdID
// a duplicate, and a late venue event about it is deduplicated, all after a compaction that moved it.
import * as fs from 'fs';
import { FileOrderBook } from '../../src/gateway/file-order-book';
import { Harness, cancelReq, nos, startHarness, statusReq, tick } from '../support/gateway-harness';

jest.setTimeout(10_000);

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

test('an evicted order: H answered with its final state, its ClOrdID refused as a duplicate, a replayed venue cancel sends nothing', async () => {
  h = await startHarness({ wrapBook: (b) => new FileOrderBook(b.dir, b.sessionKey, { evictAfterMs: 0 }) });
  await h.deliver(nos('E1'));
  await h.session.until((s) => s.some((m) => m.get(11) === 'E1' && m.get(150) === '0'), 2000, '150=0 for E1');
  const e1 = h.book.get('E1')!;
  await h.deliver(cancelReq('E1-X', 'E1'));
  await h.session.until((s) => s.some((m) => m.get(11) === 'E1-X' && m.get(150) === '4'), 2000, '150=4 for E1-X');
  // Any later save or confirm sweeps: E1 leaves memory.
  await h.deliver(nos('E2'));
  await h.session.until((s) => s.some((m) => m.get(11) === 'E2' && m.get(150) === '0'), 2000, '150=0 for E2');
  await tick(20);
  expect(h.book.byVenueClientOrderId(e1.venueClientOrderId)).toBeUndefined();
  expect(h.book.evictedStats.orders).toBeGreaterThanOrEqual(1);
  // A compaction moves it in the file.
  await h.book.compact();
  expect(h.book.byVenueClientOrderId(e1.venueClientOrderId)).toBeUndefined();

  const from = h.session.sent.length;
  await h.deliver(statusReq('E1'));
  await h.session.until((s) => s.slice(from).some((m) => m.msgType === '8' && m.get(11) === 'E1'), 2000, 'status reply for E1');
  const reply = h.session.sent.slice(from).find((m) => m.msgType === '8' && m.get(11) === 'E1')!;
  expect([reply.get(39), reply.get(37)]).toEqual(['4', e1.venueOrderId]);

  const placed = h.venue.calledTimes('placeOrder');
  await h.deliver(nos('E1'));
  await h.session.until((s) => s.slice(from).some((m) => m.get(11) === 'E1' && m.get(150) === '8'), 2000, 'duplicate reject for E1');
  expect(h.session.sent.slice(from).find((m) => m.get(11) === 'E1' && m.get(150) === '8')!.get(103)).toBe('6');
  expect(h.venue.calledTimes('placeOrder')).toBe(placed);

  // Evicted again, then the venue's stream replays E1's cancel: recalled, deduplicated, nothing sent.
  await h.deliver(nos('E3'));
  await h.session.until((s) => s.some((m) => m.get(11) === 'E3' && m.get(150) === '0'), 2000, '150=0 for E3');
  await tick(20);
  const before = h.session.sent.length;
  h.venue.emit({ kind: 'canceled', clientOrderId: e1.venueClientOrderId, venueOrderId: e1.venueOrderId!, rawStatus: 'CANCELED', time: Date.now(), source: 'stream' });
  await tick(100);
  expect(h.session.sent.slice(before).map(String)).toEqual([]);
  expect(h.book.byVenueClientOrderId(e1.venueClientOrderId)?.status).toBe('4');
});

test("a new order's venue order id whose 32-bit hash is an evicted order's ClOrdID's: its ack is applied, not refused as another order's", async () => {
  // 'EahJAvmq' (ClOrdID) and '1002' (the fake venue's third order id) have one 32-bit idHash (found by
  // inverting the hash): a chance of about one in a thousand per new order once a few million ids
  // lie in the index (a week of evicted orders).
  h = await startHarness({ wrapBook: (b) => new FileOrderBook(b.dir, b.sessionKey, { evictAfterMs: 0 }) });
  await h.deliver(nos('EahJAvmq'));
  await h.session.until((s) => s.some((m) => m.get(11) === 'EahJAvmq' && m.get(150) === '0'), 2000, '150=0 for EahJAvmq');
  const first = h.book.get('EahJAvmq')!;
  expect(first.venueOrderId).toBe('1000');
  await h.deliver(cancelReq('EahJAvmq-X', 'EahJAvmq'));
  await h.session.until((s) => s.some((m) => m.get(11) === 'EahJAvmq-X' && m.get(150) === '4'), 2000, '150=4 for EahJAvmq-X');
  await h.deliver(nos('E2')); // venue order id 1001; its saves sweep the canceled order out of memory
  await h.session.until((s) => s.some((m) => m.get(11) === 'E2' && m.get(150) === '0'), 2000, '150=0 for E2');
  await tick(20);
  expect(h.book.byVenueClientOrderId(first.venueClientOrderId)).toBeUndefined();

  await h.deliver(nos('E3')); // venue order id 1002
  await h.session.until((s) => s.some((m) => m.get(11) === 'E3' && m.get(150) === '0'), 2000, '150=0 for E3');
  expect(h.book.get('E3')?.venueOrderId).toBe('1002');
});

test('a resent NewOrderSingle whose evicted order cannot be read back is refused, never placed a second time', async () => {
  h = await startHarness({ wrapBook: (b) => new FileOrderBook(b.dir, b.sessionKey, { evictAfterMs: 0 }) });
  await h.deliver(nos('R1'));
  await h.session.until((s) => s.some((m) => m.get(11) === 'R1' && m.get(150) === '0'), 2000, '150=0 for R1');
  await h.deliver(cancelReq('R1-X', 'R1'));
  await h.session.until((s) => s.some((m) => m.get(11) === 'R1-X' && m.get(150) === '4'), 2000, '150=4 for R1-X');
  await h.deliver(nos('R2')); // sweeps R1 out of memory
  await h.session.until((s) => s.some((m) => m.get(11) === 'R2' && m.get(150) === '0'), 2000, '150=0 for R2');
  await tick(20);
  expect(h.book.get('R1')).toBeUndefined();
  // R1's last record (what its index entry points at) no longer reads back intact (a bad sector, bit rot).
  const file = fs.readFileSync(h.book.file);
  const at = file.lastIndexOf('"clOrdId":"R1"');
  expect(at).toBeGreaterThan(0);
  const fd = fs.openSync(h.book.file, 'r+');
  fs.writeSync(fd, Buffer.from('Z'), 0, 1, at + 12);
  fs.closeSync(fd);

  // The client resends R1 (PossResend): the gateway cannot tell it is known, so it must not place it.
  const placed = h.venue.calledTimes('placeOrder');
  const from = h.session.sent.length;
  await h.deliver(nos('R1', { possResend: true }));
  await h.session.until((s) => s.slice(from).some((m) => m.get(11) === 'R1' && m.msgType === '8'), 2000, 'an answer for the resent R1');
  await tick(50);
  expect(h.venue.calledTimes('placeOrder')).toBe(placed);
  const answer = h.session.sent.slice(from).find((m) => m.get(11) === 'R1' && m.msgType === '8')!;
  expect([answer.get(150), answer.get(39)]).toEqual(['8', '8']);
  expect(answer.get(58)).toMatch(/could not be read back/);
});
