// Durable next expected (target) MsgSeqNum. The session advances the target in memory at once;
// the store learns it only after the application has accepted every message before it (so after a
// crash the client resends what was not yet taken), and preferably in the same store batch as the
// next message we send (one fsync for both): a waiting value rides along with the next append, or
// is written alone after a short delay.
import type { MessageStore } from './store/message-store';

/** How long a target seqnum waits to share an fsync with an outgoing message. */
const RIDE_ALONG_WAIT_MS = 20;

export class TargetSeqNumPersistence {
  private wanted: number;
  private persisted: number;
  /** Acceptance promises of the application messages before `wanted`. */
  private barrier: Array<Promise<unknown>> = [];
  private running?: Promise<void>;
  /** A value ready to be written: by the next append (rideAlong) or by the timer. */
  private ready?: { n: number; done: () => void; fail: (err: unknown) => void };
  private timer?: NodeJS.Timeout;
  /** Bumped by a reset: values of an earlier sequence are then no longer recorded as persisted. */
  private generation = 0;

  constructor(
    private readonly store: Pick<MessageStore, 'setNextTargetSeqNum'>,
    initial: number,
    private readonly onError: (err: unknown) => void,
  ) {
    this.wanted = this.persisted = initial;
  }

  /** Persist `n` once `accepted` (and everything passed before) has settled. */
  request(n: number, accepted?: Promise<void> | void): void {
    this.wanted = n;
    if (accepted) this.barrier.push(accepted.catch(() => undefined));
    // Only with something to write: run() would otherwise finish synchronously, before `running`
    // is assigned, and leave a settled promise there for good (flush() would then never end).
    if (!this.running && this.wanted !== this.persisted) this.running = this.run();
  }

  /** Called right before a message is appended to the store: a waiting value goes in the same batch. */
  rideAlong(): void {
    if (this.ready) this.write();
  }

  /** Resolves once nothing is pending (waiting values are written at once). */
  async flush(): Promise<void> {
    while (this.running) {
      this.write();
      await Promise.race([this.running, new Promise((r) => setTimeout(r, 1))]);
    }
  }

  /** Before a sequence reset: finish what is pending; nothing of this sequence is recorded afterwards. */
  async beginReset(): Promise<void> {
    this.generation++;
    await this.flush();
  }

  /** After the store was reset to `n`. */
  resetTo(n: number): void {
    this.wanted = this.persisted = n;
  }

  private async run(): Promise<void> {
    try {
      while (this.wanted !== this.persisted) {
        const n = this.wanted;
        const gen = this.generation;
        const barrier = this.barrier;
        this.barrier = [];
        if (barrier.length) await Promise.all(barrier);
        if (gen !== this.generation) continue;
        await new Promise<void>((done, fail) => {
          this.ready = { n, done, fail };
          this.timer = setTimeout(() => this.write(), RIDE_ALONG_WAIT_MS);
          this.timer.unref();
        });
        if (gen === this.generation) this.persisted = n;
      }
    } catch (err) {
      this.onError(err);
    } finally {
      this.running = undefined;
    }
  }

  private write(): void {
    const r = this.ready;
    if (!r) return;
    this.ready = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.store.setNextTargetSeqNum(r.n).then(r.done, r.fail);
  }
}
