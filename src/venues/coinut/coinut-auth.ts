// Coinut signing. Pure: no clock, no I/O. The "API key" is the HMAC key (there is no separate
// secret), so it is secret material: it never goes into a log.
//
// WS login: hmac_sha256 = hex(HMAC_SHA256(apiKey, "<username>|<unix seconds>|<nonce>")), sent with
// the same nonce and timestamp that were signed.
// REST: `POST /` with headers X-USER: <username>, X-SIGNATURE: hex(HMAC_SHA256(apiKey, body)) over
// exactly the body bytes sent (key order and spacing included).

import { hmacSha256Hex, hmacSha256HexMatches } from '../common/hmac-signing';
import { COINUT_HEADERS, COINUT_REQUESTS } from './coinut-constants';

/** The string the WS login signs. */
export function coinutLoginMessage(username: string, timestampSeconds: number, nonce: number): string {
  return `${username}|${timestampSeconds}|${nonce}`;
}

export function coinutLoginHmac(apiKey: string, username: string, timestampSeconds: number, nonce: number): string {
  return hmacSha256Hex(apiKey, coinutLoginMessage(username, timestampSeconds, nonce));
}

export interface CoinutLoginRequest {
  request: 'login';
  username: string;
  nonce: number;
  hmac_sha256: string;
  timestamp: number;
}

/** The login message in the wiki's key order. */
export function coinutLoginRequest(apiKey: string, username: string, timestampSeconds: number, nonce: number): CoinutLoginRequest {
  return {
    request: COINUT_REQUESTS.login,
    username,
    nonce,
    hmac_sha256: coinutLoginHmac(apiKey, username, timestampSeconds, nonce),
    timestamp: timestampSeconds,
  };
}

/** Headers of a REST request whose body is `body` exactly as it will be sent. */
export function coinutRestHeaders(apiKey: string, username: string, body: string): Record<string, string> {
  return {
    [COINUT_HEADERS.user]: username,
    [COINUT_HEADERS.signature]: hmacSha256Hex(apiKey, body),
    'Content-Type': 'application/json',
  };
}

// ---- the venue's side (simulator) ---------------------------------------------------------------

/** True when `hmac` signs `<username>|<ts>|<nonce>` with `apiKey`. Constant time. */
export function coinutLoginHmacMatches(apiKey: string, username: string, timestampSeconds: number, nonce: number, hmac: string): boolean {
  return hmacSha256HexMatches(apiKey, coinutLoginMessage(username, timestampSeconds, nonce), hmac);
}

export function coinutRestSignatureMatches(apiKey: string, body: string, signature: string): boolean {
  return hmacSha256HexMatches(apiKey, body, signature);
}
