import { EngineEvent, MatchingEngine, PlaceOrderInput, SimOrder } from '../../../src/venues/sim/matching-engine';
import { SimInstrument } from '../../../src/venues/sim/simulator';

const BTC: SimInstrument = {
  symbol: 'BTCUSDT',
  tickSize: '0.01',
  stepSize: '0.00001',
  minQty: '0.00001',
  referencePrice: '60000',
  liquidity: { depth: 3, levelQty: '1', spreadTicks: 10 },
};
const ETH: SimInstrument = { symbol: 'ETHUSDT', tickSize: '0.01', stepSize: '0.0001', minQty: '0.0001', minNotional: '5', referencePrice: '3000' };

function setup(fillSlices = 1) {
  let now = 1_700_000_000_000;
  const engine = new MatchingEngine({ instruments: [BTC, ETH], fillSlices, clock: () => now, firstId: '1000000000000000000' });
  const events: EngineEvent[] = [];
  engine.onEvent((e) => events.push(e));
  const tick = (ms = 1) => (now += ms);
  return { engine, events, tick };
}

function order(over: Partial<PlaceOrderInput> = {}): PlaceOrderInput {
  return {
    account: 'A',
    clientOrderId: 'c1',
    symbol: 'BTCUSDT',
    side: 'buy',
    type: 'limit',
    qty: '0.5',
    price: '59000',
    timeInForce: 'GTC',
    ...over,
  };
}

function placed(engine: MatchingEngine, input: PlaceOrderInput): SimOrder {
  const r = engine.place(input);
  if (!r.ok) throw new Error(`refused: ${r.failure.kind}`);
  return r.order;
}

describe('MatchingEngine', () => {
  test('a limit order that does not cross rests as new and is listed as open', () => {
    const { engine, events } = setup();
    const o = placed(engine, order());
    expect(o).toMatchObject({ status: 'new', resting: true, cumQty: '0', leavesQty: '0.5', avgPrice: '0', price: '59000' });
    expect(o.orderId).toMatch(/^\d{19}$/);
    expect(events.map((e) => e.type)).toEqual(['accepted']);
    expect(engine.openOrders('A').map((x) => x.orderId)).toEqual([o.orderId]);
    expect(engine.get('A', { clientOrderId: 'c1' })?.orderId).toBe(o.orderId);
  });

  test('order ids are 19-digit strings, unique and increasing', () => {
    const { engine } = setup();
    const ids = [1, 2, 3].map((i) => placed(engine, order({ clientOrderId: `c${i}` })).orderId);
    expect(new Set(ids).size).toBe(3);
    expect(ids.every((id) => /^\d{19}$/.test(id))).toBe(true);
    expect([...ids].sort()).toEqual(ids);
  });

  test('a crossing order takes level by level, one fill per level at the level price', () => {
    const { engine, events } = setup();
    // Asks at 60000.10, 60000.20, 60000.30, each 1 BTC deep.
    const o = placed(engine, order({ qty: '2.5', price: '60000.30' }));
    const fills = events.flatMap((e) => (e.type === 'fill' ? [e.fill] : []));
    expect(fills.map((f) => [f.qty, f.price])).toEqual([
      ['1', '60000.1'],
      ['1', '60000.2'],
      ['0.5', '60000.3'],
    ]);
    expect(events.map((e) => e.type === 'fill' && e.order.status)).toEqual([false, 'partially_filled', 'partially_filled', 'filled']);
    expect(o).toMatchObject({ status: 'filled', cumQty: '2.5', cumQuote: '150000.45', avgPrice: '60000.18', resting: false });
    expect(new Set(fills.map((f) => f.tradeId)).size).toBe(3);
    expect(fills.every((f) => f.tradeId !== f.execId && !f.isMaker)).toBe(true);
    // Taker buy pays 0.1% in base.
    expect(fills.map((f) => [f.fee, f.feeAsset])).toEqual([
      ['0.001', 'BTC'],
      ['0.001', 'BTC'],
      ['0.0005', 'BTC'],
    ]);
    expect(engine.fills(o.orderId)).toEqual(fills);
  });

  test('a limit order takes only levels within its price and rests the remainder', () => {
    const { engine, events } = setup();
    const o = placed(engine, order({ qty: '3', price: '60000.20' }));
    expect(o).toMatchObject({ status: 'partially_filled', cumQty: '2', leavesQty: '1', resting: true });
    expect(events.map((e) => e.type)).toEqual(['accepted', 'fill', 'fill']);
    expect(engine.openOrders('A')).toHaveLength(1);
  });

  test('levels replenish after each order', () => {
    const { engine } = setup();
    placed(engine, order({ clientOrderId: 'a', qty: '1', price: '60000.10' }));
    const second = placed(engine, order({ clientOrderId: 'b', qty: '1', price: '60000.10' }));
    expect(second).toMatchObject({ status: 'filled', avgPrice: '60000.1' });
  });

  test('fillSlices splits every taker fill into equal step-aligned executions', () => {
    const { engine, events } = setup(3);
    placed(engine, order({ qty: '0.3', price: '60000.10' }));
    const fills = events.flatMap((e) => (e.type === 'fill' ? [e.fill] : []));
    expect(fills.map((f) => [f.qty, f.price])).toEqual([
      ['0.1', '60000.1'],
      ['0.1', '60000.1'],
      ['0.1', '60000.1'],
    ]);
    // Not divisible: the last slice takes the remainder.
    events.length = 0;
    engine.configure({ fillSlices: 3 });
    placed(engine, order({ clientOrderId: 'c2', qty: '0.00010', price: '60000.10' }));
    expect(events.flatMap((e) => (e.type === 'fill' ? [e.fill.qty] : []))).toEqual(['0.00003', '0.00003', '0.00004']);
  });

  test('an external trade fills a resting order partially, then fully, at the resting price', () => {
    const { engine, events, tick } = setup();
    const o = placed(engine, order({ side: 'sell', qty: '1', price: '60100' }));
    events.length = 0;
    tick();
    expect(engine.trade('BTCUSDT', 'buy', '0.4', '60100')).toHaveLength(1);
    expect(engine.get('A', { orderId: o.orderId })).toMatchObject({ status: 'partially_filled', cumQty: '0.4', leavesQty: '0.6', resting: true });
    tick();
    const fills = engine.trade('BTCUSDT', 'buy', '5', '61000');
    expect(fills.map((f) => [f.qty, f.price, f.isMaker])).toEqual([['0.6', '60100', true]]);
    expect(engine.get('A', { orderId: o.orderId })).toMatchObject({ status: 'filled', cumQty: '1', leavesQty: '0', resting: false });
    expect(engine.openOrders('A')).toEqual([]);
    // Maker sell pays 0.05% in quote.
    expect(fills[0]).toMatchObject({ fee: '18.03', feeAsset: 'USDT' });
    expect(events.map((e) => (e.type === 'fill' ? e.order.status : e.type))).toEqual(['partially_filled', 'filled']);
  });

  test('external trades respect price-time priority and the taker limit', () => {
    const { engine, tick } = setup();
    const a = placed(engine, order({ clientOrderId: 'a', qty: '1', price: '59000' }));
    tick();
    const b = placed(engine, order({ clientOrderId: 'b', qty: '1', price: '59500' }));
    tick();
    const c = placed(engine, order({ clientOrderId: 'c', qty: '1', price: '59500' }));
    const fills = engine.trade('BTCUSDT', 'sell', '2.5', '59200');
    expect(fills.map((f) => [f.orderId, f.qty, f.price])).toEqual([
      [b.orderId, '1', '59500'],
      [c.orderId, '1', '59500'],
    ]);
    expect(engine.get('A', { orderId: a.orderId })?.cumQty).toBe('0');
  });

  test('IOC remainder expires after taking what it can', () => {
    const { engine, events } = setup();
    const o = placed(engine, order({ type: 'market', qty: '5', price: undefined, timeInForce: 'IOC' }));
    expect(o).toMatchObject({ status: 'expired', cumQty: '3', leavesQty: '0', resting: false });
    expect(events.map((e) => e.type)).toEqual(['accepted', 'fill', 'fill', 'fill', 'expired']);
  });

  test('an IOC limit that cannot take anything expires with no fills', () => {
    const { engine, events } = setup();
    const o = placed(engine, order({ timeInForce: 'IOC' }));
    expect(o).toMatchObject({ status: 'expired', cumQty: '0' });
    expect(events.map((e) => e.type)).toEqual(['accepted', 'expired']);
  });

  test('FOK that cannot fill fully is rejected with no fills; one that can, fills', () => {
    const { engine, events } = setup();
    const o = placed(engine, order({ clientOrderId: 'f1', qty: '2.5', price: '60000.20', timeInForce: 'FOK' }));
    expect(o).toMatchObject({ status: 'rejected', rejectReason: 'fok_not_fillable', cumQty: '0' });
    expect(events.map((e) => e.type)).toEqual(['rejected']);
    const ok = placed(engine, order({ clientOrderId: 'f2', qty: '2', price: '60000.20', timeInForce: 'FOK' }));
    expect(ok).toMatchObject({ status: 'filled', cumQty: '2' });
  });

  test('post-only that would take is rejected; one that would not, rests', () => {
    const { engine, events } = setup();
    const taking = placed(engine, order({ clientOrderId: 'p1', price: '60000.10', postOnly: true }));
    expect(taking).toMatchObject({ status: 'rejected', rejectReason: 'post_only_would_take' });
    expect(events.map((e) => e.type)).toEqual(['rejected']);
    const resting = placed(engine, order({ clientOrderId: 'p2', price: '60000.00', postOnly: true }));
    expect(resting).toMatchObject({ status: 'new', resting: true, postOnly: true });
  });

  test('cancel takes a resting order off the book; a terminal or unknown one cannot be canceled', () => {
    const { engine, events } = setup();
    const o = placed(engine, order());
    engine.trade('BTCUSDT', 'sell', '0.2');
    events.length = 0;
    const r = engine.cancel('A', { clientOrderId: 'c1' });
    expect(r).toMatchObject({ ok: true, previousStatus: 'partially_filled', order: { status: 'canceled', cumQty: '0.2', leavesQty: '0' } });
    expect(events.map((e) => e.type)).toEqual(['canceled']);
    expect(engine.openOrders('A')).toEqual([]);
    expect(engine.trade('BTCUSDT', 'sell', '1')).toEqual([]);
    expect(engine.cancel('A', { orderId: o.orderId })).toMatchObject({ ok: false, reason: 'too_late' });
    expect(engine.cancel('A', { orderId: '1' })).toEqual({ ok: false, reason: 'not_found' });
  });

  test('accounts are isolated', () => {
    const { engine } = setup();
    const o = placed(engine, order());
    expect(engine.get('B', { orderId: o.orderId })).toBeUndefined();
    expect(engine.get('B', { clientOrderId: 'c1' })).toBeUndefined();
    expect(engine.cancel('B', { orderId: o.orderId })).toEqual({ ok: false, reason: 'not_found' });
    expect(engine.openOrders('B')).toEqual([]);
    expect(engine.findByClientOrderId('A', 'c1')?.orderId).toBe(o.orderId);
    expect(engine.findByClientOrderId('B', 'c1')).toBeUndefined();
  });

  test('quantities add up exactly (0.1 + 0.2 = 0.3)', () => {
    const { engine } = setup();
    const o = placed(engine, order({ qty: '0.3', price: '59000' }));
    engine.trade('BTCUSDT', 'sell', '0.1');
    engine.trade('BTCUSDT', 'sell', '0.2');
    const after = engine.get('A', { orderId: o.orderId })!;
    expect(after).toMatchObject({ status: 'filled', cumQty: '0.3', cumQuote: '17700', avgPrice: '59000' });
    expect(engine.fills(o.orderId).map((f) => f.fee)).toEqual(['0.00005', '0.0001']);
  });

  test('tiny fees print as plain decimals, never in exponent notation', () => {
    const { engine } = setup();
    placed(engine, order({ qty: '0.00001', price: '60000.10' }));
    expect(engine.accountFills('A')[0].fee).toBe('0.00000001');
  });

  test('market orders sized in quote spend at most the amount, step aligned', () => {
    const { engine } = setup();
    const o = placed(engine, order({ type: 'market', qty: undefined, quoteQty: '100', price: undefined, timeInForce: 'IOC' }));
    // 100 / 60000.10 = 0.001666… -> 0.00166 BTC
    expect(o).toMatchObject({ status: 'filled', qty: '0', quoteQty: '100', cumQty: '0.00166', cumQuote: '99.600166' });
  });

  test('invalid orders are refused before they exist', () => {
    const { engine, events } = setup();
    const refused = (over: Partial<PlaceOrderInput>) => {
      const r = engine.place(order(over));
      return r.ok ? 'accepted' : r.failure.kind;
    };
    expect(refused({ symbol: 'XYZUSDT' })).toBe('unknown_symbol');
    expect(refused({ price: undefined })).toBe('missing_price');
    expect(refused({ price: '-1' })).toBe('invalid_price');
    expect(refused({ price: '1e3' })).toBe('invalid_price');
    expect(refused({ price: '59000.001' })).toBe('price_tick');
    expect(refused({ qty: '0.000001' })).toBe('qty_step');
    expect(refused({ qty: 'abc' })).toBe('invalid_qty');
    expect(refused({ symbol: 'ETHUSDT', qty: '0.001', price: '3000' })).toBe('min_notional');
    expect(events).toEqual([]);
    expect(engine.allOrders()).toEqual([]);
  });

  test('allOrders lists every order with its fills, rejected ones included', () => {
    const { engine } = setup();
    placed(engine, order({ clientOrderId: 'x', qty: '1', price: '60000.10' }));
    placed(engine, order({ clientOrderId: 'y', price: '60000.10', postOnly: true }));
    const all = engine.allOrders();
    expect(all.map((o) => [o.clientOrderId, o.status, o.fills.length])).toEqual([
      ['x', 'filled', 1],
      ['y', 'rejected', 0],
    ]);
  });

  test('beyond maxFinishedOrders the oldest finished orders are forgotten; resting ones are kept', () => {
    const engine = new MatchingEngine({ instruments: [BTC], maxFinishedOrders: 2 });
    const resting = placed(engine, order({ clientOrderId: 'rest' }));
    const done = ['f1', 'f2', 'f3'].map((id) => placed(engine, order({ clientOrderId: id, qty: '0.1', price: '60000.10' })));
    expect(engine.get('A', { orderId: done[0].orderId })).toBeUndefined();
    expect(engine.findByClientOrderId('A', 'f1')).toBeUndefined();
    expect(engine.accountFills('A').map((f) => f.clientOrderId)).toEqual(['f2', 'f3']);
    expect(engine.allOrders().map((o) => o.clientOrderId)).toEqual(['rest', 'f2', 'f3']);
    expect(engine.get('A', { orderId: resting.orderId })?.status).toBe('new');
  });

  test('configure changes liquidity and reference price, and refuses bad settings', () => {
    const { engine } = setup();
    engine.configure({ liquidity: { BTCUSDT: { depth: 1, levelQty: '0.1' } }, referencePrices: { BTCUSDT: '50000' } });
    const o = placed(engine, order({ type: 'market', qty: '1', price: undefined, timeInForce: 'IOC' }));
    expect(o).toMatchObject({ status: 'expired', cumQty: '0.1', avgPrice: '50000.1' });
    expect(() => engine.configure({ fillSlices: 0 })).toThrow(/fillSlices/);
    expect(() => engine.configure({ liquidity: { NOPE: { depth: 1 } } })).toThrow(/unknown symbol/);
  });
});
