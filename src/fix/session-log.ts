// Per-session file logs in the spirit of QuickFIX's FileLog: one file of FIX messages (in and out),
// one of session events, each line timestamped. Secrets carried in RawData (96) are masked. Both
// rotate by size and/or day when configured (rotating-log-file.ts).
import * as path from 'path';
import { utcTimestamp } from './codec/fix-encoder';
import { LogRotation, RotatingLogFile, utcDay } from './rotating-log-file';

const LOG_FLUSH_MS = 20;
const LOG_FLUSH_BYTES = 256 * 1024;

const SECRET_TAGS = new Set(['96', '554', '925']);
/** A message that may carry one of them (a tag starts the message or follows an SOH). */
const MAY_HOLD_SECRET = /(?:^|\x01)(?:96|554|925)=/;

/**
 * The message with the values of RawData (96), Password (554) and NewPassword (925) replaced by
 * `****`. RawData is a data field: it may contain SOH, so the length announced by RawDataLength
 * (95) is masked, and further up to the next SOH should the announced length fall short of it.
 */
export function maskSecrets(raw: string): string {
  // One scan, anchored at tag starts (the old three indexOf calls also matched "196=" or a value).
  if (!MAY_HOLD_SECRET.test(raw)) return raw;
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

export class SessionLog {
  private readonly messages: RotatingLogFile;
  private readonly events: RotatingLogFile;

  constructor(
    dir: string,
    sessionKey: string,
    private readonly logMessages = true,
    private readonly rotation: LogRotation = {},
    private readonly now: () => number = Date.now,
  ) {
    this.messages = new RotatingLogFile(path.join(dir, `${sessionKey}.messages.log`), rotation, 'latin1', now);
    this.events = new RotatingLogFile(path.join(dir, `${sessionKey}.event.log`), rotation, 'utf8', now);
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
  /** When the first pending line was logged (its day picks the file). */
  private pendingAt = 0;
  private flushTimer?: NodeJS.Timeout;

  private line(text: string): void {
    const now = this.now();
    // Lines gathered before midnight go to that day's file.
    if (this.rotation.daily && this.pending !== '' && utcDay(now) !== utcDay(this.pendingAt)) this.flushLines();
    if (this.pending === '') this.pendingAt = now;
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
    this.messages.write(this.pending, this.pendingAt);
    this.pending = '';
  }

  event(text: string): void {
    this.events.write(`${utcTimestamp()} : ${text}\n`);
  }

  close(): Promise<void> {
    this.flushLines();
    return Promise.all([this.messages.close(), this.events.close()]).then(() => undefined);
  }
}
