// An append-only text log that starts a new file by size (FileLogRotateBytes) and/or at UTC midnight
// (FileLogRotateDaily). The live file keeps its name (`X.log`, what `tail -F` follows); a full one is
// renamed `X.<YYYY-MM-DD>.<nnnn>.log` (the UTC day its lines were written, n = 0001, 0002, ... within
// the day), so names sort in the order the lines were written.
//
// No line is lost or split: callers write whole lines; a write is cut only after a newline, and a
// single line longer than the limit goes whole into a file of its own. The file is written through
// a descriptor opened synchronously, and the rename happens while writes queued on it may still be
// pending: they land in the renamed file (the descriptor follows the file, not the name), in order.
import * as fs from 'fs';
import * as path from 'path';

export interface LogRotation {
  /** Start a new file before this one would exceed this many bytes. */
  maxBytes?: number;
  /** Start a new file when the UTC day changes. */
  daily?: boolean;
}

const NEWLINE = 0x0a;

export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export class RotatingLogFile {
  private stream!: fs.WriteStream;
  private size = 0;
  /** UTC day of the lines in the live file. */
  private day = '';
  private closed = false;
  /** The live file was renamed but its successor could not be opened: the stream writes to the renamed file. */
  private renamedAway = false;
  /** The last write or rotation failure (a full or broken log disk): the log is for people, it never stops a session. */
  lastError?: Error;
  /** Told of every failed write (the stream is then destroyed: reopen() to write again). */
  onError?: (err: Error) => void;

  constructor(
    readonly file: string,
    private readonly rotation: LogRotation = {},
    private readonly encoding: 'latin1' | 'utf8' = 'utf8',
    private readonly now: () => number = Date.now,
  ) {
    this.openLive();
  }

  /** Appends `text`, which must be whole lines (ending with a newline), written at `at` (ms; its UTC day picks the file). */
  write(text: string, at: number = this.now()): void {
    if (this.closed || text === '') return;
    if (this.rotation.maxBytes === undefined && !this.rotation.daily) {
      this.stream.write(text, this.encoding);
      this.size += Buffer.byteLength(text, this.encoding);
      return;
    }
    let buf = Buffer.from(text, this.encoding);
    const day = utcDay(at);
    if (this.rotation.daily && day !== this.day && this.size > 0) this.rotate();
    if (this.size === 0) this.day = day;
    const max = this.rotation.maxBytes;
    while (buf.length > 0) {
      if (max === undefined || this.size + buf.length <= max) {
        this.append(buf);
        return;
      }
      // The longest run of whole lines that fits; none fits: a new file (or one line alone in an empty one).
      const room = max - this.size;
      let cut = room > 0 ? buf.lastIndexOf(NEWLINE, room - 1) + 1 : 0;
      if (cut === 0 && this.size === 0) cut = buf.indexOf(NEWLINE) + 1 || buf.length;
      if (cut > 0) {
        this.append(buf.subarray(0, cut));
        buf = buf.subarray(cut);
      }
      if (buf.length > 0) this.rotate();
    }
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    if (this.stream.destroyed) return Promise.resolve();
    return new Promise<void>((resolve) => this.stream.end(resolve));
  }

  /** Opens the live file again, after a failed write destroyed its stream (the disk has room again). */
  reopen(): void {
    if (this.closed) return;
    const old = this.stream;
    try {
      this.openLive();
    } catch (err) {
      this.lastError = err as Error;
      return;
    }
    old.destroy();
  }

  private append(buf: Buffer): void {
    this.stream.write(buf);
    this.size += buf.length;
  }

  private openLive(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const fd = fs.openSync(this.file, 'a');
    const st = fs.fstatSync(fd);
    this.size = st.size;
    // A file left from an earlier run belongs to the day it was last written.
    this.day = utcDay(st.size > 0 ? st.mtimeMs : this.now());
    this.stream = fs.createWriteStream(this.file, { fd, flags: 'a' });
    this.stream.on('error', (err) => {
      this.lastError = err;
      this.onError?.(err);
    });
  }

  private rotate(): void {
    const old = this.stream;
    try {
      // A rotation whose new file could not be opened has renamed the live file already: only open.
      if (!this.renamedAway) fs.renameSync(this.file, this.rotatedName(this.day));
      this.renamedAway = true;
      this.openLive(); // replaces this.stream only once the new file is open
      this.renamedAway = false;
    } catch (err) {
      // Go on appending where we are (one file too large rather than a lost line); tried again after another maxBytes.
      this.lastError = err as Error;
      this.size = 0;
      return;
    }
    old.end();
  }

  /**
   * `<stem>.<day>.<n>.log`: n one past the highest of that day already there (so a file deleted by
   * the operator is never reused by a later one), zero-padded to 4 digits so that plain name order
   * (`ls`, a shell glob) is the order the lines were written in (up to 9999 files a day).
   */
  private rotatedName(day: string): string {
    const ext = path.extname(this.file);
    const stem = path.basename(this.file, ext);
    const prefix = `${stem}.${day}.`;
    let highest = 0;
    for (const name of fs.readdirSync(path.dirname(this.file))) {
      if (!name.startsWith(prefix) || !name.endsWith(ext)) continue;
      const n = name.slice(prefix.length, name.length - ext.length);
      if (/^\d+$/.test(n)) highest = Math.max(highest, Number(n));
    }
    for (let n = highest + 1; ; n++) {
      const name = path.join(path.dirname(this.file), `${prefix}${String(n).padStart(4, '0')}${ext}`);
      if (!fs.existsSync(name)) return name; // rename would replace an existing file
    }
  }
}
