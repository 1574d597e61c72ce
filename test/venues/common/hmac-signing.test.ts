import {
  buildSignedPayload,
  encodeParams,
  hmacSha256Hex,
  hmacSha256HexMatches,
  redactSignature,
  withoutSignatureParam,
} from '../../../src/venues/common/hmac-signing';

// Dzengi's official vector 1 (dzengi.md, recomputed there with python3 hmac and openssl).
const SECRET = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j';
const V1 = 'symbol=LTC%2FBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559';
const V1_SIG = 'ebec6528b2beb508b2417fa33453a4ad28c1aae8097bb243caa60d0524036f50';

describe('Binance-style HMAC signing', () => {
  it('hex HMAC-SHA256 of the payload', () => {
    expect(hmacSha256Hex(SECRET, V1)).toBe(V1_SIG);
  });

  it('encodes values once, RFC 3986 style (/ and space), in insertion order, skipping absent values', () => {
    expect(encodeParams({ symbol: 'LTC/BTC', asset: 'Oil - Brent.', x: undefined, n: 1, b: false })).toBe(
      'symbol=LTC%2FBTC&asset=Oil%20-%20Brent.&n=1&b=false',
    );
  });

  it('appends recvWindow, timestamp, then the signature over exactly the encoded string', () => {
    const p = buildSignedPayload(SECRET, { symbol: 'LTC/BTC', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '1', price: '0.1' }, 1499827319559, 5000);
    expect(p.signedPayload).toBe(V1);
    expect(p.signature).toBe(V1_SIG);
    expect(p.query).toBe(`${V1}&signature=${V1_SIG}`);
  });

  it('redacts the signature for logs', () => {
    expect(redactSignature(`/api/v2/order?${V1}&signature=${V1_SIG}`)).toBe(`/api/v2/order?${V1}&signature=<redacted>`);
  });

  it('venue side: strips the signature parameter and checks it case-insensitively', () => {
    expect(withoutSignatureParam(`${V1}&signature=${V1_SIG}`)).toBe(V1);
    expect(withoutSignatureParam(`signature=${V1_SIG}&a=1&b=2`)).toBe('a=1&b=2');
    expect(withoutSignatureParam('a=1')).toBe('a=1');
    expect(hmacSha256HexMatches(SECRET, V1, V1_SIG.toUpperCase())).toBe(true);
    expect(hmacSha256HexMatches(SECRET, V1 + 'x', V1_SIG)).toBe(false);
    expect(hmacSha256HexMatches(SECRET, V1, 'abc')).toBe(false);
  });
});
