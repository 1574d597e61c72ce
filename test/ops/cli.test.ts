// The command line a newcomer meets: --help, the start-up banner, readable or JSON logs.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parseSessionSettings } from '../../src/fix/config/session-settings';
import { renderBanner } from '../../src/ops/banner';
import { STORE_ACTIONS } from '../../src/ops/store-command';
import { buildConfig, DICTIONARY, GATEWAY_MAIN, GatewayProcess, killAllGateways, removeDir, REPO_ROOT, spawnGateway, startGatewayProcess } from '../support/gateway-process';

const dirs: string[] = [];
afterEach(async () => {
  await killAllGateways();
  for (const d of dirs.splice(0)) removeDir(d);
});

function runCli(...args: string[]) {
  const r = spawnSync(process.execPath, [GATEWAY_MAIN, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every `--option` a source file reads from its arguments. */
function optionsReadBy(file: string): string[] {
  const src = fs.readFileSync(path.join(REPO_ROOT, file), 'utf8');
  return [...new Set([...src.matchAll(/'(--[a-z][a-z-]*)'/g)].map((m) => m[1]))].sort();
}

test('--help lists every command and every option the commands read', () => {
  for (const args of [['--help'], ['-h'], ['help']]) {
    const r = runCli(...args);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    for (const command of ['check --config FILE', 'simulate --venue NAME', '[--config FILE]']) expect(r.stdout).toContain(`node dist/main.js ${command}`);
    for (const action of STORE_ACTIONS) expect(r.stdout).toMatch(new RegExp(`node dist/main.js store ${action}( N)? --config FILE --session ID`));
    const options = [...optionsReadBy('src/ops/cli.ts'), ...optionsReadBy('src/ops/store-command.ts')];
    expect(options).toEqual(expect.arrayContaining(['--config', '--session', '--help']));
    for (const o of options) expect(r.stdout).toContain(o);
  }
});

test('simulate --help lists every option simulate reads, and every venue', () => {
  const r = runCli('simulate', '--help');
  expect(r).toMatchObject({ code: 0, stderr: '' });
  const options = optionsReadBy('src/wiring.ts');
  expect(options.length).toBeGreaterThanOrEqual(8);
  for (const o of options) expect(r.stdout).toContain(o);
  for (const venue of ['hashkey', 'zerocap', 'dzengi', 'apifiny', 'coinut']) expect(r.stdout).toContain(venue);
});

test('an unknown command or option is refused with the usage (exit 2), nothing started', () => {
  for (const args of [['serve'], ['--config', 'sessions.cfg', '--verbose']]) {
    const r = runCli(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^unknown (command "serve"|option "--verbose")\n\nFIX 4.2 venue gateway\n\nusage:/);
  }
});

const BANNER_SESSIONS = [
  { SenderCompID: 'GATEWAY', TargetCompID: 'QFCLIENT', Application: 'gateway', Venue: 'hashkey', VenueEnvironment: 'simulator' },
  { SenderCompID: 'GATEWAY', TargetCompID: 'ECHO' },
];

test('with readable logs (LogFormat=pretty) the banner names, per session, the endpoint, the CompIDs the client uses, venue, environment and transport', async () => {
  const gw = await spawnGateway({ config: buildConfig(BANNER_SESSIONS, { LogFormat: 'pretty' }) });
  dirs.push(gw.dir);
  await waitForStdout(gw, /Stop with Ctrl-C/);
  expect(gw.stdoutLines).toEqual(
    expect.arrayContaining([
      `FIX venue gateway running (pid ${gw.child.pid}, config ${gw.configFile})`,
      expect.stringMatching(/^ {2}FIX endpoint +client SenderCompID +client TargetCompID +venue +environment +transport$/),
      expect.stringMatching(new RegExp(`^  127\\.0\\.0\\.1:${gw.port} +QFCLIENT +GATEWAY +hashkey +simulator +plain$`)),
      expect.stringMatching(new RegExp(`^  127\\.0\\.0\\.1:${gw.port} +ECHO +GATEWAY +\\(echo application\\) +- +plain$`)),
    ]),
  );
});

test('with JSON logs (stdout not a terminal) stdout holds only JSON lines: the banner\'s facts are one structured "sessions" log line', async () => {
  const gw = await startGatewayProcess({ config: buildConfig(BANNER_SESSIONS) });
  dirs.push(gw.dir);
  const entry = await gw.waitForLog((e) => e.msg === 'sessions');
  expect(entry).toMatchObject({
    level: 30,
    sessions: [
      { endpoint: `127.0.0.1:${gw.port}`, clientSenderCompId: 'QFCLIENT', clientTargetCompId: 'GATEWAY', venue: 'hashkey', environment: 'simulator', transport: 'plain' },
      { endpoint: `127.0.0.1:${gw.port}`, clientSenderCompId: 'ECHO', clientTargetCompId: 'GATEWAY', application: 'echo', transport: 'plain' },
    ],
  });
  await gw.stop();
  // Every stdout line is a JSON log line (a log collector reads them all), the banner text in none.
  expect(gw.stdoutLines.filter((l) => l !== '')).toEqual(gw.stdoutLines.filter((l) => l.startsWith('{')));
  for (const l of gw.stdoutLines.filter((x) => x !== '')) expect(JSON.parse(l)).toHaveProperty('level');
  expect(gw.stdoutLines.join('\n')).not.toContain('client SenderCompID');
});

test('with HttpAcceptPort=0 (ephemeral) the banner and the sessions line show the status page on the port actually bound, not :0', async () => {
  // SocketAcceptPort must be a real port (the settings check refuses 0); the admin port may be 0.
  const pretty = await spawnGateway({ config: buildConfig([{ SenderCompID: 'ISLD', TargetCompID: 'TW42' }], { LogFormat: 'pretty', HttpAcceptPort: 0 }) });
  dirs.push(pretty.dir);
  await waitForStdout(pretty, /Stop with Ctrl-C/);
  const status = pretty.stdoutLines.find((l) => l.startsWith('Status page: '));
  const url = /^Status page: (http:\/\/127\.0\.0\.1:(\d+)\/) /.exec(status ?? '');
  expect(url).not.toBeNull();
  expect(Number(url![2])).toBeGreaterThan(0);
  expect((await fetch(`${url![1]}health`)).status).toBe(200);
  await pretty.stop();

  const json = await spawnGateway({ config: buildConfig([{ SenderCompID: 'ISLD', TargetCompID: 'TW42' }], { HttpAcceptPort: 0 }) });
  dirs.push(json.dir);
  const entry = await json.waitForLog((e) => e.msg === 'sessions');
  expect(entry.statusPage).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  expect(entry.statusPage).not.toBe('http://127.0.0.1:0/');
  expect((await fetch(`${entry.statusPage}health`)).status).toBe(200);
});

function waitForStdout(gw: GatewayProcess, re: RegExp, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (gw.stdoutLines.some((l) => re.test(l))) return resolve();
      if (!gw.running || Date.now() > deadline) return reject(new Error(`${re} not seen\n${gw.describe()}`));
      setTimeout(tick, 50);
    };
    tick();
  });
}

test('LogFormat=pretty makes the log readable lines even on a pipe; LogFormat=json keeps JSON', async () => {
  const pretty = await spawnGateway({ config: buildConfig([{ SenderCompID: 'ISLD', TargetCompID: 'TW42' }], { LogFormat: 'pretty' }) });
  dirs.push(pretty.dir);
  await waitForStdout(pretty, /gateway started/);
  const started = pretty.stdoutLines.find((l) => l.includes('gateway started'))!;
  expect(started).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] INFO \(\d+\): gateway started/);
  expect(pretty.stdoutLines.filter((l) => l.startsWith('{'))).toEqual([]);
  expect(started).not.toMatch(/\x1b\[/); // no colour codes into a pipe
  await pretty.stop();

  const json = await startGatewayProcess({ config: buildConfig([{ SenderCompID: 'ISLD', TargetCompID: 'TW42' }], { LogFormat: 'json' }) });
  dirs.push(json.dir);
  expect(json.logs().find((e) => e.msg === 'gateway started')).toBeDefined();
});

test('renderBanner: TLS sessions and the status page when the config has them', () => {
  const configs = parseSessionSettings(
    buildConfig([{ SenderCompID: 'GW', TargetCompID: 'DESK1' }], { SocketAcceptPort: 9878, DataDictionary: DICTIONARY }),
    path.join(REPO_ROOT, 'x.cfg'),
  );
  const plain = renderBanner(configs, { configFile: 'x.cfg', pid: 1 });
  expect(plain).toMatch(/127\.0\.0\.1:9878 +DESK1 +GW +\(echo application\) +- +plain\n/);
  expect(plain).not.toContain('Status page');
  const withTlsAndAdmin = configs.map((c) => ({ ...c, tls: {}, admin: { host: '0.0.0.0', port: 9879 } }));
  const text = renderBanner(withTlsAndAdmin, { configFile: 'x.cfg', pid: 1 });
  expect(text).toMatch(/127\.0\.0\.1:9878 +DESK1 +GW +\(echo application\) +- +TLS\n/);
  expect(text).toContain('Status page: http://127.0.0.1:9879/');
});

test('renderBanner: a session configured on port 0 (ephemeral, e.g. an embedding test) shows the port the acceptor bound, never :0', () => {
  const configs = parseSessionSettings(
    buildConfig([{ SenderCompID: 'GW', TargetCompID: 'DESK1' }], { SocketAcceptPort: 9878, DataDictionary: DICTIONARY }),
    path.join(REPO_ROOT, 'x.cfg'),
  ).map((c) => ({ ...c, acceptPort: 0 }));
  const endpoints = [{ host: '127.0.0.1', port: 40123, sessions: [configs[0].sessionId] }];
  const text = renderBanner(configs, { configFile: 'x.cfg', pid: 1, endpoints });
  expect(text).toMatch(/\n {2}127\.0\.0\.1:40123 +DESK1 +GW /);
  expect(text).not.toContain(':0 ');
});

test('createLogger: readable coloured lines on a terminal, JSON lines elsewhere, LogFormat overrides both ways', async () => {
  const { PassThrough } = await import('stream');
  const { createLogger } = await import('../../src/ops/cli');
  const capture = (isTTY: boolean, format?: 'pretty' | 'json') => {
    const out = Object.assign(new PassThrough(), { isTTY }) as unknown as NodeJS.WriteStream;
    let text = '';
    (out as unknown as PassThrough).on('data', (d) => (text += d));
    createLogger(format, out).info({ session: 'S1' }, 'hello');
    return new Promise<string>((r) => setImmediate(() => r(text)));
  };
  expect(await capture(true)).toMatch(/INFO.*\(\d+\):.*hello.*S1/);
  expect(await capture(true)).toMatch(/\x1b\[/);
  expect(JSON.parse(await capture(false))).toMatchObject({ msg: 'hello', session: 'S1' });
  expect(JSON.parse(await capture(true, 'json'))).toMatchObject({ msg: 'hello' });
  expect(await capture(false, 'pretty')).toMatch(/^\[.*\] INFO \(\d+\): hello \{"session":"S1"\}\n$/);
});
