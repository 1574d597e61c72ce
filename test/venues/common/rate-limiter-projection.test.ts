// Property check of the rate limiter's admission rule: an order it does not refuse starts within
// VenueMaxQueueWait, whatever mix of orders and queries arrives, on the budget shapes the venues
// have (one budget for everything, a weight per minute shared with orders per second, queries
// weighing more than orders). Random arrivals from a fixed seed; jest's fake clock.
import { RateLimiter } from '../../../src/venues/common/rate-limiter';
import { RateLimited, RateLimits } from '../../../src/venues/venue';

const shapes: Record<string, RateLimits> = {
  'Dzengi (weight 1200/min shared, orders 10/s)': {
    budgets: [
      { name: 'weight', limit: 1200, windowMs: 60_000, weights: { orders: 1, queries: 1 } },
      { name: 'orders', limit: 10, windowMs: 1000, weights: { orders: 1 } },
    ],
    maxQueue: 1000,
  },
  'Apifiny (20/s for every request)': { budgets: [{ name: 'account', limit: 20, windowMs: 1000, weights: { orders: 1, queries: 1 } }], maxQueue: 1000 },
  'queries weighing 5, orders 5/s': {
    budgets: [
      { name: 'weight', limit: 100, windowMs: 10_000, weights: { orders: 1, queries: 5 } },
      { name: 'orders', limit: 5, windowMs: 1000, weights: { orders: 1 } },
    ],
    maxQueue: 1000,
  },
};

describe('RateLimiter: an order not refused starts within VenueMaxQueueWait (5 s)', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  for (const [name, limits] of Object.entries(shapes)) {
    it(name, async () => {
      let seed = 42;
      const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
      let worst = 0;
      let sent = 0;
      for (let run = 0; run < 10; run++) {
        const rl = new RateLimiter(limits, { maxQueueWaitMs: 5000 });
        const ps: Promise<unknown>[] = [];
        for (let step = 0; step < 300; step++) {
          for (let i = Math.floor(rnd() * 8); i > 0; i--) {
            const at = Date.now();
            if (rnd() < 0.5) {
              ps.push(
                rl
                  .schedule('orders', () => {
                    worst = Math.max(worst, Date.now() - at);
                    sent++;
                  })
                  .catch((e) => {
                    if (!(e instanceof RateLimited)) throw e;
                  }),
              );
            } else ps.push(rl.schedule('queries', () => 0));
          }
          await jest.advanceTimersByTimeAsync(Math.floor(rnd() * 400));
        }
        await jest.advanceTimersByTimeAsync(600_000);
        await Promise.all(ps);
        rl.close();
      }
      expect(sent).toBeGreaterThan(1000);
      expect(worst).toBeLessThanOrEqual(5000);
    });
  }
});
