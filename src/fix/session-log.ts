// Per-session file logs in the spirit of QuickFIX's FileLog: one file of FIX messages (in and out),
// one of session events, each line timestamped. Secrets carried in RawData (96) are masked.
import * as fs from 'fs';
import * as path from 'path';
import { utcTimestamp } from './codec/fix-encoder';

const SECRET_FIELD = /(^|\x01)(96|554|925)=[^\x01]*/g;

export function maskSecrets(raw: string): string {
  if (raw.indexOf('96=') < 0 && raw.indexOf('554=') < 0 && raw.indexOf('925=') < 0) return raw;
  return raw.replace(SECRET_FIELD, '$1$2=****');
}

export class SessionLog {
  private readonly messages: fs.WriteStream;
  private readonly events: fs.WriteStream;

  constructor(dir: string, sessionKey: string, private readonly logMessages = true) {
    fs.mkdirSync(dir, { recursive: true });
    this.messages = fs.createWriteStream(path.join(dir, `${sessionKey}.messages.log`), { flags: 'a' });
    this.events = fs.createWriteStream(path.join(dir, `${sessionKey}.event.log`), { flags: 'a' });
  }

  incoming(raw: string): void {
    if (this.logMessages) this.line(`${utcTimestamp()} : < ${maskSecrets(raw)}\n`);
  }

  outgoing(raw: string): void {
    if (this.logMessages) this.line(`${utcTimestamp()} : > ${maskSecrets(raw)}\n`);
  }

  // Lines of one event-loop turn go to the file as one write (one thread-pool hand-off, not one per line).
  private pending = '';

  private line(text: string): void {
    if (this.pending === '') setImmediate(() => this.flushLines());
    this.pending += text;
  }

  private flushLines(): void {
    if (this.pending === '') return;
    this.messages.write(this.pending, 'latin1');
    this.pending = '';
  }

  event(text: string): void {
    this.events.write(`${utcTimestamp()} : ${text}\n`);
  }

  close(): Promise<void> {
    this.flushLines();
    const end = (s: fs.WriteStream) => new Promise<void>((resolve) => s.end(resolve));
    return Promise.all([end(this.messages), end(this.events)]).then(() => undefined);
  }
}
