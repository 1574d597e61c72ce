import {
  AuthenticationFailed,
  OrderNotFound,
  OrderRejected,
  OutcomeUnknown,
  RateLimited,
} from '../../../src/venues/venue';
import {
  eventsFromZerocapOrder,
  fillFromZerocapTrade,
  instrumentsFromZerocap,
  orderFromZerocap,
  parseZerocapJson,
  zerocapCreateBody,
  zerocapErrorFromReply,
  zerocapStatus,
} from '../../../src/venues/zerocap/zerocap-mapping';

// zerocap.md's example response, ids shortened, numbers as JSON numbers (REST).
const EXAMPLE = `{ "id": "d8dabfbd-0001", "timestamp": 1692346145000, "last_trade_timestamp": 1692346145000,
  "status": "closed", "symbol": "USDT/AUD", "type": "limit", "time_in_force": "FOK",
  "side": "sell", "price": 1, "average": 1.48249, "amount": 500, "filled": 500,
  "remaining": 0, "cost": 741.245, "fee": 0, "error_message": "", "client_order_id": "",
  "trades": [ { "id": "t-1", "timestamp": 1692346145000, "symbol": "USDT/AUD", "order": "d8dabfbd-0001",
               "type": "limit", "side": "sell", "taker_or_maker": "taker", "price": 1.48249,
               "amount": 500, "cost": 741.245, "order_from": "coinroutes", "fee": 0,
               "counterparty": "x" } ] }`;

describe('orders', () => {
  it("maps zerocap.md's example: closed + filled = amount → filled, numbers exact, fills from trades[], symbol with '/'", () => {
    const o = orderFromZerocap(parseZerocapJson(EXAMPLE) as Record<string, unknown>, 'C-1');
    expect(o).toEqual({
      clientOrderId: 'C-1', // the object's "" means none: the known id is kept
      venueOrderId: 'd8dabfbd-0001',
      symbol: 'USDT/AUD',
      side: 'sell',
      type: 'limit',
      quantity: '500',
      price: '1',
      timeInForce: 'FOK',
      status: 'filled',
      rawStatus: 'closed',
      filledQty: '500',
      avgPrice: '1.48249',
      updateTime: 1692346145000,
      createdAt: 1692346145000,
      fills: [{ fillId: 't-1', qty: '500', price: '1.48249', fee: '0', time: 1692346145000 }],
    });
  });

  it('reads camelCase and string numbers (the WS variant), and the object’s own client_order_id first', () => {
    const o = orderFromZerocap(
      { id: 'x', status: 'open', symbol: 'BTC/USD', side: 'buy', amount: '0.5', filled: '0.2', remaining: '0.3', lastTradeTimestamp: '1700000000123', clientOrderId: 'own', timeInForce: 'FOK' },
      'known',
    );
    expect(o).toMatchObject({ clientOrderId: 'own', status: 'partially_filled', filledQty: '0.2', updateTime: 1700000000123, timeInForce: 'FOK' });
  });

  it('status words: open, closed short → expired, canceled/cancelled, expired, rejected with its error_message, unknown never terminal', () => {
    expect(zerocapStatus('open', '0', '1')).toBe('new');
    expect(zerocapStatus('open', '0.4', '1')).toBe('partially_filled');
    expect(zerocapStatus('closed', '1.0', '1')).toBe('filled');
    expect(zerocapStatus('closed', '0', '1')).toBe('expired');
    expect(zerocapStatus('closed', '0.4', '1')).toBe('expired');
    expect(zerocapStatus('canceled', '0', '1')).toBe('canceled');
    expect(zerocapStatus('Cancelled', '0', '1')).toBe('canceled');
    expect(zerocapStatus('expired', '0', '1')).toBe('expired');
    expect(zerocapStatus('rejected', '0', '1')).toBe('rejected');
    expect(zerocapStatus('pending', '0', '1')).toBe('new');
    expect(zerocapStatus('weird', '0.5', '1')).toBe('partially_filled');
    const rejected = orderFromZerocap({ id: 'r', status: 'rejected', amount: 1, filled: 0, error_message: 'Insufficient balance' });
    expect(rejected).toMatchObject({ status: 'rejected', rejectCode: 'rejected', rejectText: 'Insufficient balance' });
    const killed = orderFromZerocap({ id: 'k', status: 'closed', amount: 1, filled: 0, error_message: 'not filled at limit price' });
    expect(killed).toMatchObject({ status: 'expired', rejectText: 'not filled at limit price' });
  });

  it('price "0" (the SDK default) is no limit price; average 0 is no average', () => {
    const o = orderFromZerocap({ id: 'p', status: 'open', amount: 1, filled: 0, price: 0, average: 0 });
    expect(o.price).toBeUndefined();
    expect(o.avgPrice).toBeUndefined();
  });

  it('a WS trade push (camelCase, string ms timestamp) → one fill', () => {
    expect(fillFromZerocapTrade({ id: 't9', timestamp: '1700000000001', symbol: 'BTC/USD', order: 'o', price: 60000.1, amount: '0.25', takerOrMaker: 'taker' })).toEqual(
      { fillId: 't9', qty: '0.25', price: '60000.1', time: 1700000000001 },
    );
    expect(fillFromZerocapTrade({ id: 't0', amount: 0, price: 1 })).toBeUndefined();
  });
});

describe('eventsFromZerocapOrder', () => {
  const closed = orderFromZerocap({
    id: 'o1',
    status: 'closed',
    amount: '3',
    filled: '3',
    updated: 1,
    timestamp: 10,
    trades: [
      { id: 'a', amount: '1', price: '100', timestamp: 11 },
      { id: 'b', amount: '1', price: '101', timestamp: 12 },
      { id: 'c', amount: '1', price: '102', timestamp: 13 },
    ],
  }, 'C');

  it('a FOK that went straight to closed: acknowledged, then one fill per trade at its own price, cumQty running', () => {
    const ev = eventsFromZerocapOrder(closed, { acknowledged: false, fillIds: new Set() }, 'stream');
    expect(ev.map((e) => [e.kind, e.cumQty, e.kind === 'fill' ? e.fill.price : undefined])).toEqual([
      ['acknowledged', '0', undefined],
      ['fill', '1', '100'],
      ['fill', '2', '101'],
      ['fill', '3', '102'],
    ]);
    expect(ev.every((e) => e.clientOrderId === 'C' && e.venueOrderId === 'o1' && e.source === 'stream')).toBe(true);
  });

  it('only what is new: fills already reported are skipped, cumQty still ends at filled', () => {
    const ev = eventsFromZerocapOrder(closed, { acknowledged: true, fillIds: new Set(['a']) }, 'stream');
    expect(ev.map((e) => [e.kind, e.cumQty])).toEqual([
      ['fill', '2'],
      ['fill', '3'],
    ]);
  });

  it("a killed FOK's error_message travels with its expired event", () => {
    const killed = orderFromZerocap({ id: 'k', status: 'closed', amount: 1, filled: 0, error_message: 'Order could not be filled at the limit price' });
    expect(eventsFromZerocapOrder(killed, { acknowledged: true, fillIds: new Set() }, 'stream')).toEqual([
      expect.objectContaining({ kind: 'expired', text: 'Order could not be filled at the limit price' }),
    ]);
  });

  it('a killed FOK → acknowledged then expired; a rejected one → rejected only', () => {
    const killed = orderFromZerocap({ id: 'k', status: 'closed', amount: 1, filled: 0 });
    expect(eventsFromZerocapOrder(killed, { acknowledged: false, fillIds: new Set() }, 'rest').map((e) => e.kind)).toEqual(['acknowledged', 'expired']);
    const rejected = orderFromZerocap({ id: 'r', status: 'rejected', amount: 1, filled: 0, error_message: 'no' });
    expect(eventsFromZerocapOrder(rejected, { acknowledged: false, fillIds: new Set() }, 'rest')).toEqual([
      expect.objectContaining({ kind: 'rejected', code: 'rejected', text: 'no' }),
    ]);
  });
});

describe('create body', () => {
  const req = { clientOrderId: 'C-1', symbol: 'BTC/USD', side: 'buy' as const, type: 'limit' as const, quantity: '0.5', price: '60000.1', timeInForce: 'FOK' as const };

  it('limit FOK → the SDK body, amounts as strings, symbol with its slash', () => {
    expect(zerocapCreateBody(req)).toEqual({ symbol: 'BTC/USD', side: 'buy', type: 'limit', amount: '0.5', price: '60000.1', client_order_id: 'C-1' });
  });

  it('any other time in force, market, post-only → OrderRejected unsupported, saying why', () => {
    expect(() => zerocapCreateBody({ ...req, timeInForce: 'GTC' })).toThrow(/fill-or-kill: time in force GTC/);
    expect(() => zerocapCreateBody({ ...req, timeInForce: 'DAY' })).toThrow(OrderRejected);
    expect(() => zerocapCreateBody({ ...req, type: 'market', price: undefined })).toThrow(/limit orders only/);
    expect(() => zerocapCreateBody({ ...req, postOnly: true })).toThrow(/post-only/);
    try {
      zerocapCreateBody({ ...req, timeInForce: 'IOC' });
    } catch (e) {
      expect((e as OrderRejected).reason).toBe('unsupported');
    }
  });
});

describe('errors', () => {
  it('by HTTP status: 5xx unknown outcome, 429 rate limited, 401 auth, 404 on a query not found', () => {
    expect(zerocapErrorFromReply(503, 'Service Unavailable', undefined, 'create')).toBeInstanceOf(OutcomeUnknown);
    const rl = zerocapErrorFromReply(429, { error_code: '429', error_message: 'Too Many Requests' }, '2', 'create');
    expect(rl).toBeInstanceOf(RateLimited);
    expect((rl as RateLimited).retryAfterMs).toBe(2000);
    expect((zerocapErrorFromReply(429, '', undefined, 'query') as RateLimited).retryAfterMs).toBe(10_000);
    const auth = zerocapErrorFromReply(401, { error_code: '401', error_message: 'Unauthorized' }, undefined, 'create');
    expect(auth).toBeInstanceOf(AuthenticationFailed);
    expect(auth).toMatchObject({ code: '401', venueText: 'Unauthorized', httpStatus: 401 });
    expect(zerocapErrorFromReply(404, { error_code: '404', error_message: 'Order not found' }, undefined, 'query')).toBeInstanceOf(OrderNotFound);
    expect(zerocapErrorFromReply(404, 'Not Found', undefined, 'create')).toBeInstanceOf(OrderRejected);
  });

  it('a 4xx create: the reason from the text, code and text kept for FIX Text', () => {
    const sym = zerocapErrorFromReply(400, { error_code: '400', error_message: 'Invalid symbol: DOGE/USD' }, undefined, 'create') as OrderRejected;
    expect(sym.reason).toBe('unknown_symbol');
    expect(sym.message).toBe('Zerocap HTTP 400: Invalid symbol: DOGE/USD');
    expect((zerocapErrorFromReply(400, { detail: 'Insufficient balance' }, undefined, 'create') as OrderRejected).reason).toBe('insufficient_funds');
    expect((zerocapErrorFromReply(400, { code: 400, msg: 'Invalid amount' }, undefined, 'create') as OrderRejected).reason).toBe('invalid_order');
  });
});

describe('instruments', () => {
  it('reads CCXT-style markets and flat rows, bare or wrapped', () => {
    expect(
      instrumentsFromZerocap([{ symbol: 'BTC/USD', precision: { price: '0.01', amount: '0.00001' }, limits: { amount: { min: '0.0001', max: '100' }, cost: { min: '10' } } }]),
    ).toEqual([{ symbol: 'BTC/USD', tickSize: '0.01', stepSize: '0.00001', minQty: '0.0001', maxQty: '100', minNotional: '10' }]);
    expect(instrumentsFromZerocap({ data: [{ symbol: 'USDT/AUD', tick_size: '0.00001', step_size: '0.01' }] })).toEqual([
      { symbol: 'USDT/AUD', tickSize: '0.00001', stepSize: '0.01' },
    ]);
    expect(() => instrumentsFromZerocap({})).toThrow();
  });
});
