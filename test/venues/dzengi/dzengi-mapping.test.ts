import {
  dzengiErrorFromReply,
  dzengiOrderParams,
  fillsForOrder,
  instrumentsFromDzengiExchangeInfo,
  isDzengiErrorBody,
  limitsFromDzengiExchangeInfo,
  orderFromDzengi,
  parseDzengiJson,
  tradesFromDzengi,
} from '../../../src/venues/dzengi/dzengi-mapping';
import {
  AuthenticationFailed,
  OrderNotFound,
  OrderRejected,
  OutcomeUnknown,
  PlaceOrderRequest,
  RateLimited,
} from '../../../src/venues/venue';

// CCXT's recorded replies (dzengi.md / ccxt currencycom.ts comments).
const CREATE_LIMIT =
  '{"symbol":"BTC/USD","orderId":"00000000-0000-0000-0000-000006eaaaa0","transactTime":"1645281669295","price":"30000.00000000","origQty":"0.0002","executedQty":"0.0","status":"NEW","timeInForce":"GTC","type":"LIMIT","side":"BUY"}';
const CREATE_MARKET_FULL =
  '{"symbol":"DOGE/USD","orderId":"00000000-0000-0000-0000-000006eab8ad","transactTime":"1645283022252","price":"0.14066000","origQty":"40","executedQty":"40.0","status":"FILLED","timeInForce":"FOK","type":"MARKET","side":"BUY","fills":[{"price":"0.14094","qty":"40.0","commission":"0","commissionAsset":"dUSD"}]}';
const FETCH_ORDER =
  '{"accountId":109698017413125316,"orderId":"2810f1c5-0000-0000-0000-000000000001","quantity":"20.0","price":"0.06","timestamp":"1661157503788","status":"CREATED","type":"LIMIT","timeInForceType":"GTC","side":"BUY","margin":"0.1","fills":[]}';

describe('parseDzengiJson', () => {
  it('keeps numeric decimals and long ids exact', () => {
    const o = parseDzengiJson(FETCH_ORDER.replace('"0.06"', '0.06')) as any;
    expect(o.price).toBe('0.06');
    expect(o.accountId).toBe('109698017413125316');
  });
});

describe('orderFromDzengi', () => {
  it('maps the limit create reply; symbol keeps its slash; the caller supplies the client id', () => {
    const o = orderFromDzengi(parseDzengiJson(CREATE_LIMIT) as any, 'GW-1');
    expect(o).toEqual({
      clientOrderId: 'GW-1',
      venueOrderId: '00000000-0000-0000-0000-000006eaaaa0',
      symbol: 'BTC/USD',
      side: 'buy',
      type: 'limit',
      quantity: '0.0002',
      price: '30000.00000000',
      timeInForce: 'GTC',
      status: 'new',
      rawStatus: 'NEW',
      filledQty: '0.0',
      updateTime: 1645281669295,
      createdAt: 1645281669295,
    });
  });

  it('maps a market FULL reply: FILLED, FOK, average price from its fills', () => {
    const o = orderFromDzengi(parseDzengiJson(CREATE_MARKET_FULL) as any);
    expect(o.clientOrderId).toBe('');
    expect(o.status).toBe('filled');
    expect(o.timeInForce).toBe('FOK');
    expect(o.filledQty).toBe('40.0');
    expect(o.avgPrice).toBe('0.14094');
  });

  it('reads a negative SELL executedQty as its absolute value', () => {
    const o = orderFromDzengi({ ...JSON.parse(CREATE_LIMIT), side: 'SELL', executedQty: '-0.0001', status: 'PARTIALLY_FILLED' });
    expect(o.side).toBe('sell');
    expect(o.filledQty).toBe('0.0001');
    expect(o.status).toBe('partially_filled');
  });

  it('maps EXPIRED to expired (FIX 150=C), CANCELED, REJECTED, PENDING_CANCEL', () => {
    const base = JSON.parse(CREATE_LIMIT);
    expect(orderFromDzengi({ ...base, status: 'EXPIRED', timeInForce: 'IOC' }).status).toBe('expired');
    expect(orderFromDzengi({ ...base, status: 'CANCELED' }).status).toBe('canceled');
    expect(orderFromDzengi({ ...base, status: 'REJECTED' }).status).toBe('rejected');
    expect(orderFromDzengi({ ...base, status: 'PENDING_CANCEL' }).status).toBe('pending_cancel');
  });

  it('maps the fetchOrder shape (quantity, timeInForceType, timestamp, CREATED = open)', () => {
    const o = orderFromDzengi(parseDzengiJson(FETCH_ORDER) as any);
    expect(o).toMatchObject({ quantity: '20.0', price: '0.06', timeInForce: 'GTC', status: 'new', rawStatus: 'CREATED', filledQty: '0', updateTime: 1661157503788 });
  });

  it('takes the executed quantity from fills when fetchOrder has no executedQty', () => {
    const o = orderFromDzengi({ ...JSON.parse(FETCH_ORDER), status: 'FILLED', fills: [{ price: '0.05', qty: '-12.5' }, { price: '0.06', qty: '-7.5' }] });
    expect(o.filledQty).toBe('20');
    expect(o.avgPrice).toBe('0.05375');
  });

  it('judges an unknown status word by quantities, never terminal by guess', () => {
    const base = JSON.parse(CREATE_LIMIT);
    expect(orderFromDzengi({ ...base, status: 'SOMETHING' }).status).toBe('new');
    expect(orderFromDzengi({ ...base, status: 'SOMETHING', executedQty: '0.0001' }).status).toBe('partially_filled');
    expect(orderFromDzengi({ ...base, status: 'SOMETHING', executedQty: '0.0002' }).status).toBe('filled');
  });

  it('drops a market order price of 0', () => {
    expect(orderFromDzengi({ ...JSON.parse(CREATE_MARKET_FULL), price: '0' }).price).toBeUndefined();
  });
});

describe('tradesFromDzengi', () => {
  const rows = parseDzengiJson(
    '[{"symbol":"BTC/USD","id":"116046002","orderId":"A","price":"60010.5","qty":"-0.002","commission":"0.01","commissionAsset":"USD","time":"1645283022400","isBuyer":false,"isMaker":false},' +
      '{"symbol":"BTC/USD","id":"116046001","orderId":"A","price":"60000","qty":"-0.001","commission":"0","commissionAsset":"USD","time":"1645283022351","isBuyer":false,"isMaker":false},' +
      '{"symbol":"BTC/USD","id":"116046003","orderId":"B","price":"59000","qty":"0.5","time":"1645283022500","isBuyer":true}]',
  );

  it('gives one fill per venue trade at its own price, absolute qty, oldest first', () => {
    const trades = tradesFromDzengi(rows);
    expect(trades.map((t) => [t.venueOrderId, t.side, t.fill.fillId, t.fill.qty, t.fill.price])).toEqual([
      ['A', 'sell', '116046001', '0.001', '60000'],
      ['A', 'sell', '116046002', '0.002', '60010.5'],
      ['B', 'buy', '116046003', '0.5', '59000'],
    ]);
    expect(trades[1].fill).toMatchObject({ fee: '0.01', feeAsset: 'USD', time: 1645283022400 });
    expect(fillsForOrder(trades, 'A').map((f) => f.fillId)).toEqual(['116046001', '116046002']);
  });

  it('refuses a non-array reply', () => {
    expect(() => tradesFromDzengi({ code: -1 })).toThrow(/not an array/);
  });
});

describe('exchangeInfo', () => {
  const info = parseDzengiJson(
    JSON.stringify({
      rateLimits: [
        { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: '1', limit: '600' },
        { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: '1', limit: '5' },
        { rateLimitType: 'ORDERS', interval: 'DAY', intervalNum: '1', limit: '864000' },
      ],
      symbols: [
        {
          symbol: 'BTC/USD',
          status: 'TRADING',
          marketType: 'SPOT',
          tickSize: '0.01',
          filters: [
            { filterType: 'LOT_SIZE', minQty: '0.0001', maxQty: '100', stepSize: '0.0001' },
            { filterType: 'MIN_NOTIONAL', minNotional: '5' },
          ],
        },
        { symbol: 'BTC/USD_LEVERAGE', marketType: 'LEVERAGE', tickSize: '0.01', filters: [] },
        { symbol: 'Oil - Brent.', marketType: 'SPOT', filters: [{ filterType: 'PRICE_FILTER', tickSize: '0.001' }, { filterType: 'LOT_SIZE', stepSize: '1' }] },
      ],
    }),
  );

  it('lists spot instruments under the venue spelling, tick from the symbol or PRICE_FILTER', () => {
    expect(instrumentsFromDzengiExchangeInfo(info)).toEqual([
      { symbol: 'BTC/USD', tickSize: '0.01', stepSize: '0.0001', minQty: '0.0001', maxQty: '100', minNotional: '5' },
      { symbol: 'Oil - Brent.', tickSize: '0.001', stepSize: '1' },
    ]);
  });

  it('reads the published rate limits', () => {
    expect(limitsFromDzengiExchangeInfo(info)).toEqual({ requestWeightPerMinute: 600, ordersPerSecond: 5, ordersPerDay: 864000 });
    expect(limitsFromDzengiExchangeInfo({})).toEqual({ requestWeightPerMinute: 1200, ordersPerSecond: 10, ordersPerDay: 864000 });
  });
});

describe('dzengiErrorFromReply', () => {
  const now = 1_000_000;
  const err = (status: number, body: unknown, retryAfter?: string) => dzengiErrorFromReply(status, body, retryAfter, now);

  it('maps codes given as numbers or strings to the hierarchy', () => {
    const sym = err(400, { code: -1121, msg: 'Invalid symbol.' });
    expect(sym).toBeInstanceOf(OrderRejected);
    expect((sym as OrderRejected).reason).toBe('unknown_symbol');
    expect(sym.code).toBe('-1121');
    expect(sym.venueText).toBe('Invalid symbol.');
    expect((err(400, { code: '-1013', msg: 'Filter failure: LOT_SIZE' }) as OrderRejected).reason).toBe('invalid_order');
    expect(err(400, { code: -1022, msg: 'Signature for this request is not valid.' })).toBeInstanceOf(AuthenticationFailed);
    expect(err(401, { code: '-2015', msg: 'Invalid API-key, IP, or permissions for action.' })).toBeInstanceOf(AuthenticationFailed);
    expect(err(400, { code: -2013, msg: 'Order does not exist.' })).toBeInstanceOf(OrderNotFound);
    expect((err(400, { code: -2011, msg: 'Unknown order sent.' }) as OrderRejected).reason).toBe('too_late');
    expect(err(400, { code: -1000, msg: 'An unknown error occured while processing the request.' })).toBeInstanceOf(OutcomeUnknown);
    expect((err(400, { code: -1021, msg: 'Timestamp for this request is outside of the recvWindow.' }) as OrderRejected).reason).toBe('other');
  });

  it('refines by the venue text: insufficient balance, cancel of a non-LIMIT order', () => {
    expect((err(400, { code: -2010, msg: 'Account has insufficient balance for requested action.' }) as OrderRejected).reason).toBe('insufficient_funds');
    expect((err(400, { code: -2010, msg: 'Rest API trading is not enabled.' }) as OrderRejected).reason).toBe('other');
    const cancel = err(400, { code: -1128, msg: 'FIELD_VALIDATION_ERROR Cancel is available only for LIMIT order' }) as OrderRejected;
    expect(cancel.reason).toBe('unsupported');
  });

  it('5xx is an unknown outcome whatever the body says', () => {
    const e = err(503, { code: -1121, msg: 'Invalid symbol.' });
    expect(e).toBeInstanceOf(OutcomeUnknown);
    expect(err(500, '<html>oops</html>')).toBeInstanceOf(OutcomeUnknown);
  });

  it('429 / 418 / 403-WAF are rate limits with the venue wait or a default', () => {
    const e429 = err(429, { code: -1003, msg: 'Too many requests' }, '7') as RateLimited;
    expect(e429).toBeInstanceOf(RateLimited);
    expect(e429.retryAfterMs).toBe(7000);
    expect((err(429, '') as RateLimited).retryAfterMs).toBe(60_000);
    expect((err(418, '') as RateLimited).retryAfterMs).toBe(300_000);
    expect(err(403, '')).toBeInstanceOf(RateLimited);
    expect((err(400, { code: -1003, msg: 'Too many requests' }) as RateLimited).retryAfterMs).toBe(60_000);
  });

  it('a 4xx without a code is a plain rejection carrying the status', () => {
    const e = err(404, 'Not Found');
    expect(e).toBeInstanceOf(OrderRejected);
    expect(e.code).toBe('404');
  });

  it('tells error bodies from orders', () => {
    expect(isDzengiErrorBody({ code: -1121, msg: 'x' })).toBe(true);
    expect(isDzengiErrorBody(JSON.parse(CREATE_LIMIT))).toBe(false);
    expect(isDzengiErrorBody([])).toBe(false);
  });
});

describe('dzengiOrderParams', () => {
  const base: PlaceOrderRequest = { clientOrderId: 'GW-1', symbol: 'BTC/USD', side: 'buy', type: 'limit', quantity: '0.01', price: '60000', timeInForce: 'GTC' };

  it('limit: price, timeInForce, RESULT; no client order id on the wire', () => {
    expect(dzengiOrderParams(base)).toEqual({
      symbol: 'BTC/USD',
      side: 'BUY',
      type: 'LIMIT',
      quantity: '0.01',
      price: '60000',
      timeInForce: 'GTC',
      newOrderRespType: 'RESULT',
    });
    expect(dzengiOrderParams({ ...base, timeInForce: 'IOC', side: 'sell' })).toMatchObject({ side: 'SELL', timeInForce: 'IOC' });
  });

  it('market: FOK only, no timeInForce or price sent, FULL reply', () => {
    expect(dzengiOrderParams({ ...base, type: 'market', price: undefined, timeInForce: 'FOK' })).toEqual({
      symbol: 'BTC/USD',
      side: 'BUY',
      type: 'MARKET',
      quantity: '0.01',
      newOrderRespType: 'FULL',
    });
    expect(() => dzengiOrderParams({ ...base, type: 'market', timeInForce: 'IOC' })).toThrow(/fill-or-kill/);
  });

  it('refuses what the venue has not: DAY/GTD, post-only, a limit without price', () => {
    expect(() => dzengiOrderParams({ ...base, timeInForce: 'DAY' })).toThrow(OrderRejected);
    expect(() => dzengiOrderParams({ ...base, postOnly: true })).toThrow(/post-only/);
    expect(() => dzengiOrderParams({ ...base, price: undefined })).toThrow(/without a price/);
  });
});
