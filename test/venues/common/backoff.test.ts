import { Backoff, backoffDelay } from '../../../src/venues/common/backoff';

describe('backoffDelay', () => {
  const opts = { initialMs: 100, maxMs: 5000, factor: 2, jitter: 0 };

  it('grows exponentially without jitter', () => {
    expect([0, 1, 2, 3].map((a) => backoffDelay(a, opts))).toEqual([100, 200, 400, 800]);
  });

  it('never exceeds the cap, even for huge attempt numbers', () => {
    expect(backoffDelay(6, opts)).toBe(5000);
    expect(backoffDelay(10_000, opts)).toBe(5000);
    expect(backoffDelay(10_000, { ...opts, jitter: 1 }, () => 0.999999)).toBeLessThanOrEqual(5000);
  });

  it('equal jitter (default 0.5) stays between half and all of the delay', () => {
    const o = { initialMs: 1000, maxMs: 60_000 };
    expect(backoffDelay(0, o, () => 0)).toBe(500);
    expect(backoffDelay(0, o, () => 0.5)).toBe(750);
    expect(backoffDelay(0, o, () => 0.999999)).toBe(1000);
  });

  it('full jitter may go down to zero', () => {
    expect(backoffDelay(3, { initialMs: 100, maxMs: 10_000, jitter: 1 }, () => 0)).toBe(0);
    expect(backoffDelay(3, { initialMs: 100, maxMs: 10_000, jitter: 1 }, () => 0.5)).toBe(400);
  });

  it('treats negative or fractional attempts sanely', () => {
    expect(backoffDelay(-3, opts)).toBe(100);
    expect(backoffDelay(1.7, opts)).toBe(200);
  });

  it('uses Math.random by default and stays in range', () => {
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(2, { initialMs: 100, maxMs: 1000 });
      expect(d).toBeGreaterThanOrEqual(200);
      expect(d).toBeLessThanOrEqual(400);
    }
  });
});

describe('Backoff', () => {
  it('counts attempts and resets after a success', () => {
    const b = new Backoff({ initialMs: 10, maxMs: 100, jitter: 0 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([10, 20, 40, 80, 100]);
    expect(b.attempts).toBe(5);
    b.reset();
    expect(b.next()).toBe(10);
  });
});
