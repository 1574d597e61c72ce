// Venues without client order ids (capabilities.clientOrderId 'none'): an order of unknown outcome
// is found by content, never placed twice, never guessed; orders of the same content wait for one
// another. Pure matching first, then the gateway over the fake venue.
import { matchByContent } from '../../src/gateway/content-match';
import { createOrder } from '../../src/gateway/order';
import { OutcomeUnknown, VenueOrder } from '../../src/venues/venue';
import { FakeVenueAdapter } from '../support/fake-venue-adapter';
import { Harness, nos, startHarness, tick } from '../support/gateway-harness';

jest.setTimeout(15_000);

describe('matchByContent (pure)', () => {
  const T = 1_800_000_000_000;
  const ours = createOrder({ clOrdId: 'C', venueClientOrderId: 'g-1', wireClientOrderId: null, symbol: 'BTC/USD', side: '1', ordType: '2', timeInForce: '1', orderQty: '0.5', price: '100' }, T);
  const v = (id: string, over: Partial<VenueOrder> = {}): VenueOrder => ({
    clientOrderId: '', venueOrderId: id, symbol: 'BTC/USD', side: 'buy', type: 'limit', quantity: '0.50', price: '100.0', status: 'new', rawStatus: 'NEW', filledQty: '0', updateTime: T + 100, createdAt: T + 100, ...over,
  });
  const opts = { windowMs: 6_000, isMapped: (id: string) => id === 'mapped', skewMs: 1_000 };

  test('one order of our content in the window (decimals compared as numbers): that one', () => {
    expect(matchByContent(ours, [v('a')], opts)).toEqual({ kind: 'one', order: v('a') });
  });
  test('other content, outside the window, or mapped to another order: not candidates', () => {
    const others = [
      v('side', { side: 'sell' }),
      v('qty', { quantity: '0.6' }),
      v('px', { price: '101' }),
      v('sym', { symbol: 'ETH/USD' }),
      v('type', { type: 'market' }),
      v('early', { createdAt: T - 1_001 }),
      v('late', { createdAt: T + 7_001 }),
      v('mapped'),
    ];
    expect(matchByContent(ours, others, opts)).toEqual({ kind: 'none' });
  });
  test('the same venue order listed twice (open and recent) is one candidate; two orders are ambiguous', () => {
    expect(matchByContent(ours, [v('a'), v('a', { status: 'filled' })], opts).kind).toBe('one');
    expect(matchByContent(ours, [v('a'), v('b')], opts)).toEqual({ kind: 'ambiguous', venueOrderIds: ['a', 'b'] });
  });
  test('without createdAt the update time is used', () => {
    expect(matchByContent(ours, [v('a', { createdAt: undefined, updateTime: T + 10 })], opts).kind).toBe('one');
  });
});

describe('gateway on a venue without client order ids', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });
  const none = (over = {}) => new FakeVenueAdapter({ clientOrderId: { kind: 'none' }, absenceProofMs: 400, ...over });
  const types = (h: Harness, id: string) => h.session.about(id).map((m) => m.get(150));

  test('5xx after the venue created the order: found by content, 150=A then 150=0, placed once', async () => {
    const venue = none();
    h = await startHarness({ venue });
    venue.script('placeOrder', { performThenFail: new OutcomeUnknown('HTTP 503') });
    await h.deliver(nos('K1'));
    await h.session.until((s) => s.some((m) => m.get(11) === 'K1' && m.get(150) === '0'), 3000, '150=0 for K1');
    expect(types(h, 'K1')).toEqual(['A', '0']);
    expect(venue.calledTimes('placeOrder')).toBe(1);
    expect(venue.calledTimes('getOrder')).toBe(0);
    const [only] = [...venue.orders.values()];
    expect(h.book.get('K1')!.venueOrderId).toBe(only.venueOrderId);
  });

  test('timeout and the venue never got it: not found for absenceProofMs, then 150=8', async () => {
    const venue = none();
    h = await startHarness({ venue });
    venue.script('placeOrder', { fail: new OutcomeUnknown('timeout') });
    await h.deliver(nos('K2'));
    await h.session.until((s) => s.some((m) => m.get(11) === 'K2' && m.get(150) === '8'), 3000, '150=8 for K2');
    expect(types(h, 'K2')).toEqual(['A', '8']);
    expect(venue.calledTimes('placeOrder')).toBe(1);
  });

  test('two venue orders match: no guess, 150=A stays and the event log says why; resolved once only one remains', async () => {
    const venue = none();
    h = await startHarness({ venue });
    // Someone else's order of the same content, created just now on the same account.
    const foreign = venue.setOrder('foreign', { venueOrderId: 'F1', symbol: 'BTCUSDT', side: 'buy', type: 'limit', quantity: '1', price: '100', createdAt: Date.now() });
    venue.script('placeOrder', { performThenFail: new OutcomeUnknown('HTTP 502') });
    await h.deliver(nos('K3'));
    await venue.when(() => h!.session.events.some((e) => /K3 stays pending: 2 fake orders/.test(e)), 3000, 'ambiguity in the event log');
    await tick(600); // longer than absenceProofMs: still no guess, no reject
    expect(types(h, 'K3')).toEqual(['A']);
    // The other order turns out to be proven someone else's (it disappears from the venue's list).
    venue.orders.delete('foreign');
    expect(foreign.venueOrderId).toBe('F1');
    await h.session.until((s) => s.some((m) => m.get(11) === 'K3' && m.get(150) === '0'), 3000, '150=0 for K3');
    expect(h.book.get('K3')!.venueOrderId).not.toBe('F1');
  });

  test('a second order of the same content waits until the first one of unknown outcome is resolved', async () => {
    const venue = none();
    h = await startHarness({ venue });
    venue.script('placeOrder', { performThenFail: new OutcomeUnknown('HTTP 503') });
    const search = venue.script('recentOrders', 'hold');
    await h.deliver(nos('K4'));
    const held = await search.arrived;
    await h.deliver(nos('K5'));
    await tick(100);
    expect(venue.calledTimes('placeOrder')).toBe(1);
    held.proceed();
    await h.session.until((s) => s.some((m) => m.get(11) === 'K5' && m.get(150) === '0'), 3000, '150=0 for K5');
    expect(venue.calledTimes('placeOrder')).toBe(2);
    expect(h.book.get('K4')!.venueOrderId).not.toBe(h.book.get('K5')!.venueOrderId);
    // An order of other content is not held up by the lane.
    venue.script('placeOrder', { performThenFail: new OutcomeUnknown('HTTP 503') });
    venue.script('recentOrders', 'hold');
    await h.deliver(nos('K6'));
    await h.deliver(nos('K7', { qty: '2' }));
    await h.session.until((s) => s.some((m) => m.get(11) === 'K7' && m.get(150) === '0'), 3000, '150=0 for K7');
  });
});

describe('gateway on a polled venue: the orders it follows', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  test('trackOrders gets each order once its venue id is known, and every open order again after a restart', async () => {
    const venue = new FakeVenueAdapter({ clientOrderId: { kind: 'none' }, orderUpdates: 'polled' });
    h = await startHarness({ venue });
    await h.deliver(nos('T1'));
    await h.session.until((s) => s.some((m) => m.get(11) === 'T1' && m.get(150) === '0'), 2000, '150=0');
    const id = h.book.get('T1')!.venueOrderId!;
    expect(venue.tracked).toEqual([{ venueOrderId: id, symbol: 'BTCUSDT' }]);
    const dir = h.dir;
    await h.close(true);
    const again = new FakeVenueAdapter({ clientOrderId: { kind: 'none' }, orderUpdates: 'polled' });
    h = await startHarness({ venue: again, dir });
    await again.when(() => again.tracked.length > 0, 2000, 'tracked after restart');
    expect(again.tracked).toEqual([{ venueOrderId: id, symbol: 'BTCUSDT' }]);
  });
});
