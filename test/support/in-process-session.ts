// One FIX session served in the test's own process (acceptor on a loopback port, the real
// FileSessionStore in a temp directory), for tests that must inject something the gateway
// process cannot: a store that fails, or one that records how it is read. Clients still talk to it
// over real TCP (FixTestClient).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import pino from 'pino';
import { FixAcceptor } from '../../src/fix/acceptor';
import { FixApplication } from '../../src/fix/application';
import { parseSessionSettings } from '../../src/fix/config/session-settings';
import { loadDictionary } from '../../src/fix/dictionary';
import { EchoApplication } from '../../src/fix/echo-application';
import { FixSession } from '../../src/fix/fix-session';
import { SessionLog } from '../../src/fix/session-log';
import { FileSessionStore } from '../../src/fix/store/file-session-store';
import { MessageStore } from '../../src/fix/store/message-store';
import { MessageValidator } from '../../src/fix/validation';
import { CfgValues, DICTIONARY, buildConfig, freePort } from './gateway-process';

export interface InProcessSession {
  session: FixSession;
  port: number;
  dir: string;
  stop(): Promise<void>;
}

/** An echo session ISLD <- `session.TargetCompID` (default TW42); `wrapStore` may wrap the real store. */
export async function startInProcessSession(
  opts: { session?: CfgValues; wrapStore?: (store: MessageStore) => MessageStore; app?: (echo: EchoApplication) => FixApplication } = {},
): Promise<InProcessSession> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'in-process-session-'));
  const port = await freePort();
  const text = buildConfig([{ SenderCompID: 'ISLD', TargetCompID: 'TW42', ...opts.session }])
    .replace(/\{\{PORT\}\}/g, String(port))
    .replace(/\{\{DICTIONARY\}\}/g, DICTIONARY);
  const [cfg] = parseSessionSettings(text, path.join(dir, 'sessions.cfg'), {});
  const dict = await loadDictionary(cfg.dataDictionary);
  const store = new FileSessionStore(cfg.fileStorePath, 'session');
  const echo = new EchoApplication(dict);
  const logger = pino({ level: 'silent' });
  const validator = new MessageValidator(dict);
  const session = new FixSession({
    config: cfg,
    store: opts.wrapStore ? opts.wrapStore(store) : store,
    log: new SessionLog(cfg.fileLogPath, 'session'),
    validator,
    headerTags: dict.headerTags,
    app: opts.app ? opts.app(echo) : echo,
    logger,
  });
  await session.open();
  const acceptor = new FixAcceptor([session], new Map([[session, validator]]), logger);
  await acceptor.start();
  return {
    session,
    port,
    dir,
    stop: async () => {
      const closed = acceptor.stop();
      await session.shutdown();
      await closed;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
