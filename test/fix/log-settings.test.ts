// The log keys of sessions.cfg: FileLogRotateBytes, FileLogRotateDaily, LogFormat.
import * as path from 'path';
import { ConfigError, parseByteSize, parseSessionSettings } from '../../src/fix/config/session-settings';
import { DICTIONARY, REPO_ROOT } from '../support/gateway-process';

const parse = (defaults: string, session = '') =>
  parseSessionSettings(
    `[DEFAULT]\nBeginString=FIX.4.2\nSenderCompID=GW\nSocketAcceptPort=9878\nFileStorePath=s\nFileLogPath=l\nDataDictionary=${DICTIONARY}\nApplication=echo\n${defaults}\n[SESSION]\nTargetCompID=C\n${session}`,
    path.join(REPO_ROOT, 't.cfg'),
  );

test('FileLogRotateBytes takes bytes or K/M/G (binary), at least 1024; a session may override it', () => {
  expect([parseByteSize('1024'), parseByteSize('512K'), parseByteSize('100M'), parseByteSize('1G'), parseByteSize('1.5M'), parseByteSize('10 M')]).toEqual([
    1024,
    512 * 1024,
    100 * 1024 * 1024,
    1024 ** 3,
    undefined,
    undefined,
  ]);
  expect(parse('FileLogRotateBytes=100M')[0].fileLogRotateBytes).toBe(100 * 1024 * 1024);
  expect(parse('FileLogRotateBytes=100M', 'FileLogRotateBytes=2048')[0].fileLogRotateBytes).toBe(2048);
  expect(parse('')[0].fileLogRotateBytes).toBeUndefined();
  expect(() => parse('FileLogRotateBytes=1023')).toThrow(/t\.cfg:9: FileLogRotateBytes: expected a size of at least 1024 bytes/);
  expect(() => parse('FileLogRotateBytes=lots')).toThrow(ConfigError);
});

test('FileLogRotateDaily is Y or N, default N', () => {
  expect(parse('')[0].fileLogRotateDaily).toBe(false);
  expect(parse('FileLogRotateDaily=Y')[0].fileLogRotateDaily).toBe(true);
  expect(() => parse('FileLogRotateDaily=yes')).toThrow(/FileLogRotateDaily: expected Y or N, got "yes"/);
});

test('LogFormat is pretty or json, in [DEFAULT] only; absent leaves it to the terminal test', () => {
  expect(parse('')[0].logFormat).toBeUndefined();
  expect(parse('LogFormat=json')[0].logFormat).toBe('json');
  expect(parse('LogFormat=pretty')[0].logFormat).toBe('pretty');
  expect(() => parse('LogFormat=text')).toThrow(/LogFormat: expected pretty or json, got "text"/);
  expect(() => parse('', 'LogFormat=json')).toThrow(/t\.cfg:12: LogFormat: only valid in \[DEFAULT\] \(one per process\)/);
});
