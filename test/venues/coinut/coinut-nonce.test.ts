// The nonce allocator: never hands out a value whose reply is outstanding, wraps within the range.

import { CoinutNonceAllocator, NonceExhausted } from '../../../src/venues/coinut/coinut-nonce';

describe('CoinutNonceAllocator', () => {
  it('counts up from 1 within [1, 16777215] by default', () => {
    const a = new CoinutNonceAllocator();
    expect([a.take(), a.take(), a.take()]).toEqual([1, 2, 3]);
    expect(a.min).toBe(1);
    expect(a.max).toBe(16_777_215);
  });

  it('1,000 in flight are all distinct, and none is reused until released', () => {
    const a = new CoinutNonceAllocator({ start: 16_777_000 }); // crosses the wrap on the way
    const taken = Array.from({ length: 1000 }, () => a.take());
    expect(new Set(taken).size).toBe(1000);
    expect(taken.every((n) => n >= 1 && n <= 16_777_215)).toBe(true);
    expect(a.outstanding).toBe(1000);
    // Wrapped after 16777215 back to 1.
    expect(taken[215]).toBe(16_777_215);
    expect(taken[216]).toBe(1);
    for (const n of taken.slice(0, 500)) a.release(n);
    expect(a.outstanding).toBe(500);
  });

  it('wraps from max to min, skipping values still in flight', () => {
    const a = new CoinutNonceAllocator({ min: 1, max: 5 });
    expect([a.take(), a.take(), a.take(), a.take(), a.take()]).toEqual([1, 2, 3, 4, 5]);
    a.release(2);
    a.release(4);
    // 1 and 3 are outstanding: the wrap skips them.
    expect(a.take()).toBe(2);
    expect(a.take()).toBe(4);
    expect(() => a.take()).toThrow(NonceExhausted);
    a.release(3);
    expect(a.take()).toBe(3);
  });

  it('a timed-out request keeps its nonce until the connection is gone', () => {
    const a = new CoinutNonceAllocator({ min: 1, max: 3 });
    const stuck = a.take(); // 1: never answered
    a.release(a.take()); // 2
    a.release(a.take()); // 3
    expect(a.take()).toBe(2); // wrapped, skipped 1
    expect(a.isInFlight(stuck)).toBe(true);
    a.releaseAll();
    expect(a.outstanding).toBe(0);
    expect(a.take()).toBe(3);
    expect(a.take()).toBe(1);
  });

  it('refuses a bad range; a start outside the range begins at min', () => {
    expect(() => new CoinutNonceAllocator({ min: 0 })).toThrow(/range/);
    expect(() => new CoinutNonceAllocator({ min: 5, max: 4 })).toThrow(/range/);
    expect(new CoinutNonceAllocator({ start: 99_999_999 }).take()).toBe(1);
  });
});
