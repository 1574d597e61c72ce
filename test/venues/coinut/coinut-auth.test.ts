// Coinut signing against the two vectors the wiki publishes (coinut.md) and the self-computed one.

import {
  coinutLoginHmac,
  coinutLoginHmacMatches,
  coinutLoginMessage,
  coinutLoginRequest,
  coinutRestHeaders,
  coinutRestSignatureMatches,
} from '../../../src/venues/coinut/coinut-auth';

describe('Coinut signing', () => {
  it('REST: X-SIGNATURE is the wiki vector 1 over the exact body', () => {
    const body = '{"nonce":3062542,"request":"user_balance"}';
    const headers = coinutRestHeaders('b45e65ff-d4c4-433c-b032-093423b1aaa4', 'test', body);
    expect(headers).toEqual({
      'X-USER': 'test',
      'X-SIGNATURE': 'd1893b047c4f2f39a229eff4342c1a5c3717cddea01fdfd996199a9bb95f58ea',
      'Content-Type': 'application/json',
    });
    expect(coinutRestSignatureMatches('b45e65ff-d4c4-433c-b032-093423b1aaa4', body, headers['X-SIGNATURE'])).toBe(true);
    // One byte of spacing more is another body: the signature no longer matches.
    expect(coinutRestSignatureMatches('b45e65ff-d4c4-433c-b032-093423b1aaa4', body.replace(':', ': '), headers['X-SIGNATURE'])).toBe(false);
  });

  it('REST: the self-computed new_order vector (key order as sent)', () => {
    const body = '{"client_ord_id":1345,"inst_id":1,"nonce":956475,"price":"750.581","qty":"0.01","request":"new_order","side":"SELL"}';
    expect(coinutRestHeaders('b45e65ff-d4c4-433c-b032-093423b1aaa4', 'u', body)['X-SIGNATURE']).toBe(
      'c3739afd970dbb52261600dca8fc0d866fedc1d9df926b9cf9599c41a06a08c3',
    );
  });

  it('WS login: the wiki vector 2 and its login message', () => {
    const key = 'ec9dd76b-71da-4ab9-bb65-1a19d1184b84';
    expect(coinutLoginMessage('test', 1542603878, 67130554)).toBe('test|1542603878|67130554');
    expect(coinutLoginHmac(key, 'test', 1542603878, 67130554)).toBe('208ade71dc150118feebef664e2262358079d3b445971dedf0eb1d6de3cc2e04');
    const login = coinutLoginRequest(key, 'test', 1542603878, 67130554);
    expect(JSON.stringify(login)).toBe(
      '{"request":"login","username":"test","nonce":67130554,"hmac_sha256":"208ade71dc150118feebef664e2262358079d3b445971dedf0eb1d6de3cc2e04","timestamp":1542603878}',
    );
    expect(coinutLoginHmacMatches(key, 'test', 1542603878, 67130554, login.hmac_sha256.toUpperCase())).toBe(true);
    expect(coinutLoginHmacMatches(key, 'test', 1542603879, 67130554, login.hmac_sha256)).toBe(false);
    expect(coinutLoginHmacMatches(key, 'test', 1542603878, 67130555, login.hmac_sha256)).toBe(false);
  });
});
