import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';
import { FileSessionStore } from '../../src/fix/store/file-session-store';
import type { StoredMessage } from '../../src/fix/store/message-store';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const { messageFor } = require('./helpers/store-writer.js') as { messageFor: (seq: number) => string };

const KEY = 'FIX.4.2-ISLD-TW42';
const HEADER_SIZE = 29; // frame 8 + type 1 + magic 8 + version 2 + flags 2 + creation time 8
const FIXED = 21; // frame 8 + type 1 + batchStart 8 + seq 4: a TARGET/SENDER record, or a SENT record without text

const dirs: string[] = [];
const stores: FileSessionStore[] = [];

function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'fss-test-'));
  dirs.push(d);
  return d;
}

function journalOf(dir: string): string {
  return path.join(dir, `${KEY}.journal`);
}

async function openStore(dir: string): Promise<FileSessionStore> {
  const s = new FileSessionStore(dir, KEY);
  stores.push(s);
  await s.open();
  return s;
}

function msg(seq: number, extra = ''): string {
  return `8=FIX.4.2\x019=0\x0135=D\x0134=${seq}\x0111=ord-${seq}\x0158=${extra}\xe9\xff\x0110=000\x01`;
}

interface State {
  sender: number;
  target: number;
  messages: StoredMessage[];
}

async function stateOf(s: FileSessionStore): Promise<State> {
  return { sender: s.nextSenderSeqNum(), target: s.nextTargetSeqNum(), messages: await s.getSent(1, 1e9) };
}

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => undefined);
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('FileSessionStore', () => {
  test('round trip: seqnums, messages and creation time survive close and reopen', async () => {
    const dir = tmpDir();
    const s = await openStore(path.join(dir, 'nested', 'store')); // creates missing directories
    const created = s.creationTime();
    expect(created).toBeGreaterThan(0);
    expect(s.nextSenderSeqNum()).toBe(1);
    expect(s.nextTargetSeqNum()).toBe(1);
    for (let i = 1; i <= 20; i++) {
      await s.appendSent(i, msg(i, 'a'.repeat(i * 13)));
      if (i % 3 === 0) await s.setNextTargetSeqNum(i + 100);
    }
    await s.setNextSenderSeqNum(40);
    await s.appendSent(40, msg(40));
    const before = await stateOf(s);
    expect(before.messages.map((m) => m.seqNum)).toEqual([...Array.from({ length: 20 }, (_, i) => i + 1), 40]);
    expect(before.sender).toBe(41);
    expect(before.target).toBe(118);
    await s.close();

    const r = await openStore(path.join(dir, 'nested', 'store'));
    expect(await stateOf(r)).toEqual(before);
    expect(r.creationTime()).toBe(created);
    expect(await r.getSent(5, 7)).toEqual(before.messages.slice(4, 7));
    expect(r.recoveryNote).toBeUndefined();
    expect(r.recoveredBytes).toBe(0);
  });

  test('getSent returns what exists of a range, ascending, without admin messages appended with empty text', async () => {
    const s = await openStore(tmpDir());
    await Promise.all([s.appendSent(3, msg(3)), s.appendSent(4, ''), s.appendSent(5, msg(5)), s.appendSent(6, msg(6))]);
    expect(s.nextSenderSeqNum()).toBe(7);
    const seqs = async (b: number, e: number): Promise<number[]> => (await s.getSent(b, e)).map((m) => m.seqNum);
    expect(await seqs(1, 4)).toEqual([3]);
    expect(await seqs(4, 1000)).toEqual([5, 6]);
    expect(await seqs(1, 1e9)).toEqual([3, 5, 6]);
    expect(await seqs(7, 9)).toEqual([]);
    expect(await seqs(6, 5)).toEqual([]);
    expect((await s.getSent(5, 5))[0]).toEqual({ seqNum: 5, raw: msg(5) });
  });

  test('a later append for a stored seq replaces it, and an empty one forgets it, also after reopen', async () => {
    const dir = tmpDir();
    const s = await openStore(dir);
    await Promise.all([1, 2, 3, 4].map((i) => s.appendSent(i, msg(i))));
    await s.appendSent(2, msg(2, 'again'));
    await s.appendSent(3, '');
    await s.appendSent(5, msg(5));
    const before = await stateOf(s);
    expect(before.messages).toEqual([
      { seqNum: 1, raw: msg(1) },
      { seqNum: 2, raw: msg(2, 'again') },
      { seqNum: 4, raw: msg(4) },
      { seqNum: 5, raw: msg(5) },
    ]);
    await s.close();
    expect(await stateOf(await openStore(dir))).toEqual(before);
  });

  test('getSent issued before the appends resolve sees them once they are durable', async () => {
    const s = await openStore(tmpDir());
    const appends = [1, 2, 3].map((i) => s.appendSent(i, msg(i)));
    const got = s.getSent(1, 3);
    await Promise.all(appends);
    expect((await got).map((m) => m.raw)).toEqual([msg(1), msg(2), msg(3)]);
  });

  test('reset: both seqnums 1, no messages, a new creation time, and it survives reopen', async () => {
    const dir = tmpDir();
    const s = await openStore(dir);
    for (let i = 1; i <= 10; i++) await s.appendSent(i, msg(i));
    await s.setNextTargetSeqNum(9);
    const created = s.creationTime();
    await new Promise((r) => setTimeout(r, 5));
    await s.reset();
    expect(s.nextSenderSeqNum()).toBe(1);
    expect(s.nextTargetSeqNum()).toBe(1);
    expect(await s.getSent(1, 1e9)).toEqual([]);
    expect(s.creationTime()).toBeGreaterThan(created);
    const newCreated = s.creationTime();
    await s.close();
    expect(fs.statSync(journalOf(dir)).size).toBe(HEADER_SIZE);
    expect(fs.readdirSync(dir)).toEqual([`${KEY}.journal`]);

    const r = await openStore(dir);
    expect(await stateOf(r)).toEqual({ sender: 1, target: 1, messages: [] });
    expect(r.creationTime()).toBe(newCreated);
  });

  test('reset is ordered with the appends issued around it', async () => {
    const dir = tmpDir();
    const s = await openStore(dir);
    const ps = [s.appendSent(1, msg(1)), s.appendSent(2, msg(2))];
    const oldRead = s.getSent(1, 2);
    ps.push(s.reset(), s.appendSent(1, msg(1, 'after reset')), s.setNextTargetSeqNum(4));
    const newRead = s.getSent(1, 2);
    await Promise.all(ps);
    expect((await oldRead).map((m) => m.raw)).toEqual([msg(1), msg(2)]);
    expect(await newRead).toEqual([{ seqNum: 1, raw: msg(1, 'after reset') }]);
    await s.close();
    expect(await stateOf(await openStore(dir))).toEqual({
      sender: 2,
      target: 4,
      messages: [{ seqNum: 1, raw: msg(1, 'after reset') }],
    });
  });

  test('group commit: 1,000 appends issued in one tick all resolve with far fewer fsyncs', async () => {
    const dir = tmpDir();
    const s = await openStore(dir);
    const fsyncs0 = s.stats.fsyncs;
    const ps: Promise<void>[] = [];
    for (let i = 1; i <= 1000; i++) {
      ps.push(s.appendSent(i, msg(i)));
      if (i % 100 === 0) ps.push(s.setNextTargetSeqNum(i));
    }
    await Promise.all(ps);
    expect(s.stats.fsyncs - fsyncs0).toBeLessThan(50);
    expect(s.stats.fsyncs - fsyncs0).toBeGreaterThanOrEqual(1);
    expect(s.stats.records).toBe(1010);
    await s.close();
    const r = await openStore(dir);
    expect(r.nextSenderSeqNum()).toBe(1001);
    expect(r.nextTargetSeqNum()).toBe(1000);
    const all = await r.getSent(1, 1000);
    expect(all).toHaveLength(1000);
    expect(all.every((m, i) => m.seqNum === i + 1 && m.raw === msg(i + 1))).toBe(true);
  });

  test('close waits for pending appends, is idempotent, and later calls reject', async () => {
    const dir = tmpDir();
    const s = await openStore(dir);
    const appends = [1, 2, 3].map((i) => s.appendSent(i, msg(i)));
    const c1 = s.close();
    const c2 = s.close();
    expect(c2).toBe(c1);
    await Promise.all([...appends, c1]);
    await expect(s.appendSent(4, msg(4))).rejects.toThrow(/closed/);
    await expect(s.getSent(1, 3)).rejects.toThrow(/closed/);
    expect((await (await openStore(dir)).getSent(1, 9)).length).toBe(3);
  });

  test('rejects seqnums that are not positive integers', async () => {
    const s = await openStore(tmpDir());
    await expect(s.appendSent(0, msg(0))).rejects.toThrow(/not a seqnum/);
    await expect(s.setNextTargetSeqNum(1.5)).rejects.toThrow(/not a seqnum/);
    expect(s.nextSenderSeqNum()).toBe(1);
  });

  describe('recovery', () => {
    /** Runs the ops one write each, remembering the journal size and the state after each. */
    async function buildJournal(
      dir: string,
      ops: ((s: FileSessionStore) => Promise<unknown>)[],
    ): Promise<{ bytes: Buffer; points: { size: number; state: State }[] }> {
      const s = await openStore(dir);
      const points = [{ size: fs.statSync(journalOf(dir)).size, state: await stateOf(s) }];
      for (const op of ops) {
        await op(s);
        points.push({ size: fs.statSync(journalOf(dir)).size, state: await stateOf(s) });
      }
      await s.close();
      return { bytes: fs.readFileSync(journalOf(dir)), points };
    }

    function journalOps(): ((s: FileSessionStore) => Promise<unknown>)[] {
      const ops: ((s: FileSessionStore) => Promise<unknown>)[] = [];
      for (let i = 1; i <= 8; i++) {
        ops.push((s) => s.appendSent(i, i === 4 ? '' : msg(i, 'p'.repeat(i))));
        if (i % 3 === 0) ops.push((s) => s.setNextTargetSeqNum(i * 2));
      }
      ops.push((s) => s.setNextTargetSeqNum(77));
      ops.push((s) => s.appendSent(9, msg(9)));
      return ops;
    }

    async function expectRecoveredTo(dir: string, point: { size: number; state: State }, cut: number): Promise<void> {
      const s = new FileSessionStore(dir, KEY);
      await s.open();
      try {
        expect(await stateOf(s)).toEqual(point.state);
        expect(fs.statSync(journalOf(dir)).size).toBe(point.size);
        expect(s.recoveredBytes).toBe(cut - point.size);
        if (cut === point.size) expect(s.recoveryNote).toBeUndefined();
        else expect(s.recoveryNote).toMatch(/torn tail/);
        // The recovered store keeps working from there.
        await s.appendSent(point.state.sender, msg(point.state.sender));
      } finally {
        await s.close();
      }
    }

    test('a torn tail cut at any byte of the last 3 records recovers to the last complete record', async () => {
      const src = tmpDir();
      const { bytes, points } = await buildJournal(src, journalOps());
      const dir = tmpDir();
      const first = points[points.length - 4].size;
      let cuts = 0;
      for (let cut = first; cut <= bytes.length; cut++) {
        fs.writeFileSync(journalOf(dir), bytes.subarray(0, cut));
        const point = [...points].reverse().find((p) => p.size <= cut)!;
        await expectRecoveredTo(dir, point, cut);
        cuts++;
      }
      expect(cuts).toBeGreaterThan(3 * FIXED);
    });

    test('a torn tail inside one group-committed write recovers to its last complete record', async () => {
      const dir0 = tmpDir();
      const s = await openStore(dir0);
      await s.appendSent(1, msg(1));
      await s.setNextTargetSeqNum(2);
      const base = { size: fs.statSync(journalOf(dir0)).size, state: await stateOf(s) };
      // One write: SENT 2, TARGET 3, SENT 3, SENT 4 (empty).
      await Promise.all([s.appendSent(2, msg(2)), s.setNextTargetSeqNum(3), s.appendSent(3, msg(3)), s.appendSent(4, '')]);
      await s.close();
      const bytes = fs.readFileSync(journalOf(dir0));
      const sizes = [FIXED + msg(2).length, FIXED, FIXED + msg(3).length, FIXED];
      const points = [base];
      const m1 = { seqNum: 1, raw: msg(1) };
      const m2 = { seqNum: 2, raw: msg(2) };
      const m3 = { seqNum: 3, raw: msg(3) };
      const states: State[] = [
        { sender: 3, target: 2, messages: [m1, m2] },
        { sender: 3, target: 3, messages: [m1, m2] },
        { sender: 4, target: 3, messages: [m1, m2, m3] },
        { sender: 5, target: 3, messages: [m1, m2, m3] },
      ];
      sizes.forEach((n, i) => points.push({ size: points[i].size + n, state: states[i] }));
      expect(points[4].size).toBe(bytes.length);
      const dir = tmpDir();
      for (let cut = base.size; cut <= bytes.length; cut++) {
        fs.writeFileSync(journalOf(dir), bytes.subarray(0, cut));
        await expectRecoveredTo(dir, [...points].reverse().find((p) => p.size <= cut)!, cut);
      }
    });

    test('a flipped byte in the last record (CRC mismatch) recovers to the record before it', async () => {
      const dir = tmpDir();
      const { bytes, points } = await buildJournal(dir, journalOps());
      const prev = points[points.length - 2];
      for (const at of [prev.size + 4, prev.size + 8, prev.size + FIXED + 5, bytes.length - 1]) {
        const damaged = Buffer.from(bytes);
        damaged[at] ^= 0x20;
        fs.writeFileSync(journalOf(dir), damaged);
        await expectRecoveredTo(dir, prev, bytes.length);
      }
    });

    test('a hole in the last write with intact records of that write after it recovers to before the hole', async () => {
      const dir = tmpDir();
      const s = await openStore(dir);
      await s.appendSent(1, msg(1));
      const keep = { size: fs.statSync(journalOf(dir)).size, state: await stateOf(s) };
      await Promise.all([s.appendSent(2, msg(2)), s.appendSent(3, msg(3)), s.appendSent(4, msg(4))]);
      await s.close();
      // As if the kernel had written the pages of an unsynced write out of order: zeros, then intact records.
      const bytes = fs.readFileSync(journalOf(dir));
      bytes.fill(0, keep.size, keep.size + FIXED + msg(2).length + 3);
      fs.writeFileSync(journalOf(dir), bytes);
      await expectRecoveredTo(dir, keep, bytes.length);
    });

    test('corruption in the middle, followed by intact later records, makes open() throw naming the file', async () => {
      const src = tmpDir();
      const { bytes, points } = await buildJournal(src, journalOps());
      const dir = tmpDir();
      const at = points[2].size; // start of the 3rd record: all later records were written by later writes
      for (const offset of [0 /* length */, 4 /* crc */, 8 /* type */, 12 /* batch start */, FIXED + 3 /* text */]) {
        const damaged = Buffer.from(bytes);
        damaged[at + offset] ^= 0x41;
        fs.writeFileSync(journalOf(dir), damaged);
        const s = new FileSessionStore(dir, KEY);
        const err = await s.open().then(
          () => undefined,
          (e: Error) => e,
        );
        expect(err).toBeInstanceOf(Error);
        expect(err!.message).toContain(journalOf(dir));
        expect(err!.message).toMatch(/corrupt/);
        // Nothing was truncated or rewritten.
        expect(fs.readFileSync(journalOf(dir)).equals(damaged)).toBe(true);
        await s.close();
      }
    });

    test('a garbage or truncated header makes open() throw instead of restarting at 1', async () => {
      const src = tmpDir();
      await buildJournal(src, journalOps());
      const good = fs.readFileSync(journalOf(src));
      const dir = tmpDir();
      const cases: [string, Buffer][] = [
        ['garbage', Buffer.from('8=FIX.4.2\x019=12\x0135=0\x0110=123\x01 this is not a journal at all', 'latin1')],
        ['short', good.subarray(0, 10)],
        ['header only, cut', good.subarray(0, HEADER_SIZE - 1)],
        ['bad header crc', Buffer.concat([good.subarray(0, 20), Buffer.from([good[20] ^ 1]), good.subarray(21)])],
      ];
      for (const [, content] of cases) {
        fs.writeFileSync(journalOf(dir), content);
        const s = new FileSessionStore(dir, KEY);
        await expect(s.open()).rejects.toThrow(journalOf(dir));
        await expect(new FileSessionStore(dir, KEY).open()).rejects.toThrow(/bad header/);
        expect(fs.readFileSync(journalOf(dir)).equals(content)).toBe(true);
      }
    });

    test('a temp file left by a reset interrupted before its rename is discarded and the journal kept', async () => {
      const dir = tmpDir();
      const { points } = await buildJournal(dir, journalOps());
      fs.writeFileSync(`${journalOf(dir)}.tmp`, Buffer.from('half a new journal'));
      const s = await openStore(dir);
      expect(await stateOf(s)).toEqual(points[points.length - 1].state);
      expect(fs.existsSync(`${journalOf(dir)}.tmp`)).toBe(false);
    });

    test('a 0-byte journal (crash right after create) opens as a fresh store and says so', async () => {
      const dir = tmpDir();
      fs.writeFileSync(journalOf(dir), Buffer.alloc(0));
      const s = await openStore(dir);
      expect(await stateOf(s)).toEqual({ sender: 1, target: 1, messages: [] });
      expect(s.recoveryNote).toMatch(/empty/);
      await s.appendSent(1, msg(1));
      await s.close();
      expect((await (await openStore(dir)).getSent(1, 1))[0].raw).toBe(msg(1));
    });
  });

  describe('SIGKILL durability', () => {
    let compiled: string;
    let child: ChildProcess | undefined;

    beforeAll(() => {
      // Compile just the store and its journal (transpile only: no dependence on other, possibly
      // unfinished, files), keeping their relative paths so the store's import resolves.
      const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fss-build-'));
      for (const rel of ['fix/store/file-session-store', 'durable/journal', 'durable/shared-journal', 'common/order-trace']) {
        const srcFile = path.join(__dirname, '../../src', `${rel}.ts`);
        const out = ts.transpileModule(fs.readFileSync(srcFile, 'utf8'), {
          compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
          fileName: srcFile,
        });
        fs.mkdirSync(path.join(outDir, path.dirname(rel)), { recursive: true });
        fs.writeFileSync(path.join(outDir, `${rel}.js`), out.outputText);
      }
      compiled = path.join(outDir, 'fix/store/file-session-store.js');
    });

    afterAll(() => {
      fs.rmSync(path.resolve(path.dirname(compiled), '../..'), { recursive: true, force: true });
    });

    afterEach(() => {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      child = undefined;
    });

    /** Runs the writer until SIGKILL after `ms`; returns the seqs and target seqnums it reported durable. */
    function runWriterAndKill(dir: string, ms: number): Promise<{ seqs: number[]; targets: number[]; startSeq: number }> {
      return new Promise((resolve, reject) => {
        const c = spawn(process.execPath, [path.join(__dirname, 'helpers/store-writer.js'), compiled, dir, KEY], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        child = c;
        let out = '';
        let err = '';
        let timer: NodeJS.Timeout | undefined;
        c.stdout!.setEncoding('latin1');
        c.stdout!.on('data', (d: string) => {
          out += d;
          if (timer === undefined && out.includes('\n')) timer = setTimeout(() => c.kill('SIGKILL'), ms);
        });
        c.stderr!.on('data', (d: Buffer) => (err += d.toString()));
        c.on('error', reject);
        c.on('close', (code, signal) => {
          clearTimeout(timer);
          if (signal !== 'SIGKILL') return reject(new Error(`writer exited ${code} ${signal}: ${err}`));
          const lines = out.split('\n');
          lines.pop(); // an incomplete last line is not a report
          const seqs: number[] = [];
          const targets: number[] = [];
          let startSeq = NaN;
          for (const line of lines) {
            const [kind, ...nums] = line.split(' ');
            if (kind === 'READY') startSeq = Number(nums[0]);
            else if (kind === 'S') seqs.push(...nums.map(Number));
            else if (kind === 'T') targets.push(Number(nums[0]));
          }
          resolve({ seqs, targets, startSeq });
        });
      });
    }

    test('every append acknowledged before SIGKILL is on disk after reopen (5 kills)', async () => {
      const dir = tmpDir();
      const acknowledged = new Set<number>();
      let lastSeq = 0;
      let lastTarget = 1;
      for (let run = 0; run < 5; run++) {
        const { seqs, targets, startSeq } = await runWriterAndKill(dir, 100 + Math.floor(Math.random() * 300));
        expect(startSeq).toBeGreaterThanOrEqual(lastSeq + 1);
        expect(seqs.length).toBeGreaterThan(0);
        for (const q of seqs) acknowledged.add(q);
        lastSeq = Math.max(lastSeq, ...seqs);
        lastTarget = Math.max(lastTarget, ...targets);

        const s = new FileSessionStore(dir, KEY);
        await s.open();
        try {
          expect(s.nextSenderSeqNum()).toBeGreaterThanOrEqual(lastSeq + 1);
          expect(s.nextTargetSeqNum()).toBeGreaterThanOrEqual(lastTarget);
          const stored = new Map((await s.getSent(1, lastSeq)).map((m) => [m.seqNum, m.raw]));
          const wrong: number[] = [];
          for (const q of acknowledged) {
            const want = messageFor(q);
            if (want === '' ? stored.has(q) : stored.get(q) !== want) wrong.push(q);
          }
          expect(wrong).toEqual([]);
        } finally {
          await s.close();
        }
      }
      expect(acknowledged.size).toBeGreaterThan(100);
    });
  });
});
