// Coinut mapping: pure, exact decimals, message shapes as coinut.md quotes them.

import {
  CoinutInstrumentMap,
  coinutMessages,
  coinutRejectReason,
  errorForStatus,
  instrumentsFromInstList,
  microsToMs,
  orderEventFrom,
  orderFromNewOrderReply,
  orderFromOpenOrder,
  orderFromTrades,
  openOrderRows,
  parseClientOrdId,
  parseCoinutJson,
  toInstrument,
  tradesFromHistory,
  withFills,
} from '../../../src/venues/coinut/coinut-mapping';
import { AuthenticationFailed, OrderNotFound, OrderRejected } from '../../../src/venues/venue';

const NOW = 1_700_000_000_000;

const filled = (transId: number, qty: string, price: string, openQty: string, extra: object = {}) => ({
  commission: { amount: '0.0000' + transId, currency: 'BTC' },
  fill_price: price,
  fill_qty: qty,
  nonce: 956475,
  order: { client_ord_id: 1345, inst_id: 1, open_qty: openQty, order_id: 39, price: '60001', qty: '3', side: 'BUY', timestamp: 1482903034617491 },
  reply: 'order_filled',
  status: ['OK'],
  timestamp: 1482903034617491 + transId,
  trans_id: transId,
  ...extra,
});

describe('Coinut mapping', () => {
  it('parses frames: one object or an array; decimals stay text, µs times survive', () => {
    const frame = parseCoinutJson('[{"reply":"order_filled","fill_price":0.10,"timestamp":1482903034617491},{"reply":"hb"}]');
    const msgs = coinutMessages(frame);
    expect(msgs).toHaveLength(2);
    expect(msgs[0].fill_price).toBe('0.10');
    expect(microsToMs(msgs[0].timestamp)).toBe(1482903034617);
    expect(coinutMessages(parseCoinutJson('{"reply":"hb","nonce":5}'))).toEqual([{ reply: 'hb', nonce: 5 }]);
  });

  it('inst_list → instruments: name as FIX Symbol, inst_id both ways, tick from decimal_places', () => {
    const reply = {
      SPOT: {
        LTCBTC: [{ base: 'LTC', quote: 'BTC', inst_id: 1, decimal_places: 5 }],
        BTCUSDT: [{ base: 'BTC', quote: 'USDT', inst_id: 490589, decimal_places: 2 }],
        ETHBTC: [{ base: 'ETH', quote: 'BTC', inst_id: 5 }], // no precision: skipped
      },
      reply: 'inst_list',
      status: ['OK'],
    };
    const list = instrumentsFromInstList(reply);
    expect(list).toEqual([
      { symbol: 'LTCBTC', instId: 1, base: 'LTC', quote: 'BTC', decimalPlaces: 5 },
      { symbol: 'BTCUSDT', instId: 490589, base: 'BTC', quote: 'USDT', decimalPlaces: 2 },
    ]);
    expect(list.map(toInstrument)).toEqual([
      { symbol: 'LTCBTC', tickSize: '0.00001', stepSize: '0.00000001' },
      { symbol: 'BTCUSDT', tickSize: '0.01', stepSize: '0.00000001' },
    ]);
    const map = new CoinutInstrumentMap(list);
    expect(map.instId('BTCUSDT')).toBe(490589);
    expect(map.symbol(490589)).toBe('BTCUSDT');
    expect(map.symbol('1')).toBe('LTCBTC');
    expect(map.instId('XRPUSDT')).toBeUndefined();
  });

  it('client order ids: integers 1..16777215 as canonical decimal text only', () => {
    expect(parseClientOrdId('1')).toBe(1);
    expect(parseClientOrdId('16777215')).toBe(16_777_215);
    for (const bad of ['0', '16777216', '01', '1.0', '-1', 'GW-1', '', '99999999']) expect(parseClientOrdId(bad)).toBeUndefined();
  });

  it('order_accepted → acknowledged (no timestamp: received time), ids as text', () => {
    const e = orderEventFrom(
      {
        nonce: 956475,
        status: ['OK'],
        order_id: 1,
        open_qty: '0.01',
        inst_id: 1,
        qty: '0.01',
        client_ord_id: 1345,
        order_price: '750.581',
        reply: 'order_accepted',
        side: 'SELL',
        trans_id: 127303,
      },
      NOW,
    );
    expect(e).toEqual({ kind: 'acknowledged', clientOrderId: '1345', venueOrderId: '1', rawStatus: 'order_accepted', time: NOW, cumQty: '0', source: 'stream' });
  });

  it('order_filled → one fill at its own price, commission kept, fill id = trans_id, cumQty from open_qty', () => {
    const e = orderEventFrom(filled(127304, '1.25', '60000.01', '1.75'), NOW);
    expect(e).toEqual({
      kind: 'fill',
      clientOrderId: '1345',
      venueOrderId: '39',
      rawStatus: 'order_filled',
      time: 1482903034744,
      cumQty: '1.25',
      source: 'stream',
      fill: { fillId: '127304', qty: '1.25', price: '60000.01', fee: '0.0000127304', feeAsset: 'BTC', time: 1482903034744 },
    });
  });

  it('order_rejected with reasons → rejected with text and reason; after fills → expired', () => {
    const rejected = {
      nonce: 1,
      status: ['OK'],
      order_id: 7,
      open_qty: '0.5',
      price: '750.581',
      inst_id: 1,
      reasons: ['NOT_ENOUGH_BALANCE'],
      client_ord_id: 12,
      timestamp: 1482903034617491,
      reply: 'order_rejected',
      qty: '0.5',
      side: 'BUY',
      trans_id: 9,
    };
    expect(orderEventFrom(rejected, NOW)).toEqual({
      kind: 'rejected',
      clientOrderId: '12',
      venueOrderId: '7',
      rawStatus: 'order_rejected',
      time: 1482903034617,
      cumQty: '0',
      source: 'stream',
      code: 'NOT_ENOUGH_BALANCE',
      text: 'NOT_ENOUGH_BALANCE',
      reason: 'insufficient_funds',
    });
    // A market order's unfilled rest after 0.3 filled: the order ends partly filled.
    const rest = orderEventFrom({ ...rejected, open_qty: '0.2', reasons: ['NOT_ENOUGH_LIQUIDTY'] }, NOW);
    expect(rest).toMatchObject({ kind: 'expired', cumQty: '0.3', rawStatus: 'order_rejected NOT_ENOUGH_LIQUIDTY' });
  });

  it('reject reasons: both liquidity spellings, unknown words are other', () => {
    expect(coinutRejectReason(['NOT_ENOUGH_BALANCE'])).toBe('insufficient_funds');
    expect(coinutRejectReason(['NOT_ENOUGH_LIQUIDTY'])).toBe('other');
    expect(coinutRejectReason(['NOT_ENOUGH_LIQUIDITY'])).toBe('other');
    expect(coinutRejectReason(['INVALID_INSTRUMENT'])).toBe('unknown_symbol');
    expect(coinutRejectReason(['INVALID_PRICE'])).toBe('invalid_order');
    expect(coinutRejectReason(['SOMETHING_NEW'])).toBe('other');
  });

  it('a new_order reply of three fills → filled, exact average of the fills at their own prices', () => {
    const msgs = [filled(1, '1', '60000.01', '3'), filled(2, '1', '60000.02', '2'), filled(3, '2', '60000.04', '0')];
    const o = orderFromNewOrderReply({ clientOrderId: '1345', symbol: 'BTCUSDT', side: 'buy', type: 'limit', quantity: '4', price: '60001' }, msgs, NOW)!;
    // (60000.01 + 60000.02 + 2 × 60000.04) / 4, exactly.
    expect(o).toMatchObject({ venueOrderId: '39', status: 'filled', filledQty: '4', avgPrice: '60000.0275', timeInForce: 'GTC' });
    expect(o.fills!.map((f) => [f.fillId, f.qty, f.price])).toEqual([
      ['1', '1', '60000.01'],
      ['2', '1', '60000.02'],
      ['3', '2', '60000.04'],
    ]);
  });

  it('a new_order reply: fill then order_accepted → partially filled and resting; market rest rejected → expired', () => {
    const accepted = { nonce: 1, status: ['OK'], order_id: 39, open_qty: '2', inst_id: 1, qty: '3', client_ord_id: 1345, order_price: '60001', reply: 'order_accepted', side: 'BUY', trans_id: 5 };
    const req = { clientOrderId: '1345', symbol: 'BTCUSDT', side: 'buy' as const, type: 'limit' as const, quantity: '3', price: '60001' };
    expect(orderFromNewOrderReply(req, [filled(4, '1', '60000.01', '2'), accepted], NOW)).toMatchObject({ status: 'partially_filled', filledQty: '1' });
    expect(orderFromNewOrderReply(req, [accepted], NOW)).toMatchObject({ status: 'new', filledQty: '0', fills: [] });
    const rest = { reply: 'order_rejected', status: ['OK'], order_id: 39, open_qty: '2', qty: '3', client_ord_id: 1345, reasons: ['NOT_ENOUGH_LIQUIDTY'], side: 'BUY' };
    const market = { ...req, type: 'market' as const, price: undefined };
    expect(orderFromNewOrderReply(market, [filled(4, '1', '60000.01', '2'), rest], NOW)).toMatchObject({ status: 'expired', filledQty: '1', timeInForce: 'IOC' });
    expect(orderFromNewOrderReply(market, [{ ...rest, open_qty: '3' }], NOW)).toMatchObject({ status: 'rejected', rejectCode: 'NOT_ENOUGH_LIQUIDTY' });
    expect(orderFromNewOrderReply(req, [{ reply: 'hb' }], NOW)).toBeUndefined();
  });

  it('user_open_orders rows and trade_history → VenueOrder with fills; absent orders rebuilt from trades', () => {
    const open = openOrderRows({
      orders: [{ order_id: 39, open_qty: '2', price: '60001', inst_id: 1, client_ord_id: 1345, timestamp: 1482903034617491, qty: '3', side: 'SELL' }],
      reply: 'user_open_orders',
    });
    const o = orderFromOpenOrder(open[0], 'BTCUSDT');
    expect(o).toEqual({
      clientOrderId: '1345',
      venueOrderId: '39',
      symbol: 'BTCUSDT',
      side: 'sell',
      type: 'limit',
      quantity: '3',
      price: '60001',
      timeInForce: 'GTC',
      status: 'partially_filled',
      rawStatus: 'user_open_orders',
      filledQty: '1',
      updateTime: 1482903034617,
    });
    const history = { trades: [filled(8, '0.5', '60001', '2.5'), filled(9, '0.5', '60001', '2')].reverse(), reply: 'trade_history', total_number: 2 };
    const trades = tradesFromHistory(history);
    expect(trades[0]).toMatchObject({ venueOrderId: '39', clientOrderId: '1345', instId: 1, orderQty: '3', openQtyAfter: '2' });
    expect(withFills(o, trades).fills!.map((f) => f.fillId)).toEqual(['8', '9']);
    expect(orderFromTrades(trades, 'BTCUSDT', '')).toMatchObject({ status: 'canceled', filledQty: '1', avgPrice: '60001', type: 'limit' });
    const all = tradesFromHistory({ trades: [filled(1, '1.5', '1', '1.5'), filled(2, '1.5', '3', '0')] });
    expect(orderFromTrades(all, 'BTCUSDT', '77')).toMatchObject({ clientOrderId: '77', status: 'filled', filledQty: '3', avgPrice: '2' });
    expect(orderFromTrades([], 'BTCUSDT', '')).toBeUndefined();
  });

  it('a trade listed twice (trade_history pages read by offset overlap when fills come between them) counts once', () => {
    // Soak finding S-coinut-5963: page 0 and page 1 both held the order's one fill (0.0025 of 0.003);
    // summed twice it read as filled 0.005 at avg 61159.64, and the gateway's catch-up fill made up
    // the missing 0.0005 at (61159.64 x 0.005 - 152.8991) / 0.0005 = 305798.2 after the cancel.
    const fill = (transId: number, openQty: string) =>
      filled(transId, '0.0025', '61159.64', openQty, { order: { client_ord_id: 5963, inst_id: 1, open_qty: openQty, order_id: 39, price: '61000', qty: '0.003', side: 'SELL', timestamp: 1482903034617491 } });
    const page0 = tradesFromHistory({ trades: [filled(12, '1', '60000', '2', { order: { order_id: 40, qty: '3', open_qty: '2', side: 'BUY', price: '60000', inst_id: 1 } }), fill(11, '0.0005')] });
    const page1 = tradesFromHistory({ trades: [fill(11, '0.0005')] });
    const trades = [...page0, ...page1].filter((t) => t.venueOrderId === '39');
    expect(orderFromTrades(trades, 'BTCUSDT', '5963')).toMatchObject({ status: 'canceled', filledQty: '0.0025', avgPrice: '61159.64' });
    expect(orderFromTrades(trades, 'BTCUSDT', '5963')!.fills!.map((f) => f.fillId)).toEqual(['11']);
    const open = orderFromOpenOrder({ order_id: 39, open_qty: '0.0005', price: '61000', inst_id: 1, client_ord_id: 5963, qty: '0.003', side: 'SELL' }, 'BTCUSDT');
    expect(withFills(open, trades).fills!.map((f) => f.fillId)).toEqual(['11']);
  });

  it('status words → error classes', () => {
    const cancelErr = errorForStatus({ reply: 'cancel_order', status: ['INVALID_ORDER_ID'] }, 'cancel_order');
    expect(cancelErr).toBeInstanceOf(OrderRejected);
    expect((cancelErr as OrderRejected).reason).toBe('too_late');
    expect(errorForStatus({ status: ['INVALID_ORDER_ID'] }, 'user_open_orders')).toBeInstanceOf(OrderNotFound);
    expect(errorForStatus({ status: ['AUTHENTICATION_FAILED'] }, 'login')).toBeInstanceOf(AuthenticationFailed);
    expect(errorForStatus({ status: ['WHATEVER'] }, 'x')).toMatchObject({ code: 'WHATEVER', reason: 'other' });
  });
});
