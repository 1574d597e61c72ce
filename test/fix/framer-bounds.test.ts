// A hostile peer must not make the framer hold more than its limit, whatever part of a frame it
// stretches: the framer refuses (FrameError) as soon as it can tell, never after buffering it all.
import { FixFramer, FrameError } from '../../src/fix/codec/fix-framer';

const LIMIT = 1000;
const SLACK = 64; // header and trailer around a body of LIMIT bytes

/** Pushes `chunk` repeatedly until the framer throws; returns the most it held before that. */
function feedUntilRefused(f: FixFramer, first: string, chunk: string, maxPushes = 10_000): number {
  let held = 0;
  f.push(first);
  for (let i = 0; i < maxPushes; i++) {
    try {
      f.push(chunk);
    } catch (e) {
      expect(e).toBeInstanceOf(FrameError);
      return held;
    }
    held = Math.max(held, f.pending);
  }
  throw new Error(`framer still buffering after ${maxPushes} pushes (${f.pending} bytes held)`);
}

test('a BodyLength above the limit is refused at once, before its body arrives', () => {
  const f = new FixFramer(LIMIT);
  expect(() => f.push(`8=FIX.4.2\x019=${LIMIT + 1}\x0135=D\x01`)).toThrow(FrameError);
});

test('a BodyLength whose digits never end is refused within the limit', () => {
  expect(feedUntilRefused(new FixFramer(LIMIT), '8=FIX.4.2\x019=', '1234567890')).toBeLessThanOrEqual(LIMIT + SLACK);
});

test('a BeginString that never ends (no SOH, no 9=) is refused within the limit', () => {
  expect(feedUntilRefused(new FixFramer(LIMIT), '8=FIX.4.2', 'x'.repeat(100))).toBeLessThanOrEqual(LIMIT + SLACK);
});

test('a small BodyLength followed by a field that never ends (no CheckSum) is refused within the limit', () => {
  expect(feedUntilRefused(new FixFramer(LIMIT), '8=FIX.4.2\x019=20\x0135=D\x0158=', 'y'.repeat(100))).toBeLessThanOrEqual(LIMIT + SLACK);
});

test('noise without 8=FIX is dropped as it comes, never held', () => {
  const f = new FixFramer(LIMIT);
  for (let i = 0; i < 1000; i++) f.push('\x00\xff garbage 9=12\x01 10=000\x01');
  expect(f.pending).toBeLessThanOrEqual(8);
});

test('the limit can be raised once the peer is known (acceptor: small for a Logon, MaxMessageSize after)', () => {
  const f = new FixFramer(100);
  const body = `35=0\x0158=${'z'.repeat(200)}\x01`;
  const msg = `8=FIX.4.2\x019=${body.length}\x01${body}10=000\x01`;
  expect(() => new FixFramer(100).push(msg)).toThrow(FrameError);
  f.maxMessageSize = 1000;
  expect(f.push(msg)).toEqual([msg]);
});
