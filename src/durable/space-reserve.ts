// A store directory keeps a file of reserved space (`.space-reserve`). When the file system fills
// up, the first write that fails with ENOSPC gives it back, so the FIX sessions can still store
// what the protocol needs (heartbeats, rejects, logouts) and stay logged on, while the gateway
// refuses new orders (`full`). It is made again as soon as the file system has room, which ends
// the refusal: recovery needs no restart. The operator's alarm is the one log line at each change.
import * as fs from 'fs';
import * as path from 'path';
import type { Logger } from 'pino';

const RECREATE_EVERY_MS = 1000;
export const SPACE_RESERVE_FILE = '.space-reserve';

export class SpaceReserve {
  private readonly file: string;
  private isFull = false;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly dir: string,
    private readonly bytes: number,
    private readonly logger: Logger,
  ) {
    this.file = path.join(dir, SPACE_RESERVE_FILE);
  }

  /** At start-up: makes the reserve (or, on a full file system, starts out full and keeps trying). */
  open(): void {
    if (this.bytes <= 0) return;
    fs.mkdirSync(this.dir, { recursive: true });
    if (fs.existsSync(this.file) && fs.statSync(this.file).size >= this.bytes) return;
    if (!this.tryCreate()) this.becomeFull('no room for the reserve at start-up');
  }

  /** The reserve has been used up and not yet made again: new orders are to be refused. */
  get full(): boolean {
    return this.isFull;
  }

  /**
   * A store write failed with `err`. On ENOSPC, frees the reserve if it is still there and returns
   * true: the caller tries once more (every write of the failed batch does, so all get the room).
   */
  release(err: unknown): boolean {
    if (errnoCode(err) !== 'ENOSPC' || this.bytes <= 0) return false;
    if (!this.isFull) {
      try {
        fs.rmSync(this.file, { force: true });
      } catch {
        return false;
      }
      this.becomeFull('a store write failed with ENOSPC');
    }
    return true;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private becomeFull(why: string): void {
    this.isFull = true;
    this.logger.error(
      { dir: this.dir, reserveBytes: this.bytes, why },
      'store file system full: reserve released so sessions stay up; new orders are refused until it has room again',
    );
    this.timer ??= setInterval(() => {
      if (this.tryCreate()) {
        this.isFull = false;
        this.close();
        this.logger.info({ dir: this.dir, reserveBytes: this.bytes }, 'store file system has room again: reserve restored, orders accepted');
      }
    }, RECREATE_EVERY_MS);
    this.timer.unref();
  }

  /** Writes the reserve as a temp file and renames it in; a partial one is removed at once. */
  private tryCreate(): boolean {
    const tmp = `${this.file}.tmp`;
    let fd: number | undefined;
    try {
      fd = fs.openSync(tmp, 'w');
      const chunk = Buffer.alloc(Math.min(this.bytes, 1 << 20));
      for (let written = 0; written < this.bytes; ) written += fs.writeSync(fd, chunk, 0, Math.min(chunk.length, this.bytes - written));
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      fd = undefined;
      fs.renameSync(tmp, this.file);
      return true;
    } catch {
      if (fd !== undefined) fs.closeSync(fd);
      fs.rmSync(tmp, { force: true });
      return false;
    }
  }
}

/** The errno code of an error or of the error it wraps (the journal wraps the file system's in `cause`). */
export function errnoCode(err: unknown): string | undefined {
  for (let e = err as (NodeJS.ErrnoException & { cause?: unknown }) | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && e.code !== '') return e.code;
  }
  return undefined;
}
