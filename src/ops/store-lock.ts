// One process at a time on a store directory (FileStorePath): `<dir>/gateway.lock` names the holder
// (PID, host, start time, role). Two gateways on one store would interleave journal writes and both
// send with the same sequence numbers; a `store` command run under a live gateway would be undone
// by it. So the gateway and the `store` commands take this lock, and a second taker is refused with
// the holder's name.
//
// Creation is atomic with content: the lock is written and fsynced under a private name, then
// hard-linked to gateway.lock (link fails if the name exists: exactly one of two simultaneous
// starters wins, and nobody ever sees an empty or half-written lock).
//
// A lock whose holder is gone (kill -9) is stale and is taken over. "Gone" is checked against PID
// reuse: the lock records the holder's start time from /proc/<pid>/stat and the boot id, and a live
// process with that PID but another start time, or a lock from an earlier boot, is someone else.
//
// A holder whose PID cannot be checked from here (another host on a shared volume; another container,
// whose hostname is its id and whose PIDs live in another PID namespace) is judged by its heartbeat:
// every holder sets the lock file's mtime to now every HEARTBEAT_INTERVAL_MS (futimes on the lock's
// own inode, so it never touches a lock that replaced it), and such a lock is stale once its mtime is
// HEARTBEAT_STALE_AFTER_MS old. A live holder keeps refreshing, so it is never taken over; a killed
// container's lock is, by the replacement container, within that bound. Two processes finding the same stale lock race for a take-over marker named
// after that lock's nonce (again by link, so one wins); only the marker's owner may remove a lock
// carrying that nonce, and it removes it only after re-reading it. The winner then competes for
// gateway.lock like any starter, so a third process that started meanwhile cannot be displaced.
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const LOCK_FILE_NAME = 'gateway.lock';

/** How often a holder refreshes the lock's mtime: one futimes, on an unref'd timer. */
export const HEARTBEAT_INTERVAL_MS = 5_000;
/**
 * When a lock whose holder cannot be checked (another host or PID namespace) counts as stale: six
 * missed refreshes. It must outlast the holder's longest plausible stall (a GC pause, a slow fsync on
 * a busy disk, a suspended VM) plus clock skew between hosts sharing the volume (the mtime is the
 * holder's clock, compared with ours), yet keep a replacement container's wait short: a restart
 * policy retries, and the start after a crash succeeds within 30 s.
 */
export const HEARTBEAT_STALE_AFTER_MS = 30_000;

export interface LockHolder {
  pid: number;
  host: string;
  /** ISO time the holder took the lock. */
  startedAt: string;
  /** The holder's start time in clock ticks since boot (/proc/<pid>/stat field 22), against PID reuse. */
  procStart?: string;
  /** The kernel's boot id (/proc/sys/kernel/random/boot_id): a lock from an earlier boot is stale, even if PID and start time repeat. */
  bootId?: string;
  /** The holder's PID namespace (readlink /proc/self/ns/pid): in another one (another container) its PID means nothing here. */
  pidNs?: string;
  /** What holds it: `gateway`, `store reset`, ... */
  role: string;
  /** Names this lock instance (take-over markers refer to it). */
  nonce: string;
}

export class StoreLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly lockFile: string,
    readonly holder: LockHolder | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'StoreLockedError';
  }
}

/** Start time of a process in clock ticks since boot, or undefined where /proc cannot tell. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may hold spaces and parentheses: count fields after the last ')'. It ends
    // field 2, so the next field is 3 and starttime (22) is the 20th after it.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** This boot's id, or undefined where /proc cannot tell. */
export function bootId(): string | undefined {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** This process's PID namespace, or undefined where /proc cannot tell. */
export function pidNamespace(): string | undefined {
  try {
    return fs.readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}

/** Whether the holder still runs: `unknown` when its PID cannot be checked from here (another host or PID namespace). */
export function holderState(h: LockHolder): 'alive' | 'dead' | 'unknown' {
  if (h.host !== os.hostname()) return 'unknown';
  const ns = pidNamespace();
  if (h.pidNs !== undefined && ns !== undefined && h.pidNs !== ns) return 'unknown';
  // PIDs and start times (ticks since boot) repeat across boots: a service started at the same point
  // of boot can match both to the tick.
  const boot = bootId();
  if (h.bootId !== undefined && boot !== undefined && h.bootId !== boot) return 'dead';
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return 'dead';
    // EPERM: it exists and belongs to another user; fall through to the start-time check.
  }
  const start = processStartTime(h.pid);
  if (h.procStart !== undefined && start !== undefined && start !== h.procStart) return 'dead'; // PID reused
  return 'alive';
}

export function describeHolder(h: LockHolder): string {
  return `pid ${h.pid} (${h.role}, started ${h.startedAt}, host ${h.host})`;
}

type ReadResult = { kind: 'missing' } | { kind: 'unreadable' } | { kind: 'holder'; holder: LockHolder; heartbeatAgeMs: number };

function readHolder(file: string): ReadResult {
  let text: string;
  let mtimeMs: number;
  try {
    // Content and mtime from one open file: both describe the same lock instance.
    const fd = fs.openSync(file, 'r');
    try {
      text = fs.readFileSync(fd, 'utf8');
      mtimeMs = fs.fstatSync(fd).mtimeMs;
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw e;
  }
  try {
    const h = JSON.parse(text) as Partial<LockHolder>;
    if (Number.isSafeInteger(h.pid) && typeof h.host === 'string' && typeof h.nonce === 'string' && typeof h.startedAt === 'string') {
      return { kind: 'holder', holder: { role: 'unknown', ...h } as LockHolder, heartbeatAgeMs: Date.now() - mtimeMs };
    }
  } catch {
    /* below */
  }
  return { kind: 'unreadable' };
}

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function unlinkQuietly(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch {
    /* already gone */
  }
}

/** Whether a lock is stale: its holder is dead, or cannot be checked and has stopped refreshing its heartbeat. */
function isStale(current: { holder: LockHolder; heartbeatAgeMs: number }): boolean {
  const state = holderState(current.holder);
  return state === 'dead' || (state === 'unknown' && current.heartbeatAgeMs > HEARTBEAT_STALE_AFTER_MS);
}

export class StoreLock {
  private released = false;
  private readonly heartbeat: NodeJS.Timeout;

  private constructor(
    readonly dir: string,
    readonly file: string,
    readonly holder: LockHolder,
    /** Open on the lock's inode: futimes refreshes our lock and never one that replaced it. */
    private readonly fd: number,
  ) {
    this.heartbeat = setInterval(() => {
      try {
        const now = new Date();
        fs.futimesSync(this.fd, now, now);
      } catch {
        // Nothing to do about it here: a store that cannot take an mtime cannot take journal writes
        // either, and those fail loudly.
      }
    }, HEARTBEAT_INTERVAL_MS);
    this.heartbeat.unref();
  }

  /**
   * Takes `<dir>/gateway.lock` (creating `dir`), taking over a stale one; throws StoreLockedError
   * naming the holder when another live process has it.
   */
  static acquire(dir: string, role: string): StoreLock {
    const absDir = path.resolve(dir);
    fs.mkdirSync(absDir, { recursive: true });
    const file = path.join(absDir, LOCK_FILE_NAME);
    const me: LockHolder = {
      pid: process.pid,
      host: os.hostname(),
      pidNs: pidNamespace(),
      startedAt: new Date().toISOString(),
      procStart: processStartTime(process.pid),
      bootId: bootId(),
      role,
      nonce: randomBytes(12).toString('hex'),
    };
    const tmp = path.join(absDir, `${LOCK_FILE_NAME}.${me.nonce}.tmp`);
    const fd = fs.openSync(tmp, 'wx', 0o644);
    let kept = false;
    try {
      fs.writeSync(fd, JSON.stringify(me) + '\n');
      fs.fsyncSync(fd);
      // Each round either takes the lock, refuses, or removes one stale lock; a handful is plenty.
      for (let round = 0; round < 8; round++) {
        try {
          fs.linkSync(tmp, file);
          fsyncDir(absDir);
          kept = true;
          return new StoreLock(absDir, file, me, fd);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
        const current = readHolder(file);
        if (current.kind === 'missing') continue; // released or taken over just now: try again
        if (current.kind === 'unreadable') {
          throw new StoreLockedError(absDir, file, undefined, `FileStorePath ${absDir} is locked by ${file}, which is not a lock this gateway wrote; if no gateway or store command uses ${absDir}, remove it`);
        }
        const holder = current.holder;
        const state = holderState(holder);
        if (state === 'alive') {
          throw new StoreLockedError(absDir, file, holder, `FileStorePath ${absDir} is in use by ${describeHolder(holder)}: stop it first (lock ${file})`);
        }
        if (state === 'unknown' && !isStale(current)) {
          const age = Math.max(0, Math.round(current.heartbeatAgeMs / 1000));
          throw new StoreLockedError(
            absDir,
            file,
            holder,
            `FileStorePath ${absDir} is locked by ${describeHolder(holder)} on another host or container, which cannot be checked from here; its heartbeat ${age} s old says it may run: it is taken over once ${HEARTBEAT_STALE_AFTER_MS / 1000} s old (lock ${file})`,
          );
        }
        removeStaleLock(absDir, file, holder, tmp);
      }
      throw new StoreLockedError(absDir, file, undefined, `FileStorePath ${absDir}: could not take ${file} (it keeps changing: several processes starting at once?)`);
    } finally {
      unlinkQuietly(tmp);
      if (!kept) fs.closeSync(fd);
    }
  }

  /** Removes the lock if it is still ours (idempotent). */
  release(): void {
    if (this.released) return;
    this.released = true;
    clearInterval(this.heartbeat);
    try {
      fs.closeSync(this.fd);
    } catch {
      /* closed */
    }
    const current = readHolder(this.file);
    if (current.kind === 'holder' && current.holder.nonce === this.holder.nonce) unlinkQuietly(this.file);
  }
}

/**
 * Removes `file` if it still is the stale lock `holder`, as the one process allowed to: the one that
 * created its take-over marker (a link to `tmp`, our own lock text). Exported for tests: a process
 * that judged a lock stale late, after another took it over, must leave the new lock alone.
 */
export function removeStaleLock(dir: string, file: string, holder: LockHolder, tmp: string): void {
  const marker = `${file}.takeover-${holder.nonce}`;
  try {
    fs.linkSync(tmp, marker);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const taker = readHolder(marker);
    if (taker.kind === 'missing') return; // that take-over just finished: look again
    if (taker.kind === 'holder' && (holderState(taker.holder) === 'alive' || !isStale(taker))) {
      throw new StoreLockedError(dir, file, taker.holder, `FileStorePath ${dir} is being taken over from dead ${describeHolder(holder)} by ${describeHolder(taker.holder)}`);
    }
    throw new StoreLockedError(
      dir,
      file,
      holder,
      `FileStorePath ${dir}: a take-over of the stale lock of ${describeHolder(holder)} was interrupted; if no gateway or store command uses ${dir}, remove ${file} and ${marker}`,
    );
  }
  try {
    // Still that lock, and still stale (a holder judged by its heartbeat may have refreshed it since).
    const again = readHolder(file);
    if (again.kind === 'holder' && again.holder.nonce === holder.nonce && isStale(again)) {
      fs.unlinkSync(file);
      fsyncDir(dir);
    }
  } finally {
    unlinkQuietly(marker);
  }
}

/** Locks every distinct store directory (sorted, so two processes never wait on each other crosswise); all or none. */
export function acquireStoreLocks(dirs: readonly string[], role: string): StoreLock[] {
  const unique = [...new Set(dirs.map((d) => path.resolve(d)))].sort();
  const locks: StoreLock[] = [];
  try {
    for (const d of unique) locks.push(StoreLock.acquire(d, role));
  } catch (e) {
    for (const l of locks) l.release();
    throw e;
  }
  return locks;
}
