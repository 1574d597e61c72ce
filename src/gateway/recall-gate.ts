// Keeps the order of arrival when some messages must first bring an evicted order back into memory
// (FileOrderBook.recall, an asynchronous read): while nothing waits, a message is handled at once,
// synchronously, as before; once one waits for its recall, the ones behind it wait their turn.
export class RecallGate {
  /** Resolves when the last waiting message has been handed to its handler. */
  private tail: Promise<void> | undefined;

  constructor(private readonly onRecallError: (err: unknown) => void) {}

  run<T>(recall: Promise<void> | undefined, handle: () => T): T | Promise<Awaited<T>> {
    if (recall === undefined && this.tail === undefined) return handle();
    const before = this.tail;
    let started!: () => void;
    const tail = new Promise<void>((resolve) => (started = resolve));
    this.tail = tail;
    // A recall that fails (the record does not read back) leaves the order unknown; it is logged.
    const recalled = recall?.catch(this.onRecallError);
    return Promise.all([before, recalled]).then(() => {
      if (this.tail === tail) this.tail = undefined;
      started();
      return handle() as Awaited<T>;
    });
  }
}
