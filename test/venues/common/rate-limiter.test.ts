import { applyRateLimitOverrides, perSecondLimits, RateLimiter } from '../../../src/venues/common/rate-limiter';
import { RateLimited, RateLimits } from '../../../src/venues/venue';

describe('RateLimiter', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  const make = (opts: { maxQueueWaitMs?: number } = {}) =>
    new RateLimiter(
      {
        orders: { ratePerSecond: 10, maxQueue: 5 },
        queries: { ratePerSecond: 2, maxQueue: 3 },
      },
      opts,
    );

  it('runs work synchronously while a token is free', async () => {
    const rl = make();
    let ran = false;
    const p = rl.schedule('orders', () => {
      ran = true;
      return 7;
    });
    expect(ran).toBe(true);
    await expect(p).resolves.toBe(7);
    rl.close();
  });

  it('lets a burst of ratePerSecond through at once, then queues FIFO until tokens return', async () => {
    const rl = make();
    const started: number[] = [];
    const ps = Array.from({ length: 14 }, (_, i) => rl.schedule('orders', () => started.push(i)));
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(rl.queued('orders')).toBe(4);
    await jest.advanceTimersByTimeAsync(999);
    expect(started.length).toBe(10);
    await jest.advanceTimersByTimeAsync(1);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    await Promise.all(ps);
    rl.close();
  });

  it('never starts more than the rate within any one-second window', async () => {
    const rl = make();
    const times: number[] = [];
    const ps: Promise<unknown>[] = [];
    for (let i = 0; i < 3; i++) ps.push(rl.schedule('queries', () => times.push(Date.now())));
    await jest.advanceTimersByTimeAsync(250);
    for (let i = 0; i < 2; i++) ps.push(rl.schedule('queries', () => times.push(Date.now())));
    await jest.advanceTimersByTimeAsync(5000);
    await Promise.all(ps);
    expect(times.length).toBe(5);
    for (let i = 2; i < times.length; i++) expect(times[i] - times[i - 2]).toBeGreaterThanOrEqual(1000);
    rl.close();
  });

  it('keeps classes independent', () => {
    const rl = make();
    for (let i = 0; i < 2; i++) void rl.schedule('queries', () => i);
    let ran = false;
    void rl.schedule('orders', () => (ran = true));
    expect(ran).toBe(true);
    rl.close();
  });

  it('rejects at once with RateLimited when the queue is full', async () => {
    const rl = make();
    const ok: Promise<unknown>[] = [];
    for (let i = 0; i < 2 + 3; i++) ok.push(rl.schedule('queries', () => i));
    const err = await rl.schedule('queries', () => 'never').catch((e) => e);
    expect(err).toBeInstanceOf(RateLimited);
    expect(err.message).toMatch(/rate limit queue full/);
    expect(err.retryAfterMs).toBeGreaterThan(0);
    await jest.advanceTimersByTimeAsync(3000);
    await expect(Promise.all(ok)).resolves.toHaveLength(5);
    rl.close();
  });

  it('propagates a thrown error or a rejection from the work', async () => {
    const rl = make();
    await expect(rl.schedule('orders', () => { throw new Error('boom'); })).rejects.toThrow('boom');
    await expect(rl.schedule('orders', () => Promise.reject(new Error('async boom')))).rejects.toThrow('async boom');
    rl.close();
  });

  it('pause() holds new and queued work until the pause ends, then sends it all in order; nothing starts during it', async () => {
    const rl = make({ maxQueueWaitMs: 5000 });
    for (let i = 0; i < 2; i++) await rl.schedule('queries', () => i);
    const started: string[] = [];
    const queued = rl.schedule('queries', () => started.push('q-queued'));
    rl.pause(3000);
    const during = [rl.schedule('orders', () => started.push('o1')), rl.schedule('orders', () => started.push('o2'))];
    await jest.advanceTimersByTimeAsync(2999);
    expect(started).toEqual([]);
    expect(rl.queued('orders')).toBe(2);
    await jest.advanceTimersByTimeAsync(1);
    expect(started.filter((x) => x.startsWith('o'))).toEqual(['o1', 'o2']);
    expect(started).toHaveLength(3);
    await Promise.all([queued, ...during]);
    rl.close();
  });

  it('refuses at once, naming the venue\'s wait, work that would wait longer than maxQueueWaitMs', async () => {
    const rl = make({ maxQueueWaitMs: 5000 });
    rl.pause(60_000);
    let ran = false;
    const e = await rl.schedule('orders', () => (ran = true)).catch((err) => err);
    expect(ran).toBe(false);
    expect(e).toBeInstanceOf(RateLimited);
    expect(e.retryAfterMs).toBe(60_000);
    expect(e.message).toMatch(/venue rate limited us .*pause 60 s.*longer than the 5 s a request may wait.*retry after 60 s/);
    await jest.advanceTimersByTimeAsync(56_000);
    // 4 s left: within the bound, so it waits and is sent when the pause ends.
    const p = rl.schedule('orders', () => (ran = true));
    await jest.advanceTimersByTimeAsync(3999);
    expect(ran).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(ran).toBe(true);
    await p;
    rl.close();
  });

  it('a pause that grows past a queued request\'s bound refuses it; the others still go when it ends', async () => {
    const rl = make({ maxQueueWaitMs: 5000 });
    rl.pause(1000);
    const started: string[] = [];
    const early = rl.schedule('orders', () => started.push('early')).catch((e) => e);
    await jest.advanceTimersByTimeAsync(500);
    const late = rl.schedule('orders', () => started.push('late'));
    await jest.advanceTimersByTimeAsync(200);
    rl.pause(4700); // now paused until t=5400 from the first request's t=0: past its 5 s bound, within the second's
    const e = await early;
    expect(e).toBeInstanceOf(RateLimited);
    expect(e.retryAfterMs).toBe(4700);
    await jest.advanceTimersByTimeAsync(4699);
    expect(started).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(started).toEqual(['late']);
    await late;
    rl.close();
  });

  it('a full queue refuses at once during a pause with a Text saying so', async () => {
    const rl = make({ maxQueueWaitMs: 5000 });
    rl.pause(2000);
    const held = Array.from({ length: 5 }, (_, i) => rl.schedule('orders', () => i));
    const e = await rl.schedule('orders', () => 'never').catch((err) => err);
    expect(e).toBeInstanceOf(RateLimited);
    expect(e.message).toMatch(/rate limit queue full \(orders: 5 waiting, max 5\); not sent, retry after [23] s/);
    expect(e.retryAfterMs).toBeGreaterThanOrEqual(2000);
    await jest.advanceTimersByTimeAsync(2000);
    await expect(Promise.all(held)).resolves.toEqual([0, 1, 2, 3, 4]);
    rl.close();
  });

  it('urgent work (a cancel) goes ahead of queued work of its class, never before the pause ends', async () => {
    const rl = make({ maxQueueWaitMs: 5000 });
    rl.pause(1000);
    const started: string[] = [];
    const ps = [
      rl.schedule('orders', () => started.push('new1')),
      rl.schedule('orders', () => started.push('new2')),
      rl.schedule('orders', () => started.push('cancel1'), { urgent: true }),
      rl.schedule('orders', () => started.push('cancel2'), { urgent: true }),
    ];
    await jest.advanceTimersByTimeAsync(999);
    expect(started).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(started).toEqual(['cancel1', 'cancel2', 'new1', 'new2']);
    await Promise.all(ps);
    rl.close();
  });

  it('maxQueueWaitMs 0 refuses everything during a pause; it comes from the venue limits when not given', async () => {
    const rl = new RateLimiter({ budgets: [], maxQueue: 10, maxQueueWaitMs: 0 });
    rl.pause(100);
    await expect(rl.schedule('orders', () => 1)).rejects.toBeInstanceOf(RateLimited);
    await jest.advanceTimersByTimeAsync(100);
    await expect(rl.schedule('orders', () => 2)).resolves.toBe(2);
    rl.close();
  });

  it('resume() ends a pause early and releases held work', async () => {
    const rl = make();
    rl.pause(3000);
    const p = rl.schedule('orders', () => 'held');
    rl.resume();
    expect(rl.pausedForMs()).toBe(0);
    await jest.advanceTimersByTimeAsync(0);
    await expect(p).resolves.toBe('held');
    rl.close();
  });

  it('a shorter pause never shortens a longer one', () => {
    const rl = make();
    rl.pause(60_000);
    rl.pause(1_000);
    expect(rl.pausedForMs()).toBe(60_000);
    rl.close();
  });

  it('close() fails queued work and clears its timers', async () => {
    const rl = make();
    for (let i = 0; i < 2; i++) void rl.schedule('queries', () => i);
    const queued = rl.schedule('queries', () => 'late').catch((e) => e);
    rl.close();
    expect(await queued).toBeInstanceOf(RateLimited);
    expect(jest.getTimerCount()).toBe(0);
    await expect(rl.schedule('orders', () => 1)).rejects.toBeInstanceOf(RateLimited);
  });

  it('supports fractional rates and explicit bursts', async () => {
    const rl = new RateLimiter({ slow: { ratePerSecond: 0.5, maxQueue: 10 }, smooth: { ratePerSecond: 10, burst: 1, maxQueue: 10 } });
    const times: number[] = [];
    const t0 = Date.now();
    const ps = [0, 1].map(() => rl.schedule('slow', () => times.push(Date.now() - t0)));
    await jest.advanceTimersByTimeAsync(2000);
    await Promise.all(ps);
    expect(times).toEqual([0, 2000]);
    const t1 = Date.now();
    const s: number[] = [];
    const ps2 = [0, 1, 2].map(() => rl.schedule('smooth', () => s.push(Date.now() - t1)));
    await jest.advanceTimersByTimeAsync(500);
    await Promise.all(ps2);
    expect(s).toEqual([0, 100, 200]);
    rl.close();
  });

  it('rejects unknown classes and bad rates loudly', () => {
    expect(() => new RateLimiter({ x: { ratePerSecond: 0, maxQueue: 1 } })).toThrow(/ratePerSecond/);
    const rl = make();
    expect(() => rl.schedule('nope' as 'orders', () => 1)).toThrow(/unknown class/);
    rl.close();
  });
});

describe('RateLimiter with a venue\'s budgets (RateLimits)', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('keeps orders and queries together inside a shared weight-per-minute budget (Dzengi 1200/min)', async () => {
    const limits: RateLimits = {
      budgets: [
        { name: 'weight', limit: 12, windowMs: 60_000, weights: { orders: 1, queries: 2 } },
        { name: 'orders', limit: 10, windowMs: 1000, weights: { orders: 1 } },
      ],
      maxQueue: 100,
    };
    // A minute's wait is allowed here so that the queue shows the shared budget at work.
    const rl = new RateLimiter(limits, { maxQueueWaitMs: 120_000 });
    const started: string[] = [];
    const ps: Promise<unknown>[] = [];
    for (let i = 0; i < 4; i++) ps.push(rl.schedule('queries', () => started.push(`q${i}`)));
    for (let i = 0; i < 6; i++) ps.push(rl.schedule('orders', () => started.push(`o${i}`)));
    // 4 queries x 2 + 4 orders x 1 = 12 units: the minute's budget is spent.
    expect(started).toEqual(['q0', 'q1', 'q2', 'q3', 'o0', 'o1', 'o2', 'o3']);
    await jest.advanceTimersByTimeAsync(59_999);
    expect(started.length).toBe(8);
    await jest.advanceTimersByTimeAsync(1);
    expect(started.slice(8)).toEqual(['o4', 'o5']);
    await Promise.all(ps);
    rl.close();
  });

  it('a new request never overtakes one of another class waiting on the same budget (Apifiny: one budget per account)', async () => {
    const rl = new RateLimiter({ budgets: [{ name: 'account', limit: 2, windowMs: 1000, weights: { orders: 1, queries: 1 } }], maxQueue: 10 });
    const started: string[] = [];
    void rl.schedule('orders', () => started.push('o0'));
    void rl.schedule('orders', () => started.push('o1'));
    const o2 = rl.schedule('orders', () => started.push('o2'));
    const q0 = rl.schedule('queries', () => started.push('q0'));
    expect(started).toEqual(['o0', 'o1']);
    await jest.advanceTimersByTimeAsync(1000);
    await Promise.all([o2, q0]);
    expect(started).toEqual(['o0', 'o1', 'o2', 'q0']);
    rl.close();
  });

  it('absorbs a burst the budget sends within maxQueueWaitMs (a process stall releasing 400 orders at once at 200/s)', async () => {
    const rl = new RateLimiter(perSecondLimits({ ordersPerSecond: 200, queriesPerSecond: 200 }));
    const started: number[] = [];
    const ps = Array.from({ length: 400 }, (_, i) => rl.schedule('orders', () => started.push(i)));
    expect(started).toHaveLength(200);
    await jest.advanceTimersByTimeAsync(1000);
    await expect(Promise.all(ps)).resolves.toHaveLength(400);
    expect(started).toEqual(Array.from({ length: 400 }, (_, i) => i));
    rl.close();
  });

  it('refuses at once, with its expected wait, a request the budget could not start within maxQueueWaitMs (HashKey 10 orders/s)', async () => {
    const rl = new RateLimiter(
      { budgets: [{ name: 'orders', limit: 10, windowMs: 1000, weights: { orders: 1 } }], maxQueue: 100 },
      { maxQueueWaitMs: 5000 },
    );
    const startedAt: number[] = [];
    const t0 = Date.now();
    // 10 now, then 10 per second: the 60th starts at t0 + 5 s, the 61st would start at t0 + 6 s.
    const ok = Array.from({ length: 60 }, () => rl.schedule('orders', () => startedAt.push(Date.now() - t0)));
    let ran = false;
    const e = await rl.schedule('orders', () => (ran = true)).catch((err) => err);
    expect(ran).toBe(false);
    expect(e).toBeInstanceOf(RateLimited);
    expect(e.message).toMatch(/rate limit: orders would start in 6 s \(50 waiting for the venue's budget orders: 10 per 1 s\), longer than the 5 s a request may wait; not sent, retry after 1 s/);
    expect(e.retryAfterMs).toBe(1000);
    await jest.advanceTimersByTimeAsync(5000);
    await Promise.all(ok);
    expect(Math.max(...startedAt)).toBe(5000);
    // Once the queue has drained, orders are taken again.
    const again = rl.schedule('orders', () => 'sent');
    await jest.advanceTimersByTimeAsync(1000);
    await expect(again).resolves.toBe('sent');
    rl.close();
  });

  it('a cancel is judged by the urgent work ahead of it only, since it goes ahead of queued orders', async () => {
    const rl = new RateLimiter({ budgets: [{ name: 'orders', limit: 10, windowMs: 1000, weights: { orders: 1 } }], maxQueue: 100 }, { maxQueueWaitMs: 5000 });
    const ok = Array.from({ length: 60 }, () => rl.schedule('orders', () => 'new'));
    await expect(rl.schedule('orders', () => 'new').catch((e) => e)).resolves.toBeInstanceOf(RateLimited);
    const cancel = rl.schedule('orders', () => 'cancel', { urgent: true });
    await jest.advanceTimersByTimeAsync(1000);
    await expect(cancel).resolves.toBe('cancel');
    await jest.advanceTimersByTimeAsync(5000);
    await Promise.all(ok);
    rl.close();
  });

  it('queries are never refused for their wait, only by the queue bound: the gateway\'s own fill and reconciliation reads must run, late or not', async () => {
    const rl = new RateLimiter({ budgets: [{ name: 'queries', limit: 2, windowMs: 1000, weights: { queries: 1 } }], maxQueue: 100 }, { maxQueueWaitMs: 5000 });
    const ps = Array.from({ length: 40 }, (_, i) => rl.schedule('queries', () => i));
    await jest.advanceTimersByTimeAsync(20_000);
    await expect(Promise.all(ps)).resolves.toHaveLength(40);
    rl.close();
  });

  it('counts a pause the venue imposed into the expected wait', async () => {
    const rl = new RateLimiter({ budgets: [{ name: 'orders', limit: 10, windowMs: 1000, weights: { orders: 1 } }], maxQueue: 100 }, { maxQueueWaitMs: 5000 });
    rl.pause(3000);
    // Paused 3 s, then 10 per second: 30 start by t = 5 s; the 31st would start at 6 s.
    const ok = Array.from({ length: 30 }, () => rl.schedule('orders', () => 'x'));
    const e = await rl.schedule('orders', () => 'never').catch((err) => err);
    expect(e).toBeInstanceOf(RateLimited);
    expect(e.message).toMatch(/would start in 6 s/);
    await jest.advanceTimersByTimeAsync(5000);
    await expect(Promise.all(ok)).resolves.toHaveLength(30);
    rl.close();
  });

  it('an empty budget list limits nothing (a venue that publishes none)', () => {
    const rl = new RateLimiter({ budgets: [], maxQueue: 1 });
    let n = 0;
    for (let i = 0; i < 1000; i++) void rl.schedule('orders', () => n++);
    expect(n).toBe(1000);
    rl.close();
  });

  it('refuses a budget a request could never fit', () => {
    expect(() => new RateLimiter({ budgets: [{ name: 'w', limit: 1, windowMs: 1000, weights: { orders: 2 } }], maxQueue: 1 })).toThrow(/weight of orders/);
    expect(() => new RateLimiter({ budgets: [{ name: 'w', limit: 1, windowMs: 0, weights: { orders: 1 } }], maxQueue: 1 })).toThrow(/windowMs/);
  });

  it('VenueRateLimitOrders/Queries replace the budget of that name, or add one; other budgets stay', () => {
    const venue: RateLimits = {
      budgets: [
        { name: 'weight', limit: 1200, windowMs: 60_000, weights: { orders: 1, queries: 1 } },
        { name: 'orders', limit: 10, windowMs: 1000, weights: { orders: 1 } },
      ],
      maxQueue: 100,
    };
    const out = applyRateLimitOverrides(venue, { ordersPerSecond: 5, queriesPerSecond: 0.5 });
    expect(out.budgets).toEqual([
      venue.budgets[0],
      { name: 'orders', limit: 5, windowMs: 1000, weights: { orders: 1 } },
      { name: 'queries', limit: 1, windowMs: 2000, weights: { queries: 1 } },
    ]);
    expect(applyRateLimitOverrides(venue, {})).toEqual(venue);
  });
});

describe('RateLimiter: orders and cancels on a budget they share with queries (review)', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('a cancel is not refused because queries wait on the shared budget: orders are served first, it starts within a second (Apifiny, 20/s for every request)', async () => {
    const rl = new RateLimiter({ budgets: [{ name: 'account', limit: 20, windowMs: 1000, weights: { orders: 1, queries: 1 } }], maxQueue: 1000 });
    // A reconciliation storm: 20 reads go out now, 200 more wait (10 s of the budget).
    const reads = Array.from({ length: 220 }, () => rl.schedule('queries', () => 'read'));
    const t0 = Date.now();
    let startedAt: number | undefined;
    const cancel = rl.schedule('orders', () => (startedAt = Date.now() - t0), { urgent: true }).catch((e) => e);
    await jest.advanceTimersByTimeAsync(1000);
    expect(await cancel).not.toBeInstanceOf(RateLimited);
    expect(startedAt).toBeLessThanOrEqual(1000);
    await jest.advanceTimersByTimeAsync(12_000);
    await Promise.all(reads);
    rl.close();
  });

  it('an order accepted for its expected wait is not pushed back a minute by queries queued after it (Dzengi: weight 1200/min shared, orders 10/s)', async () => {
    const rl = new RateLimiter({
      budgets: [
        { name: 'weight', limit: 1200, windowMs: 60_000, weights: { orders: 1, queries: 1 } },
        { name: 'orders', limit: 10, windowMs: 1000, weights: { orders: 1 } },
      ],
      maxQueue: 1000,
    });
    // 200 reads already sent this minute.
    const early = Array.from({ length: 200 }, () => rl.schedule('queries', () => 'read'));
    // 25 orders: 10 now, 10 at 1 s, 5 at 2 s by the orders/s budget; all well within 5 s.
    const waits: (number | string)[] = [];
    const orders = Array.from({ length: 25 }, () => {
      const at = Date.now();
      return rl.schedule('orders', () => waits.push(Date.now() - at)).catch((e) => waits.push(`refused: ${e.message}`));
    });
    // Then a burst of reads (a reconnect's reconciliation), queued behind the orders.
    const late = Array.from({ length: 1000 }, () => rl.schedule('queries', () => 'read'));
    await jest.advanceTimersByTimeAsync(70_000);
    await Promise.all([...early, ...orders, ...late]);
    // Every order either refused at once or started within VenueMaxQueueWait.
    expect(waits.filter((w) => typeof w === 'number' && w > 5000)).toEqual([]);
    rl.close();
  });
});

describe('RateLimiter: an order counted against two budgets (review)', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('its expected wait takes both budgets together: a weight window that frees at once still lets only N orders a second start', async () => {
    const rl = new RateLimiter({
      budgets: [
        { name: 'weight', limit: 40, windowMs: 10_000, weights: { orders: 1, queries: 1 } },
        { name: 'orders', limit: 5, windowMs: 1000, weights: { orders: 1 } },
      ],
      maxQueue: 1000,
    });
    // 40 reads use the whole weight window now; it frees at once 10 s later.
    const reads = Array.from({ length: 40 }, () => rl.schedule('queries', () => 'read'));
    await jest.advanceTimersByTimeAsync(8000);
    // 30 orders 2 s before it frees: the weight budget alone would start them all at 10 s, the
    // orders budget alone by 13 s; together 5 a second from 10 s, the last at 15 s (7 s of wait).
    const waits: (number | string)[] = [];
    const orders = Array.from({ length: 30 }, () => {
      const at = Date.now();
      return rl.schedule('orders', () => waits.push(Date.now() - at)).catch((e) => waits.push(`refused: ${e.message}`));
    });
    await jest.advanceTimersByTimeAsync(20_000);
    await Promise.all([...reads, ...orders]);
    expect(waits.filter((w) => typeof w === 'number' && w > 5000)).toEqual([]);
    expect(waits.filter((w) => typeof w === 'string')[0]).toMatch(/would start in 6 s/);
    rl.close();
  });
});

describe('RateLimiter: known limit of the projection (review, not fixed)', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  // An order is admitted for the wait it has behind the work queued then; cancels that come later
  // go ahead of it (urgent), so it can start up to about twice VenueMaxQueueWait late. Bounded,
  // and a cancel sooner lowers exposure; refusing the order at its deadline instead is a choice for
  // the lead (an order refused after waiting 5 s vs sent at 9 s).
  it.failing('an order admitted for a 4.9 s wait starts within VenueMaxQueueWait even when cancels arrive after it', async () => {
    const rl = new RateLimiter({ budgets: [{ name: 'orders', limit: 10, windowMs: 1000, weights: { orders: 1 } }], maxQueue: 1000 });
    const waits: number[] = [];
    const all: Promise<unknown>[] = [];
    for (let i = 0; i < 59; i++) {
      const at = Date.now();
      all.push(rl.schedule('orders', () => waits.push(Date.now() - at)));
    }
    // 40 cancels of resting orders, admitted: only the urgent work ahead of them counts.
    for (let i = 0; i < 40; i++) all.push(rl.schedule('orders', () => 'cancel', { urgent: true }));
    await jest.advanceTimersByTimeAsync(20_000);
    await Promise.all(all);
    expect(Math.max(...waits)).toBeLessThanOrEqual(5000);
    rl.close();
  });
});
