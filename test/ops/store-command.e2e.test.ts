// `store show|set-next-sender|set-next-target|reset`: on a real store left by a gateway child, with
// the effect checked by a FIX client after a restart; refused (store untouched) while a gateway runs.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { FixTestClient } from '../support/fix-test-client';
import { gatewayConfig, logonAndSync, nosFields, waitForMessage } from '../support/gateway-e2e';
import { buildConfig, GATEWAY_MAIN, GatewayProcess, killAllGateways, removeDir, snapshotFiles, startGatewayProcess } from '../support/gateway-process';

const dirs: string[] = [];
const clients: FixTestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await killAllGateways();
  for (const d of dirs.splice(0)) removeDir(d);
});

function storeCli(gw: GatewayProcess, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [GATEWAY_MAIN, 'store', ...args, '--config', gw.configFile], { cwd: gw.dir });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The store's files once the gateway has stopped writing to them (unchanged for 300 ms). */
async function settledFiles(dir: string): Promise<Map<string, Buffer>> {
  let last = snapshotFiles(dir);
  for (;;) {
    await new Promise((r) => setTimeout(r, 300));
    const now = snapshotFiles(dir);
    if ([...now].every(([f, b]) => last.get(f)?.equals(b)) && now.size === last.size) return now;
    last = now;
  }
}

const ECHO = buildConfig([{ SenderCompID: 'ISLD', TargetCompID: 'TW42' }]);

async function restart(gw: GatewayProcess, config: string): Promise<GatewayProcess> {
  return startGatewayProcess({ config, dir: gw.dir, ports: gw.ports });
}

test('store commands refuse while the gateway runs (store untouched), then show, set and reset the sequence numbers a client then sees', async () => {
  let gw = await startGatewayProcess({ config: ECHO });
  dirs.push(gw.dir);
  const c = await FixTestClient.connect({ port: gw.port });
  clients.push(c);
  await c.logon({ heartBtInt: 30 });
  c.send('0');
  c.send('0');
  await c.logout();

  // While it runs: refused, naming it; nothing on disk changes.
  const before = await settledFiles(gw.storeDir); // the gateway persists the logout's seqnums after it
  for (const action of [['show'], ['reset'], ['set-next-sender', '5']]) {
    const r = await storeCli(gw, ...action, '--session', 'TW42');
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`store: refused: FileStorePath ${gw.storeDir} is in use by pid ${gw.child.pid} (gateway, started `);
  }
  expect(snapshotFiles(gw.storeDir)).toEqual(before);
  await gw.stop();

  const show = await storeCli(gw, 'show', '--session', 'TW42');
  expect(show).toMatchObject({ code: 0, stderr: '' });
  expect(show.stdout).toContain('session        FIX.4.2:ISLD->TW42 (client SenderCompID TW42, TargetCompID ISLD)');
  expect(show.stdout).toContain(`next sender    ${c.expectedSeqNum} `);
  expect(show.stdout).toContain(`next target    ${c.nextSeqNum} `);

  // Numbers agreed with the counterparty: ours 100, theirs 7.
  expect((await storeCli(gw, 'set-next-sender', '100', '--session', 'FIX.4.2:ISLD->TW42')).code).toBe(0);
  const setTarget = await storeCli(gw, 'set-next-target', '7', '--session', 'FIX.4.2-ISLD-TW42');
  expect(setTarget.code).toBe(0);
  expect(setTarget.stdout).toContain(`next target seqnum ${c.nextSeqNum} -> 7`);
  expect(fs.readFileSync(path.join(gw.dir, 'log', 'FIX.4.2-ISLD-TW42.event.log'), 'utf8')).toMatch(/ : next sender seqnum \d+ -> 100 \(store set-next-sender\)\n.* : next target seqnum \d+ -> 7 \(store set-next-target\)\n$/);

  gw = await restart(gw, ECHO);
  const c2 = await FixTestClient.connect({ port: gw.port, nextSeqNum: 7, expectedSeqNum: 100 });
  clients.push(c2);
  expect((await c2.logon({ heartBtInt: 30 })).seqNum).toBe(100);
  await c2.logout();
  expect(c2.gaps).toEqual([]);
  expect(c2.received.filter((m) => m.msgType === '2')).toEqual([]); // no ResendRequest: 7 was expected
  await gw.stop();

  const reset = await storeCli(gw, 'reset', '--session', 'TW42');
  expect(reset.code).toBe(0);
  expect(reset.stdout).toMatch(/sequence numbers reset to 1\/1 \(store reset\)\n\n[^]*next sender    1 [^]*next target    1 /);
  gw = await restart(gw, ECHO);
  const c3 = await FixTestClient.connect({ port: gw.port });
  clients.push(c3);
  expect((await c3.logon({ heartBtInt: 30 })).seqNum).toBe(1);
  await c3.logout();
}, 90_000);

test('store: an unknown session lists the known ones; a bad sequence number is refused; both exit 2 and change nothing', async () => {
  const gw = await startGatewayProcess({ config: ECHO });
  dirs.push(gw.dir);
  await gw.stop();
  const before = snapshotFiles(gw.storeDir);
  const unknown = await storeCli(gw, 'show', '--session', 'NOPE');
  expect(unknown).toMatchObject({ code: 2, stderr: 'store: no session "NOPE" in the config; sessions: FIX.4.2:ISLD->TW42\n' });
  const bad = await storeCli(gw, 'set-next-sender', '0', '--session', 'TW42');
  expect(bad).toMatchObject({ code: 2, stderr: 'store: store set-next-sender needs a sequence number (1..4294967295), got "0"\n' });
  expect(snapshotFiles(gw.storeDir)).toEqual(before);
}, 30_000);

test('store reset of a gateway session: the reports the client has not provably read come again after the restart, with every open order restated', async () => {
  const config = gatewayConfig();
  let gw = await startGatewayProcess({ config });
  dirs.push(gw.dir);
  const c = await FixTestClient.connect({ port: gw.port, senderCompId: 'QFCLIENT', targetCompId: 'GATEWAY' });
  clients.push(c);
  await c.logon({ heartBtInt: 30 });
  c.send('D', nosFields('REST-1', { qty: '0.001', price: '50000' }));
  const ack = await waitForMessage(c, (m) => m.msgType === '8' && m.get(11) === 'REST-1' && m.get(150) === '0');
  await c.logout(); // the client never proved it read the ack (no TestRequest answered)
  await gw.stop();

  const reset = await storeCli(gw, 'reset', '--session', 'QFCLIENT');
  expect(reset.code).toBe(0);
  expect(reset.stdout).toMatch(/sequence numbers reset to 1\/1 \(store reset\); [1-9]\d* application messages not proven delivered are sent again after the next start/);

  gw = await restart(gw, config);
  const c2 = await FixTestClient.connect({ port: gw.port, senderCompId: 'QFCLIENT', targetCompId: 'GATEWAY' });
  clients.push(c2);
  // At its start the gateway stored them (the new sequence's first messages): the Logon shows the
  // gap and the client's ResendRequest fetches them.
  const { resent } = await logonAndSync(c2);
  expect(resent.length).toBeGreaterThanOrEqual(2);
  const again = await waitForMessage(c2, (m) => m.msgType === '8' && m.get(17) === ack.get(17));
  expect(again.get(97)).toBe('Y');
  const restated = await waitForMessage(c2, (m) => m.msgType === '8' && m.get(11) === 'REST-1' && m.get(150) === 'D');
  expect(restated.get(39)).toBe('0');
  await c2.logout();
}, 90_000);
