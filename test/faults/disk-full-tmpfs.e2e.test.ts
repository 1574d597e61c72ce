// The store's file system fills up under a live gateway child, or is read-only (FIX over TCP, the
// HashKey simulator as a separate process). Real kernel errors: the store and the logs are on
// a small tmpfs this test mounts (root only; without root or mount(8) the suite is skipped and says
// so: test/gateway/gateway-storage-failure.test.ts covers the same policy with injected ENOSPC).
// Checked: no order reaches the venue that the book did not record first; the client gets a
// 150=8 with a Text; the session stays logged on; nothing on disk is damaged (a restart replays
// every store); and once space returns orders go through again without a restart. A read-only
// store (remounted ro while the gateway is down: tmpfs cannot turn ro under open files) stops
// start-up with the path and EROFS; one that turns read-only while running (EROFS injected at the
// store's writes, the last test, which needs no root) loses nothing across a restart.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FixMsg, FixTestClient } from '../support/fix-test-client';
import { GatewayProcess, killAllGateways, removeDir, snapshotFiles, spawnGateway, startGatewayProcess } from '../support/gateway-process';
import {
  CLIENT_COMP_ID,
  GATEWAY_COMP_ID,
  SimulatorProcess,
  autoAnswerResendRequests,
  gatewayConfig,
  killAllSimulators,
  logonAndSync,
  nosFields,
  startSimulatorProcess,
  waitForMessage,
} from '../support/gateway-e2e';

jest.setTimeout(60_000);

const MOUNT_SIZE = '4m';

function tryMountTmpfs(): string | undefined {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${MOUNT_SIZE}`, 'tmpfs', dir], { stdio: 'pipe' });
    return dir;
  } catch {
    fs.rmdirSync(dir);
    return undefined;
  }
}

const mnt = tryMountTmpfs();
const describeTmpfs = mnt ? describe : describe.skip;
if (!mnt) console.warn('disk-full-tmpfs: skipped (needs root and mount -t tmpfs)');

let sim: SimulatorProcess;
let gw: GatewayProcess | undefined;
let workDir: string;
const clients: FixTestClient[] = [];

/** Writes zeros into `file` until the file system refuses (ENOSPC). */
function fillUp(file: string): void {
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    fs.closeSync(fd);
  }
  // The last partial block too.
  const small = Buffer.alloc(512);
  const fd2 = fs.openSync(file, 'a');
  try {
    for (;;) fs.writeSync(fd2, small);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    fs.closeSync(fd2);
  }
}

beforeAll(async () => {
  if (!mnt) return;
  sim = await startSimulatorProcess({ venue: 'hashkey' });
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await killAllGateways();
  if (mnt) for (const e of fs.readdirSync(mnt)) fs.rmSync(path.join(mnt, e), { recursive: true, force: true });
  if (workDir) removeDir(workDir);
});

afterAll(async () => {
  await killAllSimulators();
  if (mnt) {
    try {
      execFileSync('mount', ['-o', 'remount,rw', mnt], { stdio: 'pipe' });
    } catch {
      /* not remounted */
    }
    execFileSync('umount', [mnt], { stdio: 'pipe' });
    fs.rmdirSync(mnt);
  }
});

async function startOnTmpfs(): Promise<{ gw: GatewayProcess; client: FixTestClient }> {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-e2e-'));
  gw = await startGatewayProcess({
    dir: workDir,
    config: gatewayConfig(
      { VenueRestUrl: sim.restUrl, VenueWsUrl: sim.wsUrl },
      { FileStorePath: path.join(mnt!, 'store'), FileLogPath: path.join(mnt!, 'log') },
    ),
  });
  await gw.waitForLog((e) => e.msg === 'venue ready');
  const client = await FixTestClient.connect({ port: gw.port, senderCompId: CLIENT_COMP_ID, targetCompId: GATEWAY_COMP_ID });
  clients.push(client);
  autoAnswerResendRequests(client);
  await client.logon({ heartBtInt: 1 });
  client.autoAnswerTestRequest = true;
  return { gw, client };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** OrderIDs (37) the client was told of (150=0): every venue order must be one of them. */
function acknowledgedOrderIds(client: FixTestClient): Set<string> {
  return new Set(client.received.filter((m) => m.msgType === '8' && m.get(150) === '0').map((m) => m.get(37)!));
}

describeTmpfs('store on a tmpfs (real ENOSPC)', () => {
  test('full disk (tmpfs, real ENOSPC): new orders refused with 150=8 + Text and never sent to the venue, fills still recorded, session stays up, recovers when space returns, restart finds the store intact', async () => {
    const { gw, client } = await startOnTmpfs();
    const nos = (id: string, price = '50000') => nosFields(id, { qty: '0.001', price });
    client.send('D', nos('DF-OK1'));
    await waitForMessage(client, (m) => m.get(11) === 'DF-OK1' && m.get(150) === '0');

    const filler = path.join(mnt!, 'filler');
    fillUp(filler);
    // The files' last pages may still have room: orders go through until a write needs a new page.
    let rej: FixMsg | undefined;
    for (let i = 1; i <= 200 && !rej; i++) {
      const id = `DF-FULL${i}`;
      client.send('D', nos(id, '49000'));
      const r = await waitForMessage(client, (m) => m.get(11) === id && m.msgType === '8', { timeoutMs: 10_000 });
      if (r.get(150) === '8') rej = r;
    }
    if (!rej) throw new Error('no order refused on a full disk');
    expect([rej.get(39), rej.get(103)]).toEqual(['8', '0']);
    expect(rej.get(58)).toMatch(/^gateway storage failure: ENOSPC/);
    await gw.waitForLog((e) => e.msg === 'store file system full: reserve released so sessions stay up; new orders are refused until it has room again');
    // Every later order is refused the same way, at once.
    client.send('D', nos('DF-FULL-AGAIN', '49000'));
    const again = await waitForMessage(client, (m) => m.get(11) === 'DF-FULL-AGAIN' && m.msgType === '8');
    expect([again.get(150), again.get(58)]).toEqual(['8', "gateway storage failure: ENOSPC (the store's file system is full: new orders are refused until it has room again)"]);
    // A fill of a live order is still recorded and reported.
    await sim.control.trade({ symbol: 'BTCUSDT', side: 'sell', qty: '0.001', price: '50000' });
    await waitForMessage(client, (m) => m.get(11) === 'DF-OK1' && m.get(150) === '2', { timeoutMs: 10_000 });
    // Heartbeats go on (HeartBtInt 1, TestRequests answered): still logged on after a few intervals.
    await sleep(3000);
    expect(client.closedNow).toBe(false);
    client.send('1', [[112, 'full-but-alive']]);
    await waitForMessage(client, (m) => m.msgType === '0' && m.get(112) === 'full-but-alive');
    // No order at the venue that the client was not told of (the book records before placing).
    const known = acknowledgedOrderIds(client);
    for (const o of await sim.control.orders()) expect(known).toContain(o.orderId);

    fs.rmSync(filler);
    await gw.waitForLog((e) => e.msg === 'store file system has room again: reserve restored, orders accepted', 5000);
    client.send('D', nos('DF-OK2'));
    await waitForMessage(client, (m) => m.get(11) === 'DF-OK2' && m.get(150) === '0', { timeoutMs: 10_000 });
    expect(gw.running).toBe(true);

    // Nothing on disk is damaged: a restart replays every store, and the session goes on.
    await client.logout();
    await gw.stop();
    const again2 = await startGatewayProcess({ dir: workDir, ports: gw.ports, config: fs.readFileSync(gw.configFile, 'utf8') });
    expect(again2.logs().some((e) => e.msg === 'store recovered')).toBe(false);
    await client.reconnect(again2.port);
    await logonAndSync(client);
    client.send('H', [[11, 'DF-OK2'], [54, '1'], [55, 'BTCUSDT']]);
    const status = await waitForMessage(client, (m) => m.get(11) === 'DF-OK2' && m.get(20) === '3');
    expect(status.get(39)).toBe('0');
    for (const o of await sim.control.orders()) expect(acknowledgedOrderIds(client)).toContain(o.orderId);
  });

  test('read-only store (tmpfs remounted ro, real EROFS): the gateway refuses to start, naming the store and the error, and changes nothing; writable again, it starts with everything intact', async () => {
    const { gw, client } = await startOnTmpfs();
    client.send('D', nosFields('RO-1', { qty: '0.001', price: '50000' }));
    await waitForMessage(client, (m) => m.get(11) === 'RO-1' && m.get(150) === '0');
    await client.logout();
    await gw.stop();
    const config = fs.readFileSync(gw.configFile, 'utf8');
    const before = snapshotFiles(mnt!);
    execFileSync('mount', ['-o', 'remount,ro', mnt!], { stdio: 'pipe' });
    try {
      const ro = await spawnGateway({ dir: workDir, ports: gw.ports, config });
      const exit = await ro.waitExit(15_000);
      expect(exit.code).not.toBe(0);
      expect(ro.stderr + ro.stdoutLines.join('\n')).toMatch(/EROFS/);
      expect(ro.stderr + ro.stdoutLines.join('\n')).toContain(mnt!);
    } finally {
      execFileSync('mount', ['-o', 'remount,rw', mnt!], { stdio: 'pipe' });
    }
    expect(snapshotFiles(mnt!)).toEqual(before);
    const rw = await startGatewayProcess({ dir: workDir, ports: gw.ports, config });
    expect(rw.logs().some((e) => e.msg === 'store recovered')).toBe(false);
    await client.reconnect(rw.port);
    await logonAndSync(client);
    client.send('H', [[11, 'RO-1'], [54, '1'], [55, 'BTCUSDT']]);
    expect((await waitForMessage(client, (m) => m.get(11) === 'RO-1' && m.get(20) === '3')).get(39)).toBe('0');
  });
});


// A store that turns read-only while the gateway runs: EROFS injected at the store's write calls
// (test/support/fail-writes-preload.js), since the kernel cannot do it under open files.
test('store turns read-only while running (EROFS injected at the store write calls): no unrecorded order reaches the venue, the gateway stops (exit 70), and after a restart on a writable store the order is not lost', async () => {
  const s = await startSimulatorProcess({ venue: 'hashkey' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-e2e-'));
  const flag = path.join(dir, 'fail-writes');
  const env = {
    NODE_OPTIONS: `--require ${path.join(__dirname, '..', 'support', 'fail-writes-preload.js')}`,
    FIX_E2E_FAIL_WRITES_FLAG: flag,
    FIX_E2E_FAIL_WRITES_DIR: path.join(dir, 'store'),
  };
  try {
    const config = gatewayConfig({ VenueRestUrl: s.restUrl, VenueWsUrl: s.wsUrl });
    const g = await startGatewayProcess({ dir, config, env });
    await g.waitForLog((e) => e.msg === 'venue ready');
    const c = await FixTestClient.connect({ port: g.port, senderCompId: CLIENT_COMP_ID, targetCompId: GATEWAY_COMP_ID });
    clients.push(c);
    autoAnswerResendRequests(c);
    await c.logon({ heartBtInt: 1 });
    c.autoAnswerTestRequest = true;
    c.send('D', nosFields('ROL-1', { qty: '0.001', price: '50000' }));
    await waitForMessage(c, (m) => m.get(11) === 'ROL-1' && m.get(150) === '0');

    fs.writeFileSync(flag, 'EROFS');
    c.send('D', nosFields('ROL-2', { qty: '0.001', price: '50000' }));
    // A write that fails and cannot be cut back either stops the journal: the gateway stops (fail-stop,
    // exit 70, as databases do on a failed fsync) rather than serve a session that can store nothing.
    const exit = await g.waitExit(15_000);
    expect(exit.code).toBe(70);
    expect(g.logs().some((e) => e.msg === 'session journal stopped: nothing more can be stored')).toBe(true);
    expect(c.received.filter((m) => m.get(11) === 'ROL-2')).toEqual([]); // nothing can be stored, so nothing is sent
    expect((await s.control.orders()).length).toBe(1); // ROL-1 only
    await c.waitClosed(5000);

    fs.rmSync(flag);
    const again = await startGatewayProcess({ dir, ports: g.ports, config, env });
    await again.waitForLog((e) => e.msg === 'venue ready');
    await c.reconnect(again.port);
    await logonAndSync(c);
    // The gateway never accepted ROL-2 (its target seqnum waited for it): it asks for it again, and places it now.
    await waitForMessage(c, (m) => m.get(11) === 'ROL-2' && m.msgType === '8' && m.get(150) === '0', { timeoutMs: 10_000 });
    expect(c.received.filter((m) => m.get(11) === 'ROL-2' && m.get(150) === '8')).toEqual([]);
    const venue = await s.control.orders();
    const acked = acknowledgedOrderIds(c);
    for (const o of venue) expect(acked).toContain(o.orderId);
    expect(venue.length).toBe(acked.size);
  } finally {
    await killAllGateways();
    await s.stop();
    removeDir(dir);
  }
});
