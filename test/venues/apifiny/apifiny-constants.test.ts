import {
  APIFINY_CODES,
  APIFINY_ERROR_CODES,
  apifinyCapabilities,
  apifinyUrls,
  exchangeFromRestUrl,
  exchangeFromWsUrl,
  resolveApifinyExchange,
} from '../../../src/venues/apifiny/apifiny-constants';

describe('Apifiny constants', () => {
  it('URLs as apifiny.md lists them, path included', () => {
    expect(apifinyUrls('BINANCE', 'production')).toEqual({ restUrl: 'https://apibn.apifiny.com/ac/v2', wsUrl: 'wss://apibn.apifiny.com/ac/ws/v2/order' });
    expect(apifinyUrls('okex', 'production')).toEqual({ restUrl: 'https://apiok.apifiny.com/ac/v2', wsUrl: 'wss://apiok.apifiny.com/ac/ws/v2/order' });
    expect(apifinyUrls('FTX', 'production')).toEqual({ restUrl: 'https://api.apifiny.com/ac/v2/FTX', wsUrl: 'wss://api.apifiny.com/ac/ws/v2/FTX/order' });
    expect(apifinyUrls('BINANCE', 'sandbox')).toEqual({
      restUrl: 'http://api-sandbox.apifiny.com/ac/v2/BINANCE',
      wsUrl: 'ws://api-sandbox.apifiny.com/ac/ws/v2/BINANCE/order',
    });
  });

  it('derives the exchange from a REST URL, undefined for the co-located style', () => {
    expect(exchangeFromRestUrl('http://127.0.0.1:8000/ac/v2/BINANCE')).toEqual({ ok: true, exchange: 'BINANCE' });
    expect(exchangeFromRestUrl('https://api.apifiny.com/ac/v2/huobi/')).toEqual({ ok: true, exchange: 'HUOBI' });
    expect(exchangeFromRestUrl('https://apibn.apifiny.com/ac/v2')).toEqual({ ok: true, exchange: undefined });
    expect(exchangeFromRestUrl('https://apibn.apifiny.com/api/v1')).toMatchObject({ ok: false });
    expect(exchangeFromRestUrl('nonsense')).toMatchObject({ ok: false });
    expect(exchangeFromWsUrl('ws://127.0.0.1:8000/ac/ws/v2/BINANCE/order')).toEqual({ ok: true, exchange: 'BINANCE' });
    expect(exchangeFromWsUrl('wss://apibn.apifiny.com/ac/ws/v2/order')).toEqual({ ok: true, exchange: undefined });
  });

  it('resolves the exchange: URL, or configured for co-located, and refuses disagreement', () => {
    expect(resolveApifinyExchange('http://h/ac/v2/BINANCE', 'ws://h/ac/ws/v2/BINANCE/order')).toEqual({ ok: true, exchange: 'BINANCE' });
    expect(resolveApifinyExchange('http://h/ac/v2', 'ws://h/ac/ws/v2/order', 'binance')).toEqual({ ok: true, exchange: 'BINANCE' });
    expect(resolveApifinyExchange('http://h/ac/v2/BINANCE', 'ws://h/ac/ws/v2/BINANCE/order', 'BINANCE')).toEqual({ ok: true, exchange: 'BINANCE' });
    expect(resolveApifinyExchange('http://h/ac/v2', 'ws://h/ac/ws/v2/order')).toMatchObject({ ok: false, problem: expect.stringMatching(/VenueExDestination/) });
    expect(resolveApifinyExchange('http://h/ac/v2/BINANCE', 'ws://h/ac/ws/v2/BINANCE/order', 'HUOBI')).toMatchObject({ ok: false, problem: expect.stringMatching(/mismatch/) });
    expect(resolveApifinyExchange('http://h/ac/v2/BINANCE', 'ws://h/ac/ws/v2/HUOBI/order')).toMatchObject({ ok: false });
  });

  it('error table is keyed on the true decimal of each hex code', () => {
    expect(APIFINY_ERROR_CODES.get('328026')?.spec).toEqual({ kind: 'cancel_pending_submit' });
    expect(APIFINY_ERROR_CODES.get('327754')?.spec).toEqual({ kind: 'cancel_pending_submit' });
    // 0x05005A is 327770 (the docs print 327786, which is 0x05006A).
    expect(APIFINY_ERROR_CODES.get('327770')?.spec).toEqual({ kind: 'unknown_outcome' });
    expect(APIFINY_ERROR_CODES.get('327786')?.spec).toEqual({ kind: 'rejected', reason: 'other' });
    for (const [dec, row] of APIFINY_ERROR_CODES) expect(parseInt(row.hex, 16)).toBe(Number(dec));
    for (const code of Object.values(APIFINY_CODES)) expect(APIFINY_ERROR_CODES.has(String(code))).toBe(true);
  });

  it('capabilities: MARKET only on the six exchanges, no FOK, post-only, async cancel, 64-digit ids', () => {
    expect(apifinyCapabilities('BINANCE')).toMatchObject({ orderTypes: ['limit', 'market'], timeInForce: { limit: ['GTC', 'IOC'], market: ['IOC'] } });
    expect(apifinyCapabilities('FTX')).toMatchObject({ orderTypes: ['limit'], timeInForce: { market: [] }, postOnly: true, asyncCancel: true, clientOrderId: { kind: 'venue-format' } });
  });
});
