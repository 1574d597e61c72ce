// Binance-style request signing, shared by the venues that use it (HashKey, Dzengi): the
// parameters are URL-encoded in insertion order, `recvWindow` and `timestamp` appended, and
// `signature = hex(HMAC_SHA256(secret, totalParams))` over exactly the bytes sent, appended last.
// Pure: no clock, no I/O.

import { createHmac, timingSafeEqual } from 'crypto';

export type SignedParamValue = string | number | boolean | undefined | null;
export type SignedParams = Record<string, SignedParamValue>;

/** hex(HMAC-SHA256(secret, payload)). */
export function hmacSha256Hex(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('hex');
}

/**
 * URL-encodes `k=v&...` in insertion order, skipping undefined/null values. encodeURIComponent is
 * RFC 3986 for everything venues put in a value (`/` → `%2F`, space → `%20`), so a symbol such as
 * `BTC/USD` is encoded once, identically in the signed string and on the wire.
 */
export function encodeParams(params: SignedParams): string {
  let out = '';
  for (const key of Object.keys(params)) {
    const value = params[key];
    if (value === undefined || value === null) continue;
    if (out.length > 0) out += '&';
    out += encodeURIComponent(key) + '=' + encodeURIComponent(String(value));
  }
  return out;
}

export interface SignedPayload {
  /** The full string to send (query or form body), `signature` last. Secret material: never log it. */
  query: string;
  /** The string without the signature: what was signed. */
  signedPayload: string;
  signature: string;
}

/**
 * The caller's params in insertion order, then `recvWindow` (when given), then `timestamp`, then
 * `signature` last — the order every Binance-style venue example uses.
 */
export function buildSignedPayload(secret: string, params: SignedParams, timestamp: number, recvWindow?: number): SignedPayload {
  let payload = encodeParams(params);
  if (recvWindow !== undefined) payload += (payload ? '&' : '') + 'recvWindow=' + recvWindow;
  payload += (payload ? '&' : '') + 'timestamp=' + timestamp;
  const signature = hmacSha256Hex(secret, payload);
  return { query: payload + '&signature=' + signature, signedPayload: payload, signature };
}

/** For logs: replaces the signature value in a query string, form body or URL. */
export function redactSignature(queryOrUrl: string): string {
  return queryOrUrl.replace(/([?&]|^)signature=[^&]*/g, '$1signature=<redacted>');
}

// ---- the venue's side (simulators) ------------------------------------------------------------

/** `s` (a query string or form body) minus its `signature=` parameter, byte for byte otherwise. */
export function withoutSignatureParam(s: string): string {
  const i = s.lastIndexOf('signature=');
  if (i < 0) return s;
  if ((i === 0 || s[i - 1] === '&') && s.indexOf('&', i) < 0) return s.slice(0, Math.max(0, i - 1));
  return s
    .split('&')
    .filter((kv) => !kv.startsWith('signature='))
    .join('&');
}

/** True when `signature` is hex HMAC-SHA256(secret, payload); hex case does not matter. Constant time. */
export function hmacSha256HexMatches(secret: string, payload: string, signature: string): boolean {
  const expected = Buffer.from(hmacSha256Hex(secret, payload), 'latin1');
  const given = Buffer.from(signature.toLowerCase(), 'latin1');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
