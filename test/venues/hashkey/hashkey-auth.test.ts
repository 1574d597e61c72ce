import { buildSignedQuery, encodeHashKeyParams, redactSignedQuery, signHashKey } from '../../../src/venues/hashkey/hashkey-auth';

// Self-computed vectors from ../shared/venues/hashkey.md (python3 hmac), not published by HashKey.
const SECRET = 'test-secret';
const V1 = 'symbol=ETHUSDT&side=BUY&type=LIMIT&price=3000&quantity=0.01&timestamp=1714311403031';
const V1_SIG = '8daf783599a36370e597837bd4641b1b8550e316054600581aa9c56d8798b239';
const V2 =
  'symbol=ETHUSDT&side=BUY&type=LIMIT&price=3000&quantity=0.01&newClientOrderId=FIX-1&timeInForce=GTC&recvWindow=5000&timestamp=1714311403031';
const V2_SIG = 'a416619a2b5078bdb920c6c1ff58842ca169558be163fe4ad297d81ccb123f66';

describe('HashKey signing', () => {
  it('signs totalParams as hex HMAC-SHA256 (vector 1)', () => {
    expect(signHashKey(SECRET, V1)).toBe(V1_SIG);
  });

  it('signs totalParams as hex HMAC-SHA256 (vector 2)', () => {
    expect(signHashKey(SECRET, V2)).toBe(V2_SIG);
  });

  it('builds the vector-1 query: params in insertion order, timestamp, then signature last', () => {
    const q = buildSignedQuery(SECRET, { symbol: 'ETHUSDT', side: 'BUY', type: 'LIMIT', price: '3000', quantity: '0.01' }, 1714311403031);
    expect(q.signedPayload).toBe(V1);
    expect(q.signature).toBe(V1_SIG);
    expect(q.query).toBe(`${V1}&signature=${V1_SIG}`);
  });

  it('builds the vector-2 query with recvWindow before timestamp', () => {
    const q = buildSignedQuery(
      SECRET,
      { symbol: 'ETHUSDT', side: 'BUY', type: 'LIMIT', price: '3000', quantity: '0.01', newClientOrderId: 'FIX-1', timeInForce: 'GTC' },
      1714311403031,
      5000,
    );
    expect(q.query).toBe(`${V2}&signature=${V2_SIG}`);
  });

  it('signs the URL-encoded string exactly as sent and skips undefined values', () => {
    const q = buildSignedQuery(SECRET, { clientOrderId: 'a b/c', orderId: undefined }, 1);
    expect(q.signedPayload).toBe('clientOrderId=a%20b%2Fc&timestamp=1');
    expect(q.signature).toBe(signHashKey(SECRET, 'clientOrderId=a%20b%2Fc&timestamp=1'));
  });

  it('signs a request with no params (listenKey create)', () => {
    const q = buildSignedQuery(SECRET, {}, 42, 5000);
    expect(q.signedPayload).toBe('recvWindow=5000&timestamp=42');
  });

  it('encodes params in insertion order', () => {
    expect(encodeHashKeyParams({ b: 1, a: 'x', c: true })).toBe('b=1&a=x&c=true');
  });

  it('redacts the signature from a URL or query for logs', () => {
    expect(redactSignedQuery(`https://h/api?${V1}&signature=${V1_SIG}`)).toBe(`https://h/api?${V1}&signature=<redacted>`);
    expect(redactSignedQuery(`signature=${V1_SIG}&x=1`)).toBe('signature=<redacted>&x=1');
  });
});
