// HashKey request signing: the shared Binance-style scheme (common/hmac-signing.ts).
//
// signature = hex(HMAC_SHA256(secretKey, totalParams)), where totalParams is the query string
// (plus body, which we never send) exactly as sent. We put every parameter in the query string
// (Hummingbot style), so the string we sign is the string we send, byte for byte.

import { buildSignedPayload, encodeParams, hmacSha256Hex, redactSignature, SignedParams, SignedParamValue, SignedPayload } from '../common/hmac-signing';

export type HashKeyParamValue = SignedParamValue;
export type HashKeyParams = SignedParams;
export type SignedQuery = SignedPayload;

export const signHashKey = hmacSha256Hex;

/** URL-encodes `k=v&...` in insertion order, skipping undefined/null values. */
export const encodeHashKeyParams = encodeParams;

/**
 * Builds the query string for a signed request: the caller's params in insertion order, then
 * `recvWindow` (when given), then `timestamp`, then `signature` last.
 */
export const buildSignedQuery = buildSignedPayload;

/** For logs: replaces the signature value in a query string or URL. */
export const redactSignedQuery = redactSignature;
