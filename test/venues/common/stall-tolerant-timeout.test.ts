// The deadline that does not count this process's own stalls as the peer's silence.

import { stallTolerantTimeout } from '../../../src/venues/common/stall-tolerant-timeout';

const busy = (ms: number) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    /* busy */
  }
};

describe('stallTolerantTimeout', () => {
  it('expires after its time when the process runs freely', async () => {
    const started = Date.now();
    const at = await new Promise<number>((r) => stallTolerantTimeout(() => r(Date.now()), 100));
    expect(at - started).toBeGreaterThanOrEqual(95);
    expect(at - started).toBeLessThan(400);
  });

  it('a stall waits again for as long as it was late, at most the timeout once more; clear() stops it', async () => {
    const started = Date.now();
    const expired = new Promise<number>((r) => stallTolerantTimeout(() => r(Date.now()), 100));
    busy(500); // 400 ms late: extended by min(400, 100)
    const at = await expired;
    expect(at - started).toBeGreaterThanOrEqual(590);
    expect(at - started).toBeLessThan(1000);
    let fired = false;
    const t = stallTolerantTimeout(() => (fired = true), 50);
    t.clear();
    await new Promise((r) => setTimeout(r, 120));
    expect(fired).toBe(false);
  });
});
