// Venues without client order ids: the content-match window runs from our request to the proof of
// absence after the *send*, not after the order's arrival at the gateway. An order of the same
// content waits in its lane (OrderRouter) until the one before it is resolved, so it can reach the
// venue long after it was saved; if its own create then has an unknown outcome, the venue order it
// made must still be found.
import { OutcomeUnknown } from '../../src/venues/venue';
import { FakeVenueAdapter } from '../support/fake-venue-adapter';
import { Harness, nos, startHarness, tick } from '../support/gateway-harness';

jest.setTimeout(20_000);

describe('content match after a wait in the content lane', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  test('a second same-content order sent after a long lane wait, 5xx after create: found, not rejected while live at the venue', async () => {
    const venue = new FakeVenueAdapter({ clientOrderId: { kind: 'none' }, absenceProofMs: 400 });
    h = await startHarness({ venue });
    venue.script('placeOrder', { performThenFail: new OutcomeUnknown('HTTP 503') }, { performThenFail: new OutcomeUnknown('HTTP 503') });
    // The first order's search is slow (venue degraded): the second waits in its lane meanwhile.
    const search = venue.script('recentOrders', 'hold');
    await h.deliver(nos('W1'));
    const held = await search.arrived;
    await h.deliver(nos('W2'));
    await tick(5_800); // longer than absenceProofMs + the clock-skew margin after W2 arrived
    expect(venue.calledTimes('placeOrder')).toBe(1);
    held.proceed();
    await h.session.until((s) => s.some((m) => m.get(11) === 'W2' && (m.get(150) === '0' || m.get(150) === '8')), 5000, 'W2 resolved');
    const w2 = h.session.about('W2').map((m) => m.get(150));
    // Two venue orders exist, both live: each of ours must be mapped to one, none rejected.
    expect(venue.calledTimes('placeOrder')).toBe(2);
    expect(w2).toEqual(['A', '0']);
    expect(h.book.get('W2')!.venueOrderId).toBeDefined();
    expect(h.book.get('W2')!.venueOrderId).not.toBe(h.book.get('W1')!.venueOrderId);
  });
});
