// Gateway-level (fake venue, no sockets): behaviour an aggregator venue with venue-format order ids
// needs, each following a declared capability or a mapped reject reason, never the venue's name:
// ExDestination checked against the declared exchange, a cancel the venue cannot take yet never
// answered "too late", fills without venue ids counted by the rise of the cumulative quantity,
// an order ending partly filled reported final (150=4 / 150=C with CumQty > 0), TIFs the venue lacks.
import { OrderEvent, OrderRejected, OutcomeUnknown } from '../../src/venues/venue';
import { FakeVenueAdapter } from '../support/fake-venue-adapter';
import { Harness, cancelReq, fixMessage, nos, startHarness, tick } from '../support/gateway-harness';

jest.setTimeout(10_000);
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

function nosWith(clOrdId: string, extra: [number, string][], tif = '1'): ReturnType<typeof fixMessage> {
  const body: [number, string][] = [
    [11, clOrdId],
    [21, '1'],
    [38, '1'],
    [40, '2'],
    [44, '100'],
    [54, '1'],
    [55, 'BTCUSDT'],
    [59, tif],
    [60, '20260101-00:00:00.000'],
    ...extra,
  ];
  return fixMessage('D', body.sort((a, b) => a[0] - b[0]));
}

const reportsOf = (h: Harness, clOrdId: string) => h.session.about(clOrdId).filter((m) => m.msgType === '8');

describe('ExDestination (100) on a venue that declares its exchange', () => {
  test('another exchange → 150=8 103=0 with a Text naming the session exchange; the venue is never called', async () => {
    h = await startHarness({ venue: new FakeVenueAdapter({ exDestination: 'BINANCE' }) });
    await h.deliver(nosWith('XD1', [[100, 'HUOBI']]));
    const rej = reportsOf(h, 'XD1');
    expect(rej.map((m) => [m.get(150), m.get(39), m.get(103)])).toEqual([['8', '8', '0']]);
    expect(rej[0].get(58)).toBe('ExDestination HUOBI is not available: this session trades on BINANCE');
    expect(h.venue.calledTimes('placeOrder')).toBe(0);
  });

  test('the session exchange (any case) or no ExDestination → placed', async () => {
    h = await startHarness({ venue: new FakeVenueAdapter({ exDestination: 'BINANCE' }) });
    await h.deliver(nosWith('XD2', [[100, 'binance']]));
    await h.deliver(nos('XD3'));
    await h.session.until((s) => ['XD2', 'XD3'].every((id) => s.some((m) => m.get(11) === id && m.get(150) === '0')), 2000, 'both acked');
    expect(h.venue.calledTimes('placeOrder')).toBe(2);
  });

  test('a venue that declares no exchange does not check ExDestination', async () => {
    h = await startHarness();
    await h.deliver(nosWith('XD4', [[100, 'ANYWHERE']]));
    await h.session.until((s) => s.some((m) => m.get(11) === 'XD4' && m.get(150) === '0'), 2000, 'acked');
  });
});

test('a TIF the venue lacks (59=4 FOK) → 150=8 with a Text listing the supported ones', async () => {
  h = await startHarness({ venue: new FakeVenueAdapter({ timeInForce: { limit: ['GTC', 'IOC'], market: ['IOC'] } }) });
  await h.deliver(nosWith('TF1', [], '4'));
  const rej = reportsOf(h, 'TF1')[0];
  expect([rej.get(150), rej.get(103)]).toEqual(['8', '0']);
  expect(rej.get(58)).toBe('TimeInForce 4 (FOK) not supported by the venue for limit orders (supported: GTC, IOC)');
  expect(h.venue.calledTimes('placeOrder')).toBe(0);
});

test('not_yet_cancelable every time (the venue keeps refusing): after the request limit 35=9 102=3, never 102=0 "too late"', async () => {
  h = await startHarness({ cancelConfirmCheckMs: 20 });
  await h.deliver(nos('NY1'));
  await h.session.until((s) => s.some((m) => m.get(11) === 'NY1' && m.get(150) === '0'), 2000, 'acked');
  const refuse = { fail: new OrderRejected('not_yet_cancelable', 'still being submitted', '328026', 'cannot cancel order in PENDING_SUBMIT status') };
  h.venue.script('cancelOrder', refuse, refuse, refuse);
  await h.deliver(cancelReq('NY1-C', 'NY1'));
  await h.session.until((s) => s.some((m) => m.msgType === '9' && m.get(11) === 'NY1-C'), 3000, '35=9');
  const rej = h.session.sent.find((m) => m.msgType === '9' && m.get(11) === 'NY1-C')!;
  expect([rej.get(102), rej.get(39), rej.get(41)]).toEqual(['3', '0', 'NY1']);
  expect(rej.get(58)).toMatch(/PENDING_SUBMIT/);
  expect(h.venue.calledTimes('cancelOrder')).toBe(3);
  expect(h.book.get('NY1')!.pendingCancel).toBeUndefined();
});

test('not_yet_cancelable while the order stays pending at the venue (never acknowledged): the cancel still ends, 35=9 102=3 after the request limit, never left at 39=6', async () => {
  h = await startHarness({ cancelConfirmCheckMs: 20 });
  const create = h.venue.script('placeOrder', 'hold');
  await h.deliver(nos('NY2'));
  const held = await create.arrived;
  const req = held.arg as { clientOrderId: string };
  // Accepted in two steps, and the second never comes (the exchange behind the venue is stuck).
  held.resolve(h.venue.setOrder(req.clientOrderId, { status: 'pending_new', rawStatus: 'PENDING_SUBMIT' }));
  await h.session.until((s) => s.some((m) => m.get(11) === 'NY2' && m.get(150) === 'A'), 2000, '150=A');
  const refuse = { fail: new OrderRejected('not_yet_cancelable', 'still being submitted', '328026', 'cannot cancel order in PENDING_SUBMIT status') };
  h.venue.script('cancelOrder', refuse, refuse, refuse);
  await h.deliver(cancelReq('NY2-C', 'NY2'));
  await h.session.until((s) => s.some((m) => m.msgType === '9' && m.get(11) === 'NY2-C'), 3000, '35=9 for a cancel of an order that stays pending');
  const rej = h.session.sent.find((m) => m.msgType === '9' && m.get(11) === 'NY2-C')!;
  expect([rej.get(102), rej.get(41)]).toEqual(['3', 'NY2']);
  expect(h.venue.calledTimes('cancelOrder')).toBe(3);
  expect(h.book.get('NY2')!.pendingCancel).toBeUndefined();
});

describe('fills without venue ids, and an order that ends partly filled', () => {
  function ev(h: Harness, clOrdId: string, e: Partial<OrderEvent> & { kind: OrderEvent['kind'] }): OrderEvent {
    const o = h.book.get(clOrdId)!;
    return { clientOrderId: o.wireClientOrderId!, venueOrderId: o.venueOrderId!, rawStatus: 'X', time: Date.now(), source: 'stream', ...e } as OrderEvent;
  }
  const fill = (cum: string, qty: string, price: string) => ({ fillId: `id:${cum}`, qty, price, time: Date.now() });

  test.each([
    ['canceled', '4'],
    ['expired', 'C'],
  ] as const)('fills keyed by the cumulative quantity (a repeated push reported once), then %s with CumQty > 0 → 150=39=%s, never left 39=1', async (kind, fixStatus) => {
    h = await startHarness();
    await h.deliver(nos('PF1', { qty: '1' }));
    await h.session.until((s) => s.some((m) => m.get(11) === 'PF1' && m.get(150) === '0'), 2000, 'acked');
    h.venue.emit(ev(h, 'PF1', { kind: 'fill', cumQty: '0.3', rawStatus: 'SUBMITTED', fill: fill('0.3', '0.3', '100') }));
    h.venue.emit(ev(h, 'PF1', { kind: 'fill', cumQty: '0.3', rawStatus: 'SUBMITTED', fill: fill('0.3', '0.3', '100') }));
    h.venue.emit(ev(h, 'PF1', { kind: 'fill', cumQty: '0.5', rawStatus: 'PART_FILLED', fill: fill('0.5', '0.2', '99.5') }));
    h.venue.emit(ev(h, 'PF1', { kind, cumQty: '0.5', rawStatus: 'PART_FILLED' }));
    await h.session.until((s) => s.some((m) => m.get(11) === 'PF1' && m.get(150) === fixStatus), 2000, 'final');
    await tick(50);
    const r = reportsOf(h, 'PF1').map((m) => [m.get(150), m.get(39), m.get(32), m.get(14), m.get(151), m.get(6)]);
    expect(r).toEqual([
      ['0', '0', undefined, '0', '1', '0'],
      ['1', '1', '0.3', '0.3', '0.7', '100'],
      ['1', '1', '0.2', '0.5', '0.5', '99.8'],
      [fixStatus, fixStatus, undefined, '0.5', '0', '99.8'],
    ]);
  });
});

test('unknown create outcome resolved by a query that finds the order still pending_new (two-step acceptance), its acknowledgement push lost: the gateway keeps querying until the venue has decided → 150=0', async () => {
  const venue = new FakeVenueAdapter({ refusesReusedClientOrderId: true });
  h = await startHarness({ venue });
  const now = Date.now();
  const pending = { clientOrderId: '', venueOrderId: 'V77', symbol: 'BTCUSDT', side: 'buy' as const, type: 'limit' as const, quantity: '1', price: '100', status: 'pending_new' as const, rawStatus: 'PENDING_SUBMIT', filledQty: '0', updateTime: now };
  venue.script('placeOrder', { fail: new OutcomeUnknown('HTTP 500: outcome unknown') });
  venue.script('getOrder', { answer: pending });
  await h.deliver(nos('UP1'));
  await venue.whenCalled('getOrder', 1);
  await tick(20);
  expect(h.book.get('UP1')!.venueOrderId).toBe('V77');
  // The venue has now submitted it; no push says so.
  venue.setOrder(h.book.get('UP1')!.wireClientOrderId!, { venueOrderId: 'V77', status: 'new', rawStatus: 'SUBMITTED' });
  await h.session.until((s) => s.some((m) => m.get(11) === 'UP1' && m.get(150) === '0'), 5000, '150=0 for UP1');
  expect(reportsOf(h, 'UP1').map((m) => m.get(150))).toEqual(['A', '0']);
});
