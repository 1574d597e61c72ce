import {
  eventsFromExecutionReport,
  fillsFromHashKeyTrades,
  hashKeyErrorForCode,
  hashKeyErrorFromReply,
  hashKeyOrderParams,
  instrumentsFromExchangeInfo,
  isHashKeyErrorBody,
  normalizeHashKeyCode,
  orderFromHashKey,
  parseHashKeyJson,
  parseRetryAfterMs,
  streamMessages,
} from '../../../src/venues/hashkey/hashkey-mapping';
import { HASHKEY_ERROR_CODES } from '../../../src/venues/hashkey/hashkey-constants';
import {
  AuthenticationFailed,
  DuplicateOrder,
  OrderNotFound,
  OrderRejected,
  OutcomeUnknown,
  PlaceOrderRequest,
  RateLimited,
} from '../../../src/venues/venue';

// CCXT's recorded create reply (hashkey.md).
const CREATE_REPLY = {
  accountId: '1732885739589466112',
  symbol: 'ETHUSDT',
  symbolName: 'ETHUSDT',
  clientOrderId: '1722006209978370',
  orderId: '1738708541676585728',
  transactTime: '1722006209989',
  price: '5000',
  origQty: '0.005',
  executedQty: '0',
  status: 'NEW',
  timeInForce: 'GTC',
  type: 'LIMIT_MAKER',
  side: 'SELL',
  reqAmount: '0',
  concentration: '',
};

const execReport = (over: Record<string, unknown>) => ({
  e: 'executionReport',
  E: '1714311403031',
  s: 'BTCUSDT',
  c: 'FIX-1',
  S: 'BUY',
  o: 'LIMIT',
  f: 'GTC',
  q: '1',
  p: '50000',
  X: 'NEW',
  i: '1738708541676585728',
  l: '0',
  z: '0',
  L: '0',
  n: '0',
  N: '',
  d: '',
  ...over,
});

describe('parseHashKeyJson', () => {
  it('keeps 19-digit numeric ids as exact strings', () => {
    const o = parseHashKeyJson('{"orderId":1738708541676585728,"time":1722006209989,"list":[1738708541676585729]}') as any;
    expect(o.orderId).toBe('1738708541676585728');
    expect(o.list[0]).toBe('1738708541676585729');
    expect(o.time).toBe(1722006209989);
  });

  it('leaves long digit runs inside strings and decimals alone', () => {
    const o = parseHashKeyJson('{"msg":"x,1234567890123456789,y","p":0.1234567890123456789}') as any;
    expect(o.msg).toBe('x,1234567890123456789,y');
    expect(typeof o.p).toBe('number');
  });
});

describe('streamMessages', () => {
  it('iterates array frames and wraps single objects', () => {
    expect(streamMessages([{ a: 1 }, { b: 2 }])).toEqual([{ a: 1 }, { b: 2 }]);
    expect(streamMessages({ ping: 1 })).toEqual([{ ping: 1 }]);
    expect(streamMessages([null, 3, { c: 1 }])).toEqual([{ c: 1 }]);
  });
});

describe('orderFromHashKey', () => {
  it('maps the create reply, keeping ids as strings', () => {
    const o = orderFromHashKey(CREATE_REPLY);
    expect(o).toEqual({
      clientOrderId: '1722006209978370',
      venueOrderId: '1738708541676585728',
      symbol: 'ETHUSDT',
      side: 'sell',
      type: 'limit',
      quantity: '0.005',
      price: '5000',
      timeInForce: 'GTC',
      status: 'new',
      rawStatus: 'NEW',
      filledQty: '0',
      updateTime: 1722006209989,
    });
  });

  it.each([
    ['NEW', 'new'],
    ['ORDER_NEW', 'new'],
    ['PENDING', 'pending_new'],
    ['PARTIALLY_FILLED', 'partially_filled'],
    ['FILLED', 'filled'],
    ['PENDING_CANCEL', 'pending_cancel'],
    ['CANCELED', 'canceled'],
    ['PARTIALLY_CANCELED', 'canceled'],
    ['REJECTED', 'rejected'],
  ])('maps status %s to %s and keeps the raw word', (raw, unified) => {
    const o = orderFromHashKey({ ...CREATE_REPLY, status: raw });
    expect(o.status).toBe(unified);
    expect(o.rawStatus).toBe(raw);
  });

  it('judges an unknown status word by quantities, never as terminal by guess', () => {
    expect(orderFromHashKey({ ...CREATE_REPLY, status: 'WEIRD' }).status).toBe('new');
    expect(orderFromHashKey({ ...CREATE_REPLY, status: 'WEIRD', executedQty: '0.001' }).status).toBe('partially_filled');
    expect(orderFromHashKey({ ...CREATE_REPLY, status: 'WEIRD', executedQty: '0.005' }).status).toBe('filled');
  });

  it('maps a query reply: avgPrice, updateTime, market price "0" dropped, numeric ids stringified', () => {
    const o = orderFromHashKey({
      symbol: 'BTCUSDT',
      clientOrderId: 'c1',
      orderId: 1738708541676585,
      price: '0',
      origQty: '0.5',
      executedQty: '0.5',
      cummulativeQuoteQty: '25000.5',
      avgPrice: '0',
      status: 'FILLED',
      timeInForce: 'IOC',
      type: 'MARKET',
      side: 'BUY',
      time: '1722006209000',
      updateTime: '1722006209999',
    });
    expect(o.venueOrderId).toBe('1738708541676585');
    expect(o.type).toBe('market');
    expect(o.price).toBeUndefined();
    expect(o.avgPrice).toBe('50001');
    expect(o.updateTime).toBe(1722006209999);
    expect(o.timeInForce).toBe('IOC');
  });

  it('uses avgPrice when the venue sends it', () => {
    expect(orderFromHashKey({ ...CREATE_REPLY, executedQty: '0.001', avgPrice: '5000.5' }).avgPrice).toBe('5000.5');
  });

  it('optionally reports a killed IOC/FOK remainder as expired', () => {
    const killed = { ...CREATE_REPLY, type: 'LIMIT', timeInForce: 'IOC', status: 'PARTIALLY_CANCELED', executedQty: '0.001' };
    expect(orderFromHashKey(killed).status).toBe('canceled');
    expect(orderFromHashKey(killed, { killedIocAsExpired: true }).status).toBe('expired');
    expect(orderFromHashKey({ ...killed, timeInForce: 'GTC' }, { killedIocAsExpired: true }).status).toBe('canceled');
  });
});

describe('eventsFromExecutionReport', () => {
  it('NEW → acknowledged', () => {
    expect(eventsFromExecutionReport(execReport({}))).toEqual([
      {
        kind: 'acknowledged',
        clientOrderId: 'FIX-1',
        venueOrderId: '1738708541676585728',
        rawStatus: 'NEW',
        time: 1714311403031,
        cumQty: '0',
        source: 'stream',
      },
    ]);
  });

  it('PARTIALLY_FILLED with l/L/d → a fill keyed on d, cumQty = z', () => {
    const [ev] = eventsFromExecutionReport(
      execReport({ X: 'PARTIALLY_FILLED', l: '0.4', L: '50000', z: '0.4', d: '1739000000000000001', n: '0.0004', N: 'BTC' }),
    );
    expect(ev).toEqual({
      kind: 'fill',
      clientOrderId: 'FIX-1',
      venueOrderId: '1738708541676585728',
      rawStatus: 'PARTIALLY_FILLED',
      time: 1714311403031,
      cumQty: '0.4',
      source: 'stream',
      fill: { fillId: '1739000000000000001', qty: '0.4', price: '50000', fee: '0.0004', feeAsset: 'BTC', time: 1714311403031 },
    });
  });

  it('FILLED → fill with the last execution', () => {
    const evs = eventsFromExecutionReport(execReport({ X: 'FILLED', l: '0.6', L: '50001', z: '1', d: 'T2', n: '0', N: '' }));
    expect(evs).toHaveLength(1);
    expect(evs[0].kind).toBe('fill');
    expect(evs[0].cumQty).toBe('1');
    expect((evs[0] as any).fill).toEqual({ fillId: 'T2', qty: '0.6', price: '50001', fee: '0', time: 1714311403031 });
  });

  it('a fill status without trade data gives no event (the trades endpoint recovers it)', () => {
    expect(eventsFromExecutionReport(execReport({ X: 'FILLED', l: '0', d: '' }))).toEqual([]);
  });

  it.each([
    ['PENDING_CANCEL', 'pending_cancel'],
    ['CANCELED', 'canceled'],
    ['PARTIALLY_CANCELED', 'canceled'],
    ['ORDER_NEW', 'acknowledged'],
  ])('%s → %s', (raw, kind) => {
    const evs = eventsFromExecutionReport(execReport({ X: raw, z: '0.2' }));
    expect(evs.map((e) => e.kind)).toEqual([kind]);
    expect(evs[0].rawStatus).toBe(raw);
    expect(evs[0].cumQty).toBe('0.2');
  });

  it('REJECTED → rejected with the venue word; post-only is named', () => {
    const [ev] = eventsFromExecutionReport(execReport({ X: 'REJECTED', o: 'LIMIT_MAKER' }));
    expect(ev.kind).toBe('rejected');
    expect((ev as any).code).toBe('REJECTED');
    expect((ev as any).text).toMatch(/post-only/);
  });

  it('PENDING, unknown words and other event types → no event', () => {
    expect(eventsFromExecutionReport(execReport({ X: 'PENDING' }))).toEqual([]);
    expect(eventsFromExecutionReport(execReport({ X: 'WHATEVER' }))).toEqual([]);
    expect(eventsFromExecutionReport({ e: 'ticketInfo', T: '1' })).toEqual([]);
    expect(eventsFromExecutionReport({ e: 'outboundAccountInfo' })).toEqual([]);
  });

  it('optionally reports a killed IOC remainder as expired', () => {
    const ev = execReport({ X: 'CANCELED', o: 'MARKET', f: 'IOC' });
    expect(eventsFromExecutionReport(ev, { killedIocAsExpired: true })[0].kind).toBe('expired');
    expect(eventsFromExecutionReport(ev)[0].kind).toBe('canceled');
  });

  it('falls back to the given clock when E is missing', () => {
    const { E: _e, ...noTime } = execReport({});
    expect(eventsFromExecutionReport(noTime, {}, () => 99)[0].time).toBe(99);
  });
});

describe('fillsFromHashKeyTrades', () => {
  const rows = [
    { ticketId: '1739000000000000002', orderId: '111', clientOrderId: 'FIX-1', price: '50001', qty: '0.6', commission: '0.1', commissionAsset: 'USDT', time: '1714311403100' },
    { ticketId: '1739000000000000001', orderId: '111', clientOrderId: 'FIX-1', price: '50000', qty: '0.4', commission: '0.0004', commissionAsset: 'BTC', time: '1714311403031' },
    { ticketId: '999', orderId: '222', clientOrderId: 'OTHER', price: '1', qty: '1', time: '1' },
  ];

  it('maps ticketId to fillId (same key as the stream d), sorted by time, filtered to the order', () => {
    expect(fillsFromHashKeyTrades(rows, { orderId: '111' })).toEqual([
      { fillId: '1739000000000000001', qty: '0.4', price: '50000', fee: '0.0004', feeAsset: 'BTC', time: 1714311403031 },
      { fillId: '1739000000000000002', qty: '0.6', price: '50001', fee: '0.1', feeAsset: 'USDT', time: 1714311403100 },
    ]);
    expect(fillsFromHashKeyTrades(rows, { clientOrderId: 'OTHER' }).map((f) => f.fillId)).toEqual(['999']);
    expect(fillsFromHashKeyTrades(rows)).toHaveLength(3);
  });

  it('refuses a non-array reply', () => {
    expect(() => fillsFromHashKeyTrades({ code: '0211' })).toThrow(/not an array/);
  });
});

describe('instrumentsFromExchangeInfo', () => {
  it('reads tick/step/min from the filters', () => {
    const info = {
      symbols: [
        {
          symbol: 'BTCUSDT',
          status: 'TRADING',
          filters: [
            { minPrice: '0.01', maxPrice: '100000.00000000', tickSize: '0.01', filterType: 'PRICE_FILTER' },
            { minQty: '0.00001', maxQty: '8', stepSize: '0.00001', filterType: 'LOT_SIZE' },
            { minNotional: '1', filterType: 'MIN_NOTIONAL' },
            { minAmount: '1', maxAmount: '400000', filterType: 'TRADE_AMOUNT' },
          ],
        },
        { symbol: 'ETHUSDT', filters: [{ tickSize: '0.1', filterType: 'PRICE_FILTER' }, { stepSize: '0.001', filterType: 'LOT_SIZE' }, { minAmount: '5', filterType: 'TRADE_AMOUNT' }] },
      ],
    };
    expect(instrumentsFromExchangeInfo(info)).toEqual([
      { symbol: 'BTCUSDT', tickSize: '0.01', stepSize: '0.00001', minQty: '0.00001', maxQty: '8', minNotional: '1' },
      { symbol: 'ETHUSDT', tickSize: '0.1', stepSize: '0.001', minNotional: '5' },
    ]);
  });

  it('refuses a reply without symbols', () => {
    expect(() => instrumentsFromExchangeInfo({})).toThrow(/symbols/);
  });
});

describe('hashKeyOrderParams', () => {
  const limit: PlaceOrderRequest = { clientOrderId: 'FIX-1', symbol: 'ETHUSDT', side: 'buy', type: 'limit', quantity: '0.01', price: '3000', timeInForce: 'GTC' };

  it('limit GTC in the order of the signing vector', () => {
    expect(Object.entries(hashKeyOrderParams(limit))).toEqual([
      ['symbol', 'ETHUSDT'],
      ['side', 'BUY'],
      ['type', 'LIMIT'],
      ['price', '3000'],
      ['quantity', '0.01'],
      ['newClientOrderId', 'FIX-1'],
      ['timeInForce', 'GTC'],
    ]);
  });

  it('limit IOC / FOK pass through', () => {
    expect(hashKeyOrderParams({ ...limit, timeInForce: 'IOC' }).timeInForce).toBe('IOC');
    expect(hashKeyOrderParams({ ...limit, timeInForce: 'FOK' }).timeInForce).toBe('FOK');
  });

  it('market → MARKET with base quantity, IOC by default, FOK kept, no price', () => {
    const m = hashKeyOrderParams({ ...limit, type: 'market', side: 'sell', timeInForce: 'GTC', price: undefined });
    expect(m).toEqual({ symbol: 'ETHUSDT', side: 'SELL', type: 'MARKET', quantity: '0.01', newClientOrderId: 'FIX-1', timeInForce: 'IOC' });
    expect(hashKeyOrderParams({ ...limit, type: 'market', timeInForce: 'FOK' }).timeInForce).toBe('FOK');
    expect(hashKeyOrderParams({ ...limit, type: 'market', timeInForce: 'IOC' }).price).toBeUndefined();
  });

  it('postOnly → LIMIT_MAKER GTC', () => {
    expect(hashKeyOrderParams({ ...limit, postOnly: true })).toMatchObject({ type: 'LIMIT_MAKER', timeInForce: 'GTC', price: '3000' });
  });

  it('refuses DAY/GTD, post-only market or IOC, and a limit without price', () => {
    const reason = (r: PlaceOrderRequest) => {
      try {
        hashKeyOrderParams(r);
      } catch (e) {
        expect(e).toBeInstanceOf(OrderRejected);
        return (e as OrderRejected).reason;
      }
      return 'accepted';
    };
    expect(reason({ ...limit, timeInForce: 'DAY' })).toBe('unsupported');
    expect(reason({ ...limit, timeInForce: 'GTD' })).toBe('unsupported');
    expect(reason({ ...limit, type: 'market', postOnly: true, timeInForce: 'IOC' })).toBe('unsupported');
    expect(reason({ ...limit, postOnly: true, timeInForce: 'IOC' })).toBe('unsupported');
    expect(reason({ ...limit, price: undefined })).toBe('invalid_order');
  });
});

describe('errors', () => {
  it('normalizes codes sent as numbers or strings', () => {
    expect(normalizeHashKeyCode(211)).toBe('0211');
    expect(normalizeHashKeyCode('0211')).toBe('0211');
    expect(normalizeHashKeyCode(1)).toBe('0001');
    expect(normalizeHashKeyCode(-1141)).toBe('-1141');
    expect(normalizeHashKeyCode(' -100012 ')).toBe('-100012');
    expect(normalizeHashKeyCode(0)).toBe('0');
    expect(normalizeHashKeyCode(undefined)).toBeUndefined();
    expect(normalizeHashKeyCode('')).toBeUndefined();
  });

  const cases: [unknown, Function, string | null][] = [
    ['-1141', DuplicateOrder, 'duplicate'],
    [-1141, DuplicateOrder, 'duplicate'],
    ['0201', OrderRejected, 'unknown_symbol'],
    [201, OrderRejected, 'unknown_symbol'],
    [-100010, OrderRejected, 'unknown_symbol'],
    [-100012, OrderRejected, 'unknown_symbol'],
    ['0206', OrderRejected, 'invalid_order'],
    ['0207', OrderRejected, 'invalid_order'],
    ['0209', OrderRejected, 'invalid_order'],
    ['0210', OrderRejected, 'invalid_order'],
    ['0001', OrderRejected, 'invalid_order'],
    [-1004, OrderRejected, 'invalid_order'],
    [-1139, OrderRejected, 'post_only_would_take'],
    [-1142, OrderRejected, 'invalid_order'],
    ['0401', OrderRejected, 'insufficient_funds'],
    ['0211', OrderNotFound, null],
    [-1143, OrderNotFound, null],
    [-2013, OrderNotFound, null],
    ['0002', AuthenticationFailed, null],
    ['0102', AuthenticationFailed, null],
    ['0103', AuthenticationFailed, null],
    [-1002, AuthenticationFailed, null],
    ['0202', AuthenticationFailed, null],
    ['0003', RateLimited, null],
    [-1000, OutcomeUnknown, null],
    [-1001, OutcomeUnknown, null],
    [-1006, OutcomeUnknown, null],
    [-1007, OutcomeUnknown, null],
    [-1021, OrderRejected, 'other'],
    [-2011, OrderRejected, 'too_late'],
    [-9999, OrderRejected, 'other'],
  ];

  it.each(cases)('code %p → %p %p', (code: unknown, cls: Function, reason: string | null) => {
    const e = hashKeyErrorForCode(code, 'venue text', 400);
    expect(e).toBeInstanceOf(cls);
    expect(e.code).toBe(normalizeHashKeyCode(code));
    expect(e.venueText).toBe('venue text');
    expect(e.httpStatus).toBe(400);
    expect(e.message).toContain('venue text');
    if (reason) expect((e as OrderRejected).reason).toBe(reason);
  });

  it('DuplicateOrder is also an OrderRejected with reason duplicate', () => {
    const e = hashKeyErrorForCode('-1141', 'Duplicate order', 400);
    expect(e).toBeInstanceOf(OrderRejected);
    expect((e as OrderRejected).reason).toBe('duplicate');
  });

  it('rate-limit code waits the documented minute', () => {
    expect((hashKeyErrorForCode('0003', 'slow down') as RateLimited).retryAfterMs).toBe(60_000);
  });

  it('every code in the table has a class', () => {
    for (const code of Object.keys(HASHKEY_ERROR_CODES)) expect(hashKeyErrorForCode(code, 'x')).toBeDefined();
  });

  it('HTTP 429 → RateLimited 60 s (or Retry-After); 418 → a longer ban', () => {
    const e = hashKeyErrorFromReply(429, { code: '0003', msg: 'Too many requests' });
    expect(e).toBeInstanceOf(RateLimited);
    expect((e as RateLimited).retryAfterMs).toBe(60_000);
    expect((hashKeyErrorFromReply(429, '', '7') as RateLimited).retryAfterMs).toBe(7000);
    const ban = hashKeyErrorFromReply(418, '') as RateLimited;
    expect(ban).toBeInstanceOf(RateLimited);
    expect(ban.retryAfterMs).toBeGreaterThan(60_000);
    expect(ban.httpStatus).toBe(418);
  });

  it('HTTP 5xx → OutcomeUnknown whatever the body says', () => {
    for (const status of [500, 502, 503, 504]) {
      expect(hashKeyErrorFromReply(status, { code: '-1141', msg: 'dup' })).toBeInstanceOf(OutcomeUnknown);
      expect(hashKeyErrorFromReply(status, '<html>bad gateway</html>')).toBeInstanceOf(OutcomeUnknown);
    }
  });

  it('4xx bodies go through the code map; 401/403 without a known code → AuthenticationFailed', () => {
    expect(hashKeyErrorFromReply(400, { code: -1141, msg: 'Duplicate order' })).toBeInstanceOf(DuplicateOrder);
    expect(hashKeyErrorFromReply(400, { code: '0211', msg: 'Order not found' })).toBeInstanceOf(OrderNotFound);
    expect(hashKeyErrorFromReply(401, {})).toBeInstanceOf(AuthenticationFailed);
    expect(hashKeyErrorFromReply(403, { code: '-7777', msg: 'no' })).toBeInstanceOf(AuthenticationFailed);
    const other = hashKeyErrorFromReply(404, 'nope');
    expect(other).toBeInstanceOf(OrderRejected);
    expect((other as OrderRejected).reason).toBe('other');
  });

  it('recognizes error bodies on a 200 but not orders or success codes', () => {
    expect(isHashKeyErrorBody({ code: '0211', msg: 'Order not found' })).toBe(true);
    expect(isHashKeyErrorBody({ code: 0, msg: 'ok' })).toBe(false);
    expect(isHashKeyErrorBody({ code: '0', result: [] })).toBe(false);
    expect(isHashKeyErrorBody(CREATE_REPLY)).toBe(false);
    expect(isHashKeyErrorBody([])).toBe(false);
  });

  it('parses Retry-After seconds or dates', () => {
    expect(parseRetryAfterMs('2')).toBe(2000);
    expect(parseRetryAfterMs(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(parseRetryAfterMs('garbage')).toBeUndefined();
    expect(parseRetryAfterMs(undefined)).toBeUndefined();
  });
});

describe('cancel-context error codes', () => {
  it('-1139 / -1142 on a cancel mean the order is already done (too late); -1145 unsupported', () => {
    expect((hashKeyErrorForCode(-1139, 'Order has been filled', 400, 'cancel') as OrderRejected).reason).toBe('too_late');
    expect((hashKeyErrorForCode(-1142, 'Order has been canceled', 400, 'cancel') as OrderRejected).reason).toBe('too_late');
    expect((hashKeyErrorForCode(-1145, 'not cancellable', 400, 'cancel') as OrderRejected).reason).toBe('unsupported');
    expect((hashKeyErrorFromReply(400, { code: -1139, msg: 'x' }, undefined, 0, 'cancel') as OrderRejected).reason).toBe('too_late');
  });

  it('the same codes keep their create meanings elsewhere', () => {
    expect((hashKeyErrorForCode(-1139, 'would take', 400, 'create') as OrderRejected).reason).toBe('post_only_would_take');
    expect(hashKeyErrorForCode('0211', 'Order not found', 400, 'cancel')).toBeInstanceOf(OrderNotFound);
  });
});
