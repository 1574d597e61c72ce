// The per-session FIX logs are for people; the store is the record. A log that cannot be written
// (a full disk) must not take the gateway down: lines are dropped and counted, the failure is
// reported once, and logging resumes by itself once the file can be written again.
// Real ENOSPC: the log files are symlinks to /dev/full, then to a regular file.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SessionLog } from '../../src/fix/session-log';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'session-log-failure-'))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test('a log on a full disk (ENOSPC) drops lines without an unhandled error, reports once, and resumes when it can write again', async () => {
  if (!fs.existsSync('/dev/full')) return;
  const files = ['s.messages.log', 's.event.log'].map((f) => path.join(dir, f));
  for (const f of files) fs.symlinkSync('/dev/full', f);
  const problems: string[] = [];
  const log = new SessionLog(dir, 's', true, {}, Date.now, { onWriteError: (err) => problems.push((err as NodeJS.ErrnoException).code ?? String(err)) });
  for (let i = 0; i < 50; i++) {
    log.event(`event ${i}`);
    log.incoming(`8=FIX.4.2\x019=5\x0135=0\x0110=000\x01`);
    await sleep(5);
  }
  expect(problems).toEqual(['ENOSPC']);
  // Room again: the files are regular files now.
  for (const f of files) {
    fs.rmSync(f);
    fs.writeFileSync(f, '');
  }
  await sleep(1100);
  log.event('after');
  log.incoming('8=FIX.4.2\x019=5\x0135=1\x0110=000\x01');
  await log.close();
  const events = fs.readFileSync(files[1], 'utf8');
  expect(events).toMatch(/log lines lost \(ENOSPC\)/);
  expect(events).toMatch(/ : after\n/);
  expect(fs.readFileSync(files[0], 'latin1')).toMatch(/35=1/);
});
