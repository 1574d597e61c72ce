// `store set-next-sender` against the store's sidecars, in process (the CLI over real processes is
// in store-command.e2e.test.ts).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DeliveryMark } from '../../src/fix/store/delivery-mark';
import { FileSessionStore } from '../../src/fix/store/file-session-store';
import { runStoreCli, runStoreCommand } from '../../src/ops/store-command';
import { buildConfig, REPO_ROOT } from '../support/gateway-process';

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'storecmd-'))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const KEY = 'FIX.4.2-ISLD-TW42';

function writeConfig(): string {
  const file = path.join(dir, 'sessions.cfg');
  const text = buildConfig([{ SenderCompID: 'ISLD', TargetCompID: 'TW42' }])
    .replace('{{PORT}}', '19999')
    .replace('{{DICTIONARY}}', path.join(REPO_ROOT, 'dictionaries', 'FIX42.xml'));
  fs.writeFileSync(file, text);
  return file;
}

test('lowering the next sender seqnum below what was proven delivered lowers the delivery mark: the messages sent again under those numbers are not taken as read', async () => {
  const configFile = writeConfig();
  const storeDir = path.join(dir, 'store');
  // A store whose sequence is at 500, with the client proven to have read through 480.
  const store = new FileSessionStore(storeDir, KEY);
  await store.open();
  await store.setNextSenderSeqNum(500);
  const sequence = store.creationTime();
  await store.close();
  const mark = new DeliveryMark(path.join(storeDir, `${KEY}.delivered`));
  mark.raise(480, sequence);
  await mark.flush();

  await runStoreCommand({ action: 'set-next-sender', configFile, session: 'TW42', seqNum: 100 });

  // Same sequence (no reset): what the gateway sends next as 100..480 has not reached anyone yet, so
  // a later sequence reset must hand it back to the application, which reads the mark to decide.
  const after = new DeliveryMark(path.join(storeDir, `${KEY}.delivered`));
  after.load();
  expect(after.deliveredThrough(sequence)).toBeLessThan(100);
});

test('raising the next sender seqnum keeps the delivery mark', async () => {
  const configFile = writeConfig();
  const storeDir = path.join(dir, 'store');
  const store = new FileSessionStore(storeDir, KEY);
  await store.open();
  await store.setNextSenderSeqNum(500);
  const sequence = store.creationTime();
  await store.close();
  const mark = new DeliveryMark(path.join(storeDir, `${KEY}.delivered`));
  mark.raise(480, sequence);
  await mark.flush();

  await runStoreCommand({ action: 'set-next-sender', configFile, session: 'TW42', seqNum: 900 });

  const after = new DeliveryMark(path.join(storeDir, `${KEY}.delivered`));
  after.load();
  expect(after.deliveredThrough(sequence)).toBe(480);
});

test('store show of a session whose store does not exist refuses (exit 2) and creates nothing: no directory, journal or lock', async () => {
  const configFile = writeConfig();
  const storeDir = path.join(dir, 'store');
  const out: string[] = [];
  const err: string[] = [];
  const sink = (into: string[]) => ({ write: (s: string) => into.push(s) }) as unknown as NodeJS.WritableStream;
  const before = fs.readdirSync(dir);
  expect(await runStoreCli(['show', '--config', configFile, '--session', 'TW42'], sink(out), sink(err))).toBe(2);
  expect(err.join('')).toBe(`store: no store for FIX.4.2:ISLD->TW42: ${path.join(storeDir, `${KEY}.journal`)} does not exist (has the gateway run with this config?); nothing was created\n`);
  expect(out).toEqual([]);
  expect(fs.readdirSync(dir)).toEqual(before);

  // The directory exists (another session's store) but not this session's journal: still nothing created in it.
  fs.mkdirSync(storeDir);
  fs.writeFileSync(path.join(storeDir, 'other.journal'), 'x');
  expect(await runStoreCli(['show', '--config', configFile, '--session', 'TW42'], sink(out), sink(err))).toBe(2);
  expect(fs.readdirSync(storeDir)).toEqual(['other.journal']);
});
