// Which REST replies may set our estimate of Coinut's clock. Coinut has no time endpoint, so the
// `Date` header of a REST reply is the venue's time (see CoinutWsClient.serverTime). A Date that
// did not come from the venue's clock just now would move the offset every later login signs with:
//   - a 5xx is often written by a proxy or load balancer in front of the venue (its own clock);
//   - a reply with an `Age` header came from a cache (RFC 9111 §5.1): its Date is when the origin
//     made it, up to the cache's freshness lifetime ago;
//   - a Date further than VENUE_DATE_MAX_JUMP_MS from both our clock and the offset we last accepted
//     is not a clock we should sign with (see there).

/**
 * How far a venue Date may be from our clock, or from our clock plus the last accepted offset, and
 * still be taken. Five minutes: Coinut's login window is undocumented (coinut.md: "roughly right";
 * the simulator allows 60 s, exchanges that document one use 5-60 s), so a skew that refuses logins
 * is well inside this and is corrected; five minutes is also the customary limit for clocks that
 * must agree (Kerberos' default maximum skew). A host clock further off than that is a
 * misconfiguration an operator must fix, not something a reply (maybe a stale or foreign one)
 * should paper over; the last-accepted leg lets a venue clock that drifts step by step be followed.
 */
export const VENUE_DATE_MAX_JUMP_MS = 5 * 60_000;

/** The parts of an HTTP reply the decision reads (node's IncomingHttpHeaders fit). */
export interface ReplyWithDate {
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

export type VenueDateDecision = { venueMs: number } | { ignored: string };

const header = (headers: ReplyWithDate['headers'], name: string): string | undefined => {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/**
 * The venue's time a reply shows (its Date, whole seconds, +500 ms for the middle of that second),
 * or why the reply must not set the clock. `localMs`: our clock when the reply came;
 * `lastOffsetMs`: the offset (venue − ours) accepted last (0 before any).
 */
export function venueTimeFromReply(reply: ReplyWithDate, localMs: number, lastOffsetMs: number, maxJumpMs = VENUE_DATE_MAX_JUMP_MS): VenueDateDecision {
  if (reply.status >= 500) return { ignored: `HTTP ${reply.status} (may come from a proxy, not the venue)` };
  if (header(reply.headers, 'age') !== undefined) return { ignored: 'the reply has an Age header (served from a cache)' };
  const date = Date.parse(header(reply.headers, 'date') ?? '');
  if (!Number.isFinite(date)) return { ignored: `the reply (HTTP ${reply.status}) has no Date header` };
  const venueMs = date + 500;
  const offsetMs = venueMs - localMs;
  if (Math.abs(offsetMs) > maxJumpMs && Math.abs(offsetMs - lastOffsetMs) > maxJumpMs) {
    return { ignored: `its Date is ${Math.round(offsetMs / 1000)} s from our clock and ${Math.round((offsetMs - lastOffsetMs) / 1000)} s from the last venue time, more than ${maxJumpMs / 1000} s` };
  }
  return { venueMs };
}

/**
 * How far a resync must move the offset before a refused login is tried again with it. Each Date
 * has whole seconds, so an offset read from one is off by up to ±500 ms plus half the round trip;
 * two reads (the offset signed with and the new one) can differ by almost a second from rounding
 * alone, more with an uneven round trip, and the login timestamp is whole seconds too. A move under
 * 2 s (the resolution, plus a second for the round trip) is noise: the clock was not the problem.
 */
export const LOGIN_RETRY_MIN_OFFSET_MOVE_MS = 2_000;
