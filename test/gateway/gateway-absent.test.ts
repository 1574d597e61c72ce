// Gateway-level (fake venue, no sockets): an order rejected as "proven absent" after an unknown
// create outcome, and what happens when the create lands late.
import { OutcomeUnknown } from '../../src/venues/venue';
import { FakeVenueAdapter } from '../support/fake-venue-adapter';
import { Harness, nos, startHarness, tick } from '../support/gateway-harness';

jest.setTimeout(10_000);
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function rejectedAsAbsent(venue: FakeVenueAdapter, clOrdId: string): Promise<string> {
  h = await startHarness({ venue, unknownOutcomeProofMs: 150 });
  venue.script('placeOrder', { fail: new OutcomeUnknown('request timed out') });
  await h.deliver(nos(clOrdId));
  await h.session.until((s) => s.some((m) => m.get(11) === clOrdId && m.get(150) === '8'), 3000, `150=8 for ${clOrdId}`);
  return h.book.get(clOrdId)!.venueClientOrderId;
}

const incidents = (h: Harness) => h.logs.filter((l) => l.level === 50 && /incident/i.test(String(l.msg)));

test('proven absent on a venue that cancels by client order id: a defensive cancel by our id follows the reject', async () => {
  const venue = new FakeVenueAdapter({ cancelByClientOrderId: true });
  const vcoid = await rejectedAsAbsent(venue, 'A1');
  await venue.whenCalled('cancelOrder', 1, 2000);
  const ref = venue.calls.find((c) => c.op === 'cancelOrder')!.arg as { clientOrderId: string; venueOrderId?: string };
  expect(ref.clientOrderId).toBe(vcoid);
  expect(ref.venueOrderId).toBeUndefined();
  await tick(20);
  expect(incidents(h!)).toEqual([]);
});

test('the defensive cancel finds the order (the create landed late): 150=D restates it live, then 150=4; logged as an incident', async () => {
  const venue = new FakeVenueAdapter({ cancelByClientOrderId: true });
  const cancel = venue.script('cancelOrder', 'hold');
  const vcoid = await rejectedAsAbsent(venue, 'A2');
  const held = await cancel.arrived;
  venue.setOrder(vcoid, { symbol: 'BTCUSDT', quantity: '1', price: '100' });
  held.proceed();
  await h!.session.until((s) => s.some((m) => m.get(11) === 'A2' && m.get(150) === '4'), 2000, '150=4 for A2');
  expect(h!.session.about('A2').map((m) => `${m.get(150)}/${m.get(39)}`)).toEqual(['A/A', '8/8', 'D/0', '4/4']);
  await tick(10);
  const inc = incidents(h!);
  expect(inc).toHaveLength(1);
  expect(inc[0]).toMatchObject({ clOrdId: 'A2', venueClientOrderId: vcoid });
});

test('a rejected order that shows up on the stream with a fill: 150=D restatement, the fill reported as a fill, an incident logged', async () => {
  const venue = new FakeVenueAdapter();
  const vcoid = await rejectedAsAbsent(venue, 'A3');
  const t = Date.now();
  venue.emit({ kind: 'acknowledged', clientOrderId: vcoid, venueOrderId: '777', rawStatus: 'NEW', time: t, source: 'stream' });
  venue.emit({ kind: 'fill', clientOrderId: vcoid, venueOrderId: '777', rawStatus: 'PARTIALLY_FILLED', time: t + 1, source: 'stream', cumQty: '0.4', fill: { fillId: 't1', qty: '0.4', price: '100', time: t + 1 } });
  await h!.session.until((s) => s.some((m) => m.get(11) === 'A3' && m.get(150) === '1'), 2000, 'fill for A3');
  const reports = h!.session.about('A3').map((m) => `${m.get(150)}/${m.get(39)}`);
  expect(reports).toEqual(['A/A', '8/8', 'D/0', '1/1']);
  const restated = h!.session.about('A3')[2];
  expect([restated.get(37), restated.get(151), restated.get(14)]).toEqual(['777', '1', '0']);
  await tick(10);
  expect(incidents(h!)).toHaveLength(1);
});
