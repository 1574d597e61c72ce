// The QuickFIX C++ client (shared/qfclient, strict FIX42.xml validation) against a gateway session
// trading on the in-process HashKey simulator: every ExecutionReport and OrderCancelReject we send
// must pass its validation (0 errors) in scenario and in load mode, and the ER invariants of
// shared/qfclient/fixinvariants.py must hold over everything it received.
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GatewayProcess, killAllGateways, removeDir, REPO_ROOT, startGatewayProcess } from '../support/gateway-process';

jest.setTimeout(240_000);

const SHARED = process.env.SHARED_DIR ?? path.resolve(REPO_ROOT, '..', 'shared');
let qfclient = '';
let qfclientCfg = '';
let qfclientHome = '';
const children = new Set<ChildProcess>();
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
Venue=hashkey
VenueEnvironment=simulator
VenueSimulatorPort={{PORT2}}
`;

beforeAll(async () => {
  const build = spawnSync('bash', [path.join(REPO_ROOT, 'scripts', 'build-qfclient.sh')], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`could not build qfclient:\n${build.stdout}\n${build.stderr}`);
  qfclientHome = path.join(REPO_ROOT, '.qfbuild', 'qfclient');
  qfclient = path.join(qfclientHome, 'qfclient');
  qfclientCfg = path.join(qfclientHome, 'cfg', 'client.cfg');
  gw = await startGatewayProcess({ config: CONFIG, portCount: 2 });
  dirs.push(gw.dir);
  // Orders sent before the venue side is up would wait; start measuring once it is.
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

/** The simulator's view of every order (its /__sim/ control API). */
async function venueOrders(): Promise<Array<{ status: string }>> {
  const res = await fetch(`http://127.0.0.1:${gw.ports[1]}/__sim/orders`);
  return ((await res.json()) as { orders: Array<{ status: string }> }).orders;
}

function invariants(workdir: string): string {
  const r = spawnSync('python3', [path.join(SHARED, 'qfclient', 'fixinvariants.py'), workdir], { encoding: 'utf8' });
  expect(`${r.stdout}${r.stderr}`).toMatch(/invariants ok/);
  expect(r.status).toBe(0);
  return r.stdout.trim();
}

// One client work dir for the whole file: the gateway's store persists seqnums across the runs.
const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'qfc-gw-'));
dirs.push(workdir);

test('scenario: rest, status, cancel, too-late cancel, fill, local rejects, duplicate, unknown order — all steps pass, 0 validation errors', async () => {
  const r = await run(['--workdir', workdir, '--mode', 'scenario', '--file', path.join(REPO_ROOT, 'test', 'scenarios', 'hashkey-basic.json')]);
  expect(r.stdout).toMatch(/every incoming message passed QuickFIX FIX42.xml validation \(0 errors\)/);
  expect(r.stdout).toMatch(/^\d+ passed, 0 failed$/m);
  expect(r.code).toBe(0);
  invariants(workdir);
});

test.each([
  ['at 1,000/s', ['--rate', '1000', '--count', '2000']],
  ['as fast as possible, with cancels', ['--rate', '0', '--count', '2000', '--cancel-after']],
])('load %s: every order acked, 0 validation errors, 0 rejects', async (_name, extra) => {
  const before = await venueOrders();
  const r = await run([
    '--workdir', workdir, '--mode', 'load', '--msg-log', 'on',
    '--symbol', 'BTCUSDT', '--price', '50000.00', '--qty', '0.01', '--tif', '1', '--drain-ms', '10000',
    ...extra,
  ]);
  const report = JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
  expect(report.validation_errors).toBe(0);
  expect(report.session_rejects_received).toBe(0);
  expect(report.business_rejects_received).toBe(0);
  expect(report.unanswered_orders).toBe(0);
  expect(report.acks).toBe(report.orders_sent);
  expect(report.rejects ?? 0).toBe(0);
  const open = (orders: Array<{ status: string }>) => orders.filter((o) => o.status === 'new' || o.status === 'partially_filled').length;
  if (extra.includes('--cancel-after')) {
    // qfclient stops waiting once each cancel has its first reply (150=6); the 150=4s may still be
    // on the way. Every cancel got an answer, none was rejected, and the venue canceled every order.
    expect(report.cancel.unanswered).toBe(0);
    expect(report.cancel.cancel_rejects).toBe(0);
    expect(report.cancel.pending_cancel + report.cancel.canceled).toBeGreaterThanOrEqual(report.orders_sent);
    let after = await venueOrders();
    for (let i = 0; i < 50 && open(after) !== open(before); i++) {
      await new Promise((res) => setTimeout(res, 100));
      after = await venueOrders();
    }
    expect(after.length - before.length).toBe(report.orders_sent);
    expect(open(after)).toBe(open(before));
  } else {
    const after = await venueOrders();
    expect(after.length - before.length).toBe(report.orders_sent);
    expect(open(after) - open(before)).toBe(report.orders_sent);
  }
  expect(r.code).toBe(0);
  invariants(workdir);
});
