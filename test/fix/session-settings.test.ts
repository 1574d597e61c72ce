import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  ConfigError,
  SessionConfig,
  configErrorFor,
  isAddressAllowed,
  isWithinSessionWindow,
  loadSessionSettings,
  loggableSessionConfig,
  parseSessionSettings,
} from '../../src/fix/config/session-settings';

const REPO_ROOT = path.resolve(__dirname, '../..');

let dir: string;
let cfgFile: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'session-settings-'));
  cfgFile = path.join(dir, 'sessions.cfg');
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const EXAMPLE = `# FIX 4.2 gateway: one echo session for connectivity tests, two trading sessions.
[DEFAULT]
ConnectionType=acceptor
BeginString=FIX.4.2
SenderCompID=GATEWAY
SocketAcceptPort=9876
HeartBtInt=30
FileStorePath=store
FileLogPath=log
StartTime=00:00:00
EndTime=00:00:00
ResetOnLogon=N
LogonPassword=env:FIX_CLIENT_PW
AllowedRemoteAddresses=127.0.0.1, ::1, 10.0.0.0/8

[SESSION]
TargetCompID=ECHO_CLIENT
Application=echo

[SESSION]
TargetCompID = TRADER1
Application=gateway
Venue=hashkey
VenueEnvironment=sandbox
VenueApiKey=env:HK_API_KEY
VenueApiSecret=file:secrets/hk.secret
VenueRestUrl=https://api-sandbox.example.com
VenueWsUrl=wss://stream-sandbox.example.com/ws?v=1
VenueRateLimitOrders=5
VenueRateLimitQueries=2.5
HeartBtInt=20
ResetOnLogon=Y

[SESSION]
TargetCompID=SIMTRADER
Application=gateway
Venue=sim
VenueSimulatorPort=0
`;

const ENV = { FIX_CLIENT_PW: 'client-pw-1', HK_API_KEY: 'hk-key-123' };

function writeSecret(rel: string, content: string): void {
  fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  fs.writeFileSync(path.join(dir, rel), content);
}

/** A minimal valid session; `extra` lines are appended inside it. */
function session(extra = '', target = 'CLIENT'): string {
  return `[SESSION]
BeginString=FIX.4.2
SenderCompID=GATEWAY
TargetCompID=${target}
SocketAcceptPort=9876
FileStorePath=store
FileLogPath=log
Application=echo
${extra}`;
}

function parse(text: string, env: NodeJS.ProcessEnv = {}): SessionConfig[] {
  return parseSessionSettings(text, cfgFile, env);
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

function expectConfigError(
  text: string,
  where: { line: number | undefined; key: string | undefined; problem: RegExp },
  env: NodeJS.ProcessEnv = {},
): ConfigError {
  const err = errorOf(() => parse(text, env));
  expect({ file: err.file, line: err.line, key: err.key }).toEqual({ file: cfgFile, line: where.line, key: where.key });
  expect(err.problem).toMatch(where.problem);
  const head = where.line === undefined ? cfgFile : `${cfgFile}:${where.line}`;
  expect(err.message).toBe([head, ...(where.key ? [where.key] : []), err.problem].join(': '));
  return err;
}

describe('reading the realistic example', () => {
  function load(): SessionConfig[] {
    writeSecret('secrets/hk.secret', 'hk-secret-456\n');
    fs.writeFileSync(cfgFile, EXAMPLE);
    return loadSessionSettings(cfgFile, ENV);
  }

  it('yields one config per [SESSION] with DEFAULT values inherited', () => {
    const [echo, trader, sim] = load();
    expect(echo).toMatchObject({
      file: cfgFile,
      line: 16,
      beginString: 'FIX.4.2',
      senderCompId: 'GATEWAY',
      targetCompId: 'ECHO_CLIENT',
      sessionId: 'FIX.4.2:GATEWAY->ECHO_CLIENT',
      acceptHost: '127.0.0.1',
      acceptPort: 9876,
      heartBtInt: 30,
      fileStorePath: path.join(dir, 'store'),
      fileLogPath: path.join(dir, 'log'),
      dataDictionary: path.join(REPO_ROOT, 'dictionaries', 'FIX42.xml'),
      resetOnLogon: false,
      application: 'echo',
      allowedRemoteAddresses: ['127.0.0.1', '::1', '10.0.0.0/8'],
      logonPassword: 'client-pw-1',
      secretRefs: { LogonPassword: 'env:FIX_CLIENT_PW' },
    });
    expect(echo.venue).toBeUndefined();
    expect(trader.sessionId).toBe('FIX.4.2:GATEWAY->TRADER1');
    expect(sim.venue).toEqual({ name: 'sim', environment: 'simulator', simulatorPort: 0 });
  });

  it('lets a [SESSION] override DEFAULT values', () => {
    const [echo, trader] = load();
    expect(echo.heartBtInt).toBe(30);
    expect(trader.heartBtInt).toBe(20);
    expect(echo.resetOnLogon).toBe(false);
    expect(trader.resetOnLogon).toBe(true);
  });

  it('applies QuickFIX defaults to keys nobody set', () => {
    const [echo] = load();
    expect(echo).toMatchObject({
      resetOnLogout: false,
      resetOnDisconnect: false,
      checkLatency: true,
      maxLatencySeconds: 120,
      socketNodelay: true,
      socketReuseAddress: true,
      validateUserDefinedFields: true,
      validateFieldsOutOfOrder: true,
      validateFieldsHaveValues: true,
      allowUnknownMsgFields: false,
      useDataDictionary: true,
      persistMessages: true,
      startTime: '00:00:00',
      endTime: '00:00:00',
    });
  });

  it('resolves venue settings and secrets for a gateway session', () => {
    const [, trader] = load();
    expect(trader.venue).toEqual({
      name: 'hashkey',
      environment: 'sandbox',
      apiKey: 'hk-key-123',
      apiSecret: 'hk-secret-456',
      restUrl: 'https://api-sandbox.example.com',
      wsUrl: 'wss://stream-sandbox.example.com/ws?v=1',
      rateLimitOrders: 5,
      rateLimitQueries: 2.5,
    });
    expect(trader.secretRefs).toEqual({
      LogonPassword: 'env:FIX_CLIENT_PW',
      VenueApiKey: 'env:HK_API_KEY',
      VenueApiSecret: 'file:secrets/hk.secret',
    });
  });

  it('records where each key was set, DEFAULT line when inherited', () => {
    const [, trader] = load();
    expect(trader.origin.Venue).toEqual({ file: cfgFile, line: 23 });
    expect(trader.origin.HeartBtInt).toEqual({ file: cfgFile, line: 31 });
    expect(trader.origin.SenderCompID).toEqual({ file: cfgFile, line: 5 });
    const err = configErrorFor(trader, 'Venue', 'unknown venue "hashkey"');
    expect(err.message).toBe(`${cfgFile}:23: Venue: unknown venue "hashkey"`);
  });

  it('gives a loggable view with secrets replaced by their references', () => {
    const [, trader] = load();
    const text = JSON.stringify(loggableSessionConfig(trader));
    for (const secret of ['client-pw-1', 'hk-key-123', 'hk-secret-456']) expect(text).not.toContain(secret);
    expect(text).toContain('file:secrets/hk.secret');
  });
});

describe('format', () => {
  it('ignores comments and blank lines, trims around keys and values, accepts CRLF', () => {
    const [cfg] = parse(`# comment\r\n\r\n   ${session('  HeartBtInt   =   45  \r\n   # indented comment\r\n').replace(/\n/g, '\r\n')}`);
    expect(cfg.heartBtInt).toBe(45);
    expect(cfg.line).toBe(3);
  });

  it('requires at least one [SESSION]', () => {
    expectConfigError('[DEFAULT]\nBeginString=FIX.4.2\n', { line: undefined, key: undefined, problem: /no \[SESSION\]/ });
  });

  it('rejects a key outside a section', () => {
    expectConfigError(`HeartBtInt=30\n${session()}`, { line: 1, key: 'HeartBtInt', problem: /outside a section/ });
  });

  it('rejects a line without "=" and does not echo it', () => {
    const err = expectConfigError(`${session()}hunter2\n`, { line: 9, key: undefined, problem: /expected key=value/ });
    expect(err.message).not.toContain('hunter2');
  });

  it('rejects an unknown section', () => {
    expectConfigError(`[SESSIONS]\n`, { line: 1, key: undefined, problem: /unknown section/ });
  });

  it('rejects a second [DEFAULT] and a [DEFAULT] after a [SESSION]', () => {
    expectConfigError(`[DEFAULT]\n[DEFAULT]\n${session()}`, { line: 2, key: undefined, problem: /only once/ });
    expectConfigError(`${session()}[DEFAULT]\n`, { line: 9, key: undefined, problem: /before any \[SESSION\]/ });
  });

  it('rejects an unknown key, naming it', () => {
    expectConfigError(session('ReconnectInterval=30\n'), { line: 9, key: 'ReconnectInterval', problem: /^unknown key$/ });
  });

  it('does not echo a line that looks like a pasted base64 secret', () => {
    const err = expectConfigError(session('c2VjcmV0LXZhbHVl==\n'), { line: 9, key: undefined, problem: /not shown/ });
    expect(err.message).not.toContain('c2VjcmV0LXZhbHVl');
  });

  it('treats keys as case-sensitive', () => {
    expectConfigError(session('heartbtint=30\n'), { line: 9, key: 'heartbtint', problem: /^unknown key$/ });
  });

  it('rejects a key repeated within a section', () => {
    expectConfigError(session('HeartBtInt=30\nHeartBtInt=31\n'), { line: 10, key: 'HeartBtInt', problem: /twice.*line 9/ });
  });

  it('rejects an empty value', () => {
    expectConfigError(session('HeartBtInt=\n'), { line: 9, key: 'HeartBtInt', problem: /empty value/ });
  });

  it('reports a missing required key at the [SESSION] line', () => {
    expectConfigError(`# x\n${session().replace('FileLogPath=log\n', '')}`, {
      line: 2,
      key: 'FileLogPath',
      problem: /required/,
    });
  });
});

describe('value validation names file, line and key', () => {
  it.each([
    ['ResetOnLogon=yes', 'ResetOnLogon', /^expected Y or N, got "yes"$/],
    ['SocketAcceptPort=70000', 'SocketAcceptPort', /port 1-65535, got "70000"/],
    ['SocketAcceptPort=0', 'SocketAcceptPort', /port 1-65535/],
    ['HeartBtInt=-5', 'HeartBtInt', /positive integer/],
    ['MaxLatency=1.5', 'MaxLatency', /positive integer/],
    ['StartTime=24:00:00', 'StartTime', /HH:MM:SS/],
    ['EndTime=9:30', 'EndTime', /HH:MM:SS/],
    ['ConnectionType=initiator', 'ConnectionType', /only acceptor/],
    ['AllowedRemoteAddresses=10.0.0.0/33', 'AllowedRemoteAddresses', /prefix/],
    ['AllowedRemoteAddresses=10.1.2.3/8', 'AllowedRemoteAddresses', /host bits/],
    ['AllowedRemoteAddresses=localhost', 'AllowedRemoteAddresses', /IPv4\/IPv6/],
    ['AllowedRemoteAddresses=127.0.0.1,,::1', 'AllowedRemoteAddresses', /empty entry/],
  ])('%s', (line, key, problem) => {
    // Line 9 overrides nothing (the session sets none of these), except SocketAcceptPort: see below.
    const text = key === 'SocketAcceptPort' ? session().replace('SocketAcceptPort=9876', line) : session(`${line}\n`);
    expectConfigError(text, { line: key === 'SocketAcceptPort' ? 5 : 9, key, problem });
  });

  it('rejects an unsupported BeginString', () => {
    expectConfigError(session().replace('FIX.4.2', 'FIX.4.4'), { line: 2, key: 'BeginString', problem: /only FIX\.4\.2/ });
  });

  it('rejects a bad value in DEFAULT at the DEFAULT line', () => {
    expectConfigError(`[DEFAULT]\nCheckLatency=true\n${session()}`, { line: 2, key: 'CheckLatency', problem: /Y or N/ });
  });

  it('requires the DataDictionary to exist, relative to the config directory', () => {
    expectConfigError(session('DataDictionary=dict/FIX42.xml\n'), { line: 9, key: 'DataDictionary', problem: /not found/ });
    writeSecret('dict/FIX42.xml', '<fix/>');
    expect(parse(session('DataDictionary=dict/FIX42.xml\n'))[0].dataDictionary).toBe(path.join(dir, 'dict', 'FIX42.xml'));
  });
});

describe('secrets', () => {
  it('rejects an inline LogonPassword without echoing it', () => {
    const err = expectConfigError(session('LogonPassword=hunter2\n'), {
      line: 9,
      key: 'LogonPassword',
      problem: /^must be env:NAME or file:PATH, never inline$/,
    });
    expect(err.message).not.toContain('hunter2');
  });

  it('names the key when an env var is missing', () => {
    expectConfigError(session('LogonPassword=env:NOPE\n'), { line: 9, key: 'LogonPassword', problem: /NOPE is not set/ });
  });

  it('names the key when a secret file is unreadable', () => {
    expectConfigError(session('LogonPassword=file:missing.pw\n'), {
      line: 9,
      key: 'LogonPassword',
      problem: /cannot read secret file .*missing\.pw \(ENOENT\)/,
    });
  });

  it('resolves env:NAME from the given environment', () => {
    const [cfg] = parse(session('LogonPassword=env:PW\n'), { PW: 's3cret' });
    expect(cfg.logonPassword).toBe('s3cret');
    expect(cfg.secretRefs.LogonPassword).toBe('env:PW');
  });

  it('reads file:PATH relative to the config directory, trimming one trailing newline', () => {
    writeSecret('secrets/logon.pw', 'from-file\r\n');
    const [cfg] = parse(session('LogonPassword=file:secrets/logon.pw\n'));
    expect(cfg.logonPassword).toBe('from-file');
  });

  it('rejects a secret file with more than one line', () => {
    writeSecret('two.pw', 'line-one\nline-two\n');
    const err = expectConfigError(session('LogonPassword=file:two.pw\n'), { line: 9, key: 'LogonPassword', problem: /more than one line/ });
    expect(err.message).not.toContain('line-one');
  });

  it('never puts a secret value into any ConfigError message', () => {
    const SECRET = 'TopSecretValue42';
    writeSecret('pw', `${SECRET}\n`);
    writeSecret('multi', `${SECRET}\n${SECRET}\n`);
    const env = { PW: SECRET };
    const gateway = (extra: string) => session(`Venue=x\n${extra}`).replace('Application=echo', 'Application=gateway');
    const cases = [
      session(`LogonPassword=${SECRET}\n`),
      session(`LogonPassword=env:${SECRET}!\n`),
      session(`${SECRET}\n`),
      session(`${SECRET}==\n`),
      session(`${SECRET}=\n`),
      session(`${SECRET}+/abc=x\n`),
      session(`LogonPassword=file:multi\n`),
      session(`LogonPassword=env:PW\nLogonPassword=env:PW\n`),
      session(`LogonPassword=env:PW\nHeartBtInt=0\n`),
      session(`LogonPassword=file:pw\nVenueApiKey=env:PW\n`),
      gateway(`VenueEnvironment=production\nVenueApiKey=${SECRET}\nVenueApiSecret=env:PW\n`),
      gateway(`VenueEnvironment=production\nVenueApiKey=env:PW\nVenueApiSecret=env:MISSING\n`),
      gateway(`VenueEnvironment=production\nVenueApiKey=env:PW\n`),
      gateway(`VenueAccount=file:pw\nVenueApiSecret=env:PW\nVenueRestUrl=ftp://x\n`),
      `${session('LogonPassword=env:PW\n')}${session('LogonPassword=file:pw\n')}`,
    ];
    for (const text of cases) {
      const err = errorOf(() => parse(text, env));
      expect(err.message).not.toContain(SECRET);
    }
  });
});

describe('venue keys', () => {
  const gateway = (extra: string) => session(`Venue=hashkey\n${extra}`).replace('Application=echo', 'Application=gateway');

  it('are an error with Application=echo', () => {
    expectConfigError(session('VenueEnvironment=sandbox\n'), {
      line: 9,
      key: 'VenueEnvironment',
      problem: /only valid with Application=gateway/,
    });
  });

  it('are an error when inherited from DEFAULT together with Application=echo', () => {
    expectConfigError(`[DEFAULT]\nApplication=echo\nVenue=hashkey\n${session().replace('Application=echo\n', '')}`, {
      line: 3,
      key: 'Venue',
      problem: /only valid with Application=gateway/,
    });
  });

  it('inherited from DEFAULT are ignored by a session that itself chooses echo', () => {
    const text = `[DEFAULT]\nVenue=sim\nApplication=gateway\n${session()}${session('', 'OTHER').replace('Application=echo', 'Application=gateway')}`;
    const [echo, gw] = parse(text);
    expect(echo.venue).toBeUndefined();
    expect(echo.origin.Venue).toBeUndefined();
    expect(gw.venue).toEqual({ name: 'sim', environment: 'simulator' });
  });

  it('default to the simulator, where credentials are optional', () => {
    expect(parse(gateway(''))[0].venue).toEqual({ name: 'hashkey', environment: 'simulator' });
  });

  it('require Venue with Application=gateway', () => {
    const text = session().replace('Application=echo', 'Application=gateway');
    expectConfigError(text, { line: 1, key: 'Venue', problem: /required with Application=gateway/ });
  });

  it('require VenueApiKey outside the simulator (VenueApiSecret/VenueAccount depend on the venue: test/wiring.test.ts)', () => {
    expectConfigError(gateway('VenueEnvironment=production\n'), { line: 1, key: 'VenueApiKey', problem: /required with VenueEnvironment=production/ });
  });

  it('reject a simulator port outside the simulator', () => {
    expectConfigError(gateway('VenueEnvironment=sandbox\nVenueApiKey=env:K\nVenueApiSecret=env:K\nVenueSimulatorPort=9000\n'), {
      line: 13,
      key: 'VenueSimulatorPort',
      problem: /only valid with VenueEnvironment=simulator/,
    }, { K: 'k' });
  });

  it('reject a simulator port that is an acceptor port', () => {
    expectConfigError(gateway('VenueSimulatorPort=9876\n'), { line: 10, key: 'VenueSimulatorPort', problem: /SocketAcceptPort/ });
  });

  it.each([
    ['VenueRestUrl=wss://x.example.com', 'VenueRestUrl', /http\/https URL/],
    ['VenueWsUrl=https://x.example.com', 'VenueWsUrl', /ws\/wss URL/],
    ['VenueWsUrl=not a url', 'VenueWsUrl', /ws\/wss URL/],
    ['VenueRateLimitOrders=0', 'VenueRateLimitOrders', /positive number/],
    ['VenueRateLimitQueries=fast', 'VenueRateLimitQueries', /positive number/],
    ['VenueEnvironment=Live!', 'VenueEnvironment', /environment name/],
    ['VenueExDestination=BIN/ANCE', 'VenueExDestination', /exchange name/],
    ['VenueSimulatorPort=65536', 'VenueSimulatorPort', /port 0-65535/],
    ['VenueAccount=acct-1', 'VenueAccount', /never inline/],
  ])('reject bad value %s', (line, key, problem) => {
    expectConfigError(gateway(`${line}\n`), { line: 10, key, problem });
  });
});

describe('client authentication and exposure (a session that trades on a real venue)', () => {
  const trading = (env: string, extra = '') =>
    session(`Venue=hashkey\nVenueEnvironment=${env}\nVenueApiKey=env:K\nVenueApiSecret=env:K\n${extra}`).replace('Application=echo', 'Application=gateway');
  const ENV_K = { K: 'k', PW: 'pw' };

  it.each(['production', 'sandbox'])('with VenueEnvironment=%s and neither LogonPassword nor AllowedRemoteAddresses: start-up fails naming file, line and session', (env) => {
    const err = expectConfigError(trading(env), { line: 1, key: undefined, problem: /FIX\.4\.2:GATEWAY->CLIENT.*LogonPassword or AllowedRemoteAddresses/ }, ENV_K);
    expect(err.problem).toContain(`VenueEnvironment=${env}`);
  });

  it('either LogonPassword or AllowedRemoteAddresses (own or from DEFAULT) is enough', () => {
    expect(parse(trading('production', 'LogonPassword=env:PW\n'), ENV_K)[0].logonPassword).toBe('pw');
    expect(parse(trading('sandbox', 'AllowedRemoteAddresses=10.0.0.0/8\n'), ENV_K)[0].allowedRemoteAddresses).toEqual(['10.0.0.0/8']);
    expect(parse(`[DEFAULT]\nAllowedRemoteAddresses=10.1.2.3\n${trading('production')}`, ENV_K)).toHaveLength(1);
  });

  it('the simulator and echo sessions need neither', () => {
    expect(parse(trading('simulator').replace(/VenueApi\w+=env:K\n/g, ''))).toHaveLength(1);
    expect(parse(session())).toHaveLength(1);
  });

  it('SocketAcceptHost defaults to loopback (127.0.0.1); a configured address is kept', () => {
    expect(parse(session())[0].acceptHost).toBe('127.0.0.1');
    expect(parse(session('SocketAcceptHost=0.0.0.0\n'))[0].acceptHost).toBe('0.0.0.0');
  });
});

describe('PersistMessages', () => {
  it('must be Y on a gateway session: recovery would otherwise resend every unconfirmed report', () => {
    const text = session('Venue=hashkey\nPersistMessages=N\n').replace('Application=echo', 'Application=gateway');
    expectConfigError(text, { line: 10, key: 'PersistMessages', problem: /must be Y with Application=gateway/ });
  });

  it('may be N on an echo session', () => {
    expect(parse(session('PersistMessages=N\n'))[0].persistMessages).toBe(false);
  });
});

describe('across sessions', () => {
  it('rejects a duplicate session at the second [SESSION] line', () => {
    expectConfigError(`${session()}${session('HeartBtInt=10\n')}`, { line: 9, key: undefined, problem: /duplicate session FIX\.4\.2:GATEWAY->CLIENT \(first at line 1\)/ });
  });

  it('allows sessions to share a port and host', () => {
    expect(parse(`${session()}${session('', 'OTHER')}`).map((c) => c.acceptPort)).toEqual([9876, 9876]);
  });

  it('rejects sessions sharing a port with different hosts', () => {
    expectConfigError(`${session()}${session('SocketAcceptHost=0.0.0.0\n', 'OTHER')}`, {
      line: 17,
      key: 'SocketAcceptHost',
      problem: /sharing SocketAcceptPort 9876 must share SocketAcceptHost/,
    });
  });
});

describe('loading a file', () => {
  it('reports an unreadable file', () => {
    const err = errorOf(() => loadSessionSettings(path.join(dir, 'nope.cfg')));
    expect(err.message).toBe(`${path.join(dir, 'nope.cfg')}: cannot read (ENOENT)`);
  });
});

describe('isAddressAllowed', () => {
  const cfg = { allowedRemoteAddresses: ['127.0.0.1', '10.0.0.0/8', '::1', '2001:db8::/32', '::ffff:192.168.1.5'] };

  it('allows anyone without an allow-list', () => {
    expect(isAddressAllowed({}, '203.0.113.9')).toBe(true);
  });

  it.each([
    ['127.0.0.1', true],
    ['127.0.0.2', false],
    ['10.255.3.4', true],
    ['11.0.0.1', false],
    ['::1', true],
    ['2001:db8:1::7', true],
    ['2001:db9::1', false],
    ['::ffff:127.0.0.1', true],
    ['::ffff:10.1.2.3', true],
    ['::ffff:7f00:1', true],
    ['::ffff:11.0.0.1', false],
    ['192.168.1.5', true],
    ['192.168.1.6', false],
    ['fe80::1%eth0', false],
    ['garbage', false],
  ])('%s -> %s', (addr, allowed) => {
    expect(isAddressAllowed(cfg, addr)).toBe(allowed);
  });

  it('refuses an unknown remote address when a list is set', () => {
    expect(isAddressAllowed(cfg, undefined)).toBe(false);
  });

  it('parses the list from the config', () => {
    const [c] = parse(session('AllowedRemoteAddresses=127.0.0.1 , 10.0.0.0/8\n'));
    expect(c.allowedRemoteAddresses).toEqual(['127.0.0.1', '10.0.0.0/8']);
    expect(isAddressAllowed(c, '::ffff:10.9.9.9')).toBe(true);
    expect(isAddressAllowed(c, '192.0.2.1')).toBe(false);
  });
});

describe('isWithinSessionWindow', () => {
  const at = (hms: string) => new Date(`2024-03-05T${hms}.500Z`);

  it('is always on when start equals end', () => {
    expect(isWithinSessionWindow({ startTime: '00:00:00', endTime: '00:00:00' }, at('13:37:00'))).toBe(true);
    expect(isWithinSessionWindow({ startTime: '08:00:00', endTime: '08:00:00' }, at('07:59:59'))).toBe(true);
  });

  it('covers a same-day window, both ends inclusive', () => {
    const w = { startTime: '08:00:00', endTime: '17:00:00' };
    expect(isWithinSessionWindow(w, at('07:59:59'))).toBe(false);
    expect(isWithinSessionWindow(w, at('08:00:00'))).toBe(true);
    expect(isWithinSessionWindow(w, at('12:00:00'))).toBe(true);
    expect(isWithinSessionWindow(w, at('17:00:00'))).toBe(true);
    expect(isWithinSessionWindow(w, at('17:00:01'))).toBe(false);
  });

  it('wraps midnight when start is after end', () => {
    const w = { startTime: '22:00:00', endTime: '06:00:00' };
    expect(isWithinSessionWindow(w, at('21:59:59'))).toBe(false);
    expect(isWithinSessionWindow(w, at('22:00:00'))).toBe(true);
    expect(isWithinSessionWindow(w, at('00:00:00'))).toBe(true);
    expect(isWithinSessionWindow(w, at('06:00:00'))).toBe(true);
    expect(isWithinSessionWindow(w, at('06:00:01'))).toBe(false);
    expect(isWithinSessionWindow(w, at('12:00:00'))).toBe(false);
  });

  it('uses UTC, not local time', () => {
    const w = { startTime: '08:00:00', endTime: '09:00:00' };
    expect(isWithinSessionWindow(w, new Date('2024-03-05T08:30:00+05:00'))).toBe(false);
    expect(isWithinSessionWindow(w, new Date('2024-03-05T03:30:00-05:00'))).toBe(true);
  });
});

describe('sessionPeriodStart', () => {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { sessionPeriodStart } = require('../../src/fix/config/session-settings');
  test('always-on sessions have no period', () => {
    expect(sessionPeriodStart({ startTime: '00:00:00', endTime: '00:00:00' }, new Date())).toBeUndefined();
  });
  test('the period began today at StartTime, or yesterday when now is before it', () => {
    const cfg = { startTime: '08:00:00', endTime: '17:00:00' };
    expect(sessionPeriodStart(cfg, new Date(Date.UTC(2026, 0, 2, 9, 0)))).toBe(Date.UTC(2026, 0, 2, 8, 0));
    expect(sessionPeriodStart(cfg, new Date(Date.UTC(2026, 0, 2, 7, 0)))).toBe(Date.UTC(2026, 0, 1, 8, 0));
  });
  test('a window that wraps midnight', () => {
    const cfg = { startTime: '22:00:00', endTime: '06:00:00' };
    expect(sessionPeriodStart(cfg, new Date(Date.UTC(2026, 0, 2, 3, 0)))).toBe(Date.UTC(2026, 0, 1, 22, 0));
  });
});

describe('DayOrderTimeInForce', () => {
  const base = (extra: string) =>
    `[DEFAULT]\nBeginString=FIX.4.2\nSocketAcceptPort=9878\nFileStorePath=s\nFileLogPath=l\n[SESSION]\nSenderCompID=G\nTargetCompID=C\nApplication=gateway\nVenue=hashkey\n${extra}`;
  test('maps Day to a venue time in force, or rejects (the default)', () => {
    const { parseSessionSettings } = require('../../src/fix/config/session-settings');
    expect(parseSessionSettings(base('DayOrderTimeInForce=GTC\n'), '/tmp/x.cfg')[0].venue.dayOrderTimeInForce).toBe('GTC');
    expect(parseSessionSettings(base('DayOrderTimeInForce=reject\n'), '/tmp/x.cfg')[0].venue.dayOrderTimeInForce).toBeUndefined();
    expect(parseSessionSettings(base(''), '/tmp/x.cfg')[0].venue.dayOrderTimeInForce).toBeUndefined();
    expect(() => parseSessionSettings(base('DayOrderTimeInForce=DAY\n'), '/tmp/x.cfg')).toThrow(/x\.cfg:11: DayOrderTimeInForce/);
  });
});

describe('HttpAcceptPort / HttpAcceptHost (the admin endpoint)', () => {
  it('is absent unless HttpAcceptPort is set, then on loopback unless HttpAcceptHost says otherwise', () => {
    expect(parse(session())[0].admin).toBeUndefined();
    const two = parse(`[DEFAULT]\nHttpAcceptPort=9879\n${session()}\n${session('', 'OTHER')}`);
    expect(two.map((c) => c.admin)).toEqual([
      { host: '127.0.0.1', port: 9879 },
      { host: '127.0.0.1', port: 9879 },
    ]);
    expect(parse(`[DEFAULT]\nHttpAcceptPort=0\nHttpAcceptHost=0.0.0.0\n${session()}`)[0].admin).toEqual({ host: '0.0.0.0', port: 0 });
  });

  it('is valid only in [DEFAULT], one per process', () => {
    expectConfigError(session('HttpAcceptPort=9879\n'), { line: 9, key: 'HttpAcceptPort', problem: /only valid in \[DEFAULT\]/ });
    expectConfigError(`[DEFAULT]\nHttpAcceptPort=9879\n${session('HttpAcceptHost=0.0.0.0\n')}`, { line: 11, key: 'HttpAcceptHost', problem: /only valid in \[DEFAULT\]/ });
  });

  it('rejects bad values, a host without a port and a port a FIX session listens on', () => {
    expectConfigError(`[DEFAULT]\nHttpAcceptPort=http\n${session()}`, { line: 2, key: 'HttpAcceptPort', problem: /port 0-65535 \(0 = ephemeral\), got "http"/ });
    expectConfigError(`[DEFAULT]\nHttpAcceptPort=65536\n${session()}`, { line: 2, key: 'HttpAcceptPort', problem: /port 0-65535/ });
    expectConfigError(`[DEFAULT]\nHttpAcceptPort=9879\nHttpAcceptHost=bad host\n${session()}`, { line: 3, key: 'HttpAcceptHost', problem: /IP address or host name/ });
    expectConfigError(`[DEFAULT]\nHttpAcceptHost=0.0.0.0\n${session()}`, { line: 2, key: 'HttpAcceptHost', problem: /needs HttpAcceptPort/ });
    expectConfigError(`[DEFAULT]\nHttpAcceptPort=9876\n${session()}`, { line: 2, key: 'HttpAcceptPort', problem: /SocketAcceptPort of the session at line 3/ });
  });
});
