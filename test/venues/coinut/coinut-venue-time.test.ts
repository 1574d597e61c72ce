// Which REST replies may set our estimate of Coinut's clock (the login signs with it): not a 5xx
// (a proxy's own clock), not a cached reply (Age), not a Date that jumps further than the bound
// from both our clock and the last accepted offset.
import { VENUE_DATE_MAX_JUMP_MS, venueTimeFromReply } from '../../../src/venues/coinut/coinut-venue-time';

const LOCAL = Date.parse('2026-12-04T12:00:00.000Z');
const dateAt = (ms: number) => new Date(ms).toUTCString();
const reply = (status: number, dateMs: number | undefined, extra: Record<string, string> = {}) => ({
  status,
  headers: { ...(dateMs === undefined ? {} : { date: dateAt(dateMs) }), ...extra },
});

test('a 2xx or 4xx reply with a Date: the venue time is the middle of that second', () => {
  expect(venueTimeFromReply(reply(200, LOCAL + 90_000), LOCAL, 0)).toEqual({ venueMs: LOCAL + 90_500 });
  expect(venueTimeFromReply(reply(401, LOCAL - 3_000), LOCAL, 0)).toEqual({ venueMs: LOCAL - 2_500 });
});

test('a 5xx reply is ignored whatever its Date says', () => {
  for (const status of [500, 502, 503, 504]) {
    expect(venueTimeFromReply(reply(status, LOCAL + 30_000), LOCAL, 0)).toEqual({ ignored: expect.stringMatching(new RegExp(`HTTP ${status}`)) });
  }
});

test('a reply with an Age header (from a cache) is ignored, Age 0 included', () => {
  for (const age of ['0', '42']) {
    expect(venueTimeFromReply(reply(200, LOCAL - 42_000, { age }), LOCAL, 0)).toEqual({ ignored: expect.stringMatching(/Age/) });
  }
});

test('a reply without a usable Date is ignored', () => {
  expect(venueTimeFromReply(reply(200, undefined), LOCAL, 0)).toEqual({ ignored: expect.stringMatching(/no Date/) });
  expect(venueTimeFromReply({ status: 200, headers: { date: 'yesterday' } }, LOCAL, 0)).toEqual({ ignored: expect.stringMatching(/no Date/) });
});

test('a Date further than the bound from our clock and from the last accepted offset is ignored; within either it is taken', () => {
  const far = VENUE_DATE_MAX_JUMP_MS + 60_000;
  expect(venueTimeFromReply(reply(200, LOCAL + far), LOCAL, 0)).toEqual({ ignored: expect.stringMatching(/more than 300 s/) });
  expect(venueTimeFromReply(reply(200, LOCAL - far), LOCAL, 0)).toEqual({ ignored: expect.stringMatching(/more than 300 s/) });
  // Just inside the bound from our clock.
  expect(venueTimeFromReply(reply(200, LOCAL + VENUE_DATE_MAX_JUMP_MS - 1_000), LOCAL, 0)).toEqual({ venueMs: LOCAL + VENUE_DATE_MAX_JUMP_MS - 500 });
  // Far from our clock but near the offset accepted last: a venue clock we already follow.
  expect(venueTimeFromReply(reply(200, LOCAL + far), LOCAL, far - 20_000)).toEqual({ venueMs: LOCAL + far + 500 });
  // Far from both.
  expect(venueTimeFromReply(reply(200, LOCAL + 2 * far), LOCAL, -far)).toEqual({ ignored: expect.stringMatching(/from the last venue time/) });
});
