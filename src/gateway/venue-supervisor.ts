// Brings the venue up and keeps track of it: start (retried with back-off until it works), the
// instrument list orders are validated against, and the stream's connectivity.
import type { Logger } from 'pino';
import { Instrument, StreamState, VenueAdapter } from '../venues/venue';
import { START_BACKOFF, Scheduler } from './scheduler';

/** An order arriving before the venue is up waits at most this long for it. */
const VENUE_READY_WAIT_MS = 5_000;

export interface VenueSupervisorHooks {
  /** The venue is up (instruments loaded). */
  onReady(): void;
  /** The stream (re)connected: what happened while it was down must be looked up. */
  onStreamConnected(): void;
  /** For the session's event log. */
  onStreamState(state: StreamState): void;
}

export class VenueSupervisor {
  readonly instruments = new Map<string, Instrument>();
  private ready: Promise<void> = Promise.resolve();
  private error?: string;
  private connected = false;

  constructor(
    private readonly venue: VenueAdapter,
    private readonly scheduler: Scheduler,
    private readonly logger: Logger,
  ) {}

  /** Starts the venue in the background (the FIX side starts even when the venue is down). */
  start(hooks: VenueSupervisorHooks): void {
    this.venue.onStreamState((s) => {
      this.connected = s === 'connected';
      hooks.onStreamState(s);
      if (s === 'connected') hooks.onStreamConnected();
    });
    this.ready = this.scheduler
      .retry(async () => {
        try {
          await this.venue.start();
          for (const i of await this.venue.instruments()) this.instruments.set(i.symbol, i);
          this.error = undefined;
          this.logger.info({ instruments: this.instruments.size }, 'venue ready');
          return 'done';
        } catch (err) {
          this.error = (err as Error).message;
          this.logger.warn({ err: (err as Error).message }, 'venue start failed; retrying');
          return 'retry';
        }
      }, START_BACKOFF)
      .then((started) => {
        if (started) hooks.onReady();
      });
  }

  /** Resolves once the venue is up (or never, while it is down). */
  whenStarted(): Promise<void> {
    return this.ready;
  }

  /** Waits (briefly) for the venue side to come up, so an early order is not judged on an empty instrument list. */
  whenReadyOrTimeout(): Promise<void> {
    return Promise.race([this.ready, this.scheduler.sleep(VENUE_READY_WAIT_MS)]);
  }

  get isReady(): boolean {
    return this.instruments.size > 0;
  }

  /** Why the venue is not up, for a reject's Text. */
  get notReadyReason(): string {
    return this.error ?? 'still starting';
  }

  get streamConnected(): boolean {
    return this.connected;
  }
}
