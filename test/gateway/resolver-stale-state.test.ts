// The resolver of an unknown create outcome queries the venue; while the query is out, the stream
// may resolve the order itself (its ack and fills under our client order id). What the resolver
// does with the query's answer must start from the order as it is then, not as it was before the
// query: a reject built from the older state would be sent after the fills (150=8 CumQty 0) and
// would put the order back to before them in the book.
import { OutcomeUnknown, VenueOrder } from '../../src/venues/venue';
import { Harness, nos, startHarness, tick } from '../support/gateway-harness';

jest.setTimeout(10_000);

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

test('a create of unknown outcome resolved by the stream (ack, fill) while the query is out: a colliding query answer then changes nothing', async () => {
  h = await startHarness({ statusStaleMs: 60_000 });
  h.venue.setStreamState('connected');
  await tick(20);
  h.venue.script('placeOrder', { fail: new OutcomeUnknown('request timed out') });
  const query = h.venue.script('getOrder', 'hold');
  await h.deliver(nos('U1', { qty: '1', price: '100' }));
  const call = await query.arrived;
  const clientOrderId = (call.arg as { clientOrderId: string }).clientOrderId;
  const t = Date.now();
  h.venue.emit({ kind: 'acknowledged', clientOrderId, venueOrderId: 'V9', rawStatus: 'NEW', time: t, source: 'stream' });
  h.venue.emit({ kind: 'fill', clientOrderId, venueOrderId: 'V9', rawStatus: 'PARTIALLY_FILLED', time: t, cumQty: '0.3', source: 'stream', fill: { fillId: 'f1', qty: '0.3', price: '100', time: t } });
  await h.session.until((s) => s.some((m) => m.get(11) === 'U1' && m.get(150) === '1'), 2000, 'the fill');
  // The query answers with another venue order under our client order id (not our content).
  const other: VenueOrder = { clientOrderId, venueOrderId: 'V10', symbol: 'BTCUSDT', side: 'sell', type: 'limit', quantity: '5', price: '120', timeInForce: 'GTC', status: 'new', rawStatus: 'NEW', filledQty: '0', updateTime: t };
  call.resolve(other);
  await tick(100);
  const reports = h.session.about('U1').filter((m) => m.msgType === '8');
  expect(reports.map((r) => `${r.get(150)}/${r.get(14)}`)).toEqual(['A/0', '0/0', '1/0.3']);
  const o = h.book.get('U1')!;
  expect({ status: o.status, cumQty: o.cumQty, venueOrderId: o.venueOrderId }).toEqual({ status: '1', cumQty: '0.3', venueOrderId: 'V9' });
});
