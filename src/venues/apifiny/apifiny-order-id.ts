// Apifiny's client-chosen `orderId`. The docs' rule (apifiny.md, doc.apifiny.com/connect 2021):
//
//   "account number + random number + 13-digit timestamp + 3-digit random number, up to 64 digits"
//   e.g. 000000011584603011942221 = 00000001 (digits of STA-00000001) + 1584603011942 (ms) + 221;
//   FIX section: "the last 16 are a 13-digit timestamp + three random numbers, up to 64 characters".
//
// So an id is <account digits><free digits><13-digit ms><3 digits>, all digits, ≤ 64. We use the
// free part for a session tag (digits chosen per FIX session), so two sessions on one account
// never collide, and the last 3 digits for a sequence within the millisecond, so one session can
// place up to 1000 orders per ms without repeating an id. The gateway owns the durable counter
// (the last (ms, seq) it handed out); these functions are pure.
//
// The venue validates the embedded timestamp (327818/327834, how close to now is unconfirmed), so
// `ms` must be the wall clock; nextApifinyIdClock() only ever moves past it by the overflow of a
// >1000-orders-per-ms burst, far beyond the 20 requests/s the venue allows.

import { createHash } from 'crypto';
import { APIFINY_ORDER_ID_MAX_LENGTH } from './apifiny-constants';

export interface ApifinyOrderIdParts {
  /** Digits of the account id (`STA-00000001` → `00000001`). */
  accountDigits: string;
  /** Our session tag: digits, possibly empty. */
  free: string;
  /** The 13-digit ms timestamp. */
  ms: number;
  /** 0..999 */
  seq: number;
}

const TAIL_DIGITS = 16; // 13-digit ms + 3 digits
const MIN_MS = 1_000_000_000_000; // the first 13-digit ms (2001-09-09)
const MAX_MS = 9_999_999_999_999;

/** The digits of an account id after its last '-' (the SDKs: `acct.split('-')[-1]`). */
export function apifinyAccountDigits(accountId: string): string {
  const tail = accountId.slice(accountId.lastIndexOf('-') + 1);
  if (!/^\d+$/.test(tail)) throw new Error(`Apifiny account id must end in digits after its last '-' (like STA-00000001), got ${JSON.stringify(accountId)}`);
  return tail;
}

/** Longest session tag that still fits 64 digits with this account. */
export function maxApifinySessionTagLength(accountId: string): number {
  return APIFINY_ORDER_ID_MAX_LENGTH - apifinyAccountDigits(accountId).length - TAIL_DIGITS;
}

/** Builds the id; throws on parts that could not form a valid one (a bug in the caller). */
export function allocateApifinyOrderId(accountId: string, sessionTag: string, ms: number, seq: number): string {
  const acct = apifinyAccountDigits(accountId);
  if (!/^\d*$/.test(sessionTag)) throw new Error(`Apifiny session tag must be digits, got ${JSON.stringify(sessionTag)}`);
  if (!Number.isInteger(ms) || ms < MIN_MS || ms > MAX_MS) throw new Error(`Apifiny order id timestamp must be a 13-digit ms value, got ${ms}`);
  if (!Number.isInteger(seq) || seq < 0 || seq > 999) throw new Error(`Apifiny order id sequence must be 0..999, got ${seq}`);
  const id = acct + sessionTag + String(ms) + String(seq).padStart(3, '0');
  if (id.length > APIFINY_ORDER_ID_MAX_LENGTH) {
    throw new Error(`Apifiny order id would be ${id.length} digits (max ${APIFINY_ORDER_ID_MAX_LENGTH}): shorten the session tag`);
  }
  return id;
}

/**
 * The (ms, seq) to use next, given the last one handed out (persisted by the caller) and the clock:
 * the clock when it has moved on, else the same ms with seq + 1, rolling into the next ms after 999.
 * Never returns a pair ≤ `last`, so ids never repeat across restarts as long as `last` is durable.
 */
export function nextApifinyIdClock(last: { ms: number; seq: number } | undefined, nowMs: number): { ms: number; seq: number } {
  if (last === undefined || nowMs > last.ms) return { ms: nowMs, seq: 0 };
  if (last.seq < 999) return { ms: last.ms, seq: last.seq + 1 };
  return { ms: last.ms + 1, seq: 0 };
}

export type ApifinyOrderIdCheck = { ok: true; parts: ApifinyOrderIdParts } | { ok: false; problem: string };

/**
 * Checks an id against the docs' rule for this account and splits it: all digits, ≤ 64, starts
 * with the account's digits, then free digits, then a 13-digit ms and 3 digits.
 */
export function parseApifinyOrderId(id: string, accountId: string): ApifinyOrderIdCheck {
  let acct: string;
  try {
    acct = apifinyAccountDigits(accountId);
  } catch (err) {
    return { ok: false, problem: (err as Error).message };
  }
  if (id.length === 0) return { ok: false, problem: 'empty order id' };
  if (id.length > APIFINY_ORDER_ID_MAX_LENGTH) return { ok: false, problem: `order id longer than ${APIFINY_ORDER_ID_MAX_LENGTH} digits` };
  if (!/^\d+$/.test(id)) return { ok: false, problem: 'order id must be digits only' };
  if (!id.startsWith(acct)) return { ok: false, problem: `order id must start with the account digits ${acct}` };
  if (id.length < acct.length + TAIL_DIGITS) return { ok: false, problem: 'order id must end in a 13-digit ms timestamp and 3 digits' };
  const tail = id.slice(id.length - TAIL_DIGITS);
  const ms = Number(tail.slice(0, 13));
  if (ms < MIN_MS) return { ok: false, problem: 'order id timestamp is not a 13-digit ms value' };
  return { ok: true, parts: { accountDigits: acct, free: id.slice(acct.length, id.length - TAIL_DIGITS), ms, seq: Number(tail.slice(13)) } };
}

/** undefined when valid, else why not. */
export function apifinyOrderIdProblem(id: string, accountId: string): string | undefined {
  const r = parseApifinyOrderId(id, accountId);
  return r.ok ? undefined : r.problem;
}

/** Session digits used in order ids when the account leaves room for them. */
export const APIFINY_SESSION_DIGITS = 6;

/**
 * The session's digits for the free part of an orderId: the tag itself when it is digits (and
 * fits), else `maxLength` digits derived from a hash of it (so distinct sessions differ).
 */
export function apifinySessionDigits(sessionTag: string, maxLength: number): string {
  if (maxLength <= 0) return '';
  if (/^\d*$/.test(sessionTag) && sessionTag.length <= maxLength) return sessionTag;
  const n = BigInt('0x' + createHash('sha256').update(sessionTag).digest('hex'));
  return n.toString().slice(0, maxLength);
}
