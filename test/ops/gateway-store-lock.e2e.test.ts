// Two gateway processes, one store (issue 10, item 2): the second refuses to start and names the
// first; after the first is killed -9, its stale lock is taken over by the next start.
import * as fs from 'fs';
import * as path from 'path';
import { buildConfig, GatewayProcess, killAllGateways, removeDir, spawnGateway, startGatewayProcess } from '../support/gateway-process';
import { FixTestClient } from '../support/fix-test-client';
import { HEARTBEAT_INTERVAL_MS, HEARTBEAT_STALE_AFTER_MS } from '../../src/ops/store-lock';

const dirs: string[] = [];
afterEach(async () => {
  await killAllGateways();
  for (const d of dirs.splice(0)) removeDir(d);
});

// Both configs name the same FileStorePath (an absolute one), on different ports.
const config = (storeDir: string) => buildConfig([{ SenderCompID: 'ISLD', TargetCompID: 'TW42' }], { FileStorePath: storeDir });

test('a second gateway on the same FileStorePath refuses to start, naming the running one; a kill -9 leaves a lock the next start takes over', async () => {
  const first = await startGatewayProcess({ config: config('{{DIR}}/shared-store') });
  dirs.push(first.dir);
  const storeDir = path.join(first.dir, 'shared-store');
  const lock = JSON.parse(fs.readFileSync(path.join(storeDir, 'gateway.lock'), 'utf8'));
  expect(lock).toMatchObject({ pid: first.child.pid, role: 'gateway' });

  const second = await spawnGateway({ config: config(storeDir) });
  dirs.push(second.dir);
  expect(await second.waitExit()).toEqual({ code: 3, signal: null });
  expect(second.stderr).toContain(`gateway not started: FileStorePath ${storeDir} is in use by pid ${first.child.pid} (gateway, started ${lock.startedAt}`);
  // It touched nothing: the first still serves its session.
  const c = await FixTestClient.connect({ port: first.port });
  await c.logon({ heartBtInt: 30 });
  await c.logout();
  c.destroy();

  await first.kill('SIGKILL');
  expect(fs.existsSync(path.join(storeDir, 'gateway.lock'))).toBe(true); // stale now

  const third = await startGatewayProcess({ config: config(storeDir) });
  dirs.push(third.dir);
  expect(JSON.parse(fs.readFileSync(path.join(storeDir, 'gateway.lock'), 'utf8')).pid).toBe(third.child.pid);
  const c2 = await FixTestClient.connect({ port: third.port, nextSeqNum: 3, expectedSeqNum: 3 });
  await c2.logon({ heartBtInt: 30 }); // the sequence continues from the first gateway's store
  await c2.logout();
  c2.destroy();

  await third.stop();
  expect(fs.existsSync(path.join(storeDir, 'gateway.lock'))).toBe(false); // a clean stop releases it
}, 60_000);

test('two gateways started at the same instant on one store: one runs, the other names it', async () => {
  const a = await spawnGateway({ config: config('{{DIR}}/store') });
  dirs.push(a.dir);
  const storeDir = path.join(a.dir, 'store');
  const b = await spawnGateway({ config: config(storeDir) });
  dirs.push(b.dir);
  const outcome = async (g: GatewayProcess) => {
    try {
      await g.waitReady();
      return 'running';
    } catch {
      return 'refused';
    }
  };
  const [ra, rb] = await Promise.all([outcome(a), outcome(b)]);
  expect([ra, rb].sort()).toEqual(['refused', 'running']);
  const [winner, loser] = ra === 'running' ? [a, b] : [b, a];
  expect(loser.exitStatus?.code).toBe(3);
  expect(loser.stderr).toContain(`in use by pid ${winner.child.pid} (gateway`);
}, 60_000);

test('a running gateway keeps its lock\'s heartbeat fresh, so a container that replaces a killed one can tell it is gone', async () => {
  const g = await startGatewayProcess({ config: config('{{DIR}}/store') });
  dirs.push(g.dir);
  const lockFile = path.join(g.dir, 'store', 'gateway.lock');
  const old = new Date(Date.now() - 3_600_000);
  fs.utimesSync(lockFile, old, old);
  const deadline = Date.now() + HEARTBEAT_INTERVAL_MS + 5_000;
  while (fs.statSync(lockFile).mtimeMs < Date.now() - 10_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  expect(Date.now() - fs.statSync(lockFile).mtimeMs).toBeLessThan(HEARTBEAT_STALE_AFTER_MS / 2);
  // A lock from another host (a killed container) whose heartbeat stopped is taken over by the next start.
  await g.kill('SIGKILL');
  const lock = JSON.parse(fs.readFileSync(lockFile, 'utf8'));
  fs.writeFileSync(lockFile, JSON.stringify({ ...lock, host: 'c0ffee123456' }));
  const stale = new Date(Date.now() - HEARTBEAT_STALE_AFTER_MS - 1_000);
  fs.utimesSync(lockFile, stale, stale);
  const next = await startGatewayProcess({ config: config(path.join(g.dir, 'store')) });
  dirs.push(next.dir);
  expect(JSON.parse(fs.readFileSync(lockFile, 'utf8')).pid).toBe(next.child.pid);
  await next.stop();
}, 60_000);
