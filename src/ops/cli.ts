// The command line: `--help`, the operations commands (check, store), the logger's format, and
// which command main() runs. The gateway itself and `simulate` stay in main.ts / wiring.ts.
import * as path from 'path';
import pino, { Logger, LoggerOptions } from 'pino';
import pinoPretty from 'pino-pretty';
import { simulateUsage } from '../wiring';
import { runCheckCommand } from './check-command';
import { runStoreCli } from './store-command';

export function usage(): string {
  return [
    'FIX 4.2 venue gateway',
    '',
    'usage:',
    '  node dist/main.js [--config FILE]',
    '      run the gateway (default config: sessions.cfg); prints the sessions to connect to, then logs',
    '  node dist/main.js check --config FILE',
    '      validate a config without starting anything: every problem as file:line: key: problem',
    '  node dist/main.js store show --config FILE --session ID',
    "      a session's sequence numbers (next sender, next target) and since when its sequence runs",
    '  node dist/main.js store set-next-sender N --config FILE --session ID',
    '      the MsgSeqNum of our next message (agree it with the counterparty first)',
    '  node dist/main.js store set-next-target N --config FILE --session ID',
    '      the MsgSeqNum we expect next from the client',
    '  node dist/main.js store reset --config FILE --session ID',
    '      both to 1, as a ResetOnLogon would; a gateway session sends its unconfirmed reports again after the next start',
    '  node dist/main.js simulate --venue NAME [...]',
    '      run a venue simulator on its own (simulate --help lists its options)',
    '  node dist/main.js --help | -h | help',
    '',
    'options:',
    '  --config FILE   a QuickFIX-style settings file ([DEFAULT] + one [SESSION] per session; README.md lists every key)',
    "  --session ID    the session: its id (FIX.4.2:GATEWAY->QFCLIENT), its file name (FIX.4.2-GATEWAY-QFCLIENT),",
    "                  or the client's SenderCompID (QFCLIENT) when only one session has it",
    '',
    'The store commands refuse while a gateway (or another store command) uses the store: they take the',
    "same lock (gateway.lock in FileStorePath) as the gateway, which refuses to start while they run.",
    '',
    'logs: readable lines on a terminal, JSON lines otherwise; LogFormat=pretty|json in [DEFAULT] decides.',
    'exit status: 0 ok; 1 fatal error; 2 bad config or usage; 3 store in use (the holder is named).',
  ].join('\n');
}

const REDACT = ['*.apiSecret', '*.apiKey', '*.logonPassword', '*.password'];

/** Whether createLogger writes readable lines: LogFormat when set, else whether `out` is a terminal. */
export function logsArePretty(format?: 'pretty' | 'json', out: NodeJS.WriteStream = process.stdout): boolean {
  return format === undefined ? out.isTTY === true : format === 'pretty';
}

/** pino, as JSON lines or (on a terminal, or LogFormat=pretty) readable lines; `format` overrides the terminal test. */
export function createLogger(format?: 'pretty' | 'json', out: NodeJS.WriteStream = process.stdout): Logger {
  const opts: LoggerOptions = { base: { pid: process.pid }, redact: REDACT };
  const pretty = logsArePretty(format, out);
  if (!pretty) return out === process.stdout ? pino(opts) : pino(opts, out);
  // In this thread and synchronous, so a line is out before an exit that follows it.
  return pino(opts, pinoPretty({ destination: out, sync: true, colorize: out.isTTY === true, translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l', ignore: 'hostname', singleLine: true }));
}

export type Command =
  | { kind: 'run'; configFile: string }
  | { kind: 'simulate'; args: string[] }
  | { kind: 'exit'; code: number };

function wantsHelp(args: string[]): boolean {
  return args.includes('--help') || args.includes('-h');
}

/**
 * Handles what needs no gateway (help, check, store) and says what main() should run otherwise.
 * Output goes to the given streams; the returned exit code is the process's.
 */
export async function dispatch(args: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<Command> {
  const [command, ...rest] = args;
  if (command === 'simulate') {
    if (wantsHelp(rest)) {
      out.write(simulateUsage() + '\n');
      return { kind: 'exit', code: 0 };
    }
    return { kind: 'simulate', args: rest };
  }
  if (command === 'help' || wantsHelp(args)) {
    out.write(usage() + '\n');
    return { kind: 'exit', code: 0 };
  }
  const bad = (problem: string): Command => {
    err.write(`${problem}\n\n${usage()}\n`);
    return { kind: 'exit', code: 2 };
  };
  if (command === 'check') {
    if (rest.length !== 2 || rest[0] !== '--config') return bad('check: expected --config FILE');
    return { kind: 'exit', code: runCheckCommand(path.resolve(rest[1]), out, err) };
  }
  if (command === 'store') return { kind: 'exit', code: await runStoreCli(rest, out, err) };
  if (command !== undefined && !command.startsWith('-')) return bad(`unknown command ${JSON.stringify(command)}`);
  let configFile = 'sessions.cfg';
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--config' && args[i + 1] !== undefined) configFile = args[++i];
    else return bad(`unknown option ${JSON.stringify(args[i])}`);
  }
  return { kind: 'run', configFile: path.resolve(configFile) };
}
