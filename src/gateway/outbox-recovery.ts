// After a crash: reports saved with their order but not confirmed may or may not have reached the
// session store. Those the store does not have (by ExecID, or by ClOrdID for a cancel reject) are
// sent, so each is sent exactly once. Bounded: the store is read only from the smallest seqnum an
// unconfirmed report can have (each entry records the session's next sender seqnum when saved),
// in chunks, and only the ids of the unconfirmed reports are kept.
import type { SessionHandle } from '../fix/application';
import type { FileOrderBook, OutboxEntry } from './file-order-book';

/** Messages read from the session store at a time. */
export const OUTBOX_RECOVERY_CHUNK = 1000;

function keyOf(e: OutboxEntry): string {
  return e.message.msgType === '9' ? `cxlrej:${e.message.body.find((f) => f.tag === 11)?.value}` : e.execId;
}

function field(raw: string, tag: string): string | undefined {
  const i = raw.indexOf(`\x01${tag}=`);
  if (i < 0) return undefined;
  const from = i + tag.length + 2;
  const end = raw.indexOf('\x01', from);
  return raw.slice(from, end < 0 ? undefined : end);
}

/** Sends the unconfirmed reports absent from the session store; returns how many were sent. */
export async function resendUnstoredReports(
  pending: readonly OutboxEntry[],
  session: Pick<SessionHandle, 'nextSenderSeqNum' | 'sentMessages' | 'send' | 'sequenceId'>,
): Promise<number> {
  if (pending.length === 0) return 0;
  const wanted = new Set(pending.map(keyOf));
  const last = session.nextSenderSeqNum() - 1;
  // A hint taken in an earlier sequence means nothing now (a reset came between the save and the
  // send, which then stored the report low in the new sequence): read that sequence from 1.
  const current = session.sequenceId();
  let from = Math.min(...pending.map((e) => (e.sequenceId === undefined || e.sequenceId === current ? (e.minSeq ?? 1) : 1)));
  if (!(from >= 1 && from <= last)) from = 1;
  const stored = new Set<string>();
  for (let begin = from; begin <= last && stored.size < wanted.size; begin += OUTBOX_RECOVERY_CHUNK) {
    const chunk = await session.sentMessages(begin, Math.min(last, begin + OUTBOX_RECOVERY_CHUNK - 1));
    for (const m of chunk) {
      const execId = field(m.raw, '17');
      if (execId !== undefined && wanted.has(execId)) stored.add(execId);
      if (m.raw.includes('\x0135=9\x01')) {
        const k = `cxlrej:${field(m.raw, '11')}`;
        if (wanted.has(k)) stored.add(k);
      }
    }
  }
  let sent = 0;
  for (const e of pending) {
    if (!stored.has(keyOf(e))) {
      await session.send(e.message);
      sent++;
    }
  }
  return sent;
}

/** After a crash: send the unconfirmed reports the session store lacks, then confirm them all. */
export async function recoverOutbox(book: FileOrderBook, session: SessionHandle | undefined): Promise<void> {
  const pending = book.unconfirmedOutbox();
  if (pending.length === 0 || !session) return;
  const resent = await resendUnstoredReports(pending, session);
  book.confirm(pending.map((e) => e.execId));
  session.event(`Recovered outbox: ${pending.length} unconfirmed reports, ${resent} were not in the store and were sent`);
}
