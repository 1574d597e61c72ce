// FileLogRotateBytes on a real gateway: the FIX message log of a busy session is spread over several
// files, none above the limit, and read in name order they hold every message once, whole, in order.
import * as fs from 'fs';
import * as path from 'path';
import { FixTestClient } from '../support/fix-test-client';
import { buildConfig, killAllGateways, removeDir, startGatewayProcess } from '../support/gateway-process';

const dirs: string[] = [];
afterEach(async () => {
  await killAllGateways();
  for (const d of dirs.splice(0)) removeDir(d);
});

test('the message and event logs rotate by size without losing or splitting a line', async () => {
  const gw = await startGatewayProcess({ config: buildConfig([{ SenderCompID: 'ISLD', TargetCompID: 'TW42' }], { FileLogRotateBytes: '4K' }) });
  dirs.push(gw.dir);
  const c = await FixTestClient.connect({ port: gw.port });
  await c.logon({ heartBtInt: 30 });
  const N = 300;
  for (let i = 0; i < N; i++) c.send('1', [[112, `T${i}`]]); // each answered by a Heartbeat
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('heartbeats missing')), 15_000);
    const check = () => {
      if (c.received.filter((m) => m.msgType === '0').length >= N) {
        clearTimeout(t);
        resolve();
      } else setTimeout(check, 20);
    };
    check();
  });
  await c.logout();
  c.destroy();
  await gw.stop();

  const logDir = path.join(gw.dir, 'log');
  const inOrder = (stem: string) => {
    const rotated = fs
      .readdirSync(logDir)
      .filter((n) => n.startsWith(`${stem}.`) && n !== `${stem}.log`)
      .sort((a, b) => {
        const [, da, na] = /\.(\d{4}-\d\d-\d\d)\.(\d+)\.log$/.exec(a)!;
        const [, db, nb] = /\.(\d{4}-\d\d-\d\d)\.(\d+)\.log$/.exec(b)!;
        return da === db ? Number(na) - Number(nb) : da < db ? -1 : 1;
      });
    return [...rotated, `${stem}.log`].map((n) => fs.readFileSync(path.join(logDir, n), 'latin1'));
  };
  const files = inOrder('FIX.4.2-ISLD-TW42.messages');
  expect(files.length).toBeGreaterThan(10);
  for (const f of files) {
    expect(Buffer.byteLength(f, 'latin1')).toBeLessThanOrEqual(4096);
    expect(f === '' || f.endsWith('\n')).toBe(true);
  }
  const lines = files.join('').split('\n').slice(0, -1);
  for (const l of lines) expect(l).toMatch(/^\d{8}-\d\d:\d\d:\d\d\.\d{3} : [<>] 8=FIX\.4\.2\x01.*\x0110=\d{3}\x01$/);
  const seqs = (dir: '<' | '>') => lines.filter((l) => l.includes(` : ${dir} `)).map((l) => Number(/\x0134=(\d+)\x01/.exec(l)![1]));
  const inbound = seqs('<');
  expect(inbound).toEqual(Array.from({ length: N + 2 }, (_, i) => i + 1)); // Logon, N TestRequests, Logout
  const outbound = seqs('>');
  expect(outbound).toEqual(Array.from({ length: outbound.length }, (_, i) => i + 1));
  expect(outbound.length).toBe(N + 2);

  const events = inOrder('FIX.4.2-ISLD-TW42.event').join('');
  expect(events).toContain('Created session');
}, 60_000);
