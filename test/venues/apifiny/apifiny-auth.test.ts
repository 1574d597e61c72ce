import { createHmac } from 'node:crypto';
import {
  apifinyExp,
  apifinyJwt,
  apifinyQueryString,
  decodeApifinyClaims,
  sha256Hex,
  signApifinyBody,
  signApifinyQuery,
  signApifinyStream,
  verifyApifinyJwt,
} from '../../../src/venues/apifiny/apifiny-auth';

// Self-computed vector from ../shared/venues/apifiny.md (python3 hmac/base64), not published by Apifiny.
const CREDS = { accountId: 'STA-00000001', secretKeyId: 'test-key-id', secret: 'test-secret' };
const BODY =
  '{"accountId":"STA-00000001","venue":"VENUE1","orderId":"000000011584603011942221","orderInfo":{"symbol":"BTCUSD","orderType":"LIMIT","timeInForce":1,"orderSide":"BUY","limitPrice":"100","quantity":"1.12"}}';
const BODY_DIGEST = '2e6c56c91845edf10d3c0f79f7f97d87acf196c14fb4369054af5c76648c8b2a';
const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhY2NvdW50SWQiOiJTVEEtMDAwMDAwMDEiLCJzZWNyZXRLZXlJZCI6InRlc3Qta2V5LWlkIiwiZGlnZXN0IjoiMmU2YzU2YzkxODQ1ZWRmMTBkM2MwZjc5ZjdmOTdkODdhY2YxOTZjMTRmYjQzNjkwNTRhZjVjNzY2NDhjOGIyYSIsImV4cCI6MTcwMDAwMDA2MH0.KD2lKaMH1Uiiv6IA7l4plAajCcMeNO8Vrj4VfTEpeBo';
const GET_QUERY = 'accountId=STA-00000001&venue=VENUE1';
const GET_DIGEST = '57bc2d34101bb54dddcc705bd62e5970c261f151d4006dec81493e95652547b4';

describe('Apifiny JWT signing', () => {
  it('hashes the POST body exactly as sent (vector digest)', () => {
    expect(sha256Hex(BODY)).toBe(BODY_DIGEST);
  });

  it('produces the vector JWT: HS256, claims accountId, secretKeyId, digest, exp in seconds', () => {
    expect(apifinyJwt(CREDS, 1700000060, BODY_DIGEST)).toBe(JWT);
    expect(signApifinyBody(CREDS, BODY, 1700000060)).toEqual({ signature: JWT, digest: BODY_DIGEST });
  });

  it('the vector signature is HMAC-SHA256 over header.payload (independent check)', () => {
    const [h, p, s] = JWT.split('.');
    expect(createHmac('sha256', 'test-secret').update(`${h}.${p}`).digest('base64url')).toBe(s);
    expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT' });
  });

  it('hashes the GET query string without "?" (vector) and omits the digest on a GET without parameters', () => {
    expect(apifinyQueryString({ accountId: 'STA-00000001', venue: 'VENUE1' })).toBe(GET_QUERY);
    const signed = signApifinyQuery(CREDS, GET_QUERY, 1700000060);
    expect(signed.digest).toBe(GET_DIGEST);
    expect(decodeApifinyClaims(signed.signature)).toEqual({ accountId: 'STA-00000001', secretKeyId: 'test-key-id', digest: GET_DIGEST, exp: 1700000060 });
    const bare = signApifinyQuery(CREDS, '', 1700000060);
    expect(bare.digest).toBeUndefined();
    expect(decodeApifinyClaims(bare.signature)).toEqual({ accountId: 'STA-00000001', secretKeyId: 'test-key-id', exp: 1700000060 });
  });

  it('the stream token carries no digest', () => {
    expect(Object.keys(decodeApifinyClaims(signApifinyStream(CREDS, 1700000060))!)).toEqual(['accountId', 'secretKeyId', 'exp']);
  });

  it('builds query strings in insertion order, skipping undefined, keeping commas of id lists', () => {
    expect(apifinyQueryString({ accountId: 'STA-1', orderIdList: '1,2', x: undefined, venue: 'A B' })).toBe('accountId=STA-1&orderIdList=1,2&venue=A%20B');
    expect(apifinyQueryString({})).toBe('');
  });

  it('exp is whole seconds: now + lifetime', () => {
    expect(apifinyExp(1_700_000_000_999, 30)).toBe(1_700_000_030);
    expect(() => apifinyJwt(CREDS, 1700000060.5)).toThrow(/whole seconds/);
  });

  it('verifies: good token, expired, wrong secret, unknown key, garbage', () => {
    const secretFor = (id: string) => (id === 'test-key-id' ? 'test-secret' : undefined);
    expect(verifyApifinyJwt(JWT, secretFor, 1700000059_000)).toMatchObject({ ok: true, claims: { digest: BODY_DIGEST } });
    expect(verifyApifinyJwt(JWT, secretFor, 1700000061_000)).toMatchObject({ ok: false, problem: 'expired' });
    expect(verifyApifinyJwt(JWT, () => 'other', 1700000059_000)).toMatchObject({ ok: false, problem: 'bad_signature' });
    expect(verifyApifinyJwt(apifinyJwt({ ...CREDS, secretKeyId: 'nope' }, 1700000060), secretFor, 0)).toMatchObject({ ok: false, problem: 'unknown_key' });
    expect(verifyApifinyJwt('not-a-jwt', secretFor, 0)).toMatchObject({ ok: false, problem: 'malformed' });
  });

  it('a millisecond exp (some SDK samples) reads as far-future seconds and passes', () => {
    const t = apifinyJwt(CREDS, 1_700_000_060_000);
    expect(verifyApifinyJwt(t, () => 'test-secret', 1_700_000_100_000).ok).toBe(true);
  });
});
