// Gateway-level (fake venue, no sockets): what an OrderCancelRequest gets follows the venue's
// declared cancel capabilities and the reject reasons its adapter maps, never the venue's name.
import { OrderRejected } from '../../src/venues/venue';
import { FakeVenueAdapter } from '../support/fake-venue-adapter';
import { Harness, cancelReq, fixMessage, nos, startHarness, tick } from '../support/gateway-harness';

jest.setTimeout(10_000);
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function placed(clOrdId: string, market = false): Promise<void> {
  const msg = market
    ? fixMessage('D', [[11, clOrdId], [21, '1'], [38, '1'], [40, '1'], [54, '1'], [55, 'BTCUSDT'], [59, '3'], [60, '20260101-00:00:00.000']])
    : nos(clOrdId);
  await h!.deliver(msg);
  await h!.session.until((s) => s.some((m) => m.get(11) === clOrdId && m.get(150) === '0'), 2000, `150=0 for ${clOrdId}`);
}

const cancelReject = (h: Harness, clOrdId: string) => h.session.sent.find((m) => m.msgType === '9' && m.get(11) === clOrdId);

test('cancel: false: every cancel gets 35=9 434=1 102=2 saying the venue cannot cancel; the order is untouched and the venue never asked', async () => {
  h = await startHarness({ venue: new FakeVenueAdapter({ cancel: false, cancelableOrderTypes: [] }) });
  await placed('O1');
  await h.deliver(cancelReq('X1', 'O1'));
  const rej = cancelReject(h, 'X1')!;
  expect([rej.get(434), rej.get(102), rej.get(39), rej.get(41)]).toEqual(['1', '2', '0', 'O1']);
  expect(rej.get(58)).toMatch(/cannot cancel/i);
  expect(h.venue.calledTimes('cancelOrder')).toBe(0);
  expect(h.book.get('O1')!.status).toBe('0');
  expect(h.book.get('O1')!.pendingCancel).toBeUndefined();
});

test('cancel: false on an order already done: 102=0 (too late)', async () => {
  const venue = new FakeVenueAdapter({ cancel: false, cancelableOrderTypes: [] });
  h = await startHarness({ venue });
  await placed('O2');
  const o = h.book.get('O2')!;
  venue.emit({ kind: 'fill', clientOrderId: o.wireClientOrderId!, venueOrderId: o.venueOrderId!, rawStatus: 'FILLED', time: Date.now(), source: 'stream', cumQty: '1', fill: { fillId: 'f1', qty: '1', price: '100', time: Date.now() } });
  await h.session.until((s) => s.some((m) => m.get(11) === 'O2' && m.get(150) === '2'), 2000, 'fill');
  await h.deliver(cancelReq('X2', 'O2'));
  expect(cancelReject(h, 'X2')!.get(102)).toBe('0');
});

test('cancelableOrderTypes: a market order on a venue that cancels limit orders only gets 102=2, the venue never asked', async () => {
  h = await startHarness({ venue: new FakeVenueAdapter({ cancelableOrderTypes: ['limit'] }) });
  await placed('M1', true);
  await h.deliver(cancelReq('X3', 'M1'));
  const rej = cancelReject(h, 'X3');
  expect(rej?.get(102)).toBe('2');
  expect(rej?.get(58)).toMatch(/market/i);
  expect(h.venue.calledTimes('cancelOrder')).toBe(0);
  // A limit order on the same venue is canceled.
  await placed('L1');
  await h.deliver(cancelReq('X4', 'L1'));
  await h.session.until((s) => s.some((m) => m.get(11) === 'X4' && m.get(150) === '4'), 2000, '150=4');
});

test('already_pending_cancel from the venue: 35=9 with 102=3', async () => {
  h = await startHarness();
  await placed('P1');
  h.venue.script('cancelOrder', { fail: new OrderRejected('already_pending_cancel', 'a cancel is under way', '328010', 'cancel in progress') });
  await h.deliver(cancelReq('X5', 'P1'));
  await h.session.until((s) => s.some((m) => m.msgType === '9' && m.get(11) === 'X5'), 2000, '35=9');
  expect(cancelReject(h, 'X5')!.get(102)).toBe('3');
});

test('not_yet_cancelable: the cancel is sent again once the venue acknowledges the order, then confirmed', async () => {
  const venue = new FakeVenueAdapter();
  h = await startHarness({ venue, cancelConfirmCheckMs: 5_000 });
  const now = Date.now();
  const pending = { clientOrderId: '', venueOrderId: 'V9', symbol: 'BTCUSDT', side: 'buy' as const, type: 'limit' as const, quantity: '1', price: '100', status: 'pending_new' as const, rawStatus: 'PENDING_SUBMIT', filledQty: '0', updateTime: now };
  venue.script('placeOrder', { answer: pending });
  await h.deliver(nos('N1'));
  await venue.whenCalled('placeOrder');
  await tick(20);
  const o = h.book.get('N1')!;
  expect(o.venueOrderId).toBe('V9');
  venue.setOrder(o.wireClientOrderId!, { venueOrderId: 'V9', status: 'pending_new', rawStatus: 'PENDING_SUBMIT' });
  venue.script('cancelOrder', { fail: new OrderRejected('not_yet_cancelable', 'still being submitted', '328026', 'PENDING_SUBMIT') });
  await h.deliver(cancelReq('X6', 'N1'));
  await venue.whenCalled('cancelOrder', 1);
  await tick(50);
  expect(cancelReject(h, 'X6')).toBeUndefined();
  expect(venue.calledTimes('cancelOrder')).toBe(1);
  venue.setOrder(o.wireClientOrderId!, { status: 'new', rawStatus: 'SUBMITTED' });
  venue.emit({ kind: 'acknowledged', clientOrderId: o.wireClientOrderId!, venueOrderId: 'V9', rawStatus: 'SUBMITTED', time: Date.now(), source: 'stream' });
  await h.session.until((s) => s.some((m) => m.get(11) === 'X6' && m.get(150) === '4'), 3000, '150=4 for X6');
  expect(venue.calledTimes('cancelOrder')).toBe(2);
  expect(cancelReject(h, 'X6')).toBeUndefined();
});
