// sessions.cfg keys that bound what one connection can cost: LogonTimeout, the logon throttle,
// MaxMessageSize, MaxOutboundBuffer.
import * as path from 'path';
import { parseSessionSettings } from '../../src/fix/config/session-settings';

const DICT = path.resolve(__dirname, '../../dictionaries/FIX42.xml');
const FILE = path.join(path.resolve(__dirname), 'sessions.cfg');

function cfg(defaults: string, ...sessions: string[]): string {
  return [
    `[DEFAULT]\nBeginString=FIX.4.2\nSenderCompID=GW\nSocketAcceptPort=9000\nFileStorePath=s\nFileLogPath=l\nDataDictionary=${DICT}\nApplication=echo\n${defaults}`,
    ...sessions.map((s) => `[SESSION]\n${s}`),
  ].join('\n');
}

test('defaults: LogonTimeout 10 s, 10 refused logons in 60 s → 60 s back-off, MaxMessageSize 64 KiB, MaxOutboundBuffer 16 MiB', () => {
  const [c] = parseSessionSettings(cfg('', 'TargetCompID=A'), FILE, {});
  expect(c.logonTimeoutSeconds).toBe(10);
  expect(c.logonThrottle).toEqual({ failureLimit: 10, windowSeconds: 60, backoffSeconds: 60 });
  expect(c.maxMessageSize).toBe(65536);
  expect(c.maxOutboundBuffer).toBe(16 * 1024 * 1024);
});

test('set in [DEFAULT] or per session', () => {
  const [a, b] = parseSessionSettings(
    cfg('LogonTimeout=2\nLogonFailureLimit=0\nLogonFailureWindow=5\nLogonFailureBackoff=7', 'TargetCompID=A\nMaxMessageSize=4096', 'TargetCompID=B\nMaxOutboundBuffer=1048576'),
    FILE,
    {},
  );
  expect([a.logonTimeoutSeconds, a.logonThrottle, a.maxMessageSize]).toEqual([2, { failureLimit: 0, windowSeconds: 5, backoffSeconds: 7 }, 4096]);
  expect(b.maxOutboundBuffer).toBe(1048576);
});

test('sessions sharing a port must agree on the port settings (the throttle and LogonTimeout belong to the port)', () => {
  expect(() => parseSessionSettings(cfg('', 'TargetCompID=A', 'TargetCompID=B\nLogonFailureLimit=3'), FILE, {})).toThrow(
    /LogonFailureLimit: sessions sharing SocketAcceptPort 9000 must share LogonFailureLimit/,
  );
  expect(() => parseSessionSettings(cfg('', 'TargetCompID=A', 'TargetCompID=B\nLogonTimeout=3\nSocketAcceptPort=9001'), FILE, {})).not.toThrow();
});

test.each([
  ['MaxMessageSize=100', /MaxMessageSize: expected a size in bytes, 1024-16777216/],
  ['MaxOutboundBuffer=10', /MaxOutboundBuffer: expected a size in bytes/],
  ['LogonTimeout=0', /LogonTimeout: expected a positive integer/],
  ['LogonFailureLimit=-1', /LogonFailureLimit: expected a number of refused logons/],
])('%s is refused', (line, err) => {
  expect(() => parseSessionSettings(cfg(line, 'TargetCompID=A'), FILE, {})).toThrow(err);
});
