// Start-up: read sessions.cfg, build one FIX session per [SESSION] with its store, logs and
// application, start the acceptor (and, for gateway sessions, the venue adapters and simulators).
//   node dist/src/main.js [--config sessions.cfg]
//   node dist/src/main.js simulate --venue hashkey --port 8701 [--api-key K --api-secret S]
import 'reflect-metadata';
import * as path from 'path';
import type { Logger } from 'pino';
import { ConfigError, loadSessionSettings, loggableSessionConfig, SessionConfig } from './fix/config/session-settings';
import { FixDictionary, loadDictionary } from './fix/dictionary';
import { FixSession } from './fix/fix-session';
import { FileSessionStore, sessionJournalFor } from './fix/store/file-session-store';
import { SpaceReserve } from './durable/space-reserve';
import { withSpaceReserve } from './fix/space-reserved-store';
import { DeliveryMark } from './fix/store/delivery-mark';
import { UndeliveredJournal } from './fix/store/undelivered-journal';
import { SessionLog } from './fix/session-log';
import { MessageValidator } from './fix/validation';
import { FixAcceptor } from './fix/acceptor';
import { EchoApplication } from './fix/echo-application';
import { FixApplication } from './fix/application';
import { checkVenueIdPrefixes, createGatewayApplication, runSimulatorCommand } from './wiring';
import { acquireStoreLocks, StoreLockedError } from './ops/store-lock';
import { createLogger, dispatch, logsArePretty } from './ops/cli';
import { bannerFacts, renderBanner } from './ops/banner';
import { sessionKey } from './fix/session-key';
import { AdminEndpoint } from './ops/admin-endpoint';

export { sessionKey };

export interface RunningGateway {
  acceptor: FixAcceptor;
  sessions: FixSession[];
  endpoints: { host: string; port: number; sessions: string[] }[];
  /** The status page's URL when HttpAcceptPort is set. */
  adminUrl?: string;
  stop(): Promise<void>;
}

/**
 * `onJournalBroken`: a session's journal stopped (a failed flush or cut-back: it refuses every later
 * write, so that session can store nothing, not even a Logon reply). main() ends the process, so a
 * supervisor restarts it and the restart replays the file; absent, it is only logged.
 */
export async function startGateway(configFile: string, logger: Logger, onJournalBroken?: (session: string, err: Error) => void): Promise<RunningGateway> {
  const configs = loadSessionSettings(configFile);
  checkVenueIdPrefixes(configs);
  const dictionaries = new Map<string, FixDictionary>();
  for (const cfg of configs) {
    if (!dictionaries.has(cfg.dataDictionary)) dictionaries.set(cfg.dataDictionary, await loadDictionary(cfg.dataDictionary));
  }
  // Before any store is opened: a second gateway on the same FileStorePath stops here, naming the holder.
  const locks = acquireStoreLocks(configs.map((c) => c.fileStorePath), 'gateway');
  const sessions: FixSession[] = [];
  const validators = new Map<FixSession, MessageValidator | undefined>();
  const cleanups: Array<() => Promise<void>> = [];
  const releaseLocks = () => locks.forEach((l) => l.release());
  // First, so /health answers (and /ready says why not) while the sessions and venues start.
  const admin = configs[0].admin ? new AdminEndpoint(configs[0].admin, logger) : undefined;
  const stores = new Map<string, FileSessionStore>();
  // One space reserve per store directory (sessions sharing one share its file system).
  const reserves = new Map<string, SpaceReserve>();
  const reserveFor = (cfg: SessionConfig): SpaceReserve => {
    let reserve = reserves.get(cfg.fileStorePath);
    if (!reserve) {
      reserve = new SpaceReserve(cfg.fileStorePath, cfg.storeSpaceReserve, logger);
      reserve.open();
      reserves.set(cfg.fileStorePath, reserve);
      const r = reserve;
      cleanups.push(async () => r.close());
    }
    return reserve;
  };
  try {
    if (admin) await admin.start().then(() => cleanups.push(() => admin.close()));
    for (const cfg of configs) {
      const safe = loggableSessionConfig(cfg);
      logger.info(
        {
          session: cfg.sessionId,
          application: cfg.application,
          endpoint: `${cfg.acceptHost}:${cfg.acceptPort}`,
          venue: safe.venue && { name: safe.venue.name, environment: safe.venue.environment },
          secrets: safe.secretRefs,
          config: `${cfg.file}:${cfg.line}`,
        },
        'configuring session',
      );
      const dict = dictionaries.get(cfg.dataDictionary)!;
      const key = sessionKey(cfg);
      // One journal per session: the store's records, and the order book's for a gateway session.
      const journal = sessionJournalFor(cfg.fileStorePath, key, {
        onBroken: (err) => {
          logger.fatal({ session: cfg.sessionId, err: err.message }, 'session journal stopped: nothing more can be stored');
          onJournalBroken?.(cfg.sessionId, err);
        },
      });
      const fileStore = new FileSessionStore(cfg.fileStorePath, key, { journal });
      stores.set(cfg.sessionId, fileStore);
      const reserve = reserveFor(cfg);
      const store = withSpaceReserve(fileStore, reserve);
      const log = new SessionLog(cfg.fileLogPath, key, true, { maxBytes: cfg.fileLogRotateBytes, daily: cfg.fileLogRotateDaily }, Date.now, {
        onWriteError: (err) => logger.error({ session: cfg.sessionId, err: (err as NodeJS.ErrnoException).code ?? err.message }, 'session log write failed: its lines are dropped until it can write again'),
        paused: () => reserve.full,
      });
      let app: FixApplication;
      if (cfg.application === 'echo') app = new EchoApplication(dict);
      else {
        const gw = await createGatewayApplication(cfg, key, logger, journal, admin, {
          storage: { full: () => (reserve.full ? 'ENOSPC' : undefined), failed: (err) => void reserve.release(err) },
        });
        app = gw.app;
        cleanups.push(gw.close);
      }
      const validator = cfg.useDataDictionary ? new MessageValidator(dict) : undefined;
      const deliveryMark = new DeliveryMark(path.join(cfg.fileStorePath, `${key}.delivered`));
      const undeliveredJournal = new UndeliveredJournal(path.join(cfg.fileStorePath, `${key}.undelivered`));
      const session = new FixSession({ config: cfg, store, log, validator, headerTags: dict.headerTags, app, logger, deliveryMark, undeliveredJournal, observer: admin?.sessionObserver(cfg) });
      admin?.watchSession(cfg, session, fileStore.stats);
      await session.open();
      if (fileStore.recoveryNote) logger.warn({ session: cfg.sessionId, note: fileStore.recoveryNote }, 'store recovered');
      sessions.push(session);
      validators.set(session, validator);
    }
  } catch (err) {
    for (const c of cleanups) await c().catch(() => undefined);
    releaseLocks();
    throw err;
  }
  const acceptor = new FixAcceptor(sessions, validators, logger, admin?.acceptorObserver());
  let endpoints: { host: string; port: number; sessions: string[] }[];
  try {
    endpoints = await acceptor.start();
  } catch (err) {
    for (const c of cleanups) await c().catch(() => undefined);
    releaseLocks();
    throw err;
  }
  admin?.setAcceptorListening(true);
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      admin?.setAcceptorListening(false);
      const closed = acceptor.stop();
      await Promise.all(sessions.map((s) => s.shutdown().catch((err) => logger.error({ err }, 'session shutdown failed'))));
      await closed;
      // Durable writes (fdatasyncs) of each session's journal since start: the bench divides them by its orders.
      for (const [session, store] of stores) logger.info({ session, durableWrites: store.stats.fsyncs, records: store.stats.records }, 'journal stats');
      for (const c of cleanups) await c().catch((err) => logger.error({ err }, 'cleanup failed'));
      releaseLocks();
    })());
  return { acceptor, sessions, endpoints, adminUrl: admin?.url, stop };
}

async function main(): Promise<void> {
  // --help, check and store are done here; otherwise it says what to run.
  const command = await dispatch(process.argv.slice(2));
  if (command.kind === 'exit') {
    process.exitCode = command.code;
    return;
  }
  if (command.kind === 'simulate') {
    await runSimulatorCommand(command.args, createLogger());
    return;
  }
  const configFile = command.configFile;
  let configs: SessionConfig[];
  let logger: Logger;
  try {
    configs = loadSessionSettings(configFile); // for LogFormat and the banner; startGateway checks it all
    logger = createLogger(configs[0].logFormat);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  // Belt and braces: the gateway catches every failure it starts; one that escapes is a bug, and
  // Node 20 would end the process on it anyway. Say so loudly, with what escaped, and exit non-zero.
  process.on('unhandledRejection', (reason) => {
    logger.fatal({ err: reason instanceof Error ? { message: reason.message, stack: reason.stack } : String(reason) }, 'unhandled promise rejection; exiting');
    process.exit(70);
  });
  let gateway: RunningGateway;
  try {
    // Fail-stop, as databases do on a failed fsync: a restart replays the journal; going on would
    // leave that session connected but unable to store anything (its clients see bare disconnects).
    gateway = await startGateway(configFile, logger, () => {
      process.stderr.write('gateway stopping: a session journal can no longer be written (see the fatal log line); restart it\n');
      process.exit(70);
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`configuration error: ${err.message}\n`);
      process.exit(2);
    }
    if (err instanceof StoreLockedError) {
      process.stderr.write(`gateway not started: ${err.message}\n`);
      process.exit(3);
    }
    throw err;
  }
  logger.info({ endpoints: gateway.endpoints, statusPage: gateway.adminUrl }, 'gateway started');
  const bound = { configFile, pid: process.pid, endpoints: gateway.endpoints, adminUrl: gateway.adminUrl };
  // Text for a person; with JSON logs stdout belongs to the log collector: the same facts as one line.
  if (logsArePretty(configs[0].logFormat)) process.stdout.write(renderBanner(configs, bound));
  else {
    const { sessions, statusPage, stores, fixLogs } = bannerFacts(configs, bound);
    logger.info({ sessions, statusPage, stores, fixLogs }, 'sessions');
  }
  const onSignal = (sig: string) => {
    logger.info({ signal: sig }, 'shutting down');
    gateway.stop().then(
      () => {
        // Said last, so the log tells a completed stop from a crash or a kill mid-shutdown.
        logger.info({ signal: sig }, 'gateway stopped');
        process.exit(0);
      },
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`fatal: ${err?.stack ?? err}\n`);
    process.exit(1);
  });
}
