// The QuickFIX C++ 1.15.1 initiator (shared/qfclient, its SSLSocketInitiator, strict FIX42.xml
// validation) over mutual TLS: the gateway requires a client certificate signed by the test CA and
// pins its CN to the session's TargetCompID (SSLClientCNIsTargetCompID=Y). A scenario and a short
// load against the echo session and against a HashKey-simulator session, 0 validation errors; a
// QuickFIX client with another CN gets the Logout Text and never logs on, the store untouched.
// Certificates are made at test time with openssl (RSA: QuickFIX 1.15.1 loads RSA keys only).
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GatewayProcess, killAllGateways, removeDir, REPO_ROOT, snapshotFiles, startGatewayProcess } from '../support/gateway-process';
import { makeTestPki, TestPki } from '../support/tls-certs';

jest.setTimeout(240_000);

const SHARED = process.env.SHARED_DIR ?? path.resolve(REPO_ROOT, '..', 'shared');
let qfclient = '';
let qfclientCfg = '';
let pki: TestPki;
const children = new Set<ChildProcess>();
const dirs: string[] = [];

/** Mutual TLS, the client certificate's CN pinned to TargetCompID QFCLIENT; `session` adds the rest. */
function config(session: string): string {
  return `
[DEFAULT]
BeginString=FIX.4.2
SocketAcceptHost=127.0.0.1
SocketAcceptPort={{PORT}}
FileStorePath={{DIR}}/store
FileLogPath={{DIR}}/log
DataDictionary={{DICTIONARY}}
ResetOnLogon=N
SocketUseSSL=Y
ServerCertificateFile=${pki.server.cert}
ServerCertificateKeyFile=${pki.server.key}
CertificationAuthoritiesFile=${pki.ca}
CertificateVerifyLevel=1
[SESSION]
SenderCompID=GATEWAY
TargetCompID=QFCLIENT
SSLClientCNIsTargetCompID=Y
${session}
`;
}

beforeAll(() => {
  const build = spawnSync('bash', [path.join(REPO_ROOT, 'scripts', 'build-qfclient.sh')], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`could not build qfclient:\n${build.stdout}\n${build.stderr}`);
  const home = path.join(REPO_ROOT, '.qfbuild', 'qfclient');
  qfclient = path.join(home, 'qfclient');
  qfclientCfg = path.join(home, 'cfg', 'client.cfg');
  pki = makeTestPki(tmpDir('qfc-tls-pki-'));
});

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await killAllGateways();
  for (const d of dirs) removeDir(d);
});

function tmpDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** qfclient's TLS flags: verify the gateway against the test CA, present `cn`'s certificate. */
function tlsArgs(cn: string): string[] {
  const cert = pki.client(cn);
  return ['--tls-ca', pki.ca, '--tls-cert', cert.cert, '--tls-key', cert.key];
}

function run(gw: GatewayProcess, args: string[], timeoutMs = 120_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
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

/** Every step passed with 0 validation errors; with `workdir`, fixinvariants.py holds over its ExecutionReports. */
function expectCleanScenario(r: { code: number | null; stdout: string }, workdir?: string): void {
  expect(r.stdout).toMatch(/every incoming message passed QuickFIX FIX42.xml validation \(0 errors\)/);
  expect(r.stdout).toMatch(/^\d+ passed, 0 failed$/m);
  expect(r.code).toBe(0);
  if (workdir === undefined) return;
  const inv = spawnSync('python3', [path.join(SHARED, 'qfclient', 'fixinvariants.py'), workdir], { encoding: 'utf8' });
  expect(`${inv.stdout}${inv.stderr}`).toMatch(/invariants ok/);
}

function loadReport(r: { code: number | null; stdout: string; stderr: string }): Record<string, any> {
  const start = r.stdout.indexOf('{');
  if (start < 0) throw new Error(`qfclient printed no JSON report (exit ${r.code})\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout.slice(start));
}

describe('echo session over mutual TLS', () => {
  let gw: GatewayProcess;
  // One client work dir for the scenario and the load: the gateway's store keeps the seqnums.
  let workdir = '';
  beforeAll(async () => {
    gw = await startGatewayProcess({ config: config('Application=echo') });
    dirs.push(gw.dir);
  });
  afterAll(async () => {
    await gw.stop();
  });

  test('a QuickFIX client whose certificate CN is another CompID gets the Logout Text and never logs on; the store is untouched', async () => {
    const before = snapshotFiles(gw.storeDir);
    const workdir = tmpDir('qfc-tls-');
    const r = await run(gw, ['--workdir', workdir, '--mode', 'load', '--count', '1', '--logon-timeout', '3', '--quiet', ...tlsArgs('DESK9')], 30_000);
    expect(r.code).toBe(3); // no logon
    expect(r.stderr).toMatch(/no logon within 3 s/);
    expect(r.stderr).toContain('Logout from acceptor: 58=Logon refused: client certificate CN "DESK9" is not SenderCompID QFCLIENT');
    expect(snapshotFiles(gw.storeDir)).toEqual(before);
  });

  test('scenario: NOS echoed, BusinessMessageReject, logout/logon and a TCP drop with resend over TLS: all steps pass, 0 validation errors', async () => {
    workdir = tmpDir('qfc-tls-');
    const file = path.join(workdir, 'echo-tls.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        name: 'echo over mutual TLS',
        timeout_ms: 5000,
        strict_end: true,
        defaults: { Symbol: 'AAPL' },
        steps: [
          { op: 'nos', ClOrdID: 'T1-${RUN}', Side: '2', OrdType: '2', Price: '10.50', OrderQty: 100 },
          { op: 'expect', msg: 'D', fields: { ClOrdID: 'T1-${RUN}', Symbol: 'AAPL', Side: '2', Price: 10.5, OrderQty: 100 } },
          { op: 'status', ClOrdID: 'T1-${RUN}' },
          { op: 'expect', msg: 'j', fields: { RefMsgType: 'H', BusinessRejectReason: '3' } },
          { op: 'logout' },
          { op: 'logon' },
          { op: 'nos', ClOrdID: 'T2-${RUN}' },
          { op: 'expect', msg: 'D', fields: { ClOrdID: 'T2-${RUN}' } },
          { op: 'nos', ClOrdID: 'T3-${RUN}' },
          { op: 'drop', name: 'TCP drop without Logout, re-logon over a new TLS connection' },
          { op: 'expect', msg: 'D', fields: { ClOrdID: 'T3-${RUN}' } },
          { op: 'nos', ClOrdID: 'T4-${RUN}' },
          { op: 'expect', msg: 'D', fields: { ClOrdID: 'T4-${RUN}' } },
        ],
      }),
    );
    const r = await run(gw, ['--workdir', workdir, '--mode', 'scenario', '--file', file, ...tlsArgs('QFCLIENT')]);
    // eslint-disable-next-line no-console
    console.log(`qfclient echo scenario over TLS (exit ${r.code}):\n${r.stdout}`);
    expect(r.stderr).toMatch(/tls=on/);
    expectCleanScenario(r); // the echo sends no ExecutionReports for fixinvariants.py to check
  });

  test('load at 1,000/s: 1,000 orders echoed over TLS, 0 validation errors, 0 rejects', async () => {
    const r = await run(gw, ['--workdir', workdir || tmpDir('qfc-tls-'), '--mode', 'load', '--rate', '1000', '--count', '1000', '--drain-ms', '3000', '--quiet', ...tlsArgs('QFCLIENT')]);
    const report = loadReport(r);
    // Exit 1 is expected: the echo application answers a D with a D, so no order counts as acked.
    expect({ tls: report.tls, aborted: report.aborted, validation_errors: report.validation_errors, garbled: report.garbled_messages }).toEqual({
      tls: true,
      aborted: null,
      validation_errors: 0,
      garbled: 0,
    });
    expect({ session: report.session_rejects_received, business: report.business_rejects_received, logoutTexts: report.logout_texts }).toEqual({
      session: 0,
      business: 0,
      logoutTexts: [],
    });
    expect(report.orders_sent).toBe(1000);
    expect(report.other_app_messages).toBe(1000);
  });
});

describe('HashKey simulator session over mutual TLS', () => {
  let gw: GatewayProcess;
  const workdir = () => tmpDir('qfc-tls-hk-');
  beforeAll(async () => {
    gw = await startGatewayProcess({ config: config('Application=gateway\nVenue=hashkey\nVenueEnvironment=simulator\nVenueSimulatorPort={{PORT2}}'), portCount: 2 });
    dirs.push(gw.dir);
    await gw.waitForLog((e) => e.msg === 'venue ready', 30_000);
  });
  afterAll(async () => {
    await gw.stop();
  });

  // One client work dir: the gateway's store keeps the seqnums between the two runs.
  let dir = '';
  test('scenario hashkey-basic.json: rest, status, cancel, fill, rejects, duplicate, unknown order: all steps pass, 0 validation errors', async () => {
    dir = workdir();
    const r = await run(gw, ['--workdir', dir, '--mode', 'scenario', '--file', path.join(REPO_ROOT, 'test', 'scenarios', 'hashkey-basic.json'), ...tlsArgs('QFCLIENT')]);
    expectCleanScenario(r, dir);
  });

  test('load at 500/s: 1,000 orders acked by the venue over TLS, 0 validation errors, 0 rejects', async () => {
    const r = await run(gw, [
      '--workdir', dir || workdir(), '--mode', 'load', '--msg-log', 'on', '--quiet',
      '--symbol', 'BTCUSDT', '--price', '50000.00', '--qty', '0.01', '--tif', '1', '--rate', '500', '--count', '1000', '--drain-ms', '10000',
      ...tlsArgs('QFCLIENT'),
    ]);
    const report = loadReport(r);
    expect({ tls: report.tls, validation_errors: report.validation_errors, session: report.session_rejects_received, business: report.business_rejects_received })
      .toEqual({ tls: true, validation_errors: 0, session: 0, business: 0 });
    expect(report.unanswered_orders).toBe(0);
    expect(report.acks).toBe(1000);
    expect(r.code).toBe(0);
  });
});
