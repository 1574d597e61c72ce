// The QuickFIX C++ client (shared/qfclient, strict FIX42.xml validation) against a gateway session
// trading on the in-process Apifiny simulator: every ExecutionReport and OrderCancelReject of the
// Apifiny scenario passes its validation (0 errors), every step passes, and the ER invariants of
// shared/qfclient/fixinvariants.py hold over everything it received.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GatewayProcess, killAllGateways, removeDir, REPO_ROOT, startGatewayProcess } from '../support/gateway-process';

jest.setTimeout(180_000);

const SHARED = process.env.SHARED_DIR ?? path.resolve(REPO_ROOT, '..', 'shared');
const dirs: string[] = [];
let gw: GatewayProcess;

const CONFIG = `
[DEFAULT]
BeginString=FIX.4.2
SocketAcceptHost=127.0.0.1
SocketAcceptPort={{PORT}}
FileStorePath={{DIR}}/store
FileLogPath={{DIR}}/log
DataDictionary={{DICTIONARY}}
ResetOnLogon=N
[SESSION]
SenderCompID=GATEWAY
TargetCompID=QFCLIENT
Application=gateway
Venue=apifiny
VenueEnvironment=simulator
VenueSimulatorPort={{PORT2}}
`;

beforeAll(async () => {
  const build = spawnSync('bash', [path.join(REPO_ROOT, 'scripts', 'build-qfclient.sh')], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`could not build qfclient:\n${build.stdout}\n${build.stderr}`);
  gw = await startGatewayProcess({ config: CONFIG, portCount: 2 });
  dirs.push(gw.dir);
  await gw.waitForLog((e) => e.msg === 'venue ready', 30_000);
});

afterAll(async () => {
  await killAllGateways();
  for (const d of dirs) removeDir(d);
});

test('apifiny scenario: IOC ending PART_FILLED, rest, status, cancel, too-late cancel, fill, post-only, FOK and ExDestination rejects, duplicate, unknown order: all steps pass, 0 validation errors', async () => {
  const home = path.join(REPO_ROOT, '.qfbuild', 'qfclient');
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'qfc-apifiny-'));
  dirs.push(workdir);
  const args = ['--config', path.join(home, 'cfg', 'client.cfg'), '--port', String(gw.ports[0]), '--workdir', workdir, '--mode', 'scenario', '--file', path.join(REPO_ROOT, 'test', 'scenarios', 'apifiny-basic.json')];
  const r = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
    const child = spawn(path.join(home, 'qfclient'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`qfclient timed out\n${out}`));
    }, 120_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
  expect(r.out).toMatch(/every incoming message passed QuickFIX FIX42.xml validation \(0 errors\)/);
  expect(r.out).toMatch(/^\d+ passed, 0 failed$/m);
  expect(Number(/^(\d+) passed/m.exec(r.out)![1])).toBeGreaterThanOrEqual(28);
  expect(r.code).toBe(0);
  const inv = spawnSync('python3', [path.join(SHARED, 'qfclient', 'fixinvariants.py'), workdir], { encoding: 'utf8' });
  expect(`${inv.stdout}${inv.stderr}`).toMatch(/invariants ok/);
  expect(inv.status).toBe(0);
  // The venue's view: the IOC ended partly filled (PART_FILLED), the resting order canceled.
  const res = await fetch(`http://127.0.0.1:${gw.ports[1]}/__sim/orders`);
  const orders = ((await res.json()) as { orders: Array<{ status: string; cumQty: string; timeInForce: string; qty: string }> }).orders;
  expect(orders.find((o) => o.qty === '3')).toMatchObject({ cumQty: '1', timeInForce: 'IOC' });
  expect(orders.filter((o) => o.status === 'canceled')).toHaveLength(1);
});
