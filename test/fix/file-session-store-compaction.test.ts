// The session journal compacts while running, not only on a reset: sequence-number records (one per
// inbound message) and superseded stored messages go, the stored messages stay readable, byte for
// byte, during and after it, and a reopen sees the same state.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FileSessionStore, sessionJournalFor } from '../../src/fix/store/file-session-store';

const KEY = 'FIX.4.2-GW-COMPACT';
let dir: string;
const stores: FileSessionStore[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fss-compact-'));
});
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => undefined);
  fs.rmSync(dir, { recursive: true, force: true });
});

const text = (seq: number) => `8=FIX.4.2\x019=0\x0135=8\x0134=${seq}\x0117=E${seq}\x0158=${'x'.repeat(seq % 50)}\xe9\x0110=000\x01`;

test('a session that only receives and sends: its seqnum records are compacted while it runs, its stored messages kept', async () => {
  const journal = sessionJournalFor(dir, KEY, { fsync: false });
  const store = new FileSessionStore(dir, KEY, { journal });
  stores.push(store);
  await store.open();
  let sent = 0;
  const pending: Promise<void>[] = [];
  // 30,000 inbound messages, one report stored for every tenth of them (and an admin message, not stored, for the others).
  for (let n = 1; n <= 30_000; n++) {
    pending.push(store.setNextTargetSeqNum(n + 1));
    sent += 1;
    pending.push(store.appendSent(sent, n % 10 === 0 ? text(sent) : ''));
    if (n % 500 === 0) await Promise.all(pending.splice(0));
    if (n === 20_000) {
      // Reads during the compactions see every stored message.
      const got = await store.getSent(1, sent);
      expect(got.length).toBe(2_000);
      for (const m of got) expect(m.raw).toBe(text(m.seqNum));
    }
  }
  await Promise.all(pending);
  // 60,000 records were appended; the file holds about its live state (3,000 messages, 2 seqnums) plus what came since the last compaction.
  expect(journal.compactions).toBeGreaterThan(0);
  expect(journal.journal.fileRecords).toBeLessThan(20_000);
  const got = await store.getSent(1, sent);
  expect(got.map((m) => m.seqNum)).toEqual(Array.from({ length: 3_000 }, (_, i) => (i + 1) * 10));
  for (const m of got) expect(m.raw).toBe(text(m.seqNum));
  await store.close();
  stores.length = 0;

  const again = new FileSessionStore(dir, KEY, { fsync: false });
  stores.push(again);
  await again.open();
  expect(again.nextTargetSeqNum()).toBe(30_001);
  expect(again.nextSenderSeqNum()).toBe(30_001);
  const back = await again.getSent(1, sent);
  expect(back.length).toBe(3_000);
  for (const m of back) expect(m.raw).toBe(text(m.seqNum));
}, 60_000);
