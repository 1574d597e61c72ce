// The venue's clock as we estimate it, for signed timestamps. A venue refuses a signed request whose
// timestamp is outside its recvWindow (HashKey and Dzengi -1021: "resync clock"); our host clock
// may drift or be set wrong, so the offset to the venue's server time is measured (its time
// endpoint, at the middle of the round trip) and applied: on that refusal, and every
// `resyncEveryMs`.

export interface ServerClockOptions {
  /** Periodic resync interval, ms (default 10 min). */
  resyncEveryMs?: number;
}

export class ServerClock {
  /** Venue time minus local time, ms. */
  offsetMs = 0;
  /**
   * The lowest and highest offsets ever signed with (0 until the first sync): a request signed
   * at local time t carried a timestamp within t + [lowestOffsetMs, highestOffsetMs], which is what a
   * search for an order by its send time must translate into venue time.
   */
  lowestOffsetMs = 0;
  highestOffsetMs = 0;
  private lastSyncAt: number | undefined;
  private inFlight: Promise<number> | undefined;
  private readonly resyncEveryMs: number;

  constructor(
    private readonly local: () => number,
    /** The venue's server time, ms (its time endpoint). */
    private readonly fetchServerTime: () => Promise<number>,
    opts: ServerClockOptions = {},
  ) {
    this.resyncEveryMs = opts.resyncEveryMs ?? 10 * 60_000;
  }

  /** The venue's time as we estimate it, ms. */
  now(): number {
    return this.local() + this.offsetMs;
  }

  /** True when no sync was tried within the interval. */
  due(): boolean {
    return this.lastSyncAt === undefined || this.local() - this.lastSyncAt >= this.resyncEveryMs;
  }

  /** Measures the offset again (concurrent callers share one request); resolves to it. */
  sync(): Promise<number> {
    this.inFlight ??= this.measure().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  /**
   * Runs a signed request: starts a periodic resync when due (in the background; a failure is
   * passed to onSyncFailed), and when the venue refuses the timestamp (`isRefusal`: a refusal that
   * did nothing) resynchronises and tries once more; a second refusal is the answer.
   */
  async signed<T>(
    attempt: () => Promise<T>,
    isRefusal: (err: unknown) => boolean,
    on: { resynced?: (offsetMs: number, previousMs: number) => void; syncFailed?: (err: unknown) => void } = {},
  ): Promise<T> {
    if (this.due()) this.sync().catch((err) => on.syncFailed?.(err));
    try {
      return await attempt();
    } catch (err) {
      if (!isRefusal(err)) throw err;
      const before = this.offsetMs;
      try {
        await this.sync();
      } catch (syncErr) {
        // The refusal proves nothing ran: that stays the answer (a clean reject), not the time
        // request's failure, which a caller would take for an unknown outcome.
        on.syncFailed?.(syncErr);
        throw err;
      }
      on.resynced?.(this.offsetMs, before);
      return attempt();
    }
  }

  private async measure(): Promise<number> {
    const sent = this.local();
    this.lastSyncAt = sent; // a failed attempt also waits for the interval (no hammering a venue that is down)
    const server = await this.fetchServerTime();
    const received = this.local();
    this.offsetMs = Math.round(server - (sent + received) / 2);
    this.lowestOffsetMs = Math.min(this.lowestOffsetMs, this.offsetMs);
    this.highestOffsetMs = Math.max(this.highestOffsetMs, this.offsetMs);
    return this.offsetMs;
  }
}
