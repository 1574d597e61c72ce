// The QuickFIX C++ client (shared/qfclient, strict FIX42.xml validation) against a gateway session
// trading on the in-process Zerocap simulator: fill-or-kill orders, a symbol with a slash, a
// refused cancel (Zerocap has none), a killed FOK. Every ExecutionReport and OrderCancelReject must
// pass its validation (0 errors), every scenario step must pass, and the ER invariants of
// shared/qfclient/fixinvariants.py must hold over everything it received.
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GatewayProcess, killAllGateways, removeDir, REPO_ROOT, startGatewayProcess } from '../support/gateway-process';
import { SimControl } from '../support/gateway-e2e';

jest.setTimeout(240_000);

const SHARED = process.env.SHARED_DIR ?? path.resolve(REPO_ROOT, '..', 'shared');
let qfclient = '';
let qfclientCfg = '';
const children = new Set<ChildProcess>();
const dirs: string[] = [];
let gw: GatewayProcess;
let sim: SimControl;

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
Venue=zerocap
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
  sim = new SimControl(`http://127.0.0.1:${gw.ports[1]}`);
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

const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'qfc-zc-'));
dirs.push(workdir);

test('scenario zerocap-basic: rest, status, refused cancel, FOK fills over three levels, killed FOK, rejects — all steps pass, 0 validation errors', async () => {
  // The first order of the scenario is the one the venue keeps open.
  await sim.configure({ restNextOrders: 1 });
  const r = await run(['--workdir', workdir, '--mode', 'scenario', '--file', path.join(REPO_ROOT, 'test', 'scenarios', 'zerocap-basic.json')]);
  expect(r.stdout).toMatch(/every incoming message passed QuickFIX FIX42.xml validation \(0 errors\)/);
  expect(r.stdout).toMatch(/^\d+ passed, 0 failed$/m);
  expect(r.code).toBe(0);
  const inv = spawnSync('python3', [path.join(SHARED, 'qfclient', 'fixinvariants.py'), workdir], { encoding: 'utf8' });
  expect(`${inv.stdout}${inv.stderr}`).toMatch(/invariants ok/);
  expect(inv.status).toBe(0);
  // The venue's view: the open order, two filled FOKs and the killed one; nothing for the rejects.
  // (the engine's word for the killed FOK is rejected; Zerocap's wire says closed, filled 0)
  const orders = await sim.orders({ symbol: 'BTC/USD' });
  expect(orders.map((o) => [o.qty, o.price, o.status, o.cumQty])).toEqual([
    ['0.01', '50000', 'new', '0'],
    ['0.002', '61000', 'filled', '0.002'],
    ['2.5', '60000.03', 'filled', '2.5'],
    ['0.2', '59000.5', 'rejected', '0'],
  ]);
});
