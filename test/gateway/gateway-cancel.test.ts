// Gateway-level (fake venue, no sockets): a pending cancel always ends — confirmed (150=4),
// refused (35=9 with the order back to its live status), or resumed after a restart.
import { OutcomeUnknown, VenueError } from '../../src/venues/venue';
import { FakeVenueAdapter } from '../support/fake-venue-adapter';
import { Harness, cancelReq, nos, startHarness, tick } from '../support/gateway-harness';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function placed(clOrdId: string): Promise<void> {
  await h!.deliver(nos(clOrdId));
  await h!.session.until((s) => s.some((m) => m.get(11) === clOrdId && m.get(150) === '0'), 2000, `150=0 for ${clOrdId}`);
}

const er = (execType: string, clOrdId: string) => (s: { get(t: number): string | undefined; msgType: string }[]) =>
  s.some((m) => m.msgType === '8' && m.get(11) === clOrdId && m.get(150) === execType);

describe('a pending cancel always ends', () => {
  test('cancel whose outcome is unknown while the venue still has the order NEW: the cancel is re-sent and confirmed (150=4), not left at 39=6', async () => {
    h = await startHarness({ cancelConfirmCheckMs: 100 });
    await placed('C1');
    h.venue.script('cancelOrder', { fail: new OutcomeUnknown('request timed out') });
    await h.deliver(cancelReq('X1', 'C1'));
    await h.session.until(er('4', 'X1'), 3000, '150=4 for the cancel');
    expect(h.venue.calledTimes('cancelOrder')).toBe(2);
    expect(h.book.get('C1')!.status).toBe('4');
    expect(h.book.get('C1')!.pendingCancel).toBeUndefined();
  });

  test('a cancel the venue could not be asked (link down, nothing sent): 35=9 102=2 with the reason, never 102=0 "too late"; the order stays live', async () => {
    h = await startHarness({ cancelConfirmCheckMs: 100 });
    await placed('C9');
    h.venue.script('cancelOrder', { fail: new VenueError('cancel_order: the WebSocket is not connected') });
    await h.deliver(cancelReq('X9', 'C9'));
    await h.session.until((s) => s.some((m) => m.msgType === '9' && m.get(11) === 'X9'), 3000, '35=9 for X9');
    const rej = h.session.sent.find((m) => m.msgType === '9' && m.get(11) === 'X9')!;
    expect([rej.get(102), rej.get(39)]).toEqual(['2', '0']);
    expect(rej.get(58)).toMatch(/not connected/);
    expect(h.book.get('C9')!.status).toBe('0');
  });

  test('cancel acknowledged but never carried out (venue keeps the order NEW): refused with 35=9 and 39 back to 0; a new cancel is then accepted, not 102=3', async () => {
    h = await startHarness({ cancelConfirmCheckMs: 100 });
    await placed('C2');
    h.venue.script('cancelOrder', { answer: { status: 'pending_cancel' } }, { answer: { status: 'pending_cancel' } }, { answer: { status: 'pending_cancel' } });
    await h.deliver(cancelReq('X2', 'C2'));
    await h.session.until((s) => s.some((m) => m.msgType === '9' && m.get(11) === 'X2'), 5000, '35=9 for X2');
    const rej = h.session.sent.find((m) => m.msgType === '9' && m.get(11) === 'X2')!;
    expect(rej.get(39)).toBe('0');
    expect(rej.get(102)).not.toBe('3');
    expect(rej.get(58)).toMatch(/still new/i);
    expect(h.book.get('C2')!.status).toBe('0');
    // A new cancel goes to the venue (default: canceled at once).
    await h.deliver(cancelReq('X2b', 'C2'));
    await h.session.until(er('4', 'X2b'), 2000, '150=4 for the second cancel');
    expect(h.session.sent.some((m) => m.msgType === '9' && m.get(11) === 'X2b')).toBe(false);
  });

  test('a crash between saving the cancel and calling the venue: on restart the cancel is sent and confirmed', async () => {
    const venue = new FakeVenueAdapter();
    h = await startHarness({ venue, cancelConfirmCheckMs: 100 });
    await placed('C3');
    const held = venue.script('cancelOrder', 'hold');
    await h.deliver(cancelReq('X3', 'C3'));
    await held.arrived; // saved, venue call in flight, never answered: the process "dies" here
    const dir = h.dir;
    await h.close(true);
    expect(venue.orders.get(h.book.get('C3')!.venueClientOrderId)!.status).toBe('new');
    h = await startHarness({ venue, dir, cancelConfirmCheckMs: 100 });
    await h.session.until(er('4', 'X3'), 3000, '150=4 after the restart');
    expect(h.book.get('C3')!.status).toBe('4');
  });
});

test('the fake harness closes cleanly', async () => {
  h = await startHarness();
  await tick(10);
});

describe('a cancel of an order the venue has not acknowledged', () => {
  test('is held until the create is answered, then sent: 150=4, never 102=0 "too late" from a cancel that overtook the create', async () => {
    h = await startHarness();
    const create = h.venue.script('placeOrder', 'hold');
    await h.deliver(nos('C7'));
    const held = await create.arrived;
    await h.deliver(cancelReq('X7', 'C7'));
    await tick(50);
    expect(h.venue.calledTimes('cancelOrder')).toBe(0);
    held.proceed();
    await h.session.until(er('4', 'X7'), 2000, '150=4 for the held cancel');
    expect(h.session.sent.filter((m) => m.msgType === '9')).toEqual([]);
    const cancel = h.venue.calls.find((c) => c.op === 'cancelOrder')!.arg as { venueOrderId?: string };
    expect(cancel.venueOrderId).toBe(h.book.get('C7')!.venueOrderId);
  });

  test('whose create is then refused: one 35=9 (too late: rejected), no venue cancel', async () => {
    h = await startHarness();
    const create = h.venue.script('placeOrder', 'hold');
    await h.deliver(nos('C7b'));
    const held = await create.arrived;
    await h.deliver(cancelReq('X7b', 'C7b'));
    const { OrderRejected } = await import('../../src/venues/venue');
    held.reject(new OrderRejected('insufficient_funds', 'balance', '-1131', 'Insufficient balance'));
    await h.session.until((s) => s.some((m) => m.msgType === '9' && m.get(11) === 'X7b'), 2000, '35=9');
    await tick(50);
    expect(h.venue.calledTimes('cancelOrder')).toBe(0);
    expect(h.session.sent.filter((m) => m.msgType === '9')).toHaveLength(1);
  });
});
