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
