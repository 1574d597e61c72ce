// The application messages a sequence reset owes the client (sent in the old sequence, never proven
// delivered), kept on disk from before the store's wipe becomes durable until the application's
// re-sends of them are durable in the new sequence. A file left behind at start-up therefore means
// a hand-over is still owed. One journal (src/durable/journal.ts: fdatasync per write, created by temp file +
// rename + directory fsync) next to the message store: `<dir>/<sessionKey>.undelivered`.
//
// Records: 'S' u32 seq, raw wire text (latin1). The journal's creation time is the creation time of
// the sequence the messages were read from (MessageStore.creationTime()): if the store still has
// that sequence at start-up, its wipe never became durable and nothing is owed (the messages are
// still in the store); 0 when the file merges messages of more than one sequence (always owed).
import { promises as fsp } from 'fs';
import * as path from 'path';
import { fsyncDir, Journal } from '../../durable/journal';
import type { StoredMessage } from './message-store';

const T_SENT = 0x53; // 'S'
const MAX_RAW = 16 * 1024 * 1024;

export interface OwedMessages {
  /** Creation time of the sequence the messages come from; 0 = more than one. */
  sequence: number;
  messages: StoredMessage[];
}

export class UndeliveredJournal {
  private journal?: Journal;

  constructor(
    readonly file: string,
    private readonly opts: { fsync?: boolean } = {},
  ) {}

  /** The messages of a file left behind, or undefined when there is none. */
  async load(): Promise<OwedMessages | undefined> {
    if (!(await exists(this.file))) return undefined;
    const messages: StoredMessage[] = [];
    const j = this.newJournal();
    await j.open((_type, body) => {
      if (body.length < 4) throw new Error(`bad length ${body.length}`);
      messages.push({ seqNum: body.readUInt32LE(0), raw: body.toString('latin1', 4) });
    });
    this.journal = j;
    return { sequence: j.creationTime(), messages };
  }

  /** Replaces whatever the file held with `messages` of the sequence `sequence`; durable on resolve. */
  async write(sequence: number, messages: readonly StoredMessage[]): Promise<void> {
    await this.journal?.close();
    const j = this.newJournal();
    this.journal = j;
    const existed = await exists(this.file);
    // A new file is created empty (atomically) with the sequence's creation time, then filled: a
    // crash between the two leaves a file that start-up recognises as written before the wipe.
    await j.open(() => undefined, { creationTime: sequence });
    if (existed) await j.compact(messages.map(record), { creationTime: sequence });
    else await j.append(messages.map(record));
  }

  /** Adds messages to the file; durable on resolve. */
  append(messages: readonly StoredMessage[]): Promise<void> {
    if (!this.journal) return Promise.reject(new Error(`${this.file}: append before write`));
    return messages.length ? this.journal.append(messages.map(record)) : Promise.resolve();
  }

  /** Deletes the file, durably (directory fsynced). */
  async remove(): Promise<void> {
    await this.journal?.close();
    this.journal = undefined;
    await fsp.rm(this.file, { force: true });
    if (this.opts.fsync ?? true) await fsyncDir(path.dirname(path.resolve(this.file)));
  }

  async close(): Promise<void> {
    await this.journal?.close();
    this.journal = undefined;
  }

  private newJournal(): Journal {
    return new Journal(this.file, {
      magic: 'FIXUNDLV',
      version: 1,
      recordTypes: [T_SENT],
      maxBodyBytes: 4 + MAX_RAW,
      description: 'undelivered messages of a reset sequence',
      fsync: this.opts.fsync,
    });
  }
}

function record(m: StoredMessage): { type: number; body: Buffer } {
  const body = Buffer.allocUnsafe(4 + m.raw.length);
  body.writeUInt32LE(m.seqNum, 0);
  body.write(m.raw, 4, m.raw.length, 'latin1');
  return { type: T_SENT, body };
}

async function exists(file: string): Promise<boolean> {
  try {
    await fsp.stat(file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}
