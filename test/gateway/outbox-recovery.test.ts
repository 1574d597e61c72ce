// Outbox recovery after a crash that followed a sequence reset: an unconfirmed report's seqnum hint
// (minSeq) was taken in the old sequence; the report itself may be stored in the new one, below
// that number. It must be found there, not sent a second time.
import { resendUnstoredReports } from '../../src/gateway/outbox-recovery';
import { StoredMessage } from '../../src/fix/store/message-store';

function stored(seq: number, execId: string): StoredMessage {
  return { seqNum: seq, raw: `8=FIX.4.2\x019=5\x0135=8\x0134=${seq}\x0117=${execId}\x0110=000\x01` };
}

function session(sequenceId: number, messages: StoredMessage[]) {
  const sent: string[] = [];
  return {
    sent,
    handle: {
      sequenceId: () => sequenceId,
      nextSenderSeqNum: () => messages.length + 1,
      sentMessages: async (begin: number, end: number) => messages.filter((m) => m.seqNum >= begin && m.seqNum <= end),
      send: async (m: { body: { tag: number; value: string }[] }) => {
        sent.push(m.body.find((f) => f.tag === 17)!.value);
        return 0;
      },
    },
  };
}

const er = (execId: string) => ({ msgType: '8', body: [{ tag: 17, value: execId }] });

test('a report whose seqnum hint is from an earlier sequence is looked for from the start of the current one', async () => {
  // Saved when the old sequence was at 50; the reset came before the send, which stored it at 3;
  // the new sequence has grown past 50 since.
  const messages = Array.from({ length: 120 }, (_, i) => stored(i + 1, i + 1 === 3 ? 'E-moved' : `X${i + 1}`));
  const s = session(2_000, messages);
  const sent = await resendUnstoredReports([{ execId: 'E-moved', message: er('E-moved'), minSeq: 50, sequenceId: 1_000 }], s.handle);
  expect(s.sent).toEqual([]);
  expect(sent).toBe(0);
});

test('a report whose hint is from the current sequence is looked for from the hint on, and sent when absent', async () => {
  const messages = Array.from({ length: 120 }, (_, i) => stored(i + 1, i + 1 === 90 ? 'E-here' : `X${i + 1}`));
  const s = session(2_000, messages);
  const sent = await resendUnstoredReports(
    [
      { execId: 'E-here', message: er('E-here'), minSeq: 80, sequenceId: 2_000 },
      { execId: 'E-lost', message: er('E-lost'), minSeq: 80, sequenceId: 2_000 },
    ],
    s.handle,
  );
  expect(s.sent).toEqual(['E-lost']);
  expect(sent).toBe(1);
});
