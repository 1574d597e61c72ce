// Apifiny Connect request signing, 2021 JWT generation (apifiny.md "Authentication"):
// header `signature: <JWT>`, HS256 with the API secret key, claims accountId, secretKeyId,
// digest = lowercase hex SHA-256 of exactly the bytes sent (the POST body, or the GET query string
// without '?'), exp in seconds. No digest claim on a GET without parameters, nor on the WS stream.
// The endpoint path is not signed.
//
// The query string is built here once, hashed, and sent as is: the server hashes what it got.

import { createHash } from 'node:crypto';
import jwt from 'jsonwebtoken';

export interface ApifinyCredentials {
  /** `STA-00000001` */
  accountId: string;
  /** API key id. */
  secretKeyId: string;
  /** API secret key (UTF-8): the HMAC key, never logged. */
  secret: string;
}

export interface ApifinyClaims {
  accountId: string;
  secretKeyId: string;
  digest?: string;
  /** Seconds since epoch. */
  exp: number;
}

/** Lowercase hex SHA-256 of a UTF-8 string. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * The JWT for one request. Claims in the order the docs list them; a missing digest leaves the
 * claim out (the C++ SDK's way; the Python SDK sends null).
 */
export function apifinyJwt(creds: ApifinyCredentials, expSeconds: number, digest?: string): string {
  if (!Number.isInteger(expSeconds) || expSeconds <= 0) throw new Error(`JWT exp must be whole seconds, got ${expSeconds}`);
  const claims: ApifinyClaims = { accountId: creds.accountId, secretKeyId: creds.secretKeyId, ...(digest !== undefined ? { digest } : {}), exp: expSeconds };
  return jwt.sign(claims, creds.secret, { algorithm: 'HS256', noTimestamp: true, header: { alg: 'HS256', typ: 'JWT' } });
}

/** `exp` for a token made at `nowMs` that lives `lifetimeSeconds`. */
export function apifinyExp(nowMs: number, lifetimeSeconds: number): number {
  return Math.floor(nowMs / 1000) + lifetimeSeconds;
}

export type ApifinyParamValue = string | number | boolean | undefined | null;
export type ApifinyParams = Record<string, ApifinyParamValue>;

/** Query values: unreserved characters and `,` (orderIdList) pass as is, like the SDK's unquote(urlencode()). */
function encodeQueryValue(v: string): string {
  return encodeURIComponent(v).replace(/%2C/gi, ',');
}

/** `k=v&...` in insertion order, undefined/null skipped. '' when there is nothing to send. */
export function apifinyQueryString(params: ApifinyParams): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null) continue;
    parts.push(`${encodeURIComponent(k)}=${encodeQueryValue(String(v))}`);
  }
  return parts.join('&');
}

export interface SignedApifinyRequest {
  /** Header value for `signature`. */
  signature: string;
  /** The digest claim, when there is one. */
  digest?: string;
}

/** Signs a POST body exactly as it will be sent. */
export function signApifinyBody(creds: ApifinyCredentials, body: string, expSeconds: number): SignedApifinyRequest {
  const digest = sha256Hex(body);
  return { signature: apifinyJwt(creds, expSeconds, digest), digest };
}

/** Signs a GET query string exactly as it will be sent ('' = no parameters = no digest). */
export function signApifinyQuery(creds: ApifinyCredentials, query: string, expSeconds: number): SignedApifinyRequest {
  if (query === '') return { signature: apifinyJwt(creds, expSeconds) };
  const digest = sha256Hex(query);
  return { signature: apifinyJwt(creds, expSeconds, digest), digest };
}

/** The stream's token: no digest. */
export function signApifinyStream(creds: ApifinyCredentials, expSeconds: number): string {
  return apifinyJwt(creds, expSeconds);
}

// ---- verification (the simulator's side; also documents what the venue checks) ---------------

export type ApifinyTokenCheck =
  | { ok: true; claims: Record<string, unknown> }
  | { ok: false; problem: 'malformed' | 'bad_signature' | 'expired' | 'unknown_key'; detail: string };

/** Claims of a token without verifying it (to find the key id); undefined when it is not a JWT. */
export function decodeApifinyClaims(token: string): Record<string, unknown> | undefined {
  const decoded = jwt.decode(token, { json: true });
  return decoded === null || typeof decoded !== 'object' ? undefined : (decoded as Record<string, unknown>);
}

/**
 * Verifies an HS256 token with the secret of its `secretKeyId`, at `nowMs`. `exp` is read as
 * seconds; a millisecond `exp` (some SDK samples) is then just far in the future and passes, as
 * apifiny.md infers the venue does.
 */
export function verifyApifinyJwt(token: string, secretFor: (secretKeyId: string) => string | undefined, nowMs: number): ApifinyTokenCheck {
  const claims = decodeApifinyClaims(token);
  if (claims === undefined) return { ok: false, problem: 'malformed', detail: 'not a JWT' };
  const keyId = claims.secretKeyId;
  if (typeof keyId !== 'string' || keyId === '') return { ok: false, problem: 'malformed', detail: 'no secretKeyId claim' };
  const secret = secretFor(keyId);
  if (secret === undefined) return { ok: false, problem: 'unknown_key', detail: 'unknown secretKeyId' };
  if (typeof claims.exp !== 'number') return { ok: false, problem: 'malformed', detail: 'no exp claim' };
  try {
    const verified = jwt.verify(token, secret, { algorithms: ['HS256'], clockTimestamp: Math.floor(nowMs / 1000) });
    return { ok: true, claims: verified as Record<string, unknown> };
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'TokenExpiredError') return { ok: false, problem: 'expired', detail: 'token expired' };
    return { ok: false, problem: 'bad_signature', detail: (err as Error).message };
  }
}
