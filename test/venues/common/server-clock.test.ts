import { ServerClock } from '../../../src/venues/common/server-clock';

describe('ServerClock', () => {
  it('keeps the offset to the venue\'s time, measured at the middle of the round trip', async () => {
    let local = 1_000_000;
    const clock = new ServerClock(() => local, async () => {
      local += 100; // 100 ms each way
      const server = local + 7_000;
      local += 100;
      return server;
    });
    expect(clock.now()).toBe(1_000_000);
    await clock.sync();
    expect(clock.offsetMs).toBe(7_000);
    expect(clock.now()).toBe(local + 7_000);
  });

  it('one sync at a time: concurrent callers share it', async () => {
    let calls = 0;
    const clock = new ServerClock(Date.now, async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 20));
      return Date.now() - 10_000;
    });
    await Promise.all([clock.sync(), clock.sync(), clock.sync()]);
    expect(calls).toBe(1);
    expect(Math.abs(clock.offsetMs + 10_000)).toBeLessThan(50);
  });

  it('is due for a periodic resync once the interval has passed since the last one', async () => {
    let local = 0;
    const clock = new ServerClock(() => local, async () => local, { resyncEveryMs: 60_000 });
    expect(clock.due()).toBe(true);
    await clock.sync();
    expect(clock.due()).toBe(false);
    local += 60_000;
    expect(clock.due()).toBe(true);
  });

  it('a failed sync keeps the old offset and is not retried before the interval', async () => {
    let local = 0;
    let fail = false;
    const clock = new ServerClock(() => local, async () => {
      if (fail) throw new Error('down');
      return local + 500;
    }, { resyncEveryMs: 1000 });
    await clock.sync();
    fail = true;
    local += 1000;
    await expect(clock.sync()).rejects.toThrow('down');
    expect(clock.offsetMs).toBe(500);
    expect(clock.due()).toBe(false);
  });

  it('a refusal whose resync fails is the answer: the refusal (nothing ran), not the time request error (review: a timed-out time endpoint turned a create known not to be placed into an unknown outcome)', async () => {
    class Refused extends Error {}
    const syncErrors: unknown[] = [];
    const clock = new ServerClock(() => 0, async () => {
      throw new Error('time endpoint timed out');
    });
    let attempts = 0;
    const result = clock.signed(
      async () => {
        attempts++;
        throw new Refused('timestamp outside recvWindow');
      },
      (e) => e instanceof Refused,
      { syncFailed: (e) => syncErrors.push(e) },
    );
    await expect(result).rejects.toBeInstanceOf(Refused);
    expect(attempts).toBe(1);
    expect(syncErrors.some((e) => String((e as Error).message).includes('timed out'))).toBe(true);
  });
});
