// Keeps the order of arrival when some messages must first bring an evicted order back into memory
// (FileOrderBook.recall, an asynchronous read): while nothing waits, a message is handled at once,
// synchronously, as before; once one waits for its recall, the ones behind it wait their turn.
//
// Whether a message needs a recall is asked again when its turn comes: an order that was in memory
// when the message arrived may have left it while the message waited (its grace period over), and
// its handler would then not know it (a status request answered "unknown order" after the order's
// fills, a venue event kept as one for an order not known yet).

/** Recalls made for one message when its turn comes, at most (an id whose hash hits but whose record is another order's asks every time). */
const MAX_RECALLS_AT_TURN = 2;

export class RecallGate {
  /** Resolves when the last waiting message has been handed to its handler. */
  private tail: Promise<void> | undefined;

  constructor(private readonly onRecallError: (err: unknown) => void) {}

  /**
   * `recall` brings back the evicted orders the message names (undefined: none to read); it is
   * called on arrival and again at the message's turn. `failed`: what to do instead of `handle`
   * when a recall fails (the order may be known but cannot be read); without it the message is
   * handled as if no evicted order had the ids.
   */
  run<T>(recall: () => Promise<void> | undefined, handle: () => T, failed?: (err: unknown) => T): T | Promise<Awaited<T>> {
    const before = this.tail;
    const first = recall();
    if (first === undefined && before === undefined) return handle();
    let started!: () => void;
    const tail = new Promise<void>((resolve) => (started = resolve));
    this.tail = tail;
    // A recall that fails (the record does not read back) leaves the order unknown; it is logged.
    let error: { err: unknown } | undefined;
    const settled = (p: Promise<void>) =>
      p.catch((err: unknown) => {
        error = { err };
        this.onRecallError(err);
      });
    const recalled = first === undefined ? undefined : settled(first);
    return Promise.all([before, recalled]).then(async (): Promise<Awaited<T>> => {
      // Its turn: what it names may have left memory while it waited.
      for (let i = 0; i < MAX_RECALLS_AT_TURN && error === undefined; i++) {
        const again = recall();
        if (again === undefined) break;
        await settled(again);
      }
      if (this.tail === tail) this.tail = undefined;
      started();
      return (error !== undefined && failed ? failed(error.err) : handle()) as Awaited<T>;
    });
  }
}
