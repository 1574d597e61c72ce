// The create's REST reply and the stream's fills race (HashKey under load): whatever order they
// arrive in, the client sees New first, then every fill once with CumQty rising, never a 150=0
// after a fill nor a CumQty below one already reported.
import Decimal from 'decimal.js';
import { OrderEvent, VenueOrder } from '../../src/venues/venue';
import { Harness, SentMessage, nos, startHarness, tick } from '../support/gateway-harness';
import { FakeVenueAdapter } from '../support/fake-venue-adapter';

function fillEvent(o: { clientOrderId: string; venueOrderId: string }, id: string, qty: string, price: string, cumQty: string): OrderEvent {
  return { kind: 'fill', clientOrderId: o.clientOrderId, venueOrderId: o.venueOrderId, rawStatus: 'TRADE', time: Date.now(), cumQty, source: 'stream', fill: { fillId: id, qty, price, time: Date.now() } };
}

/** The order's reports keep FIX order: 150=0 first and once, CumQty never decreasing. */
function orderProblems(reports: SentMessage[]): string[] {
  const problems: string[] = [];
  let cum = new Decimal(0);
  let filled = false;
  let acks = 0;
  for (const r of reports) {
    const c = new Decimal(r.get(14) ?? '0');
    if (c.lt(cum)) problems.push(`CumQty ${c} after ${cum}: ${r}`);
    if (r.get(150) === '0') {
      acks++;
      if (filled) problems.push(`150=0 after a fill: ${r}`);
    }
    if (r.get(150) === '1' || r.get(150) === '2') filled = true;
    cum = Decimal.max(cum, c);
  }
  if (acks > 1) problems.push(`${acks} acks`);
  return problems;
}

describe('create reply racing the stream', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  test('fills on the stream before the create reply, then a stale reply (new, 0 filled): no 150=0 after the fills, CumQty never falls', async () => {
    const venue = new FakeVenueAdapter();
    h = await startHarness({ venue });
    const held = venue.script('placeOrder', 'hold');
    await h.deliver(nos('R1', { qty: '1', price: '100' }));
    const call = await held.arrived;
    const req = call.arg as { clientOrderId: string };
    const ids = { clientOrderId: req.clientOrderId, venueOrderId: '777' };
    venue.emit(fillEvent(ids, 't1', '0.3', '100', '0.3'));
    venue.emit(fillEvent(ids, 't2', '0.2', '100', '0.5'));
    await h.session.until((s) => s.filter((m) => m.get(150) === '1').length >= 2, 3000, 'two fills');
    const reply: VenueOrder = { clientOrderId: req.clientOrderId, venueOrderId: '777', symbol: 'BTCUSDT', side: 'buy', type: 'limit', quantity: '1', price: '100', timeInForce: 'GTC', status: 'new', rawStatus: 'NEW', filledQty: '0', avgPrice: '0', updateTime: Date.now() - 50, fills: [] };
    call.resolve(reply);
    await tick(50);
    venue.emit(fillEvent(ids, 't3', '0.5', '100', '1'));
    await h.session.until((s) => s.some((m) => m.get(150) === '2'), 3000, 'the last fill');
    await tick(50);
    const reports = h.session.about('R1').filter((m) => m.msgType === '8');
    expect(orderProblems(reports)).toEqual([]);
    expect(reports.map((r) => `${r.get(150)}/${r.get(14)}`)).toEqual(['0/0', '1/0.3', '1/0.5', '2/1']);
  });

  test('fills out of order on the stream (the later CumQty first), the create reply between them: CumQty reported never falls', async () => {
    const venue = new FakeVenueAdapter();
    h = await startHarness({ venue });
    const held = venue.script('placeOrder', 'hold');
    await h.deliver(nos('R2', { qty: '1', price: '100' }));
    const call = await held.arrived;
    const req = call.arg as { clientOrderId: string };
    const ids = { clientOrderId: req.clientOrderId, venueOrderId: '778' };
    venue.emit(fillEvent(ids, 't2', '0.2', '101', '0.5'));
    const reply: VenueOrder = { clientOrderId: req.clientOrderId, venueOrderId: '778', symbol: 'BTCUSDT', side: 'buy', type: 'limit', quantity: '1', price: '101', timeInForce: 'GTC', status: 'partially_filled', rawStatus: 'PARTIALLY_FILLED', filledQty: '0.3', avgPrice: '100', updateTime: Date.now() - 50, fills: [{ fillId: 't1', qty: '0.3', price: '100', time: Date.now() - 60 }] };
    call.resolve(reply);
    await tick(20);
    venue.emit(fillEvent(ids, 't1', '0.3', '100', '0.3'));
    venue.emit(fillEvent(ids, 't3', '0.5', '101', '1'));
    await h.session.until((s) => s.some((m) => m.get(150) === '2'), 3000, 'the last fill');
    await tick(1100);
    const reports = h.session.about('R2').filter((m) => m.msgType === '8');
    expect(orderProblems(reports)).toEqual([]);
    const fills = reports.filter((r) => r.get(150) === '1' || r.get(150) === '2');
    expect(fills.reduce((s, r) => s.plus(r.get(32) ?? '0'), new Decimal(0)).toFixed()).toBe('1');
    expect(reports[reports.length - 1].get(6)).toBe(new Decimal('0.3').times(100).plus(new Decimal('0.7').times(101)).toFixed());
  });
});
