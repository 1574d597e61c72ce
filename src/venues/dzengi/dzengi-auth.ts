// Dzengi request signing. Pure: no clock, no I/O.
//
// REST: header X-MBX-APIKEY; signature = hex(HMAC_SHA256(secret, totalParams)) where totalParams
// is the query string + form body exactly as sent (the shared Binance-style scheme). Symbols
// contain `/` (and spaces): `BTC/USD` is `BTC%2FUSD` in the signed string and on the wire alike,
// encoded once. We send GET/DELETE parameters in the query and POST parameters in the body (as
// CCXT does), so each request signs exactly one string, the one it sends.
//
// WS (request/response API): a different scheme — payload keys sorted, raw un-encoded `k=v`
// joined with `&`, signature added to the payload.

import {
  buildSignedPayload,
  encodeParams,
  hmacSha256Hex,
  redactSignature,
  SignedParams,
  SignedPayload,
} from '../common/hmac-signing';

export type DzengiParams = SignedParams;

export const signDzengi = hmacSha256Hex;
export const encodeDzengiParams = encodeParams;
export const redactDzengiSignature = redactSignature;

/** Params in insertion order, then recvWindow, timestamp, and `signature` last. */
export function buildDzengiSignedParams(secret: string, params: DzengiParams, timestamp: number, recvWindow?: number): SignedPayload {
  return buildSignedPayload(secret, params, timestamp, recvWindow);
}

/** The string the WS API signs: payload keys sorted, raw `k=v` (no encoding), `&`-joined. */
export function dzengiWsSignedString(payload: Record<string, string | number | boolean>): string {
  return Object.keys(payload)
    .filter((k) => k !== 'signature')
    .sort()
    .map((k) => `${k}=${payload[k]}`)
    .join('&');
}

/** The WS payload with apiKey, timestamp and signature added. */
export function signDzengiWsPayload(
  secret: string,
  apiKey: string,
  payload: Record<string, string | number | boolean>,
  timestamp: number,
): Record<string, string | number | boolean> {
  const withAuth = { ...payload, apiKey, timestamp };
  return { ...withAuth, signature: hmacSha256Hex(secret, dzengiWsSignedString(withAuth)) };
}
