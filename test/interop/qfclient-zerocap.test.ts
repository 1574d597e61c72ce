// The QuickFIX C++ client (shared/qfclient, strict FIX42.xml validation) against a gateway session
// trading on the in-process Zerocap simulator (fill-or-kill only, no cancel endpoint, symbols with
// a slash): every ExecutionReport and OrderCancelReject must pass its validation (0 errors),
// every scenario step must pass, and fixinvariants.py must hold over everything it received.
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GatewayProcess, killAllGateways, removeDir, REPO_ROOT, startGatewayProcess } from '../support/gateway-process';

jest.setTimeout(120_000);

const SHARED = process.env.SHARED_DIR ?? path.resolve(REPO_ROOT, '..', 'shared');
const children = new Set<ChildProcess>();
const dirs: string[] = [];
let qfclient = '';
let qfclientCfg = '';
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
Venue=zerocap
VenueEnvironment=simulator
VenueSimulatorPort={{PORT2}}
`;

async function sim<T>(method: string, p: string, body?: unknown): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${gw.ports[1]}${p}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status !== 200) throw new Error(`${method} ${p} -> ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

beforeAll(async () => {
  const build = spawnSync('bash', [path.join(REPO_ROOT, 'scripts', 'build-qfclient.sh')], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`could not build qfclient:\n${build.stdout}\n${build.stderr}`);
  const home = path.join(REPO_ROOT, '.qfbuild', 'qfclient');
  qfclient = path.join(home, 'qfclient');
  qfclientCfg = path.join(home, 'cfg', 'client.cfg');
  gw = await startGatewayProcess({ config: CONFIG, portCount: 2 });
  dirs.push(gw.dir);
  await gw.waitForLog((e) => e.msg === 'venue ready', 30_000);
  // 1 BTC per price level: the scenario's crossing FOK of 2.5 takes three levels. The scenario's
  // first order is kept open (Zerocap would kill it), so a cancel meets a live order.
  await sim('POST', '/__sim/config', { liquidity: { 'BTC/USD': { levelQty: '1' } }, restNextOrders: 1 });
});

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await killAllGateways();
  for (const d of dirs) removeDir(d);
});

function run(args: string[], timeoutMs = 90_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
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

test('scenario zerocap-basic: open order, status, cancel refused (102=2 live, 102=0 filled), FOK fills at three prices, FOK kill (150=C), rejects — all steps pass, 0 validation errors', async () => {
  const r = await run(['--workdir', workdir, '--mode', 'scenario', '--run-id', 'ZC1', '--file', path.join(REPO_ROOT, 'test', 'scenarios', 'zerocap-basic.json')]);
  expect(r.stdout).toMatch(/every incoming message passed QuickFIX FIX42.xml validation \(0 errors\)/);
  expect(r.stdout).toMatch(/^\d+ passed, 0 failed$/m);
  expect(r.code).toBe(0);
  const inv = spawnSync('python3', [path.join(SHARED, 'qfclient', 'fixinvariants.py'), workdir], { encoding: 'utf8' });
  expect(`${inv.stdout}${inv.stderr}`).toMatch(/invariants ok/);
  expect(inv.status).toBe(0);

  // The venue's view: the orders the scenario placed (local rejects, the duplicate and the refused
  // cancel never reach it; the open order is still open).
  const { orders } = await sim<{ orders: Array<{ symbol: string; status: string; cumQty: string; type: string; price?: string }> }>('GET', '/__sim/orders');
  expect(orders.map((o) => [o.symbol, o.type, o.price, o.status, o.cumQty])).toEqual([
    ['BTC/USD', 'limit', '50000', 'new', '0'],
    ['BTC/USD', 'limit', '60000.03', 'filled', '2.5'],
    ['BTC/USD', 'limit', '59000', 'rejected', '0'],
  ]);
});
