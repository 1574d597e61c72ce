// `check --config FILE`: every problem as file:line: key: problem, exit non-zero, nothing started.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { checkConfig } from '../../src/ops/check-command';
import { DICTIONARY, GATEWAY_MAIN, REPO_ROOT } from '../support/gateway-process';

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'check-'))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function runCli(...args: string[]) {
  const r = spawnSync(process.execPath, [GATEWAY_MAIN, ...args], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function write(name: string, lines: string[]): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

const BAD = [
  '[DEFAULT]', //                               1
  'BeginString=FIX.4.2', //                     2
  'SenderCompID=GATEWAY', //                    3
  'SocketAcceptPort=9878', //                   4
  'FileStorePath=store', //                     5
  'FileLogPath=log', //                         6
  `DataDictionary=${DICTIONARY}`, //            7
  'HeartBtInt=often', //                        8  bad value
  'FileLogRotateBytes=10', //                   9  too small
  '', //                                        10
  '[SESSION]', //                               11
  'TargetCompID=A', //                          12
  'Application=gateway', //                     13
  'Venue=hashkey', //                           14
  'VenueEnvironment=moon', //                   15 not the simulator: needs VenueApiKey
  'Colour=blue', //                             16 unknown key
  '', //                                        17
  '[SESSION]', //                               18 no Application
  'TargetCompID=B', //                          19
  'LogFormat=json', //                          20 process-wide key in a session
  '', //                                        21
  '[SESSION]', //                               22
  'TargetCompID=C', //                          23
  'Application=gateway', //                     24
  'Venue=zerocap', //                           25
  'VenueRestUrl=http://127.0.0.1:1/v1', //      26 not the venue's path
  'VenueWsUrl=ws://127.0.0.1:1/v2', //          27
  '', //                                        28
  '[SESSION]', //                               29
  'TargetCompID=C', //                          30 duplicate of the session at 22
  'Application=echo', //                        31
];

test('check lists every problem of a config as file:line: key: problem, in file order, and exits 2 without starting anything', () => {
  const file = write('bad.cfg', BAD);
  const r = runCli('check', '--config', file);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr.trimEnd().split('\n')).toEqual([
    `${file}:8: HeartBtInt: expected a positive integer, got "often"`,
    `${file}:9: FileLogRotateBytes: expected a size of at least 1024 bytes: a number of bytes or with K, M or G (e.g. 100M), got "10"`,
    `${file}:11: VenueApiKey: required with VenueEnvironment=moon`, // the first problem of that [SESSION]
    `${file}:16: Colour: unknown key`,
    `${file}:18: Application: required key missing from this [SESSION] and [DEFAULT]`,
    `${file}:20: LogFormat: only valid in [DEFAULT] (one per process)`,
    expect.stringMatching(new RegExp(`^${file}:26: VenueRestUrl: path "/v1" is not the venue's`)),
    `${file}:29: duplicate session FIX.4.2:GATEWAY->C (first at line 22)`,
    `${file}: 8 problems`,
  ]);
  expect(fs.readdirSync(dir)).toEqual(['bad.cfg']); // no store, no log directory
});

test('check passes the shipped sessions.cfg (all five venues and the echo session)', () => {
  const r = runCli('check', '--config', path.join(REPO_ROOT, 'sessions.cfg'));
  expect(r).toMatchObject({ code: 0, stderr: '' });
  expect(r.stdout).toBe(`${path.join(REPO_ROOT, 'sessions.cfg')}: OK (6 sessions)\n`);
});

test('check names a file it cannot read, and a usage mistake prints the usage', () => {
  const missing = path.join(dir, 'nope.cfg');
  expect(runCli('check', '--config', missing)).toMatchObject({ code: 2, stderr: `${missing}: cannot read (ENOENT)\n${missing}: 1 problem\n` });
  const r = runCli('check');
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('check: expected --config FILE');
  expect(r.stderr).toContain('usage:');
});

test('a secret reference that cannot be resolved is a problem of its line (the variable named, no value); the other sessions are checked on', () => {
  const file = write('two.cfg', [
    '[DEFAULT]',
    'BeginString=FIX.4.2',
    'SenderCompID=GW',
    'SocketAcceptPort=9878',
    'FileStorePath=store',
    'FileLogPath=log',
    `DataDictionary=${DICTIONARY}`,
    'Application=gateway',
    'Venue=hashkey',
    '[SESSION]',
    'TargetCompID=D1',
    'LogonPassword=env:CHECK_TEST_UNSET_VARIABLE',
    '[SESSION]',
    'TargetCompID=D2',
  ]);
  const { problems, sessions } = checkConfig(file, {});
  expect(sessions).toBe(1);
  expect(problems).toEqual([expect.stringMatching(new RegExp(`^${file}:12: LogonPassword: .*CHECK_TEST_UNSET_VARIABLE`))]);
});
