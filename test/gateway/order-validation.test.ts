import { FixField, FixMessage } from '../../src/fix/message';
import { createOrder, GatewayOrder } from '../../src/gateway/order';
import { beginCancel } from '../../src/gateway/order-state';
import { NewOrderContext, placeRequestFor, validateCancel, validateNewOrder, venueClientOrderIdFor } from '../../src/gateway/order-validation';
import { Instrument, VenueCapabilities } from '../../src/venues/venue';

function msg(fields: Record<number, string | undefined>): FixMessage {
  const ff: FixField[] = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ({ tag: Number(k), value: v as string }));
  return new FixMessage(ff.map((f) => `${f.tag}=${f.value}\x01`).join(''), ff);
}

const BTC: Instrument = { symbol: 'BTCUSDT', tickSize: '0.01', stepSize: '0.0001', minQty: '0.001', maxQty: '100', minNotional: '10' };
const caps: VenueCapabilities = {
  orderTypes: ['market', 'limit'],
  timeInForce: { limit: ['GTC', 'IOC', 'FOK'], market: ['IOC', 'FOK'] },
  postOnly: true,
  asyncCancel: true,
  cancel: true,
  cancelableOrderTypes: ['market', 'limit'],
  clientOrderId: { kind: 'string', maxLength: 36 },
  refusesReusedClientOrderId: false,
  cancelByClientOrderId: false,
  orderUpdates: 'stream',
  absenceProofMs: 1_000,
};
const used = new Set(['OLD1']);
const ctx = (over: Partial<NewOrderContext> = {}): NewOrderContext => ({
  instruments: new Map([['BTCUSDT', BTC]]),
  capabilities: caps,
  knownClOrdId: (id) => used.has(id),
  ...over,
});
const LIMIT = { 35: 'D', 11: 'N1', 21: '1', 55: 'BTCUSDT', 54: '1', 60: '20240101-00:00:00', 38: '0.5', 40: '2', 44: '60000.01', 59: '1' };
const MARKET = { 35: 'D', 11: 'M1', 21: '1', 55: 'BTCUSDT', 54: '2', 60: '20240101-00:00:00', 38: '0.01', 40: '1' };

function rejected(fields: Record<number, string | undefined>, c: NewOrderContext = ctx()) {
  const r = validateNewOrder(msg(fields), c);
  if (r.ok) throw new Error('expected a reject');
  return [r.ordRejReason, r.text];
}

describe('validateNewOrder: accepted orders', () => {
  it('accepts a GTC limit order and normalizes its numbers', () => {
    const r = validateNewOrder(msg({ ...LIMIT, 1: 'ACC', 38: '0.5000', 44: '60000.010' }), ctx());
    expect(r).toEqual({
      ok: true,
      request: { symbol: 'BTCUSDT', side: 'buy', type: 'limit', quantity: '0.5', price: '60000.01', timeInForce: 'GTC' },
      fixTif: '1',
      order: { clOrdId: 'N1', account: 'ACC', symbol: 'BTCUSDT', side: '1', ordType: '2', timeInForce: '1', orderQty: '0.5', price: '60000.01' },
    });
  });

  it('accepts a market order without 59 as IOC', () => {
    const r = validateNewOrder(msg(MARKET), ctx());
    expect(r).toMatchObject({ ok: true, request: { side: 'sell', type: 'market', quantity: '0.01', timeInForce: 'IOC' }, fixTif: '3' });
    expect(r.ok && r.request.price).toBeUndefined();
  });

  it('falls back to FOK for a market order without 59 when the venue has no IOC', () => {
    const r = validateNewOrder(msg(MARKET), ctx({ capabilities: { ...caps, timeInForce: { limit: ['GTC'], market: ['FOK'] } } }));
    expect(r).toMatchObject({ ok: true, request: { timeInForce: 'FOK' }, fixTif: '4' });
  });

  it('maps 59=3 and 59=4 to IOC and FOK', () => {
    expect(validateNewOrder(msg({ ...LIMIT, 59: '3' }), ctx())).toMatchObject({ ok: true, request: { timeInForce: 'IOC' } });
    expect(validateNewOrder(msg({ ...LIMIT, 59: '4' }), ctx())).toMatchObject({ ok: true, request: { timeInForce: 'FOK' } });
  });

  it('uses the configured substitute for Day when the venue has no DAY', () => {
    const r = validateNewOrder(msg({ ...LIMIT, 59: '0' }), ctx({ dayTimeInForce: 'GTC' }));
    expect(r).toMatchObject({ ok: true, request: { timeInForce: 'GTC' }, fixTif: '1' });
    const absent = validateNewOrder(msg({ ...LIMIT, 59: undefined }), ctx({ dayTimeInForce: 'GTC' }));
    expect(absent).toMatchObject({ ok: true, request: { timeInForce: 'GTC' } });
  });

  it('accepts Day where the venue lists it', () => {
    const c = ctx({ capabilities: { ...caps, timeInForce: { limit: ['DAY', 'GTC'], market: ['IOC'] } } });
    expect(validateNewOrder(msg({ ...LIMIT, 59: undefined }), c)).toMatchObject({ ok: true, request: { timeInForce: 'DAY' }, fixTif: '0' });
  });

  it('turns ExecInst 6 into postOnly', () => {
    expect(validateNewOrder(msg({ ...LIMIT, 18: '6' }), ctx())).toMatchObject({ ok: true, request: { postOnly: true } });
  });

  it('accepts a quantity at exactly the minimum and a long-decimal multiple of the step', () => {
    expect(validateNewOrder(msg({ ...LIMIT, 38: '0.001', 44: '10000' }), ctx()).ok).toBe(true);
    expect(validateNewOrder(msg({ ...LIMIT, 38: '12.3456' }), ctx()).ok).toBe(true);
  });
});

describe('validateNewOrder: rejects, each with its 103 and Text', () => {
  it.each([
    [{ 11: undefined }, '0', 'Missing ClOrdID(11)'],
    [{ 21: undefined }, '0', 'Missing HandlInst(21)'],
    [{ 55: undefined }, '0', 'Missing Symbol(55)'],
    [{ 54: undefined }, '0', 'Missing Side(54)'],
    [{ 38: undefined }, '0', 'Missing OrderQty(38)'],
    [{ 38: undefined, 152: '1000' }, '0', 'CashOrderQty(152) not supported; send OrderQty(38)'],
    [{ 40: undefined }, '0', 'Missing OrdType(40)'],
    [{ 44: undefined }, '0', 'Missing Price(44) for a limit order'],
    [{ 11: 'x'.repeat(65) }, '0', 'ClOrdID(11) is 65 characters long, the limit is 64'],
    [{ 11: 'OLD1' }, '6', 'Duplicate ClOrdID OLD1'],
    [{ 21: '3' }, '0', 'HandlInst 3 (manual order) not supported'],
    [{ 55: 'DOGEUSDT' }, '1', 'Unknown symbol DOGEUSDT'],
    [{ 54: '5' }, '0', 'Side 5 not supported'],
    [{ 40: '3' }, '0', 'OrdType 3 not supported'],
    [{ 38: '1e-3' }, '0', 'OrderQty 1e-3 is not a valid quantity'],
    [{ 38: '+1' }, '0', 'OrderQty +1 is not a valid quantity'],
    [{ 38: '0' }, '0', 'OrderQty 0 must be greater than 0'],
    [{ 38: '-1' }, '0', 'OrderQty -1 must be greater than 0'],
    [{ 38: '0.00015' }, '0', 'OrderQty 0.00015 is not a multiple of step size 0.0001 for BTCUSDT'],
    [{ 38: '0.0005' }, '0', 'OrderQty 0.0005 is below the minimum quantity 0.001 for BTCUSDT'],
    [{ 38: '100.0001' }, '3', 'OrderQty 100.0001 is above the maximum quantity 100 for BTCUSDT'],
    [{ 44: '60000.005' }, '0', 'Price 60000.005 is not a multiple of tick size 0.01 for BTCUSDT'],
    [{ 44: '0' }, '0', 'Price 0 must be greater than 0'],
    [{ 44: '6e4' }, '0', 'Price 6e4 is not a valid price'],
    [{ 38: '0.001', 44: '9999.99' }, '0', 'Notional 9.99999 (OrderQty 0.001 x Price 9999.99) is below the minimum notional 10 for BTCUSDT'],
    [{ 59: '0' }, '0', 'TimeInForce 0 (Day) not supported by the venue for limit orders (supported: GTC, IOC, FOK)'],
    [{ 59: undefined }, '0', 'TimeInForce absent (Day) not supported by the venue for limit orders (supported: GTC, IOC, FOK)'],
    [{ 59: '6' }, '0', 'TimeInForce 6 (GTD) not supported by the venue for limit orders (supported: GTC, IOC, FOK)'],
    [{ 59: '2' }, '0', 'TimeInForce 2 (At the opening) not supported'],
    [{ 18: '1' }, '0', 'ExecInst 1 not supported'],
    [{ 18: '6', 59: '3' }, '0', "ExecInst 6 (participate don't initiate) cannot be combined with TimeInForce 3"],
  ])('limit order with %j → 103=%s', (over, reason, text) => {
    expect(rejected({ ...LIMIT, ...over })).toEqual([reason, text]);
  });

  it('rejects a price on a market order', () => {
    expect(rejected({ ...MARKET, 44: '100' })).toEqual(['0', 'Price(44) not allowed on a market order']);
  });

  it('rejects an order type the venue lacks', () => {
    const c = ctx({ capabilities: { ...caps, orderTypes: ['limit'] } });
    expect(rejected(MARKET, c)).toEqual(['0', 'OrdType 1 (market) not supported by the venue']);
  });

  it('rejects post-only where the venue has none, and on market orders', () => {
    expect(rejected({ ...LIMIT, 18: '6' }, ctx({ capabilities: { ...caps, postOnly: false } }))).toEqual([
      '0',
      "ExecInst 6 (participate don't initiate) not supported by the venue",
    ]);
    expect(rejected({ ...MARKET, 18: '6' })).toEqual(['0', "ExecInst 6 (participate don't initiate) requires a limit order"]);
  });

  it('rejects a market order without 59 when the venue has neither IOC nor FOK for it', () => {
    const c = ctx({ capabilities: { ...caps, timeInForce: { limit: ['GTC'], market: ['GTC'] } } });
    expect(rejected(MARKET, c)).toEqual(['0', 'TimeInForce(59) absent and the venue has neither IOC nor FOK for market orders']);
  });
});

describe('validateCancel', () => {
  const order: GatewayOrder = { ...createOrder({ clOrdId: 'C1', venueClientOrderId: 'v-1', symbol: 'BTCUSDT', side: '1', ordType: '2', timeInForce: '1', orderQty: '1', price: '1' }, 0), status: '0', acked: true, venueOrderId: '77' };
  const cxl = (over: Record<number, string | undefined> = {}) => msg({ 35: 'F', 11: 'X1', 41: 'C1', 55: 'BTCUSDT', 54: '1', 60: '20240101-00:00:00', ...over });
  const c = { capabilities: caps, knownClOrdId: (id: string) => id === 'C1' };

  it('accepts a cancel of a live order', () => {
    expect(validateCancel(cxl(), order, c)).toEqual({ ok: true, clOrdId: 'X1', origClOrdId: 'C1' });
  });

  it('rejects an unknown order with 102=1, 39=8 and 37=NONE', () => {
    expect(validateCancel(cxl({ 41: 'ZZ' }), undefined, c)).toEqual({
      ok: false,
      cxlRejReason: '1',
      text: 'Unknown order ZZ',
      clOrdId: 'X1',
      origClOrdId: 'ZZ',
      ordStatus: '8',
      orderId: 'NONE',
    });
  });

  it('rejects a cancel of a terminal order as too late (102=0)', () => {
    expect(validateCancel(cxl(), { ...order, status: '2' }, c)).toMatchObject({ cxlRejReason: '0', text: 'Too late to cancel: order C1 is filled', ordStatus: '2', orderId: '77' });
  });

  it('rejects a second cancel while one is pending (102=3)', () => {
    expect(validateCancel(cxl({ 11: 'X2' }), beginCancel(order, 'X1'), c)).toMatchObject({
      cxlRejReason: '3',
      text: 'Order C1 already has a cancel pending (ClOrdID X1)',
    });
  });

  it('rejects when the venue cannot cancel (102=2)', () => {
    expect(validateCancel(cxl(), order, { capabilities: { ...caps, cancel: false } })).toMatchObject({ cxlRejReason: '2', text: 'The venue cannot cancel orders' });
  });

  it('rejects a reused ClOrdID and a symbol or side that does not match the order', () => {
    expect(validateCancel(cxl({ 11: 'C1' }), order, c)).toMatchObject({ cxlRejReason: '2', text: 'Duplicate ClOrdID C1' });
    expect(validateCancel(cxl({ 55: 'ETHUSDT' }), order, c)).toMatchObject({ cxlRejReason: '1', text: 'Symbol ETHUSDT does not match order C1 (BTCUSDT)' });
    expect(validateCancel(cxl({ 54: '2' }), order, c)).toMatchObject({ cxlRejReason: '1' });
  });
});

describe('venueClientOrderIdFor', () => {
  it('is short, [A-Za-z0-9-] only, and distinct per counter', () => {
    const ids = new Set<string>();
    for (let n = 1_700_000_000_000; n < 1_700_000_001_000; n++) ids.add(venueClientOrderIdFor('GW1_BANZAI', n, 20));
    expect(ids.size).toBe(1000);
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9-]+$/);
      expect(id.length).toBeLessThanOrEqual(20);
    }
    expect(venueClientOrderIdFor('GW1', 1_700_000_000_000)).toBe('GW1-loyw3v28');
  });

  it('shortens the prefix to fit and drops it when there is no room', () => {
    expect(venueClientOrderIdFor('ABCDEFGHIJ', 35, 5)).toBe('ABC-z');
    expect(venueClientOrderIdFor('ABC', 36 ** 3, 4)).toBe('1000');
    expect(() => venueClientOrderIdFor('A', 36 ** 5, 4)).toThrow();
  });
});

describe('placeRequestFor', () => {
  it.each([
    ['a GTC limit', LIMIT],
    ['a post-only limit', { ...LIMIT, 18: '6' }],
    ['a market order without TimeInForce', { ...LIMIT, 40: '1', 44: undefined, 59: undefined }],
  ])('rebuilds exactly the create validateNewOrder made (%s)', (_what, fields) => {
    const v = validateNewOrder(msg(fields), ctx());
    if (!v.ok) throw new Error(v.text);
    const order = createOrder({ ...v.order, venueClientOrderId: 'p-1' }, 1);
    expect(placeRequestFor(order)).toEqual({ ...v.request, clientOrderId: 'p-1' });
  });
});
