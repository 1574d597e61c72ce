import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { RotatingLogFile } from '../../src/fix/rotating-log-file';
import { SessionLog } from '../../src/fix/session-log';

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rotlog-'))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The files of `stem` in the order their lines were written: rotated ones by day then number, then the live one. */
function filesInOrder(stem: string): string[] {
  const re = new RegExp(`^${stem.replace(/\./g, '\\.')}\\.(\\d{4}-\\d\\d-\\d\\d)\\.(\\d+)\\.log$`);
  const rotated = fs
    .readdirSync(dir)
    .map((n) => ({ n, m: re.exec(n) }))
    .filter((x) => x.m)
    .sort((a, b) => (a.m![1] === b.m![1] ? Number(a.m![2]) - Number(b.m![2]) : a.m![1] < b.m![1] ? -1 : 1))
    .map((x) => x.n);
  return [...rotated, `${stem}.log`].map((n) => path.join(dir, n));
}

const DAY1 = Date.UTC(2026, 11, 3, 23, 59, 59, 990);
const DAY2 = Date.UTC(2026, 11, 4, 0, 0, 0, 5);

describe('RotatingLogFile', () => {
  test('by size: every line kept once, in order, none split, no file over the limit', async () => {
    const log = new RotatingLogFile(path.join(dir, 's.messages.log'), { maxBytes: 1024 }, 'latin1');
    const lines: string[] = [];
    let seed = 7;
    const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let batch = 0; batch < 300; batch++) {
      let text = '';
      for (let k = 1 + rnd(12); k > 0; k--) {
        const line = `${lines.length} ${'x'.repeat(rnd(150))}\n`;
        lines.push(line);
        text += line;
      }
      log.write(text); // several lines in one write, as the message log batches them
    }
    await log.close();
    const files = filesInOrder('s.messages');
    expect(files.length).toBeGreaterThan(20);
    const contents = files.map((f) => fs.readFileSync(f, 'latin1'));
    expect(contents.join('')).toBe(lines.join(''));
    for (const c of contents) {
      expect(c.length).toBeLessThanOrEqual(1024);
      if (c !== '') expect(c.endsWith('\n')).toBe(true);
    }
  });

  test('a line longer than the limit goes whole into a file of its own', async () => {
    const log = new RotatingLogFile(path.join(dir, 'e.event.log'), { maxBytes: 1024 });
    const long = `${'é'.repeat(900)}\n`; // 1,801 bytes in UTF-8
    log.write('first\n');
    log.write(`${long}after\n`);
    await log.close();
    const contents = filesInOrder('e.event').map((f) => fs.readFileSync(f, 'utf8'));
    expect(contents).toEqual(['first\n', long, 'after\n']);
  });

  test('daily: lines of each UTC day in that day\'s file', async () => {
    let now = DAY1;
    const log = new RotatingLogFile(path.join(dir, 'd.messages.log'), { daily: true }, 'latin1', () => now);
    log.write('day one a\n');
    log.write('day one b\n');
    now = DAY2;
    log.write('day two\n');
    await log.close();
    expect(fs.readFileSync(path.join(dir, 'd.messages.2026-12-03.0001.log'), 'latin1')).toBe('day one a\nday one b\n');
    expect(fs.readFileSync(path.join(dir, 'd.messages.log'), 'latin1')).toBe('day two\n');
  });

  test('daily: a file left by yesterday\'s run is rotated under yesterday\'s date at the first line', async () => {
    const file = path.join(dir, 'r.event.log');
    fs.writeFileSync(file, 'from yesterday\n');
    fs.utimesSync(file, new Date(DAY1), new Date(DAY1));
    const log = new RotatingLogFile(file, { daily: true }, 'utf8', () => DAY2);
    log.write('today\n');
    await log.close();
    expect(fs.readFileSync(path.join(dir, 'r.event.2026-12-03.0001.log'), 'utf8')).toBe('from yesterday\n');
    expect(fs.readFileSync(file, 'utf8')).toBe('today\n');
  });

  test('size and day together: numbers restart per day and never overwrite', async () => {
    let now = DAY1;
    const log = new RotatingLogFile(path.join(dir, 'b.messages.log'), { maxBytes: 1024, daily: true }, 'latin1', () => now);
    const line = `${'y'.repeat(499)}\n`;
    log.write(line.repeat(5)); // 2 + 2 + 1 on day one
    now = DAY2;
    log.write(line.repeat(3));
    await log.close();
    const names = fs.readdirSync(dir).sort();
    expect(names).toEqual(['b.messages.2026-12-03.0001.log', 'b.messages.2026-12-03.0002.log', 'b.messages.2026-12-03.0003.log', 'b.messages.2026-12-04.0001.log', 'b.messages.log']);
    expect(filesInOrder('b.messages').map((f) => fs.readFileSync(f, 'latin1')).join('')).toBe(line.repeat(8));
  });
});

describe('SessionLog rotation', () => {
  test('message lines gathered just before midnight land in that day\'s file', async () => {
    let now = DAY1;
    const log = new SessionLog(dir, 'K', true, { daily: true }, () => now);
    log.incoming('8=FIX.4.2\x0135=0\x0110=000\x01');
    now = DAY2; // within the 20 ms gathering window
    log.outgoing('8=FIX.4.2\x0135=0\x0110=001\x01');
    await log.close();
    const old = fs.readFileSync(path.join(dir, 'K.messages.2026-12-03.0001.log'), 'latin1');
    const live = fs.readFileSync(path.join(dir, 'K.messages.log'), 'latin1');
    expect(old).toMatch(/ : < 8=FIX.4.2\x0135=0\x0110=000\x01\n$/);
    expect(old.split('\n')).toHaveLength(2);
    expect(live).toMatch(/ : > 8=FIX.4.2\x0135=0\x0110=001\x01\n$/);
    expect(live.split('\n')).toHaveLength(2);
  });
});

test('a rotation that cannot rename (injected EACCES) loses no line: writing goes on in the live file, rotation is tried again later', async () => {
  const file = path.join(dir, 'ro.messages.log');
  const log = new RotatingLogFile(file, { maxBytes: 1024 }, 'latin1');
  const line = `${'z'.repeat(299)}\n`;
  log.write(line.repeat(3));
  // On the module object itself (what the code under test reads through its import), once.
  const nodeFs = require('fs') as typeof fs;
  const realRename = nodeFs.renameSync;
  nodeFs.renameSync = () => {
    nodeFs.renameSync = realRename;
    throw Object.assign(new Error('EACCES: permission denied, rename'), { code: 'EACCES' });
  };
  try {
    log.write(line.repeat(4)); // the rotation before the 4th line fails: all four go on in the live file
    log.write(line.repeat(4));
  } finally {
    nodeFs.renameSync = realRename;
  }
  await log.close();
  expect(log.lastError?.message).toContain('EACCES');
  const files = filesInOrder('ro.messages').map((f) => fs.readFileSync(f, 'latin1'));
  expect(files.join('')).toBe(line.repeat(11));
  expect(files.length).toBeGreaterThan(1); // rotation worked again once rename did
});

test('a rotation that renamed the full file but cannot open the new one (injected EMFILE) loses no line and brings the live file back later', async () => {
  const file = path.join(dir, 'op.messages.log');
  const log = new RotatingLogFile(file, { maxBytes: 1024 }, 'latin1');
  const line = `${'o'.repeat(299)}\n`;
  log.write(line.repeat(3));
  const nodeFs = require('fs') as typeof fs;
  const realOpen = nodeFs.openSync;
  nodeFs.openSync = ((...args: Parameters<typeof fs.openSync>) => {
    nodeFs.openSync = realOpen;
    void args;
    throw Object.assign(new Error('EMFILE: too many open files, open'), { code: 'EMFILE' });
  }) as typeof fs.openSync;
  try {
    log.write(line.repeat(4)); // renamed, the new file cannot be opened: these go on in the renamed file
  } finally {
    nodeFs.openSync = realOpen;
  }
  log.write(line.repeat(8)); // once files open again, the live file (what tail -F follows) is back
  await log.close();
  expect(log.lastError?.message).toContain('EMFILE');
  expect(fs.existsSync(file)).toBe(true);
  expect(fs.statSync(file).size).toBeGreaterThan(0);
  expect(filesInOrder('op.messages').map((f) => fs.readFileSync(f, 'latin1')).join('')).toBe(line.repeat(15));
});

describe('rotated file names', () => {
  /** What an operator's shell does: `cat X.*.log X.log` takes the glob in name order. */
  function catInNameOrder(stem: string): string {
    const rotated = fs
      .readdirSync(dir)
      .filter((n) => n.startsWith(`${stem}.`) && n !== `${stem}.log`)
      .sort();
    return [...rotated, `${stem}.log`].map((n) => fs.readFileSync(path.join(dir, n), 'latin1')).join('');
  }

  test('sorting the names gives the order the lines were written in, with more than 9 files a day', async () => {
    const log = new RotatingLogFile(path.join(dir, 'n.messages.log'), { maxBytes: 1024 }, 'latin1', () => DAY1);
    const lines = Array.from({ length: 40 }, (_, i) => `${String(i).padStart(3, '0')} ${'z'.repeat(295)}\n`);
    for (const l of lines) log.write(l); // 3 lines a file: 13 rotated files
    await log.close();
    expect(fs.readdirSync(dir).length).toBeGreaterThan(11);
    expect(catInNameOrder('n.messages')).toBe(lines.join(''));
  });

  test('deleting an old rotated file does not make the next one sort before the rest', async () => {
    const log = new RotatingLogFile(path.join(dir, 'g.messages.log'), { maxBytes: 1024 }, 'latin1', () => DAY1);
    const line = (i: number) => `${i} ${'q'.repeat(597)}\n`; // one line a file
    log.write(line(1));
    log.write(line(2));
    log.write(line(3)); // rotated: 1, 2; live: 3
    const first = fs.readdirSync(dir).filter((n) => n !== 'g.messages.log').sort()[0];
    fs.unlinkSync(path.join(dir, first)); // the operator archives the oldest file
    log.write(line(4)); // rotates 3
    await log.close();
    expect(catInNameOrder('g.messages')).toBe(line(2) + line(3) + line(4));
  });
});
