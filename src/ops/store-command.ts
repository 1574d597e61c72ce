// `store show|set-next-sender N|set-next-target N|reset --config FILE --session ID`: inspect and
// repair a session's sequence numbers while the gateway is stopped. The store directory's lock
// (store-lock.ts) is held throughout, so this refuses while a gateway runs on it and a gateway
// cannot start in the middle. Everything goes through the store's public API (MessageStore), never
// the files themselves.
import * as fs from 'fs';
import * as path from 'path';
import { ConfigError, loadSessionSettings, SessionConfig } from '../fix/config/session-settings';
import { isAdmin } from '../fix/message';
import { sessionKey } from '../fix/session-key';
import { DeliveryMark } from '../fix/store/delivery-mark';
import { FileSessionStore, sessionJournalFor } from '../fix/store/file-session-store';
import { FileOrderBook } from '../gateway/file-order-book';
import type { StoredMessage } from '../fix/store/message-store';
import { UndeliveredJournal } from '../fix/store/undelivered-journal';
import { SessionLog } from '../fix/session-log';
import { StoreLock, StoreLockedError } from './store-lock';

export const STORE_ACTIONS = ['show', 'set-next-sender', 'set-next-target', 'reset'] as const;
export type StoreAction = (typeof STORE_ACTIONS)[number];

export interface StoreCommand {
  action: StoreAction;
  configFile: string;
  session: string;
  /** set-next-sender / set-next-target */
  seqNum?: number;
}

/** Thrown for a usage or lookup problem: the message is for the operator; exit 2. */
export class StoreCommandError extends Error {}

/** A session by its session id (`FIX.4.2:GATEWAY->QFCLIENT`), its file key (`FIX.4.2-GATEWAY-QFCLIENT`) or, when unique, the client's CompID (our TargetCompID). */
export function findSession(configs: SessionConfig[], id: string): SessionConfig {
  const exact = configs.find((c) => c.sessionId === id || sessionKey(c) === id);
  if (exact) return exact;
  const byClient = configs.filter((c) => c.targetCompId === id);
  if (byClient.length === 1) return byClient[0];
  const known = configs.map((c) => c.sessionId).join(', ');
  if (byClient.length > 1) throw new StoreCommandError(`--session ${id} names ${byClient.length} sessions; give the full id, one of: ${known}`);
  throw new StoreCommandError(`no session ${JSON.stringify(id)} in the config; sessions: ${known}`);
}

function seqNumArg(action: StoreAction, text: string | undefined): number {
  if (text === undefined || !/^\d{1,10}$/.test(text) || Number(text) < 1 || Number(text) > 0xffffffff) {
    throw new StoreCommandError(`store ${action} needs a sequence number (1..4294967295), got ${text === undefined ? 'none' : JSON.stringify(text)}`);
  }
  return Number(text);
}

/** `store <action> [N] --config FILE --session ID` (argv after `store`). */
export function parseStoreArgs(args: string[]): StoreCommand {
  const action = args[0] as StoreAction;
  if (!STORE_ACTIONS.includes(action)) throw new StoreCommandError(`store: expected one of ${STORE_ACTIONS.join(', ')}, got ${JSON.stringify(args[0] ?? '')}`);
  let configFile: string | undefined;
  let session: string | undefined;
  const positional: string[] = [];
  for (let i = 1; i < args.length; i++) {
    if (args[i] === '--config') configFile = args[++i];
    else if (args[i] === '--session') session = args[++i];
    else if (args[i].startsWith('--')) throw new StoreCommandError(`store ${action}: unknown option ${args[i]}`);
    else positional.push(args[i]);
  }
  if (configFile === undefined) throw new StoreCommandError(`store ${action}: --config FILE is required`);
  if (session === undefined) throw new StoreCommandError(`store ${action}: --session ID is required`);
  const takesSeqNum = action === 'set-next-sender' || action === 'set-next-target';
  if (positional.length > (takesSeqNum ? 1 : 0)) throw new StoreCommandError(`store ${action}: unexpected ${positional.join(' ')}`);
  const cmd: StoreCommand = { action, configFile: path.resolve(configFile), session };
  if (takesSeqNum) cmd.seqNum = seqNumArg(action, positional[0]);
  return cmd;
}

function describe(cfg: SessionConfig, store: FileSessionStore): string {
  return [
    `session        ${cfg.sessionId} (client SenderCompID ${cfg.targetCompId}, TargetCompID ${cfg.senderCompId})`,
    `store          ${store.journalPath}`,
    `next sender    ${store.nextSenderSeqNum()}   (MsgSeqNum of our next message)`,
    `next target    ${store.nextTargetSeqNum()}   (MsgSeqNum we expect next from the client)`,
    `sequence since ${new Date(store.creationTime()).toISOString()}`,
  ].join('\n');
}

/**
 * A reset as the session does one (FixSession.resetSequences): for a gateway session the old
 * sequence's application messages not proven delivered (after the delivery mark) go to the
 * undelivered journal before the wipe, and the gateway hands them to its application at its next
 * start: the client gets its missed reports again (97=Y) and every open order restated. An earlier
 * hand-over still owed is kept.
 */
async function resetLikeTheSession(cfg: SessionConfig, key: string, store: FileSessionStore): Promise<number> {
  let owedCount = 0;
  if (cfg.application === 'gateway') {
    const mark = new DeliveryMark(path.join(cfg.fileStorePath, `${key}.delivered`));
    mark.load();
    const journal = new UndeliveredJournal(path.join(cfg.fileStorePath, `${key}.undelivered`));
    const left = await journal.load();
    // Written before a wipe that never became durable: those messages are still in the store.
    const earlier = left && left.sequence !== store.creationTime() ? left.messages : undefined;
    const from = mark.deliveredThrough(store.creationTime()) + 1;
    const owed: StoredMessage[] = [...(earlier ?? [])];
    for (const m of await store.getSent(from, store.nextSenderSeqNum() - 1)) if (m.raw !== '' && !isAdmin(msgTypeOf(m.raw))) owed.push(m);
    await journal.write(earlier ? 0 : store.creationTime(), owed);
    await journal.close();
    owedCount = owed.length;
  }
  await store.reset();
  return owedCount;
}

/**
 * Going back in the sender sequence: the delivery mark (how far the client provably read) must not
 * stay above what is sent next, or a later sequence reset would take the messages then sent again
 * under those seqnums as read and not hand them back. Written before the seqnum changes: a crash in
 * between leaves a mark that is only lower (a reset then hands back more, never less).
 */
async function lowerDeliveryMark(cfg: SessionConfig, key: string, sequence: number, through: number): Promise<void> {
  const file = path.join(cfg.fileStorePath, `${key}.delivered`);
  const current = new DeliveryMark(file);
  current.load();
  if (current.deliveredThrough(sequence) <= through) return;
  const lowered = new DeliveryMark(file); // not loaded: starts at nothing delivered
  if (through > 0) lowered.raise(through, sequence);
  else await fs.promises.rm(file, { force: true });
  await lowered.flush();
}

function msgTypeOf(raw: string): string {
  const i = raw.indexOf('\x0135=');
  if (i < 0) return '';
  const end = raw.indexOf('\x01', i + 4);
  return raw.slice(i + 4, end < 0 ? raw.length : end);
}

/** Runs one store command; returns what to print. Throws ConfigError, StoreLockedError or StoreCommandError. */
export async function runStoreCommand(cmd: StoreCommand): Promise<string> {
  const cfg = findSession(loadSessionSettings(cmd.configFile), cmd.session);
  if (cmd.action === 'show') {
    // Read-only: opening a store (and taking its lock) creates the directory and the journal; a
    // mistyped FileStorePath would leave an empty store behind. Checked before the lock, which
    // would create the directory too.
    const journalFile = sessionJournalFor(cfg.fileStorePath, sessionKey(cfg)).file; // names it, opens nothing
    if (!fs.existsSync(journalFile)) {
      throw new StoreCommandError(`no store for ${cfg.sessionId}: ${journalFile} does not exist (has the gateway run with this config?); nothing was created`);
    }
  }
  const lock = StoreLock.acquire(cfg.fileStorePath, `store ${cmd.action}`);
  try {
    const key = sessionKey(cfg);
    // A gateway session's journal also holds its order book: it is opened as an owner too, so its
    // records are read (an unknown owner's records stop the open) and kept by a reset's compaction.
    const journal = sessionJournalFor(cfg.fileStorePath, key);
    const store = new FileSessionStore(cfg.fileStorePath, key, { journal });
    const book = cfg.application === 'gateway' ? new FileOrderBook(path.join(cfg.fileStorePath, 'orders'), key, { journal }) : undefined;
    await store.open();
    await book?.open();
    const before = describe(cfg, store);
    let did: string | undefined;
    try {
      if (cmd.action === 'set-next-sender') {
        const was = store.nextSenderSeqNum();
        await lowerDeliveryMark(cfg, key, store.creationTime(), cmd.seqNum! - 1);
        await store.setNextSenderSeqNum(cmd.seqNum!);
        did = `next sender seqnum ${was} -> ${cmd.seqNum} (store set-next-sender)`;
      } else if (cmd.action === 'set-next-target') {
        const was = store.nextTargetSeqNum();
        await store.setNextTargetSeqNum(cmd.seqNum!);
        did = `next target seqnum ${was} -> ${cmd.seqNum} (store set-next-target)`;
      } else if (cmd.action === 'reset') {
        const owed = await resetLikeTheSession(cfg, key, store);
        did = `sequence numbers reset to 1/1 (store reset)${cfg.application === 'gateway' ? `; ${owed} application messages not proven delivered are sent again after the next start` : ''}`;
      }
      if (did === undefined) return before;
      // The session's own event log records what the operator did, next to what the session did.
      const log = new SessionLog(cfg.fileLogPath, key, true, { maxBytes: cfg.fileLogRotateBytes, daily: cfg.fileLogRotateDaily });
      log.event(did);
      await log.close();
      return `${before}\n\n${did}\n\n${describe(cfg, store)}`;
    } finally {
      await book?.close();
      await store.close();
    }
  } finally {
    lock.release();
  }
}

/** `store ...` from the command line: prints the result (stdout) or the problem (stderr); returns the exit code. */
export async function runStoreCli(args: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  try {
    out.write(`${await runStoreCommand(parseStoreArgs(args))}\n`);
    return 0;
  } catch (e) {
    if (e instanceof StoreLockedError) {
      err.write(`store: refused: ${e.message}\n`);
      return 3;
    }
    if (e instanceof StoreCommandError || e instanceof ConfigError) {
      err.write(`store: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
