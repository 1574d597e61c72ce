// Gateway-level (fake venue, no sockets): an order saved but not answered when the process died.
import { OrderRejected } from '../../src/venues/venue';
import { FakeVenueAdapter } from '../support/fake-venue-adapter';
import { Harness, nos, startHarness, tick } from '../support/gateway-harness';

jest.setTimeout(10_000);
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Places `clOrdId` with the create held (never answered), then "crashes": returns the directory. */
async function crashWithCreateInFlight(venue: FakeVenueAdapter, clOrdId: string): Promise<string> {
  h = await startHarness({ venue });
  const create = venue.script('placeOrder', 'hold');
  await h.deliver(nos(clOrdId));
  await create.arrived;
  const dir = h.dir;
  await h.close(true);
  h = undefined;
  return dir;
}

const sentTypes = (h: Harness, clOrdId: string) => h.session.about(clOrdId).map((m) => m.get(150));

describe('an order saved but not answered when the process died', () => {
  test('venue refuses reused client order ids, the create never arrived: 150=A at once, the create is re-submitted, 150=0', async () => {
    const venue = new FakeVenueAdapter({ refusesReusedClientOrderId: true });
    const dir = await crashWithCreateInFlight(venue, 'R1');
    expect(venue.orders.size).toBe(0);
    h = await startHarness({ venue, dir, unknownOutcomeProofMs: 200 });
    await h.session.until((s) => s.some((m) => m.get(11) === 'R1' && m.get(150) === '0'), 3000, '150=0 for R1');
    expect(sentTypes(h, 'R1')).toEqual(['A', '0']);
    expect(venue.calledTimes('placeOrder')).toBe(2);
    expect(venue.orders.size).toBe(1);
  });

  test('venue refuses reused client order ids, the first create did arrive: the duplicate refusal leads to the order by query, 150=A then 150=0, one venue order', async () => {
    const venue = new FakeVenueAdapter({ refusesReusedClientOrderId: true });
    const dir = await crashWithCreateInFlight(venue, 'R2');
    const req = venue.calls.find((c) => c.op === 'placeOrder')!.arg as { clientOrderId: string };
    venue.setOrder(req.clientOrderId, { symbol: 'BTCUSDT', side: 'buy', type: 'limit', quantity: '1', price: '100' });
    h = await startHarness({ venue, dir, unknownOutcomeProofMs: 200 });
    await h.session.until((s) => s.some((m) => m.get(11) === 'R2' && m.get(150) === '0'), 3000, '150=0 for R2');
    expect(sentTypes(h, 'R2')).toEqual(['A', '0']);
    expect(venue.orders.size).toBe(1);
  });

  test('the re-submitted create is refused for another reason (e.g. its id embeds a send time now too old): that proves nothing about the first attempt, which is found by query, never rejected', async () => {
    const venue = new FakeVenueAdapter({ refusesReusedClientOrderId: true });
    const dir = await crashWithCreateInFlight(venue, 'R4');
    const req = venue.calls.find((c) => c.op === 'placeOrder')!.arg as { clientOrderId: string };
    venue.setOrder(req.clientOrderId, { symbol: 'BTCUSDT', side: 'buy', type: 'limit', quantity: '1', price: '100' });
    venue.script('placeOrder', { fail: new OrderRejected('invalid_order', 'timestamp error', '327834', 'timestamp error') });
    h = await startHarness({ venue, dir, unknownOutcomeProofMs: 200 });
    await h.session.until((s) => s.some((m) => m.get(11) === 'R4' && ['0', '8'].includes(m.get(150) ?? '')), 3000, 'an outcome for R4');
    expect(sentTypes(h, 'R4')).toEqual(['A', '0']);
    expect(venue.orders.size).toBe(1);
  });

  test('venue without that guarantee: 150=A at once, then resolved by query as before (absent → 150=8)', async () => {
    const venue = new FakeVenueAdapter();
    const dir = await crashWithCreateInFlight(venue, 'R3');
    h = await startHarness({ venue, dir, unknownOutcomeProofMs: 200 });
    await h.session.until((s) => s.some((m) => m.get(11) === 'R3'), 1000, 'a first report for R3');
    expect(sentTypes(h, 'R3')).toEqual(['A']);
    await h.session.until((s) => s.some((m) => m.get(11) === 'R3' && m.get(150) === '8'), 3000, '150=8 for R3');
    expect(venue.calledTimes('placeOrder')).toBe(1);
    await tick(10);
  });
});
