// The QuickFIX C++ client (shared/qfclient, strict FIX42.xml validation) against a gateway session
// trading on the in-process Coinut simulator: every ExecutionReport and OrderCancelReject we send
// must pass its validation (0 errors), every scenario step must pass, and the ER invariants of
// shared/qfclient/fixinvariants.py must hold over everything it received.
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GatewayProcess, killAllGateways, removeDir, REPO_ROOT, startGatewayProcess } from '../support/gateway-process';

jest.setTimeout(240_000);

const SHARED = process.env.SHARED_DIR ?? path.resolve(REPO_ROOT, '..', 'shared');
const children = new Set<ChildProcess>();
const dirs: string[] = [];
let gw: GatewayProcess;
let qfclient = '';
let qfclientCfg = '';

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
Venue=coinut
VenueEnvironment=simulator
VenueSimulatorPort={{PORT2}}
`;

beforeAll(async () => {
  const build = spawnSync('bash', [path.join(REPO_ROOT, 'scripts', 'build-qfclient.sh')], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`could not build qfclient:\n${build.stdout}\n${build.stderr}`);
  const home = path.join(REPO_ROOT, '.qfbuild', 'qfclient');
  qfclient = path.join(home, 'qfclient');
  qfclientCfg = path.join(home, 'cfg', 'client.cfg');
  gw = await startGatewayProcess({ config: CONFIG, portCount: 2 });
  dirs.push(gw.dir);
  await gw.waitForLog((e) => e.msg === 'venue ready', 30_000);
});

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await killAllGateways();
  for (const d of dirs) removeDir(d);
});

function run(args: string[], timeoutMs = 120_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(qfclient, ['--config', qfclientCfg, '--port', String(gw.ports[0]), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`qfclient timed out\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

test('coinut scenario: rest, status, cancel, too-late cancel, three-level fill with exact AvgPx, market order, local rejects, duplicate, unknown order — all steps pass, 0 validation errors, invariants hold', async () => {
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'qfc-coinut-'));
  dirs.push(workdir);
  const r = await run(['--workdir', workdir, '--mode', 'scenario', '--file', path.join(REPO_ROOT, 'test', 'scenarios', 'coinut-basic.json')]);
  expect(r.stdout).toMatch(/every incoming message passed QuickFIX FIX42.xml validation \(0 errors\)/);
  expect(r.stdout).toMatch(/^\d+ passed, 0 failed$/m);
  expect(r.code).toBe(0);
  const inv = spawnSync('python3', [path.join(SHARED, 'qfclient', 'fixinvariants.py'), workdir], { encoding: 'utf8' });
  expect(`${inv.stdout}${inv.stderr}`).toMatch(/invariants ok/);
  expect(inv.status).toBe(0);
  // The venue's view: one order per NewOrderSingle that passed validation (R1, F1, M1).
  const res = await fetch(`http://127.0.0.1:${gw.ports[1]}/__sim/orders`);
  const orders = ((await res.json()) as { orders: Array<{ status: string; clientOrderId: string }> }).orders;
  expect(orders.map((o) => o.status).sort()).toEqual(['canceled', 'filled', 'filled']);
  for (const o of orders) expect(o.clientOrderId).toMatch(/^[1-9]\d{0,7}$/);
});
