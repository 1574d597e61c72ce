// What a sequence reset owes the client is on disk (the undelivered journal) until the application's
// re-sends of it are stored: a restart in between hands it over at start-up, once. Real files in a
// temp directory; a "crash" is a session abandoned without shutdown and a new one opened on the same
// files (the e2e SIGKILL test is test/gateway/reset-durable.e2e.test.ts).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import { FixApplication, SessionHandle } from '../../src/fix/application';
import { parseSessionSettings } from '../../src/fix/config/session-settings';
import { FixSession } from '../../src/fix/fix-session';
import { SessionLog } from '../../src/fix/session-log';
import { FileSessionStore } from '../../src/fix/store/file-session-store';
import { StoredMessage } from '../../src/fix/store/message-store';
import { UndeliveredJournal } from '../../src/fix/store/undelivered-journal';
import { DICTIONARY, buildConfig } from '../support/gateway-process';

const er = (seq: number, execId: string) => `8=FIX.4.2\x019=10\x0135=8\x0134=${seq}\x0117=${execId}\x0110=000\x01`;
const owedMessages: StoredMessage[] = [
  { seqNum: 7, raw: er(7, 'E1') },
  { seqNum: 9, raw: er(9, 'E2') },
];

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reset-handover-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** An application that records hand-overs and re-sends each message; `hold` keeps the promise open. */
class RecordingApp implements FixApplication {
  calls: StoredMessage[][] = [];
  release?: () => void;
  constructor(private readonly hold = false) {}
  fromApp(): void {}
  async onSequenceReset(undelivered: StoredMessage[], session: SessionHandle): Promise<void> {
    this.calls.push(undelivered);
    const sent = undelivered.map((m) => session.send({ msgType: '8', header: [{ tag: 97, value: 'Y' }], body: [{ tag: 17, value: /\x0117=([^\x01]*)/.exec(m.raw)![1] }] }));
    await Promise.all(sent);
    if (this.hold) await new Promise<void>((r) => (this.release = r));
  }
}

function files() {
  const storeDir = path.join(dir, 'store');
  return { storeDir, journal: new UndeliveredJournal(path.join(storeDir, 'session.undelivered')), file: path.join(storeDir, 'session.undelivered') };
}

function newSession(app: FixApplication): { session: FixSession; store: FileSessionStore } {
  const text = buildConfig([{ SenderCompID: 'GW', TargetCompID: 'CL', Application: 'echo' }])
    .replace(/\{\{PORT\}\}/g, '1')
    .replace(/\{\{DICTIONARY\}\}/g, DICTIONARY)
    .replace(/^FileStorePath=.*$/m, `FileStorePath=${path.join(dir, 'store')}`)
    .replace(/^FileLogPath=.*$/m, `FileLogPath=${path.join(dir, 'log')}`);
  const [cfg] = parseSessionSettings(text, path.join(dir, 'sessions.cfg'), {});
  const store = new FileSessionStore(path.join(dir, 'store'), 'session');
  const session = new FixSession({
    config: cfg,
    store,
    log: new SessionLog(path.join(dir, 'log'), 'session'),
    headerTags: new Set([8, 9, 35, 34, 49, 52, 56, 43, 97, 122]),
    app,
    logger: pino({ level: 'silent' }),
    undeliveredJournal: files().journal,
  });
  return { session, store };
}

/** The state a crash right after a reset's wipe leaves: the store at a new sequence, the owed messages on disk. */
async function crashAfterWipe(): Promise<void> {
  const store = new FileSessionStore(path.join(dir, 'store'), 'session');
  await store.open();
  const oldSequence = store.creationTime();
  await files().journal.write(oldSequence, owedMessages);
  await store.reset();
  expect(store.creationTime()).toBeGreaterThan(oldSequence);
  await store.close();
  await files().journal.close();
}

test('a hand-over owed at start-up is done once: the re-sends are stored, then the journal is removed', async () => {
  await crashAfterWipe();
  const app = new RecordingApp();
  const { session, store } = newSession(app);
  await session.open();
  expect(app.calls).toEqual([owedMessages]);
  const stored = await store.getSent(1, 10);
  expect(stored.map((m) => /\x0117=([^\x01]*)/.exec(m.raw)![1])).toEqual(['E1', 'E2']);
  expect(stored.every((m) => m.raw.includes('\x0197=Y\x01'))).toBe(true);
  expect(fs.existsSync(files().file)).toBe(false);
  await session.shutdown();

  const again = new RecordingApp();
  const second = newSession(again);
  await second.session.open();
  expect(again.calls).toEqual([]);
  await second.session.shutdown();
});

test('a crash before the application\'s re-sends are done leaves the journal: the next start hands the same messages over again', async () => {
  await crashAfterWipe();
  const stuck = new RecordingApp(true);
  const first = newSession(stuck);
  const opening = first.session.open();
  await waitFor(() => stuck.calls.length === 1);
  expect(fs.existsSync(files().file)).toBe(true); // re-sends stored, the application not done: still owed
  // Crash: the first session is abandoned. A new process opens the same files.
  const app = new RecordingApp();
  const second = newSession(app);
  await second.session.open();
  expect(app.calls).toEqual([owedMessages]);
  expect(fs.existsSync(files().file)).toBe(false);
  await second.session.shutdown();
  stuck.release!();
  await opening;
  await first.store.close();
});

test('a journal written before a wipe that never became durable is discarded (the store still has those messages)', async () => {
  const store = new FileSessionStore(path.join(dir, 'store'), 'session');
  await store.open();
  await files().journal.write(store.creationTime(), owedMessages);
  await store.close();
  await files().journal.close();
  const app = new RecordingApp();
  const { session } = newSession(app);
  await session.open();
  expect(app.calls).toEqual([]);
  expect(fs.existsSync(files().file)).toBe(false);
  await session.shutdown();
});

test('an application without onSequenceReset (echo) neither reads nor removes the journal', async () => {
  await crashAfterWipe();
  const { session } = newSession({ fromApp: () => undefined });
  await session.open();
  expect(fs.existsSync(files().file)).toBe(true);
  await session.shutdown();
});

test('UndeliveredJournal: write replaces, append adds, load reads back with the sequence; remove deletes', async () => {
  const { journal, file } = files();
  expect(await journal.load()).toBeUndefined();
  await journal.write(123, [owedMessages[0]]);
  await journal.append([owedMessages[1]]);
  await journal.close();
  expect(await new UndeliveredJournal(file).load()).toEqual({ sequence: 123, messages: owedMessages });
  const j = new UndeliveredJournal(file);
  await j.write(0, [owedMessages[1]]);
  await j.close();
  expect(await new UndeliveredJournal(file).load()).toEqual({ sequence: 0, messages: [owedMessages[1]] });
  await j.remove();
  expect(fs.existsSync(file)).toBe(false);
});

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 10));
  }
}
