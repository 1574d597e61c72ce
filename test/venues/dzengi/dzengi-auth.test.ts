import { buildDzengiSignedParams, dzengiWsSignedString, signDzengi, signDzengiWsPayload } from '../../../src/venues/dzengi/dzengi-auth';

// Official vectors from the venue's REST page, recomputed in dzengi.md with python3 and openssl.
const SECRET = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j';
const V1 = 'symbol=LTC%2FBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559';
const V1_SIG = 'ebec6528b2beb508b2417fa33453a4ad28c1aae8097bb243caa60d0524036f50';
const V2 =
  'symbol=BTC%2FUSD_LEVERAGE&side=BUY&type=MARKET&timeInForce=GTC&quantity=0.01&leverage=2&accountId=2376109060084932&takeProfit=8000&stopLoss=6000&recvWindow=60000&timestamp=1586942164000';
const V2_SIG = '05fc9fd19c2b1a11215025c5dfa56da2204b04181add67670d4f92049b439f7b';

describe('Dzengi REST signing (official vectors)', () => {
  it('vector 1: hex HMAC-SHA256 over the encoded string', () => {
    expect(signDzengi(SECRET, V1)).toBe(V1_SIG);
  });

  it('vector 1 built from params: LTC/BTC encoded as LTC%2FBTC in the signed string and the sent string', () => {
    const p = buildDzengiSignedParams(
      SECRET,
      { symbol: 'LTC/BTC', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '1', price: '0.1' },
      1499827319559,
      5000,
    );
    expect(p.signedPayload).toBe(V1);
    expect(p.query).toBe(`${V1}&signature=${V1_SIG}`);
  });

  it('vector 2 built from params (leverage order, recvWindow 60000)', () => {
    const p = buildDzengiSignedParams(
      SECRET,
      {
        symbol: 'BTC/USD_LEVERAGE',
        side: 'BUY',
        type: 'MARKET',
        timeInForce: 'GTC',
        quantity: '0.01',
        leverage: '2',
        accountId: '2376109060084932',
        takeProfit: '8000',
        stopLoss: '6000',
      },
      1586942164000,
      60000,
    );
    expect(p.signedPayload).toBe(V2);
    expect(p.signature).toBe(V2_SIG);
  });

  it('encodes exactly once at the edge: raw symbols in (spaces, slash), an already-encoded one is not special-cased', () => {
    const p = buildDzengiSignedParams(SECRET, { symbol: 'Oil - Brent.' }, 1);
    expect(p.signedPayload).toBe('symbol=Oil%20-%20Brent.&timestamp=1');
    expect(buildDzengiSignedParams(SECRET, { symbol: 'BTC%2FUSD' }, 1).signedPayload).toBe('symbol=BTC%252FUSD&timestamp=1');
  });
});

describe('Dzengi WS signing (self-computed vector in dzengi.md)', () => {
  it('sorts the payload keys and signs raw k=v pairs', () => {
    const payload = { symbol: 'ETH/USD', limit: 5, apiKey: 'my-key', timestamp: 1700000000000 };
    expect(dzengiWsSignedString(payload)).toBe('apiKey=my-key&limit=5&symbol=ETH/USD&timestamp=1700000000000');
    const signed = signDzengiWsPayload('test-secret', 'my-key', { symbol: 'ETH/USD', limit: 5 }, 1700000000000);
    expect(signed.signature).toBe('814922dea3d6210c79a9cddd7849510c7d5d6f2e4ca62072e03a51b1763e5baa');
  });
});
