// Gateway-level (fake venue, no sockets): FIX intake edge cases — duplicates during start-up,
// PossDup resends of D, F and H.
import { FakeVenueAdapter } from '../support/fake-venue-adapter';
import { Harness, cancelReq, nos, startHarness, statusReq, tick } from '../support/gateway-harness';

jest.setTimeout(10_000);
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('start-up', () => {
  test('a NewOrderSingle resent (PossResend) while the venue starts never replaces the live order: one venue order, no 39=8, venue ids still map to it', async () => {
    const venue = new FakeVenueAdapter();
    const start = venue.script('instruments', 'hold');
    h = await startHarness({ venue, waitReady: false });
    const held = await start.arrived;
    const first = h.deliver(nos('S1'));
    const second = h.deliver(nos('S1', { possResend: true }));
    held.proceed();
    await Promise.all([first, second]);
    await h.session.until((s) => s.some((m) => m.get(11) === 'S1' && m.get(150) === '0'), 2000, '150=0 for S1');
    await tick(20);
    expect(h.venue.calledTimes('placeOrder')).toBe(1);
    expect(h.session.about('S1').filter((m) => m.get(39) === '8')).toEqual([]);
    const order = h.book.get('S1')!;
    expect(order.status).toBe('0');
    expect(h.book.byVenueOrderId(order.venueOrderId!)).toBe(order);
  });

  test('a plain duplicate D while the venue starts is refused (103=6) without touching the order', async () => {
    const venue = new FakeVenueAdapter();
    const start = venue.script('instruments', 'hold');
    h = await startHarness({ venue, waitReady: false });
    const held = await start.arrived;
    const first = h.deliver(nos('S2'));
    const second = h.deliver(nos('S2'));
    held.proceed();
    await Promise.all([first, second]);
    await h.session.until((s) => s.some((m) => m.get(11) === 'S2' && m.get(150) === '0'), 2000, '150=0 for S2');
    const rejects = h.session.about('S2').filter((m) => m.get(150) === '8');
    expect(rejects).toHaveLength(1);
    expect(rejects[0].get(103)).toBe('6');
    expect(h.book.get('S2')!.status).toBe('0');
    expect(h.venue.calledTimes('placeOrder')).toBe(1);
  });
});

describe('PossDup resends are answered with the order\'s current status (20=3), never acted on twice', () => {
  const statusReplies = (h: Harness, clOrdId: string) => h.session.sent.filter((m) => m.msgType === '8' && m.get(11) === clOrdId && m.get(20) === '3');

  test('D resent with PossDup for a known order: one 20=3 reply with its status, no second venue order', async () => {
    h = await startHarness();
    await h.deliver(nos('P1'));
    await h.session.until((s) => s.some((m) => m.get(11) === 'P1' && m.get(150) === '0'), 2000, '150=0');
    await h.deliver(nos('P1', { possDup: true }));
    const replies = statusReplies(h, 'P1');
    expect(replies).toHaveLength(1);
    expect([replies[0].get(39), replies[0].get(150), replies[0].get(37)]).toEqual(['0', '0', h.book.get('P1')!.venueOrderId]);
    expect(h.venue.calledTimes('placeOrder')).toBe(1);
  });

  test('F resent with PossDup while its cancel is in progress: a 20=3 reply (11 = the cancel, 41 = the order), not 35=9 "Duplicate ClOrdID", no second venue cancel', async () => {
    h = await startHarness();
    await h.deliver(nos('P2'));
    await h.session.until((s) => s.some((m) => m.get(11) === 'P2' && m.get(150) === '0'), 2000, '150=0');
    const cancel = h.venue.script('cancelOrder', 'hold');
    await h.deliver(cancelReq('P2-X', 'P2'));
    await cancel.arrived;
    await h.deliver(cancelReq('P2-X', 'P2', { possDup: true }));
    expect(h.session.sent.filter((m) => m.msgType === '9')).toEqual([]);
    const replies = statusReplies(h, 'P2-X');
    expect(replies).toHaveLength(1);
    expect(replies[0].get(41)).toBe('P2');
    expect(h.venue.calledTimes('cancelOrder')).toBe(1);
  });

  test('H resent with PossDup: answered like any status request', async () => {
    h = await startHarness();
    await h.deliver(nos('P3'));
    await h.session.until((s) => s.some((m) => m.get(11) === 'P3' && m.get(150) === '0'), 2000, '150=0');
    const h2 = statusReq('P3');
    h2.fields.push({ tag: 43, value: 'Y' });
    await h.deliver(h2);
    expect(statusReplies(h, 'P3')).toHaveLength(1);
  });
});
