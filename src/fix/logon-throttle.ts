// Per remote address: after `failureLimit` refused logons within `windowMs`, every new connection
// from that address is closed at once, unread, for `backoffMs`. A password-guessing or CompID-
// probing flood then costs the gateway an accept and a close, not a parse, a log line and a
// session event per attempt. Pure bookkeeping: the caller passes the clock.

export interface LogonThrottleSettings {
  /** Refused logons within the window that start a back-off; 0 turns the throttle off. */
  failureLimit: number;
  windowMs: number;
  backoffMs: number;
}

/** Addresses remembered at most (oldest forgotten first), so a spread-out flood cannot grow memory. */
const MAX_TRACKED_ADDRESSES = 10_000;

export class LogonThrottle {
  /** Address -> times of its recent refused logons (at most failureLimit, oldest first). */
  private readonly failures = new Map<string, number[]>();
  /** Address -> end of its back-off. */
  private readonly blocked = new Map<string, number>();

  constructor(private readonly settings: LogonThrottleSettings) {}

  /** True when a new connection from `address` is to be closed at once. */
  refuses(address: string, now: number): boolean {
    const until = this.blocked.get(address);
    if (until === undefined) return false;
    if (now < until) return true;
    this.blocked.delete(address);
    return false;
  }

  /**
   * Records a refused logon from `address`. Returns the back-off it starts (log it: this is the one
   * line a flood produces), or undefined.
   */
  recordFailure(address: string, now: number): { backoffMs: number; failures: number } | undefined {
    const { failureLimit, windowMs, backoffMs } = this.settings;
    if (failureLimit <= 0) return undefined;
    const times = (this.failures.get(address) ?? []).filter((t) => now - t < windowMs);
    times.push(now);
    this.failures.delete(address); // re-inserted last: the map stays in order of last failure
    if (times.length < failureLimit) {
      this.failures.set(address, times.slice(-failureLimit));
      this.forgetOldest();
      return undefined;
    }
    this.blocked.set(address, now + backoffMs);
    if (this.blocked.size > MAX_TRACKED_ADDRESSES) this.blocked.delete(this.blocked.keys().next().value as string);
    return { backoffMs, failures: times.length };
  }

  private forgetOldest(): void {
    while (this.failures.size > MAX_TRACKED_ADDRESSES) this.failures.delete(this.failures.keys().next().value as string);
  }
}

/** "::ffff:10.0.0.1" (an IPv4 peer on a dual-stack socket) and "10.0.0.1" are one address. */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return '?';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
