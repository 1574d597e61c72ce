// Gateway-level (fake venue, no sockets): holes found by reading the gateway (issue 7), each shown
// here before its fix: reconciliation that stalls, events matched by the wrong id, events that beat
// the create reply, decimals compared as strings, and venue symbols with '/'.
import { OutcomeUnknown, VenueOrder } from '../../src/venues/venue';
import { FAKE_INSTRUMENTS, FakeVenueAdapter } from '../support/fake-venue-adapter';
import { Harness, fixMessage, nos, startHarness, tick } from '../support/gateway-harness';

jest.setTimeout(15_000);
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function placed(clOrdId: string, qty = '1'): Promise<void> {
  await h!.deliver(nos(clOrdId, { qty }));
  await h!.session.until((s) => s.some((m) => m.get(11) === clOrdId && m.get(150) === '0'), 2000, `150=0 for ${clOrdId}`);
}
const execTypes = (h: Harness, clOrdId: string) => h.session.about(clOrdId).filter((m) => m.msgType === '8').map((m) => m.get(150));

describe('reconciliation', () => {
  test('one order that cannot be queried does not stall the others, nor later reconciliations', async () => {
    h = await startHarness();
    await placed('A');
    await placed('B');
    const a = h.book.get('A')!;
    const b = h.book.get('B')!;
    // A left the open list and cannot be queried (the venue errors on it); B filled while the stream was down.
    h.venue.setOrder(a.wireClientOrderId!, { status: 'canceled', rawStatus: 'CANCELED' });
    const getOrder = h.venue.getOrder.bind(h.venue);
    h.venue.getOrder = (ref) => (ref.venueOrderId === a.venueOrderId ? Promise.reject(new OutcomeUnknown('502 on A')) : getOrder(ref));
    h.venue.setOrder(b.wireClientOrderId!, { status: 'filled', filledQty: '1', avgPrice: '100', fills: [{ fillId: 'b1', qty: '1', price: '100', time: Date.now() }] });
    h.venue.setStreamState('disconnected');
    h.venue.setStreamState('connected');
    await h.session.until((s) => s.some((m) => m.get(11) === 'B' && m.get(150) === '2'), 5000, 'B filled after the reconnect');
    // A later reconnect reconciles again (it does not fold into a stuck run).
    await tick(200);
    const before = h.venue.calledTimes('openOrders');
    h.venue.setStreamState('disconnected');
    h.venue.setStreamState('connected');
    await h.venue.whenCalled('openOrders', before + 1, 3000);
  });

  test('the venue spells the same quantity differently ("0.40" vs "0.4"): no query needed', async () => {
    h = await startHarness();
    await placed('D', '1');
    const d = h.book.get('D')!;
    h.venue.emit({ kind: 'fill', clientOrderId: d.wireClientOrderId!, venueOrderId: d.venueOrderId!, rawStatus: 'PARTIALLY_FILLED', time: Date.now(), source: 'stream', cumQty: '0.4', fill: { fillId: 'd1', qty: '0.4', price: '100', time: Date.now() } });
    await h.session.until((s) => s.some((m) => m.get(11) === 'D' && m.get(150) === '1'), 2000, 'D partial');
    h.venue.setOrder(d.wireClientOrderId!, { status: 'partially_filled', filledQty: '0.40', avgPrice: '100' });
    const queries = h.venue.calledTimes('getOrder');
    h.venue.setStreamState('connected');
    await h.venue.whenCalled('openOrders');
    await tick(100);
    expect(h.venue.calledTimes('getOrder')).toBe(queries);
  });
});

describe('matching venue events to orders', () => {
  test('an event under our client order id but another venue order id is not applied to our order', async () => {
    h = await startHarness();
    await placed('M1');
    const o = h.book.get('M1')!;
    // Another order at the venue carries the same client order id (venues that do not enforce uniqueness).
    h.venue.emit({ kind: 'fill', clientOrderId: o.wireClientOrderId!, venueOrderId: 'someone-else', rawStatus: 'FILLED', time: Date.now(), source: 'stream', cumQty: '1', fill: { fillId: 'x1', qty: '1', price: '100', time: Date.now() } });
    await tick(50);
    expect(execTypes(h, 'M1')).toEqual(['0']);
    expect(h.book.get('M1')!.cumQty).toBe('0');
  });

  test('a snapshot whose venue order id already belongs to another order is refused (no second binding, no fills reported twice)', async () => {
    h = await startHarness();
    await placed('M2');
    const first = h.book.get('M2')!;
    h.venue.setOrder(first.wireClientOrderId!, { status: 'filled', filledQty: '1', avgPrice: '100', fills: [{ fillId: 'f1', qty: '1', price: '100', time: Date.now() }] });
    // M3's create has an unknown outcome; the query by its client order id answers with M2's venue order.
    h.venue.script('placeOrder', { fail: new OutcomeUnknown('timeout') });
    const m2Venue = h.venue.find({ venueOrderId: first.venueOrderId, symbol: 'BTCUSDT' })! as VenueOrder;
    h.venue.script('getOrder', { answer: { ...m2Venue, clientOrderId: 'whatever' } });
    await h.deliver(nos('M3'));
    await h.venue.whenCalled('getOrder');
    await tick(100);
    expect(h.book.byVenueOrderId(first.venueOrderId!)!.clOrdId).toBe('M2');
    expect(h.book.get('M3')!.venueOrderId).toBeUndefined();
    expect(execTypes(h, 'M3')).not.toContain('2');
  });

  test('an event that beats the create reply (venue id not known yet) is kept and applied once the reply maps it', async () => {
    const venue = new FakeVenueAdapter({ clientOrderId: { kind: 'none' } });
    h = await startHarness({ venue });
    const create = venue.script('placeOrder', 'hold');
    await h.deliver(nos('E1'));
    const held = await create.arrived;
    const t = Date.now();
    venue.emit({ kind: 'fill', clientOrderId: '', venueOrderId: 'V77', rawStatus: 'FILLED', time: t, source: 'stream', cumQty: '1', fill: { fillId: 'e1', qty: '1', price: '99.5', time: t } });
    await tick(20);
    held.resolve({ clientOrderId: '', venueOrderId: 'V77', symbol: 'BTCUSDT', side: 'buy', type: 'limit', quantity: '1', price: '100', status: 'new', rawStatus: 'NEW', filledQty: '0', updateTime: t - 1 });
    await h.session.until((s) => s.some((m) => m.get(11) === 'E1' && m.get(150) === '2'), 3000, 'E1 filled');
    const fill = h.session.about('E1').find((m) => m.get(150) === '2')!;
    expect([fill.get(31), fill.get(32)]).toEqual(['99.5', '1']);
  });
});

test("symbols spelled with '/' by the venue are FIX Symbol (55) exactly as spelled", async () => {
  FAKE_INSTRUMENTS.push({ symbol: 'BTC/USD', tickSize: '0.01', stepSize: '0.0001' });
  try {
    h = await startHarness();
    await h.deliver(fixMessage('D', [[11, 'S1'], [21, '1'], [38, '1'], [40, '2'], [44, '100'], [54, '1'], [55, 'BTC/USD'], [59, '1'], [60, '20260101-00:00:00.000']]));
    await h.session.until((s) => s.some((m) => m.get(11) === 'S1' && m.get(150) === '0'), 2000, '150=0');
    const req = h.venue.calls.find((c) => c.op === 'placeOrder')!.arg as { symbol: string };
    expect(req.symbol).toBe('BTC/USD');
    expect(h.session.about('S1')[0].get(55)).toBe('BTC/USD');
  } finally {
    FAKE_INSTRUMENTS.pop();
  }
});
