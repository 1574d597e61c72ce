// Keeps the order of arrival when some messages must first bring an evicted order back into memory
// (FileOrderBook.recall, an asynchronous read): while nothing waits, a message is handled at once,
// synchronously, as before; once one waits for its recall, the ones behind it wait their turn.
export class RecallGate {
  /** Resolves when the last waiting message has been handed to its handler. */
  private tail: Promise<void> | undefined;

  constructor(private readonly onRecallError: (err: unknown) => void) {}

  /**
   * `failed`: what to do instead of `handle` when the recall fails (the order may be known but cannot
   * be read); without it the message is handled as if no evicted order had the ids.
   */
  run<T>(recall: Promise<void> | undefined, handle: () => T, failed?: (err: unknown) => T): T | Promise<Awaited<T>> {
    if (recall === undefined && this.tail === undefined) return handle();
    const before = this.tail;
    let started!: () => void;
    const tail = new Promise<void>((resolve) => (started = resolve));
    this.tail = tail;
    // A recall that fails (the record does not read back) leaves the order unknown; it is logged.
    let error: { err: unknown } | undefined;
    const recalled = recall?.catch((err: unknown) => {
      error = { err };
      this.onRecallError(err);
    });
    return Promise.all([before, recalled]).then(() => {
      if (this.tail === tail) this.tail = undefined;
      started();
      return (error !== undefined && failed ? failed(error.err) : handle()) as Awaited<T>;
    });
  }
}
