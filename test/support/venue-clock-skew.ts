// Moves shared by the venue clock-skew tests (test/venues/*/*-clock-skew.test.ts), which run a
// simulator whose clock is off ours behind a recording proxy (./recording-proxy).
import { FaultInjector } from '../../src/venues/sim/fault-injector';

/**
 * Makes the venue's clock jump `byMs` further after each of the client's syncs, so the request
 * retried after the resync is refused for its timestamp too. `clock` is the client's private
 * ServerClock; its `sync` is replaced.
 */
export function jumpVenueClockAfterEachSync(clock: { sync(): Promise<unknown> }, faults: FaultInjector, byMs: number): void {
  const realSync = clock.sync.bind(clock);
  clock.sync = async () => {
    const r = await realSync();
    faults.arm({ kind: 'clockSkew', ms: faults.clockOffsetMs + byMs });
    return r;
  };
}

/**
 * Polls `states` (an adapter's onStreamState, in order) until the stream has dropped and its last
 * state is 'connected' again; throws `<what>: <states>` after `timeoutMs`.
 */
export async function waitForStreamBack(states: readonly string[], opts: { timeoutMs: number; pollMs: number; what: string }): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  while (!(states.includes('disconnected') && states[states.length - 1] === 'connected')) {
    if (Date.now() > deadline) throw new Error(`${opts.what}: ${states.join(',')}`);
    await new Promise((r) => setTimeout(r, opts.pollMs));
  }
}
