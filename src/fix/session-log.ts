// Per-session file logs in the spirit of QuickFIX's FileLog: one file of FIX messages (in and out),
// one of session events, each line timestamped. Secrets carried in RawData (96) are masked.
import * as fs from 'fs';
import * as path from 'path';
import { utcTimestamp } from './codec/fix-encoder';

const LOG_FLUSH_MS = 20;
const LOG_FLUSH_BYTES = 256 * 1024;

const SECRET_TAGS = new Set(['96', '554', '925']);

/**
 * The message with the values of RawData (96), Password (554) and NewPassword (925) replaced by
 * `****`. RawData is a data field: it may contain SOH, so the length announced by RawDataLength
 * (95) is masked, and further up to the next SOH should the announced length fall short of it.
 */
export function maskSecrets(raw: string): string {
  if (raw.indexOf('96=') < 0 && raw.indexOf('554=') < 0 && raw.indexOf('925=') < 0) return raw;
  let out = '';
  let pos = 0;
  let rawDataLength: number | undefined;
  while (pos < raw.length) {
    const eq = raw.indexOf('=', pos);
    if (eq < 0) return out + raw.slice(pos);
    const tag = raw.slice(pos, eq);
    let end = raw.indexOf('\x01', tag === '96' && rawDataLength !== undefined ? Math.min(eq + 1 + rawDataLength, raw.length) : eq + 1);
    if (end < 0) end = raw.length;
    const value = raw.slice(eq + 1, end);
    rawDataLength = tag === '95' && /^\d+$/.test(value) ? Number(value) : undefined;
    out += SECRET_TAGS.has(tag) ? `${tag}=****` : raw.slice(pos, end);
    if (end < raw.length) out += '\x01';
    pos = end + 1;
  }
  return out;
}

/** After a failed write, lines are dropped for this long before the files are opened again. */
const REOPEN_AFTER_MS = 1000;

export class SessionLog {
  private messages!: fs.WriteStream;
  private events!: fs.WriteStream;
  private readonly messagesFile: string;
  private readonly eventsFile: string;
  /** Set while the files cannot be written (a full disk): lines are dropped and counted. */
  private failed?: { since: number; dropped: number; code: string };

  constructor(
    dir: string,
    sessionKey: string,
    private readonly logMessages = true,
    /** Told of the first failed write of each outage (the logs are for people: the session goes on). */
    private readonly onWriteError?: (err: Error) => void,
    /** While true, lines are dropped (and counted): the store's file system is full and its room is the store's. */
    private readonly paused?: () => boolean,
  ) {
    fs.mkdirSync(dir, { recursive: true });
    this.messagesFile = path.join(dir, `${sessionKey}.messages.log`);
    this.eventsFile = path.join(dir, `${sessionKey}.event.log`);
    this.openFiles();
  }

  private openFiles(): void {
    this.messages = this.openFile(this.messagesFile);
    this.events = this.openFile(this.eventsFile);
  }

  private openFile(file: string): fs.WriteStream {
    const s = fs.createWriteStream(file, { flags: 'a' });
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (this.failed) return;
      this.failed = { since: Date.now(), dropped: 0, code: err.code ?? err.message };
      this.onWriteError?.(err);
    });
    return s;
  }

  /** False (and the line counted as lost) while the files cannot be written; reopens them after a pause. */
  private writable(): boolean {
    if (this.paused?.()) {
      (this.failed ??= { since: Date.now(), dropped: 0, code: 'store file system full' }).dropped++;
      return false;
    }
    const f = this.failed;
    if (!f) return true;
    if (Date.now() - f.since < REOPEN_AFTER_MS) {
      f.dropped++;
      return false;
    }
    this.failed = undefined;
    this.messages.destroy();
    this.events.destroy();
    this.openFiles();
    this.events.write(`${utcTimestamp()} : ${f.dropped} log lines lost (${f.code})\n`);
    return true;
  }

  incoming(raw: string): void {
    if (this.logMessages) this.line(`${utcTimestamp()} : < ${maskSecrets(raw)}\n`);
  }

  outgoing(raw: string): void {
    if (this.logMessages) this.line(`${utcTimestamp()} : > ${maskSecrets(raw)}\n`);
  }

  // Lines are gathered for up to LOG_FLUSH_MS (or LOG_FLUSH_BYTES) and written with one call: one
  // thread-pool hand-off per batch instead of per line. The log is a record for people, not the
  // durability mechanism (the store is), so a kill -9 may cost its last few milliseconds.
  private pending = '';
  private flushTimer?: NodeJS.Timeout;

  private line(text: string): void {
    this.pending += text;
    if (this.pending.length >= LOG_FLUSH_BYTES) this.flushLines();
    else if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => this.flushLines(), LOG_FLUSH_MS);
      this.flushTimer.unref();
    }
  }

  private flushLines(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.pending === '') return;
    if (this.writable()) this.messages.write(this.pending, 'latin1');
    this.pending = '';
  }

  event(text: string): void {
    if (this.writable()) this.events.write(`${utcTimestamp()} : ${text}\n`);
  }

  close(): Promise<void> {
    this.flushLines();
    const end = (s: fs.WriteStream) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.end(() => resolve())));
    return Promise.all([end(this.messages), end(this.events)]).then(() => undefined);
  }
}
