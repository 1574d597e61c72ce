// The store lock: one process per FileStorePath, stale locks of dead processes (or of a PID now
// reused by another process) taken over by exactly one of several processes starting at once.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { HEARTBEAT_INTERVAL_MS, HEARTBEAT_STALE_AFTER_MS, LOCK_FILE_NAME, LockHolder, processStartTime, removeStaleLock, StoreLock, StoreLockedError } from '../../src/ops/store-lock';
import { REPO_ROOT } from '../support/gateway-process';

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'storelock-'))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const lockFile = () => path.join(dir, LOCK_FILE_NAME);
const readLock = (): LockHolder => JSON.parse(fs.readFileSync(lockFile(), 'utf8'));

/** The PID of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

function writeLock(h: Partial<LockHolder>): void {
  const holder: LockHolder = { pid: deadPid(), host: os.hostname(), startedAt: '2026-01-01T00:00:00.000Z', role: 'gateway', nonce: 'n0', ...h };
  fs.writeFileSync(lockFile(), JSON.stringify(holder));
}

function refusal(run: () => unknown): StoreLockedError {
  try {
    run();
  } catch (e) {
    if (e instanceof StoreLockedError) return e;
    throw e;
  }
  throw new Error('expected StoreLockedError');
}

test('the lock names its holder, refuses a second taker with that name, and goes on release', () => {
  const lock = StoreLock.acquire(dir, 'gateway');
  const h = readLock();
  expect(h).toMatchObject({ pid: process.pid, host: os.hostname(), role: 'gateway' });
  expect(h.procStart).toBe(processStartTime(process.pid));
  expect(Date.parse(h.startedAt)).toBeGreaterThan(Date.now() - 60_000);

  const e = refusal(() => StoreLock.acquire(dir, 'store reset'));
  expect(e.message).toContain(`in use by pid ${process.pid} (gateway, started ${h.startedAt}`);
  expect(e.holder?.pid).toBe(process.pid);

  lock.release();
  expect(fs.existsSync(lockFile())).toBe(false);
  StoreLock.acquire(dir, 'gateway').release();
  expect(fs.readdirSync(dir)).toEqual([]); // no temp files left
});

test('a stale lock of a dead process is taken over', () => {
  writeLock({ nonce: 'dead-one' });
  const lock = StoreLock.acquire(dir, 'gateway');
  expect(readLock().pid).toBe(process.pid);
  lock.release();
  expect(fs.readdirSync(dir)).toEqual([]);
});

test('a process that judged the lock stale too late leaves the lock another process took over alone', () => {
  writeLock({ nonce: 'stale' });
  const stale = readLock();
  const a = StoreLock.acquire(dir, 'gateway'); // A takes it over first
  // B read the same stale lock before A's take-over and acts on its judgement only now.
  const bLock = path.join(dir, 'b.tmp');
  fs.writeFileSync(bLock, JSON.stringify({ ...stale, pid: process.pid, procStart: processStartTime(process.pid), nonce: 'b' }));
  removeStaleLock(dir, lockFile(), stale, bLock);
  expect(readLock().nonce).toBe(a.holder.nonce);
  expect(refusal(() => StoreLock.acquire(dir, 'gateway')).holder?.nonce).toBe(a.holder.nonce);
  a.release();
});

test('two processes taking over one stale lock: the second waits for the first (its take-over marker) and then finds the new lock', () => {
  writeLock({ nonce: 'stale' });
  const stale = readLock();
  // A live process (this one) holds the take-over marker of that stale lock.
  const marker = `${lockFile()}.takeover-stale`;
  fs.writeFileSync(marker, JSON.stringify({ ...stale, pid: process.pid, procStart: processStartTime(process.pid), nonce: 'taker' }));
  expect(refusal(() => StoreLock.acquire(dir, 'gateway')).message).toMatch(/being taken over from dead pid \d+ .* by pid \d+/);
  expect(readLock().nonce).toBe('stale');
  // A taker that died half-way: refused with what to remove, nothing removed by guesswork.
  fs.writeFileSync(marker, JSON.stringify({ ...stale, nonce: 'dead-taker' }));
  const e = refusal(() => StoreLock.acquire(dir, 'gateway'));
  expect(e.message).toContain('was interrupted');
  expect(e.message).toContain(marker);
  expect(fs.existsSync(lockFile())).toBe(true);
});

test('a lock whose PID now belongs to another process (PID reuse) is taken over', () => {
  // This process is alive, but it is not the one that took the lock: its start time differs.
  writeLock({ pid: process.pid, procStart: '1', nonce: 'reused' });
  const lock = StoreLock.acquire(dir, 'gateway');
  expect(readLock().nonce).not.toBe('reused');
  lock.release();
});

test('a lock written before the machine rebooted is taken over, even when PID and start time repeat', () => {
  // After a power loss, a service started at the same point of boot can get the same PID and, to the
  // clock tick, the same start time: only the boot id tells the old process from the new one.
  writeLock({ pid: process.pid, procStart: processStartTime(process.pid), bootId: '00000000-0000-4000-8000-000000000000', nonce: 'before-reboot' } as Partial<LockHolder>);
  const lock = StoreLock.acquire(dir, 'gateway');
  expect(readLock().nonce).not.toBe('before-reboot');
  expect((readLock() as LockHolder & { bootId?: string }).bootId).toBe(fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
  lock.release();
});

test('a lock without a boot id (an older gateway) is judged by PID and start time as before', () => {
  writeLock({ pid: process.pid, procStart: processStartTime(process.pid), nonce: 'old-format' });
  expect(refusal(() => StoreLock.acquire(dir, 'gateway')).message).toContain(`in use by pid ${process.pid}`);
});

test('a lock of a live process is kept, whatever its age', () => {
  writeLock({ pid: process.pid, procStart: processStartTime(process.pid), nonce: 'live' });
  expect(refusal(() => StoreLock.acquire(dir, 'gateway')).message).toMatch(new RegExp(`in use by pid ${process.pid} \\(gateway, started 2026-01-01`));
  expect(readLock().nonce).toBe('live');
});

/** Sets the lock file's heartbeat (its mtime) to `ageMs` ago. */
function ageLock(ageMs: number): void {
  const t = new Date(Date.now() - ageMs);
  fs.utimesSync(lockFile(), t, t);
}

test('a lock from another host with a fresh heartbeat is refused (it may be a live gateway on a shared volume)', () => {
  writeLock({ host: 'elsewhere.example', nonce: 'remote' });
  ageLock(HEARTBEAT_STALE_AFTER_MS - 5_000);
  const e = refusal(() => StoreLock.acquire(dir, 'gateway'));
  expect(e.message).toContain('on another host');
  expect(e.message).toMatch(/heartbeat \d+ s old/);
  expect(readLock().nonce).toBe('remote');
});

test('a lock from another host whose heartbeat stopped (a killed container) is taken over', () => {
  // In Docker the hostname is the container id: a replacement container sees its crashed
  // predecessor's lock as "another host". A holder refreshes its heartbeat every few seconds, so one
  // that stopped doing so for the bound is gone.
  writeLock({ host: 'c0ffee123456', nonce: 'killed-container' });
  ageLock(HEARTBEAT_STALE_AFTER_MS + 1_000);
  const lock = StoreLock.acquire(dir, 'gateway');
  expect(readLock().nonce).toBe(lock.holder.nonce);
  lock.release();
  expect(fs.readdirSync(dir)).toEqual([]);
});

test('a lock from another PID namespace (another container, same hostname) is judged by its heartbeat, not by a PID we cannot see', () => {
  // Same hostname (docker run --hostname), same kernel: its PID 1 is not our PID 1.
  writeLock({ pid: process.pid, procStart: '1', pidNs: 'pid:[1]', nonce: 'other-ns' } as Partial<LockHolder>);
  expect(refusal(() => StoreLock.acquire(dir, 'gateway')).message).toMatch(/cannot be checked from here/);
  expect(readLock().nonce).toBe('other-ns');
  ageLock(HEARTBEAT_STALE_AFTER_MS + 1_000);
  const lock = StoreLock.acquire(dir, 'gateway');
  expect(readLock().nonce).toBe(lock.holder.nonce);
  lock.release();
});

test('the holder refreshes its heartbeat (the lock file\'s mtime) while it holds the lock, and stops on release', () => {
  jest.useFakeTimers({ doNotFake: ['Date'] });
  try {
    const lock = StoreLock.acquire(dir, 'gateway');
    ageLock(HEARTBEAT_STALE_AFTER_MS * 10);
    jest.advanceTimersByTime(HEARTBEAT_INTERVAL_MS);
    expect(Date.now() - fs.statSync(lockFile()).mtimeMs).toBeLessThan(2_000);
    lock.release();
    expect(jest.getTimerCount()).toBe(0);
  } finally {
    jest.useRealTimers();
  }
});

test('a file we did not write is not removed', () => {
  fs.writeFileSync(lockFile(), 'garbage');
  expect(refusal(() => StoreLock.acquire(dir, 'gateway')).message).toContain('not a lock this gateway wrote');
  expect(fs.readFileSync(lockFile(), 'utf8')).toBe('garbage');
});

test('release leaves a lock that is no longer ours alone', () => {
  const lock = StoreLock.acquire(dir, 'gateway');
  fs.unlinkSync(lockFile());
  writeLock({ pid: process.pid, procStart: processStartTime(process.pid), nonce: 'someone-else' });
  lock.release();
  expect(readLock().nonce).toBe('someone-else');
});

// Real processes starting at the same instant on one stale lock: exactly one gets it.
const RACER = `
const { StoreLock, StoreLockedError } = require(${JSON.stringify(path.join(REPO_ROOT, 'dist', 'ops', 'store-lock.js'))});
const [dir, at] = process.argv.slice(1);
while (Date.now() < Number(at)) {}
try {
  const lock = StoreLock.acquire(dir, 'racer');
  process.stdout.write('WON ' + process.pid + '\\n');
  setTimeout(() => { lock.release(); }, 1500);
} catch (e) {
  if (!(e instanceof StoreLockedError)) throw e;
  process.stdout.write('REFUSED ' + e.message + '\\n');
}
`;

async function race(n: number): Promise<{ pid: number; out: string }[]> {
  const at = Date.now() + 700;
  const children = Array.from({ length: n }, () => spawn(process.execPath, ['-e', RACER, dir, String(at)], { stdio: ['ignore', 'pipe', 'inherit'] }));
  return Promise.all(
    children.map(
      (c) =>
        new Promise<{ pid: number; out: string }>((resolve) => {
          let out = '';
          c.stdout!.on('data', (d) => (out += d));
          c.on('exit', () => resolve({ pid: c.pid!, out }));
        }),
    ),
  );
}

test('processes starting at once on a stale lock: exactly one takes it over, the others name it', async () => {
  for (let round = 0; round < 3; round++) {
    writeLock({ nonce: `stale-${round}` });
    const results = await race(5);
    const winners = results.filter((r) => r.out.startsWith('WON'));
    expect(winners).toHaveLength(1);
    for (const r of results.filter((x) => x !== winners[0])) {
      expect(r.out).toMatch(/^REFUSED /);
      // Names a live racer: the winner, or the one it saw taking the stale lock over at that moment
      // (a taker-over competes for the freed lock like any starter, so it may not be the winner).
      const named = /by pid (\d+) \(racer/.exec(r.out)?.[1] ?? /pid (\d+) \(racer/.exec(r.out)?.[1];
      expect(results.map((x) => String(x.pid))).toContain(named);
      if (!/being taken over/.test(r.out)) expect(named).toBe(String(winners[0].pid));
    }
    expect(fs.readdirSync(dir)).toEqual([]); // released, no markers or temp files left
  }
}, 30_000);

test('processes starting at once on a free store: exactly one gets it', async () => {
  const results = await race(5);
  expect(results.filter((r) => r.out.startsWith('WON'))).toHaveLength(1);
  expect(fs.readdirSync(dir)).toEqual([]);
}, 30_000);
