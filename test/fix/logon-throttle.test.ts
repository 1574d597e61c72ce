import { LogonThrottle, normalizeAddress } from '../../src/fix/logon-throttle';

const settings = { failureLimit: 3, windowMs: 10_000, backoffMs: 30_000 };

test('the Nth refused logon within the window starts a back-off, reported once; its connections are then closed until it ends', () => {
  const t = new LogonThrottle(settings);
  expect(t.recordFailure('10.0.0.1', 0)).toBeUndefined();
  expect(t.recordFailure('10.0.0.1', 1000)).toBeUndefined();
  expect(t.refuses('10.0.0.1', 1500)).toBe(false);
  expect(t.recordFailure('10.0.0.1', 2000)).toEqual({ backoffMs: 30_000, failures: 3 });
  expect(t.refuses('10.0.0.1', 2001)).toBe(true);
  expect(t.refuses('10.0.0.1', 31_999)).toBe(true);
  expect(t.refuses('10.0.0.1', 32_000)).toBe(false);
});

test('failures older than the window do not count', () => {
  const t = new LogonThrottle(settings);
  t.recordFailure('10.0.0.1', 0);
  t.recordFailure('10.0.0.1', 5000);
  expect(t.recordFailure('10.0.0.1', 10_500)).toBeUndefined(); // the one at 0 has left the window
  expect(t.refuses('10.0.0.1', 10_600)).toBe(false);
});

test('addresses are counted separately; another address is never refused', () => {
  const t = new LogonThrottle(settings);
  for (let i = 0; i < 3; i++) t.recordFailure('10.0.0.1', i);
  expect(t.refuses('10.0.0.1', 10)).toBe(true);
  expect(t.refuses('10.0.0.2', 10)).toBe(false);
  expect(t.recordFailure('10.0.0.2', 11)).toBeUndefined();
});

test('failureLimit 0 turns it off', () => {
  const t = new LogonThrottle({ ...settings, failureLimit: 0 });
  for (let i = 0; i < 100; i++) expect(t.recordFailure('10.0.0.1', i)).toBeUndefined();
  expect(t.refuses('10.0.0.1', 100)).toBe(false);
});

test('a flood from many addresses keeps a bounded number of them', () => {
  const t = new LogonThrottle(settings);
  for (let i = 0; i < 50_000; i++) t.recordFailure(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, i);
  expect((t as unknown as { failures: Map<string, unknown> }).failures.size).toBeLessThanOrEqual(10_000);
});

test('an IPv4 peer on a dual-stack socket is the same address', () => {
  expect(normalizeAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
  expect(normalizeAddress('::1')).toBe('::1');
});
