// Transactional outbox, the recovery side (see report-committer.ts for the writing side).
import { SessionHandle } from '../fix/application';
import { FileOrderBook } from './file-order-book';

/**
 * After a crash: reports saved with their order but not confirmed may or may not have reached the
 * session store. Send those the store does not have (by ExecID), so each is sent exactly once.
 */
export async function recoverOutbox(book: FileOrderBook, session: SessionHandle | undefined): Promise<void> {
  const pending = book.unconfirmedOutbox();
  if (pending.length === 0 || !session) return;
  const last = session.nextSenderSeqNum() - 1;
  const stored = last > 0 ? await session.sentMessages(1, last) : [];
  const sentIds = new Set<string>();
  for (const m of stored) {
    const i = m.raw.indexOf('\x0117=');
    if (i >= 0) sentIds.add(m.raw.slice(i + 4, m.raw.indexOf('\x01', i + 4)));
    const c = m.raw.indexOf('\x0111=');
    if (c >= 0 && m.raw.includes('\x0135=9\x01')) sentIds.add(`cxlrej:${m.raw.slice(c + 4, m.raw.indexOf('\x01', c + 4))}`);
  }
  let resent = 0;
  for (const e of pending) {
    const key = e.message.msgType === '9' ? `cxlrej:${e.message.body.find((f) => f.tag === 11)?.value}` : e.execId;
    if (!sentIds.has(key)) {
      await session.send(e.message);
      resent++;
    }
  }
  book.confirm(pending.map((e) => e.execId));
  session.event(`Recovered outbox: ${pending.length} unconfirmed reports, ${resent} were not in the store and were sent`);
}
