// Zerocap request signing. Pure: no clock, no I/O.
//
// Three headers on every REST request and on the WS upgrade: `api-key`, `timestamp` (Unix seconds
// as a decimal string) and `signature` = lowercase hex HMAC-SHA256(api secret, timestamp string).
// Only the timestamp is signed: not the body, path or method (zerocap.md; the docs' "Base64" is
// contradicted by their own example and every SDK, which use hex).

import { createHmac } from 'crypto';
import { ZEROCAP_HEADERS } from './zerocap-constants';

export function signZerocap(secret: string, timestamp: string): string {
  return createHmac('sha256', secret).update(timestamp).digest('hex');
}

/** The timestamp string for a clock reading in ms: whole seconds, as the SDK's str(int(time.time())). */
export function zerocapTimestamp(nowMs: number): string {
  return String(Math.floor(nowMs / 1000));
}

/** The three auth headers. They hold a signature: never log them. */
export function zerocapAuthHeaders(apiKey: string, secret: string, nowMs: number): Record<string, string> {
  const timestamp = zerocapTimestamp(nowMs);
  return {
    [ZEROCAP_HEADERS.apiKey]: apiKey,
    [ZEROCAP_HEADERS.timestamp]: timestamp,
    [ZEROCAP_HEADERS.signature]: signZerocap(secret, timestamp),
  };
}
