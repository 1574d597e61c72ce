// After every stream (re)connect the open orders are looked up (reconciler.ts). A reconnect while a
// reconciliation is under way must still be followed by a look-up made after it: the one under
// way may have read the venue before the second gap.
import { VenueOrder } from '../../src/venues/venue';
import { Harness, nos, startHarness, tick } from '../support/gateway-harness';

jest.setTimeout(10_000);

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

test('a fill made while the stream was down a second time, during the first reconnect\'s reconciliation, is reported', async () => {
  h = await startHarness();
  await h.deliver(nos('R1', { qty: '1' }));
  await h.session.until((s) => s.some((m) => m.get(11) === 'R1' && m.get(150) === '0'), 2000, '150=0 for R1');
  const o = h.book.get('R1')!;
  const stale: VenueOrder = { ...h.venue.orders.get(o.venueClientOrderId)! };

  const held = h.venue.script('openOrders', 'hold');
  h.venue.setStreamState('connected'); // reconciliation starts, its open-order query is slow
  const call = await held.arrived;
  h.venue.setStreamState('disconnected');
  // Meanwhile the order fills at the venue; the stream is down, so no event.
  h.venue.setOrder(o.venueClientOrderId, { status: 'filled', rawStatus: 'FILLED', filledQty: '1', avgPrice: '100', fills: [{ fillId: 'g1', qty: '1', price: '100', time: Date.now() }] });
  h.venue.setStreamState('connected');
  call.resolve([stale]); // the answer the venue gave before the second gap
  await tick(500);
  expect(h.session.about('R1').map((m) => `${m.get(150)}:${m.get(39)}`)).toEqual(['0:0', '2:2']);
});
