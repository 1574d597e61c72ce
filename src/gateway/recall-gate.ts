// Keeps the order of arrival when some messages must first bring an evicted order back into memory
// (FileOrderBook.recall, an asynchronous read): while nothing waits, a message is handled at once,
// synchronously, as before; once one waits for its recall, the ones behind it wait their turn.
//
// A message that waits pins the ids it names (FileOrderBook.pin) until its handler has run: the
// book sweeps terminal orders out after their grace period, and without the pin an order recalled
// for the message, or in memory when it arrived, could leave again before its handler, which would
// then not know it (a status request answered "unknown order" after the order's fills, a venue
// event kept as one for an order not known yet). Whether a message needs a recall is still asked
// again when its turn comes: cheap when nothing is wanted, and it does not rely on the pin alone.

import { RecallIds } from './file-order-book';

/** Recalls made for one message when its turn comes, at most (an id whose hash hits but whose record is another order's asks every time). */
const MAX_RECALLS_AT_TURN = 2;

/** What the gate needs of the book. */
export interface RecallingBook {
  /** Brings back the evicted orders the ids may name; undefined: none to read. */
  recall(ids: RecallIds): Promise<void> | undefined;
  /** Keeps the orders the ids name in memory until the returned release is called. */
  pin(ids: RecallIds): () => void;
}

export class RecallGate {
  /** Resolves when the last waiting message has been handed to its handler. */
  private tail: Promise<void> | undefined;

  constructor(
    private readonly book: RecallingBook,
    private readonly onRecallError: (err: unknown) => void,
  ) {}

  /**
   * Recalls the evicted orders `ids` may name (on arrival, and again at the message's turn), then
   * calls `handle`. `failed`: what to do instead of `handle` when a recall fails (the order may be
   * known but cannot be read); without it the message is handled as if no evicted order had the ids.
   */
  run<T>(ids: RecallIds, handle: () => T, failed?: (err: unknown) => T): T | Promise<Awaited<T>> {
    const before = this.tail;
    // A recall that throws (a bug, a broken index) fails like one that rejects: the message still
    // gets its turn, its pin is released, and the messages behind it are not held for good.
    const recall = (): Promise<void> | undefined => {
      try {
        return this.book.recall(ids);
      } catch (err) {
        return Promise.reject(err);
      }
    };
    const first = recall();
    if (first === undefined && before === undefined) return handle();
    // Released once the handler has been called: what it looks up synchronously is there.
    const unpin = this.book.pin(ids);
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
      try {
        // Its turn: what it names should be in memory (pinned); asked again all the same.
        for (let i = 0; i < MAX_RECALLS_AT_TURN && error === undefined; i++) {
          const again = recall();
          if (again === undefined) break;
          await settled(again);
        }
      } finally {
        if (this.tail === tail) this.tail = undefined;
        started();
      }
      try {
        return (error !== undefined && failed ? failed(error.err) : handle()) as Awaited<T>;
      } finally {
        unpin();
      }
    });
  }
}
