import {
  apifinyErrorForCode,
  apifinyFillId,
  apifinyNewOrderBody,
  apifinyResultOrError,
  apifinyTimeInForce,
  CancelAlreadyPending,
  CancelNotYetPossible,
  eventsFromApifinyPush,
  fillsFromApifinyFilledOrders,
  gapFill,
  instrumentsFromApifinySymbols,
  orderFromApifinyResult,
  parseApifinyJson,
  statusFromApifiny,
} from '../../../src/venues/apifiny/apifiny-mapping';
import { AuthenticationFailed, DuplicateOrder, OrderNotFound, OrderRejected, OutcomeUnknown, PlaceOrderRequest, RateLimited } from '../../../src/venues/venue';

const ID = '000000011700000000123001';

// apifiny.md's push sample, numbers and all, with our order id.
const PUSH_FILLED = `{"logTimestamp":1552116459536,"payload":{"accountId":"ST-00000001","venue":"VENUE1","orderId":"${ID}","symbol":"BTCUSD","orderType":"LIMIT","timeInForce":1,"orderSide":"BUY","limitPrice":100.0,"quantity":1.12,"filledAveragePrice":100.0,"filledCumulativeQuantity":1.12,"openQuantity":0,"orderStatus":"FILLED","createdAt":1552116459000,"updatedAt":1552116459536,"cancelledUpdatedAt":null,"filledUpdatedAt":1552116459536,"lastCommission":0.112,"lastCommissionCurrency":"USD","lastFilledQuantity":1.12,"lastFilledPrice":100.0,"lastFilledCreatedAt":1552116459530,"isTaker":true}}`;

function push(over: Record<string, unknown>): string {
  const frame = JSON.parse(PUSH_FILLED);
  Object.assign(frame.payload, over);
  // Re-serialise keeping decimals as JSON numbers the way the venue writes them.
  return JSON.stringify(frame);
}

const req = (over: Partial<PlaceOrderRequest> = {}): PlaceOrderRequest => ({
  clientOrderId: ID,
  symbol: 'BTCUSDT',
  side: 'buy',
  type: 'limit',
  quantity: '0.10',
  price: '60000.10',
  timeInForce: 'GTC',
  ...over,
});

describe('Apifiny mapping: statuses', () => {
  it('PENDING_SUBMIT → pending_new, SUBMITTED → new or partially_filled by the cumulative quantity', () => {
    expect(statusFromApifiny('PENDING_SUBMIT', '0', 'LIMIT', 1)).toBe('pending_new');
    expect(statusFromApifiny('SUBMITTED', '0', 'LIMIT', 1)).toBe('new');
    expect(statusFromApifiny('SUBMITTED', '0.5', 'LIMIT', 1)).toBe('partially_filled');
  });

  it('PART_FILLED is final: canceled for GTC, expired for IOC and MARKET, never partially_filled', () => {
    expect(statusFromApifiny('PART_FILLED', '0.5', 'LIMIT', 1)).toBe('canceled');
    expect(statusFromApifiny('PART_FILLED', '0.5', 'LIMIT', 7)).toBe('canceled');
    expect(statusFromApifiny('PART_FILLED', '0.5', 'LIMIT', 3)).toBe('expired');
    expect(statusFromApifiny('PART_FILLED', '0.5', 'MARKET', 3)).toBe('expired');
    expect(statusFromApifiny('PART_FILLED', '0.5', 'LIMIT', 3, { partFilledAs: 'canceled' })).toBe('canceled');
  });

  it('FILLED, CANCELLED, REJECTED; an unknown word is an unknown outcome, not a guess', () => {
    expect(statusFromApifiny('FILLED', '1', 'LIMIT', 1)).toBe('filled');
    expect(statusFromApifiny('CANCELLED', '0', 'LIMIT', 1)).toBe('canceled');
    expect(statusFromApifiny('REJECTED', '0', 'LIMIT', 1)).toBe('rejected');
    expect(() => statusFromApifiny('CANCELED', '0', 'LIMIT', 1)).toThrow(OutcomeUnknown);
  });

  it('an order object → VenueOrder with exact decimals; the one id is both ids', () => {
    const body = parseApifinyJson(
      `{"result":[{"accountId":"STA-VENUE1_00000001","venue":"BINANCE","orderId":"${ID}","symbol":"BTCUSDT","orderType":"LIMIT","orderSide":"SELL","limitPrice":60000.10,"quantity":0.30,"filledAveragePrice":60000.1,"filledCumulativeQuantity":0.1,"timeInForce":3,"openQuantity":0,"orderStatus":"PART_FILLED","createdAt":1700000000000,"updatedAt":1700000000100}],"error":null}`,
    ) as { result: unknown };
    expect(orderFromApifinyResult(body.result)).toEqual({
      clientOrderId: ID,
      venueOrderId: ID,
      symbol: 'BTCUSDT',
      side: 'sell',
      type: 'limit',
      quantity: '0.30',
      price: '60000.10',
      timeInForce: 'IOC',
      status: 'expired',
      rawStatus: 'PART_FILLED',
      filledQty: '0.1',
      avgPrice: '60000.1',
      updateTime: 1700000000100,
    });
  });
});

describe('Apifiny mapping: stream pushes', () => {
  it("the docs' FILLED push → one fill at its own price, fill id from (orderId, cumulative)", () => {
    const events = eventsFromApifinyPush(parseApifinyJson(PUSH_FILLED));
    expect(events).toEqual([
      {
        kind: 'fill',
        clientOrderId: ID,
        venueOrderId: ID,
        rawStatus: 'FILLED',
        time: 1552116459536,
        cumQty: '1.12',
        source: 'stream',
        fill: { fillId: `${ID}:1.12`, qty: '1.12', price: '100.0', fee: '0.112', feeAsset: 'USD', time: 1552116459530 },
      },
    ]);
  });

  it('SUBMITTED without fills → acknowledged; with a risen cumulative → one fill', () => {
    const ack = eventsFromApifinyPush(parseApifinyJson(push({ orderStatus: 'SUBMITTED', filledCumulativeQuantity: 0, lastFilledQuantity: null, lastFilledPrice: null })));
    expect(ack).toEqual([expect.objectContaining({ kind: 'acknowledged', cumQty: '0' })]);
    const fill = eventsFromApifinyPush(parseApifinyJson(push({ orderStatus: 'SUBMITTED', filledCumulativeQuantity: 0.5, lastFilledQuantity: 0.5 })));
    expect(fill).toEqual([expect.objectContaining({ kind: 'fill', cumQty: '0.5', fill: expect.objectContaining({ fillId: `${ID}:0.5`, qty: '0.5' }) })]);
  });

  it('PART_FILLED → the last fill (same key as its earlier push, so deduped) then expired/canceled with the cumulative', () => {
    const ioc = eventsFromApifinyPush(parseApifinyJson(push({ orderStatus: 'PART_FILLED', timeInForce: 3, filledCumulativeQuantity: 0.5, lastFilledQuantity: 0.5 })));
    expect(ioc.map((e) => e.kind)).toEqual(['fill', 'expired']);
    expect(ioc[0]).toMatchObject({ fill: { fillId: `${ID}:0.5` } });
    expect(ioc[1]).toMatchObject({ cumQty: '0.5', rawStatus: 'PART_FILLED' });
    const gtc = eventsFromApifinyPush(parseApifinyJson(push({ orderStatus: 'PART_FILLED', timeInForce: 1, filledCumulativeQuantity: 0.5 })));
    expect(gtc.map((e) => e.kind)).toEqual(['fill', 'canceled']);
  });

  it('CANCELLED → canceled, REJECTED → rejected, PENDING_SUBMIT and pings → nothing', () => {
    const none = { filledCumulativeQuantity: 0, lastFilledQuantity: null, lastFilledPrice: null };
    expect(eventsFromApifinyPush(parseApifinyJson(push({ ...none, orderStatus: 'CANCELLED' })))).toEqual([expect.objectContaining({ kind: 'canceled', cumQty: '0' })]);
    expect(eventsFromApifinyPush(parseApifinyJson(push({ ...none, orderStatus: 'REJECTED' })))).toEqual([expect.objectContaining({ kind: 'rejected', code: 'REJECTED' })]);
    expect(eventsFromApifinyPush(parseApifinyJson(push({ ...none, orderStatus: 'PENDING_SUBMIT' })))).toEqual([]);
    expect(eventsFromApifinyPush({ ping: 1 })).toEqual([]);
  });

  it('fill ids are canonical, so "1.0" and "1" are the same fill', () => {
    expect(apifinyFillId(ID, '1.0')).toBe(apifinyFillId(ID, '1'));
    expect(apifinyFillId(ID, '0.50')).toBe(`${ID}:0.5`);
  });

  it('listFilledOrder rows → fills in cumulative order, each at its own price, duplicates dropped', () => {
    const rows = parseApifinyJson(
      `[{"orderId":"${ID}","filledCumulativeQuantity":0.3,"lastFilledQuantity":0.2,"lastFilledPrice":60000.2,"lastFilledCreatedAt":2},` +
        `{"orderId":"${ID}","filledCumulativeQuantity":0.1,"lastFilledQuantity":0.1,"lastFilledPrice":60000.1,"lastFilledCreatedAt":1},` +
        `{"orderId":"${ID}","filledCumulativeQuantity":0.10,"lastFilledQuantity":0.1,"lastFilledPrice":60000.1,"lastFilledCreatedAt":1},` +
        `{"orderId":"other","filledCumulativeQuantity":1,"lastFilledQuantity":1,"lastFilledPrice":1}]`,
    );
    expect(fillsFromApifinyFilledOrders(rows, ID)).toEqual([
      { fillId: `${ID}:0.1`, qty: '0.1', price: '60000.1', time: 1 },
      { fillId: `${ID}:0.3`, qty: '0.2', price: '60000.2', time: 2 },
    ]);
  });

  it('a gap between snapshots → Δcum at the exact implied price', () => {
    expect(gapFill({ cumQty: '0.1', avgPrice: '100' }, { cumQty: '0.3', avgPrice: '101' })).toEqual({ qty: '0.2', price: '101.5' });
    expect(gapFill({ cumQty: '0' }, { cumQty: '0.3', avgPrice: '101' })).toEqual({ qty: '0.3', price: '101' });
    expect(gapFill({ cumQty: '0.3', avgPrice: '1' }, { cumQty: '0.3', avgPrice: '1' })).toBeUndefined();
  });
});

describe('Apifiny mapping: requests', () => {
  it('newOrder body: keys in the docs order, decimals as given, TIF as an integer', () => {
    expect(JSON.stringify(apifinyNewOrderBody(req(), 'STA-00000001', 'BINANCE'))).toBe(
      `{"accountId":"STA-00000001","venue":"BINANCE","orderId":"${ID}","orderInfo":{"symbol":"BTCUSDT","orderType":"LIMIT","timeInForce":1,"orderSide":"BUY","limitPrice":"60000.10","quantity":"0.10"}}`,
    );
    expect(apifinyNewOrderBody(req({ type: 'market', side: 'sell', price: undefined, timeInForce: 'IOC' }), 'STA-1', 'BINANCE')).toMatchObject({
      orderInfo: { orderType: 'MARKET', timeInForce: 3, orderSide: 'SELL', quantity: '0.10' },
    });
  });

  it('TIFs 1 GTC, 3 IOC, 7 post-only; no FOK, Day or GTD; no MARKET BUY without a quote total', () => {
    expect(apifinyTimeInForce(req())).toBe(1);
    expect(apifinyTimeInForce(req({ timeInForce: 'IOC' }))).toBe(3);
    expect(apifinyTimeInForce(req({ postOnly: true }))).toBe(7);
    expect(() => apifinyTimeInForce(req({ timeInForce: 'FOK' }))).toThrow(/no fill-or-kill/);
    expect(() => apifinyTimeInForce(req({ timeInForce: 'DAY' }))).toThrow(OrderRejected);
    expect(() => apifinyTimeInForce(req({ postOnly: true, timeInForce: 'IOC' }))).toThrow(/post-only/);
    expect(() => apifinyNewOrderBody(req({ type: 'market', price: undefined, timeInForce: 'IOC' }), 'STA-1', 'BINANCE')).toThrow(/MARKET BUY/);
  });

  it('symbols → instruments with exact (and written-out) decimals; disabled ones left out', () => {
    const rows = parseApifinyJson(
      '[{"symbol":"BTCUSDT","baseAsset":"BTC","quoteAsset":"USDT","minQuantity":1.0E-5,"maxQuantity":9000.0,"tickSize":0.01,"stepSize":0.00001,"minNotional":10.0,"status":"enabled"},' +
        '{"symbol":"OLDUSDT","tickSize":0.1,"stepSize":1,"status":"disabled"}]',
    );
    expect(instrumentsFromApifinySymbols(rows)).toEqual([{ symbol: 'BTCUSDT', tickSize: '0.01', stepSize: '0.00001', minQty: '0.00001', maxQty: '9000.0', minNotional: '10.0' }]);
  });
});

describe('Apifiny mapping: errors', () => {
  it('codes → the error hierarchy', () => {
    expect(apifinyErrorForCode(327722, 'original orderId duplicate')).toBeInstanceOf(DuplicateOrder);
    expect(apifinyErrorForCode(327706, "order doesn't exist")).toBeInstanceOf(OrderNotFound);
    expect(apifinyErrorForCode(196634, 'token error')).toBeInstanceOf(AuthenticationFailed);
    expect(apifinyErrorForCode(131114, 'Request too often')).toBeInstanceOf(RateLimited);
    expect(apifinyErrorForCode(327723, 'new order failure')).toBeInstanceOf(OutcomeUnknown);
    expect(apifinyErrorForCode(393258, 'not enough asset')).toMatchObject({ reason: 'insufficient_funds', code: '393258' });
    expect(apifinyErrorForCode(327802, 'cannot cancel')).toMatchObject({ reason: 'too_late' });
    expect(apifinyErrorForCode(327978, 'order id rule error')).toMatchObject({ reason: 'invalid_order' });
  });

  it('328026 (and 327754) = cannot cancel while PENDING_SUBMIT: a distinct retryable error, never too_late', () => {
    const e = apifinyErrorForCode(328026, 'cannot cancel in PENDING_SUBMIT');
    expect(e).toBeInstanceOf(CancelNotYetPossible);
    expect(e).toMatchObject({ retryable: true, reason: 'not_yet_cancelable', code: '328026' });
    expect(apifinyErrorForCode(327754, 'Order_CancelPendingSubmitWait')).toBeInstanceOf(CancelNotYetPossible);
    expect(apifinyErrorForCode(328010, 'order is being cancelled')).toBeInstanceOf(CancelAlreadyPending);
  });

  it('decimal/hex clashes are decided by the text; hex literals parse; unlisted B-suffix codes are unknown outcomes', () => {
    expect(apifinyErrorForCode(327786, 'timeout for new order')).toBeInstanceOf(OutcomeUnknown);
    expect(apifinyErrorForCode(327786, 'too many open orders')).toMatchObject({ reason: 'other' });
    expect(apifinyErrorForCode(327818, 'incorrect timestamp format')).toMatchObject({ reason: 'invalid_order' });
    expect(apifinyErrorForCode(327818, 'cancel timeout')).toBeInstanceOf(OutcomeUnknown);
    expect(apifinyErrorForCode('0x05015A', 'x')).toMatchObject({ code: '328026' });
    expect(apifinyErrorForCode(0x0700bb, 'server busy')).toBeInstanceOf(OutcomeUnknown);
    expect(apifinyErrorForCode(0x0700ba, 'something')).toMatchObject({ reason: 'other' });
  });

  it('replies: 5xx → unknown outcome even with an envelope, 429 / 403 → rate limited, envelope → its code', () => {
    expect(apifinyResultOrError(200, { result: [1], error: null })).toEqual({ result: [1] });
    expect((apifinyResultOrError(502, 'Bad Gateway') as { error: Error }).error).toBeInstanceOf(OutcomeUnknown);
    expect((apifinyResultOrError(500, { result: null, error: { code: 327722, message: 'dup' } }) as { error: Error }).error).toBeInstanceOf(OutcomeUnknown);
    expect((apifinyResultOrError(429, { result: null, error: { code: 131114, message: 'Request too often' } }) as { error: Error }).error).toBeInstanceOf(RateLimited);
    expect((apifinyResultOrError(403, '') as { error: RateLimited }).error.retryAfterMs).toBe(60_000);
    expect((apifinyResultOrError(200, { result: null, error: { code: 327706, message: 'no' } }) as { error: Error }).error).toBeInstanceOf(OrderNotFound);
    expect((apifinyResultOrError(200, 'html') as { error: Error }).error).toBeInstanceOf(OutcomeUnknown);
  });
});
