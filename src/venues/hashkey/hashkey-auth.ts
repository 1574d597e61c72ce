// HashKey request signing. Pure: no clock, no I/O.
//
// signature = hex(HMAC_SHA256(secretKey, totalParams)), where totalParams is the query string
// (plus body, which we never send) exactly as sent. We put every parameter in the query string
// (Hummingbot style), so the string we sign is the string we send, byte for byte.

import { createHmac } from 'crypto';

export type HashKeyParamValue = string | number | boolean | undefined | null;
export type HashKeyParams = Record<string, HashKeyParamValue>;

export function signHashKey(secret: string, totalParams: string): string {
  return createHmac('sha256', secret).update(totalParams).digest('hex');
}

/** URL-encodes `k=v&...` in insertion order, skipping undefined/null values. */
export function encodeHashKeyParams(params: HashKeyParams): string {
  let out = '';
  for (const key of Object.keys(params)) {
    const value = params[key];
    if (value === undefined || value === null) continue;
    if (out.length > 0) out += '&';
    out += encodeURIComponent(key) + '=' + encodeURIComponent(String(value));
  }
  return out;
}

export interface SignedQuery {
  /** The full query string to send, `signature` last. Secret material: never log it (see redactSignedQuery). */
  query: string;
  /** The query string without the signature: what was signed. */
  signedPayload: string;
  signature: string;
}

/**
 * Builds the query string for a signed request: the caller's params in insertion order, then
 * `recvWindow` (when given), then `timestamp`, then `signature` last.
 */
export function buildSignedQuery(
  secret: string,
  params: HashKeyParams,
  timestamp: number,
  recvWindow?: number,
): SignedQuery {
  let payload = encodeHashKeyParams(params);
  if (recvWindow !== undefined) payload += (payload ? '&' : '') + 'recvWindow=' + recvWindow;
  payload += (payload ? '&' : '') + 'timestamp=' + timestamp;
  const signature = signHashKey(secret, payload);
  return { query: payload + '&signature=' + signature, signedPayload: payload, signature };
}

/** For logs: replaces the signature value in a query string or URL. */
export function redactSignedQuery(queryOrUrl: string): string {
  return queryOrUrl.replace(/([?&]|^)signature=[^&]*/g, '$1signature=<redacted>');
}
