// A ClOrdID reused in a new session period (clordid-period.test.ts) names the new order; the venue's
// events about the earlier order with that ClOrdID must still apply to that earlier order, never to
// the new one.
import { FileOrderBook } from '../../src/gateway/file-order-book';
import { Harness, cancelReq, nos, startHarness, tick } from '../support/gateway-harness';

jest.setTimeout(10_000);

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

test("an event about yesterday's order is not applied to today's order with the same ClOrdID", async () => {
  let period = Date.now() - 60_000;
  h = await startHarness({ wrapBook: (b) => new FileOrderBook(b.dir, b.sessionKey, { periodStart: () => period }) });
  await h.deliver(nos('P1'));
  await h.session.until((s) => s.some((m) => m.get(11) === 'P1' && m.get(150) === '0'), 2000, '150=0 for P1');
  const yesterday = h.book.get('P1')!;
  await h.deliver(cancelReq('P1-X', 'P1'));
  await h.session.until((s) => s.some((m) => m.get(11) === 'P1-X' && m.get(150) === '4'), 2000, '150=4 for P1-X');

  await tick(5);
  period = Date.now(); // a new session period: the OMS starts its ClOrdIDs again
  await tick(5);
  await h.deliver(nos('P1'));
  await h.session.until((s) => s.filter((m) => m.get(11) === 'P1' && m.get(150) === '0').length === 2, 2000, "150=0 for today's P1");
  const today = h.book.get('P1')!;
  expect(today.venueClientOrderId).not.toBe(yesterday.venueClientOrderId);
  const sentBefore = h.session.sent.length;

  // The stream delivers yesterday's cancel again (a replay after a reconnect).
  h.venue.emit({ kind: 'canceled', clientOrderId: yesterday.venueClientOrderId, venueOrderId: yesterday.venueOrderId!, rawStatus: 'CANCELED', time: Date.now(), source: 'stream' });
  await tick(100);

  expect(h.session.sent.slice(sentBefore).map(String)).toEqual([]);
  expect(h.book.byVenueClientOrderId(today.venueClientOrderId)!.status).toBe('0');
  expect(h.book.get('P1')!.status).toBe('0');
});
