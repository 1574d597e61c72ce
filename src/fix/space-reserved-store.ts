// A MessageStore whose writes that fail with ENOSPC free the directory's space reserve and are
// tried once more (see src/durable/space-reserve.ts). The store undid the failed write (its
// seqnums and index are as of the last durable record), and the retries are issued in the order
// the calls were made, so the journal sees the same records in the same order.
import type { SpaceReserve } from '../durable/space-reserve';
import type { MessageStore } from './store/message-store';

export function withSpaceReserve(store: MessageStore, reserve: SpaceReserve): MessageStore {
  const retried = <T>(call: () => Promise<T>): Promise<T> => call().catch((err: unknown) => (reserve.release(err) ? call() : Promise.reject(err)));
  return {
    open: () => store.open(),
    close: () => store.close(),
    nextSenderSeqNum: () => store.nextSenderSeqNum(),
    nextTargetSeqNum: () => store.nextTargetSeqNum(),
    appendSent: (seqNum, raw) => retried(() => store.appendSent(seqNum, raw)),
    setNextTargetSeqNum: (n) => retried(() => store.setNextTargetSeqNum(n)),
    setNextSenderSeqNum: (n) => retried(() => store.setNextSenderSeqNum(n)),
    getSent: (begin, end) => store.getSent(begin, end),
    reset: () => retried(() => store.reset()),
    creationTime: () => store.creationTime(),
  };
}
